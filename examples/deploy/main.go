// Deploy applies every flow file of a directory to one namespace, the way
// a CI job does: it prints the plan (created, updated, unchanged, deleted)
// and sends nothing unless -apply is given. Flows of the namespace that
// are not in the directory are deleted only with -delete.
//
//	go run ./examples/deploy                 # plan for the bundled flows
//	go run ./examples/deploy -apply          # deploy them
//	go run ./examples/deploy -dir ./flows -namespace company.team -apply -delete
package main

import (
	"embed"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"

	"github.com/kestra-go/sdk/examples/internal/setup"
	"github.com/kestra-go/sdk/kestra"
)

//go:embed flows/*.yaml
var bundled embed.FS

func main() {
	dir := flag.String("dir", "", "directory of flow files (*.yaml, *.yml); default: the bundled examples")
	namespace := flag.String("namespace", "company.team.deploy", "namespace to deploy to")
	apply := flag.Bool("apply", false, "send the changes (default: print the plan only)")
	del := flag.Bool("delete", false, "delete flows of the namespace that are not in the directory")
	flag.Parse()

	ctx, stop := setup.Context()
	defer stop()
	c, done := setup.Client()
	defer done()

	var fsys fs.FS = bundled
	pattern := "flows/*.y*ml"
	if *dir != "" {
		fsys, pattern = os.DirFS(*dir), "*.y*ml"
	}
	flows, err := kestra.LoadFlows(fsys, pattern)
	if err != nil {
		log.Fatal(err)
	}
	sources := make([]string, len(flows))
	for i, f := range flows {
		sources[i] = f.Source
	}

	plan, err := c.Flows.Sync(ctx, *namespace, sources, &kestra.SyncOptions{Delete: *del, DryRun: !*apply})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("namespace %s: %d to create, %d to update, %d unchanged, %d to delete\n",
		*namespace, len(plan.Created), len(plan.Updated), len(plan.Unchanged), len(plan.Deleted))
	for _, id := range plan.Created {
		fmt.Println("  + " + id)
	}
	for _, id := range plan.Updated {
		fmt.Println("  ~ " + id)
	}
	for _, id := range plan.Deleted {
		fmt.Println("  - " + id)
	}
	if !*apply {
		fmt.Println("dry run: nothing sent (use -apply)")
		return
	}
	fmt.Println("deployed")
}
