package emulator

import (
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const shellFlow = `id: shell
namespace: company.team
inputs:
  - id: who
    type: STRING
    defaults: gopher
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo {{ inputs.who }}
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "code={{ outputs.sh.exitCode }}"
`

// shellOnlyFlow runs the plugin task alone.
var shellOnlyFlow = strings.Replace(shellFlow[:strings.Index(shellFlow, "  - id: ret")], "id: shell", "id: shellonly", 1)

// logsOf returns an execution's log lines as "LEVEL message".
func (ts *testServer) logsOf(id string) []string {
	ts.t.Helper()
	r := ts.get("/api/v1/main/logs/" + id)
	if r.status != 200 {
		ts.t.Fatalf("logs: %d %s", r.status, r.body)
	}
	var entries []struct{ Level, Message, TaskID string }
	if err := json.Unmarshal(r.body, &entries); err != nil {
		ts.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Level+" "+e.Message)
	}
	return out
}

func taskRunOf(t *testing.T, ex map[string]any, taskID string) map[string]any {
	t.Helper()
	trs, _ := ex["taskRunList"].([]any)
	for _, x := range trs {
		if tr := x.(map[string]any); tr["taskId"] == taskID {
			return tr
		}
	}
	t.Fatalf("no task run %s in %v", taskID, ex)
	return nil
}

// A task type the emulator does not run succeeds as a no-op, and the
// execution says so with a WARN line (Kestra would run the plugin: a test
// must not take the no-op for the plugin's behaviour).
func TestUnhandledPluginTaskWarns(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithPlugins("io.kestra.plugin.scripts."))
	ts.createFlow(shellOnlyFlow)
	id := ts.execute("company.team", "shellonly", "", nil).json(t)["id"].(string)
	ts.waitState(id, stateSuccess)
	logs := ts.logsOf(id)
	want := "WARN " + notRunMessage("io.kestra.plugin.scripts.shell.Commands")
	if len(logs) != 1 || logs[0] != want {
		t.Errorf("logs = %q, want [%q]", logs, want)
	}
	if !strings.Contains(want, "not run") || !strings.Contains(want, "HandleTask") {
		t.Errorf("message does not say the task was not run: %q", want)
	}
}

// A handler gives a plugin task its outputs (seen by later expressions),
// its log lines, its simulated duration, and a failure.
func TestHandleTask(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSpeed(1000))
	var calls atomic.Int32
	ts.HandleTask("io.kestra.plugin.scripts.shell.Commands", func(tk Task) TaskResult {
		calls.Add(1)
		who, err := tk.Render("{{ inputs.who }}")
		if err != nil {
			return TaskResult{Err: err}
		}
		cmds, _ := tk.Properties["commands"].([]any)
		if tk.TaskID != "sh" || tk.Type != "io.kestra.plugin.scripts.shell.Commands" || len(cmds) != 1 || tk.Properties["type"] != nil || tk.Context == nil {
			return TaskResult{Err: errors.New("unexpected task: " + tk.TaskID)}
		}
		if who == "fail" {
			return TaskResult{Err: errors.New("Command failed with exit code 1"), Logs: []TaskLog{{Level: "warn", Message: "about to fail"}}}
		}
		return TaskResult{
			Outputs:  map[string]any{"exitCode": 0, "who": who},
			Logs:     []TaskLog{{Message: "ran " + cmds[0].(string)}},
			Duration: 30 * time.Second,
		}
	})
	ts.createFlow(shellFlow)
	ts.createFlow(shellOnlyFlow)

	// wait=true answers the full Execution, task run outputs included.
	ex := ts.execute("company.team", "shell", "wait=true", map[string]string{"who": "ada"}).json(t)
	id := ex["id"].(string)
	if stateOf(ex) != stateSuccess {
		t.Fatalf("state %s", stateOf(ex))
	}
	sh := taskRunOf(t, ex, "sh")
	if st := sh["state"].(map[string]any); st["current"] != stateSuccess {
		t.Errorf("sh state = %v", st["current"])
	} else if d, err := parseISODuration(st["duration"].(string)); err != nil || d < 30*time.Second/1000 {
		// A lower bound: the task slept at least its scaled duration.
		t.Errorf("sh duration = %v (%v), want at least 30ms", st["duration"], err)
	}
	if ret := taskRunOf(t, ex, "ret"); ret["outputs"].(map[string]any)["value"] != "code=0" {
		t.Errorf("ret outputs = %v", ret["outputs"])
	}
	if logs := ts.logsOf(id); len(logs) != 1 || logs[0] != "INFO ran echo {{ inputs.who }}" {
		t.Errorf("logs = %q", logs)
	}

	id = ts.execute("company.team", "shell", "", map[string]string{"who": "fail"}).json(t)["id"].(string)
	ex = ts.waitState(id, stateFailed)
	if st := taskRunOf(t, ex, "sh")["state"].(map[string]any); st["current"] != stateFailed {
		t.Errorf("failed sh state = %v", st["current"])
	}
	if logs := ts.logsOf(id); len(logs) != 2 || logs[0] != "WARN about to fail" || logs[1] != "ERROR Command failed with exit code 1" {
		t.Errorf("failed logs = %q", logs)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("handler called %d times, want 2", n)
	}

	// Removing the handler brings back the no-op.
	ts.HandleTask("io.kestra.plugin.scripts.shell.Commands", nil)
	id = ts.execute("company.team", "shellonly", "", nil).json(t)["id"].(string)
	ts.waitState(id, stateSuccess)
	if logs := ts.logsOf(id); len(logs) != 1 || !strings.HasPrefix(logs[0], "WARN ") {
		t.Errorf("after removal: logs = %q", logs)
	}
}
