// Command buildcost measures what depending on the SDK costs a program:
// the build time and binary size of a tiny program that imports kestra, of
// one that imports only the generated client (gen), and of a baseline on
// net/http and encoding/json alone.
//
// Each program is built twice: cold, with an empty build cache (every
// package compiled, the standard library included), then warm, with the
// cache of the cold build and nothing changed (mostly the link). Run it
// from the module root, on an otherwise idle machine:
//
//	go run ./internal/buildcost
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"
)

var programs = []string{"nethttp", "gen", "kestra"}

type cost struct {
	cold, warm     time.Duration
	size, stripped int64
}

func build(dir, cache, out string, ldflags ...string) (time.Duration, int64, error) {
	args := []string{"build", "-o", out}
	args = append(args, ldflags...)
	args = append(args, "./internal/buildcost/testdata/"+dir)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOCACHE="+cache, "GOFLAGS=-mod=readonly")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("build %s: %w", dir, err)
	}
	d := time.Since(start)
	fi, err := os.Stat(out)
	if err != nil {
		return 0, 0, err
	}
	return d, fi.Size(), nil
}

func measure(tmp, name string) (cost, error) {
	var c cost
	cache := filepath.Join(tmp, "cache-"+name)
	var err error
	if c.cold, c.size, err = build(name, cache, filepath.Join(tmp, name+"-cold")); err != nil {
		return c, err
	}
	if c.warm, _, err = build(name, cache, filepath.Join(tmp, name+"-warm")); err != nil {
		return c, err
	}
	_, c.stripped, err = build(name, cache, filepath.Join(tmp, name+"-stripped"), "-ldflags=-s -w")
	return c, err
}

func main() {
	if _, err := os.Stat("internal/buildcost/testdata"); err != nil {
		fmt.Fprintln(os.Stderr, "buildcost: run from the module root")
		os.Exit(2)
	}
	tmp, err := os.MkdirTemp("", "kestra-buildcost-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "buildcost:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)

	costs := map[string]cost{}
	for _, p := range programs {
		fmt.Fprintf(os.Stderr, "building %s ...\n", p)
		c, err := measure(tmp, p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "buildcost:", err)
			os.Exit(1)
		}
		costs[p] = c
	}
	base := costs["nethttp"]
	fmt.Printf("%s %s/%s, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "program\tcold build\t+ over nethttp\twarm build\tbinary\t+ over nethttp\tstripped (-s -w)\t\n")
	for _, p := range programs {
		c := costs[p]
		fmt.Fprintf(tw, "%s\t%.1fs\t%+.1fs\t%.2fs\t%.1f MB\t%+.1f MB\t%.1f MB\t\n", p,
			c.cold.Seconds(), (c.cold - base.cold).Seconds(), c.warm.Seconds(),
			mb(c.size), mb(c.size-base.size), mb(c.stripped))
	}
	_ = tw.Flush()
}

func mb(n int64) float64 { return float64(n) / 1e6 }
