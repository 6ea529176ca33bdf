package kestra_test

import (
	"net/http"
	"testing"

	"github.com/kestra-go/sdk/kestra"
)

// Kestra writes no null field (JacksonMapper: NON_NULL inclusion), and an
// optional list the source leaves out is null, so it is absent: a flow
// without labels has no "labels" field, an execution that has not run has
// no taskRunList, a log line of the execution itself has no taskId. The
// SDK decodes both the minimal answers and the ones with empty values.
func TestDecodesMinimalAnswers(t *testing.T) {
	t.Parallel()
	const ts = `"2024-05-01T10:00:00Z"`
	answers := map[string][2]string{ // path → minimal, with empty values
		"/api/v1/main/flows/company.team/hello": {
			`{"id":"hello","namespace":"company.team","revision":1,"deleted":false,"disabled":false,"tasks":[{"id":"t","type":"io.kestra.plugin.core.log.Log","message":"m"}]}`,
			`{"id":"hello","namespace":"company.team","revision":1,"deleted":false,"disabled":false,"labels":[],"inputs":[],"tasks":[{"id":"t","type":"io.kestra.plugin.core.log.Log","message":"m"}]}`,
		},
		"/api/v1/main/executions/e1": {
			`{"id":"e1","namespace":"company.team","flowId":"hello","flowRevision":1,"state":{"current":"CREATED","histories":[{"state":"CREATED","date":` + ts + `}],"startDate":` + ts + `}}`,
			`{"id":"e1","namespace":"company.team","flowId":"hello","flowRevision":1,"labels":[],"taskRunList":[],"inputs":{},"state":{"current":"CREATED","histories":[{"state":"CREATED","date":` + ts + `}],"startDate":` + ts + `}}`,
		},
		"/api/v1/main/logs/e1": {
			`[{"namespace":"company.team","flowId":"hello","executionId":"e1","timestamp":` + ts + `,"level":"INFO","message":"m"}]`,
			`[{"namespace":"company.team","flowId":"hello","executionId":"e1","taskId":"","attemptNumber":null,"timestamp":` + ts + `,"level":"INFO","message":"m"}]`,
		},
		"/api/v1/main/namespaces/company.team/kv/k": {
			`{"type":"STRING","value":"v"}`,
			`{"type":"STRING","value":"v","revision":1,"updated":` + ts + `}`,
		},
	}
	for form := range 2 {
		_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) {
			a, ok := answers[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(a[form]))
		})
		ctx := t.Context()
		f, err := c.Flows.Get(ctx, "company.team", "hello", nil)
		if err != nil || f.ID != "hello" || len(f.Labels) != 0 {
			t.Errorf("form %d: flow %+v, %v", form, f, err)
		}
		e, err := c.Executions.Get(ctx, "e1")
		if err != nil || e.ID != "e1" || len(e.TaskRunList) != 0 || len(e.LabelMap()) != 0 || e.CurrentState() != kestra.StateCreated {
			t.Errorf("form %d: execution %+v, %v", form, e, err)
		}
		logs, err := c.Logs.List(ctx, "e1", nil)
		if err != nil || len(logs) != 1 || logs[0].Message != "m" || logs[0].TaskID != "" {
			t.Errorf("form %d: logs %+v, %v", form, logs, err)
		}
		kv, err := c.KV.Get(ctx, "company.team", "k")
		if err != nil || kv.Value != "v" {
			t.Errorf("form %d: kv %+v, %v", form, kv, err)
		}
	}
}
