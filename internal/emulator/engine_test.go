package emulator

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEngineWithoutHTTP drives the engine through its own methods, with
// no request nor response: a flow is stored, refused a second time with
// Kestra's status and violation, run to its end, read back per tenant.
func TestEngineWithoutHTTP(t *testing.T) {
	en := newEngine(config{version: Version20, speed: 1000, taskTime: 100 * time.Millisecond, url: "http://kestra.test"})
	defer en.close()

	src := "id: hello\nnamespace: demo\ntasks:\n  - id: answer\n    type: io.kestra.plugin.core.debug.Return\n    format: \"42\"\n"
	pf, aerr := en.parseFlow(src)
	if aerr != nil {
		t.Fatal(aerr)
	}
	f, err := en.createFlow("main", pf, src)
	if err != nil {
		t.Fatal(err)
	}
	if f.rev.revision != 1 || f.key != (flowKey{"main", "demo", "hello"}) {
		t.Fatalf("stored %+v revision %d, want main/demo/hello revision 1", f.key, f.rev.revision)
	}
	_, err = en.createFlow("main", pf, src)
	var ae *apiError
	if !errors.As(err, &ae) || ae.status != http.StatusUnprocessableEntity || len(ae.violations) != 1 || ae.violations[0].Path != "flow.id" {
		t.Fatalf("second create: %#v, want a 422 with a flow.id violation", err)
	}

	rev, err := en.flowToRun(f.key, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := en.startExecution(t.Context(), rev, runRequest{key: f.key, wait: true}, rawInputs{})
	if err != nil {
		t.Fatal(err)
	}
	if out.State.Current != stateSuccess || len(out.TaskRunList) != 1 {
		t.Fatalf("ended %s with %d task runs, want SUCCESS with 1", out.State.Current, len(out.TaskRunList))
	}
	if want := "http://kestra.test/ui/main/executions/demo/hello/" + out.ID; out.URL != want {
		t.Errorf("url %q, want %q", out.URL, want)
	}

	got, err := en.execution("main", out.ID, viewAPI)
	if err != nil || got.State.Current != stateSuccess || got.TaskRunList[0].Outputs != nil {
		t.Fatalf("execution: %v, %+v; want SUCCESS without task outputs (ApiExecution)", err, got)
	}
	if _, err := en.execution("other", out.ID, viewAPI); !errors.As(err, &ae) || ae.status != http.StatusNotFound {
		t.Fatalf("execution of another tenant: %v, want 404", err)
	}
	if _, err := en.flowToRun(flowKey{"main", "demo", "nope"}, ""); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("run of an unknown flow: %v, want not found", err)
	}
}
