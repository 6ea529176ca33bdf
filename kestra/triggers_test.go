package kestra_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

const flowScheduled = `id: scheduled
namespace: company.team
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
  - id: hourly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
    disabled: true
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: k
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
`

func TestTriggers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		version     kestratest.Version
		hideVersion bool
	}{
		{"2.0", kestratest.Version20, false},
		{"1.3", kestratest.Version13, false},
		{"1.3 unknown version", kestratest.Version13, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newExecEnv(t, nil, []kestratest.Option{kestratest.WithVersion(tc.version)}, flowScheduled)
			if tc.hideVersion {
				env.emu.InjectFault(kestratest.Fault{Path: "/api/v1/configs", Status: http.StatusInternalServerError, Message: "unavailable"})
			}
			ctx := t.Context()
			tr := env.c.Triggers

			got := map[string]*kestra.TriggerState{}
			for st, err := range tr.All(ctx, &kestra.TriggerSearchOptions{Namespace: execNS, ListOptions: kestra.ListOptions{Size: 1}}) {
				if err != nil {
					t.Fatal(err)
				}
				got[st.TriggerID] = st
			}
			if len(got) != 2 || got["nightly"] == nil || got["hourly"] == nil {
				t.Fatalf("trigger states: %v, want nightly and hourly (webhooks have none)", got)
			}
			n := got["nightly"]
			if n.Namespace != execNS || n.FlowID != "scheduled" || n.Disabled || n.Locked || n.Type != "io.kestra.plugin.core.trigger.Schedule" || n.UpdatedAt.IsZero() {
				t.Errorf("nightly = %+v", n)
			}
			if !got["hourly"].Disabled {
				t.Error("hourly, disabled in the flow, is not disabled")
			}

			st, err := tr.SetDisabled(ctx, execNS, "scheduled", "nightly", true)
			if err != nil || !st.Disabled || st.TriggerID != "nightly" {
				t.Fatalf("SetDisabled(true) = %+v, %v", st, err)
			}
			// Enabling sends disabled: false, not an empty field.
			st, err = tr.SetDisabled(ctx, execNS, "scheduled", "hourly", false)
			if err != nil || st.Disabled {
				t.Fatalf("SetDisabled(false) = %+v, %v", st, err)
			}
			if st, err := tr.Get(ctx, execNS, "scheduled", "hourly"); err != nil || st.Disabled {
				t.Errorf("Get after enabling = %+v, %v", st, err)
			}
			reqs := env.requestsWhere(func(r kestratest.Request) bool { return r.Method == http.MethodPut })
			want := "/api/v1/main/triggers/set-disabled"
			if tc.version == kestratest.Version13 {
				want = "/api/v1/main/triggers"
			}
			if last := reqs[len(reqs)-1]; last.Path != want {
				t.Errorf("SetDisabled sent PUT %s, want %s", last.Path, want)
			}

			if _, err := tr.SetDisabled(ctx, execNS, "scheduled", "hook", true); !errors.Is(err, kestra.ErrNotFound) {
				t.Errorf("SetDisabled of a webhook trigger: %v, want ErrNotFound", err)
			}
			if _, err := tr.Get(ctx, execNS, "scheduled", "nope"); !errors.Is(err, kestra.ErrNotFound) {
				t.Errorf("Get of an unknown trigger: %v, want ErrNotFound", err)
			}

			// Unlock: a conflict unless an execution holds the trigger.
			if _, err := tr.Unlock(ctx, execNS, "scheduled", "nightly"); !errors.Is(err, kestra.ErrConflict) {
				t.Errorf("Unlock of a free trigger: %v, want ErrConflict", err)
			}
			if !env.emu.LockTrigger(execNS, "scheduled", "nightly", "exec-1") {
				t.Fatal("LockTrigger found no trigger")
			}
			if st, err := tr.Get(ctx, execNS, "scheduled", "nightly"); err != nil || !st.Locked || st.ExecutionID != "exec-1" {
				t.Errorf("held trigger = %+v, %v", st, err)
			}
			st, err = tr.Unlock(ctx, execNS, "scheduled", "nightly")
			if err != nil || st.Locked || st.ExecutionID != "" {
				t.Errorf("Unlock = %+v, %v", st, err)
			}

			env.emu.LockTrigger(execNS, "scheduled", "nightly", "exec-2")
			st, err = tr.Restart(ctx, execNS, "scheduled", "nightly")
			if err != nil || st.Locked || st.ExecutionID != "" || st.TriggerID != "nightly" {
				t.Errorf("Restart = %+v, %v", st, err)
			}
			if _, err := tr.Restart(ctx, execNS, "scheduled", "nope"); !errors.Is(err, kestra.ErrNotFound) {
				t.Errorf("Restart of an unknown trigger: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestTriggersArguments(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t, nil, nil)
	ctx := t.Context()
	tr := env.c.Triggers
	for name, err := range map[string]error{
		"Get":         func() error { _, err := tr.Get(ctx, execNS, "f", ""); return err }(),
		"SetDisabled": func() error { _, err := tr.SetDisabled(ctx, "", "f", "t", true); return err }(),
		"Unlock":      func() error { _, err := tr.Unlock(ctx, execNS, "", "t"); return err }(),
		"Restart":     func() error { _, err := tr.Restart(ctx, execNS, "f", ""); return err }(),
	} {
		var apiErr *kestra.APIError
		if err == nil || errors.As(err, &apiErr) {
			t.Errorf("%s: %v, want an argument error", name, err)
		}
	}
	if reqs := env.requests("/triggers"); len(reqs) != 0 {
		t.Errorf("bad arguments sent %d requests", len(reqs))
	}
}

// TestTriggerStateDecoding reads both generations' documents.
func TestTriggerStateDecoding(t *testing.T) {
	t.Parallel()
	const v13 = `{"results":[{"abstractTrigger":{"id":"t","type":"io.kestra.plugin.core.trigger.Schedule"},
		"triggerContext":{"namespace":"n","flowId":"f","triggerId":"t","date":"2025-01-01T00:00:00Z",
		"nextExecutionDate":"2025-01-02T00:00:00Z","evaluateRunningDate":"2025-01-01T00:00:01Z","updatedDate":"2025-01-01T00:00:02Z","workerId":"w"}}],"total":1}`
	const v20 = `{"results":[{"trigger":{"id":"t","type":"io.kestra.plugin.core.trigger.Schedule"},
		"state":{"namespace":"n","flowId":"f","triggerId":"t","evaluatedAt":"2025-01-01T00:00:00Z",
		"nextEvaluationDate":"2025-01-02T00:00:00Z","locked":true,"updatedAt":"2025-01-01T00:00:02Z","workerId":"w","kind":"SCHEDULE"}}],"total":1}`
	for name, body := range map[string]string{"1.x": v13, "2.0": v20} {
		c := clientAnswering(t, body)
		page, err := c.Triggers.List(t.Context(), nil)
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("%s: %v, %v", name, page, err)
		}
		st := page.Items[0]
		b, _ := json.Marshal(st)
		if !st.Locked || st.WorkerID != "w" || st.LastEvaluation.IsZero() || st.NextEvaluation.Day() != 2 || st.UpdatedAt.Second() != 2 || st.Type == "" {
			t.Errorf("%s: %s", name, b)
		}
	}
}

// clientAnswering returns a client of a server that answers every request
// with body as JSON.
func clientAnswering(t *testing.T, body string) *kestra.Client {
	t.Helper()
	_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	})
	return c
}
