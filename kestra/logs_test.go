package kestra_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

const flowChatty = `id: chatty
namespace: demo.logs
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: one
  - id: detail
    type: io.kestra.plugin.core.log.Log
    level: DEBUG
    message: fine print
  - id: warn
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: careful
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: the end
`

// followLogs collects the messages of a log stream that must end by itself.
func followLogs(t *testing.T, c *kestra.Client, id string, opts *kestra.LogFollowOptions) []string {
	t.Helper()
	var msgs []string
	for l, err := range c.Logs.Follow(testCtx(t), id, opts) {
		if err != nil {
			t.Fatalf("after %q: %v", msgs, err)
		}
		msgs = append(msgs, l.Message)
	}
	return msgs
}

func TestLogsFollowUntilDone(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	ex := env.run(t, flowChatty)
	msgs := followLogs(t, env.c, ex.ID, &kestra.LogFollowOptions{UntilDone: true})
	if want := []string{"one", "fine print", "careful", "the end"}; !slices.Equal(msgs, want) {
		t.Fatalf("messages %q, want %q", msgs, want)
	}
}

func TestLogsFollowUntilDoneEndedExecution(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(50))
	ex := env.run(t, flowChatty)
	if _, err := env.c.Executions.Wait(testCtx(t), ex.ID, nil); err != nil {
		t.Fatal(err)
	}
	msgs := followLogs(t, env.c, ex.ID, &kestra.LogFollowOptions{UntilDone: true})
	if len(msgs) != 4 || msgs[3] != "the end" {
		t.Fatalf("messages %q", msgs)
	}
}

func TestLogsFollowReconnectsWithoutRepeats(t *testing.T) {
	t.Parallel()
	for _, frames := range []int{1, 2, 3, 4} {
		t.Run("drop after frame "+string(rune('0'+frames)), func(t *testing.T) {
			t.Parallel()
			env := newStreamEnv(t, kestratest.WithSpeed(5))
			ex := env.run(t, flowChatty)
			path := "/api/v1/main/logs/" + ex.ID + "/follow"
			env.emu.InjectFault(kestratest.Fault{Path: path, Times: 1, DropAfterFrames: frames})
			msgs := followLogs(t, env.c, ex.ID, &kestra.LogFollowOptions{UntilDone: true})
			if want := []string{"one", "fine print", "careful", "the end"}; !slices.Equal(msgs, want) {
				t.Fatalf("messages %q, want %q", msgs, want)
			}
			if n := env.followRequests(path); n < 2 {
				t.Errorf("%d follow requests: the fault did not apply", n)
			}
		})
	}
}

func TestLogsFollowFilters(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		version kestratest.Version
		query   url.Values
	}{
		{kestratest.Version20, url.Values{"filters[level][GREATER_THAN_OR_EQUAL_TO]": {"WARN"}}},
		{kestratest.Version13, url.Values{"minLevel": {"WARN"}}},
	} {
		t.Run(string(v.version), func(t *testing.T) {
			t.Parallel()
			env := newStreamEnv(t, kestratest.WithSpeed(10), kestratest.WithVersion(v.version))
			ex := env.run(t, flowChatty)
			msgs := followLogs(t, env.c, ex.ID, &kestra.LogFollowOptions{UntilDone: true, MinLevel: kestra.LevelWarn})
			if want := []string{"careful"}; !slices.Equal(msgs, want) {
				t.Fatalf("messages %q, want %q", msgs, want)
			}
			found := false
			for _, r := range env.emu.Requests() {
				if strings.HasSuffix(r.Path, "/logs/"+ex.ID+"/follow") {
					q, _ := url.ParseQuery(r.RawQuery)
					found = true
					if q.Encode() != v.query.Encode() {
						t.Errorf("query %q, want %q", r.RawQuery, v.query.Encode())
					}
				}
			}
			if !found {
				t.Fatal("no follow request")
			}
		})
	}
}

func TestLogsFollowTaskID(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	ex := env.run(t, flowChatty)
	msgs := followLogs(t, env.c, ex.ID, &kestra.LogFollowOptions{UntilDone: true, TaskID: "last"})
	if want := []string{"the end"}; !slices.Equal(msgs, want) {
		t.Fatalf("messages %q, want %q", msgs, want)
	}
}

func TestLogsFollowUnknownExecution(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(20))
	var err error
	n := 0
	for _, err = range env.c.Logs.Follow(testCtx(t), "nope", &kestra.LogFollowOptions{UntilDone: true}) {
		n++
	}
	if !errors.Is(err, kestra.ErrNotFound) || n != 1 {
		t.Fatalf("err = %v after %d yields, want ErrNotFound once", err, n)
	}
}

func TestLogsFollowBreak(t *testing.T) {
	env := newLeakEnv(t)
	ex := env.run(t, `id: hold
namespace: demo.logs
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: one
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
`)
	before := goleak.IgnoreCurrent()
	// When the loop ends, the log stream and the watcher of the paused
	// execution are both waiting on the server; both must go.
	for l, err := range env.c.Logs.Follow(testCtx(t), ex.ID, &kestra.LogFollowOptions{UntilDone: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if l.Message == "one" {
			break
		}
	}
	goleak.VerifyNone(t, before)
}

func TestLogsListAndDownload(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t, kestratest.WithSpeed(10))
	ex := env.run(t, flowChatty)
	if _, err := env.c.Executions.Wait(testCtx(t), ex.ID, nil); err != nil {
		t.Fatal(err)
	}
	all, err := env.c.Logs.List(t.Context(), ex.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0].Message != "one" || all[0].TaskID != "first" {
		t.Fatalf("List: %+v", all)
	}
	warn, err := env.c.Logs.List(t.Context(), ex.ID, &kestra.LogListOptions{MinLevel: kestra.LevelWarn})
	if err != nil || len(warn) != 1 || warn[0].Message != "careful" {
		t.Fatalf("List WARN: %+v, %v", warn, err)
	}
	byTask, err := env.c.Logs.List(t.Context(), ex.ID, &kestra.LogListOptions{TaskID: "detail"})
	if err != nil || len(byTask) != 1 || byTask[0].Level != kestra.LevelDebug {
		t.Fatalf("List task: %+v, %v", byTask, err)
	}

	rc, err := env.c.Logs.Download(t.Context(), ex.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	text, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	if len(lines) != 4 || !strings.HasSuffix(lines[2], " WARN careful") {
		t.Fatalf("download:\n%s", text)
	}
}

func TestLogsDelete(t *testing.T) {
	t.Parallel()
	for _, v := range []kestratest.Version{kestratest.Version20, kestratest.Version13} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			env := newStreamEnv(t, kestratest.WithSpeed(100), kestratest.WithVersion(v))
			ctx := t.Context()
			ex := env.run(t, flowChatty)
			if _, err := env.c.Executions.Wait(testCtx(t), ex.ID, nil); err != nil {
				t.Fatal(err)
			}
			messages := func() []string {
				t.Helper()
				logs, err := env.c.Logs.List(ctx, ex.ID, nil)
				if err != nil {
					t.Fatal(err)
				}
				var m []string
				for _, l := range logs {
					m = append(m, l.Message)
				}
				return m
			}
			if err := env.c.Logs.Delete(ctx, ex.ID, &kestra.LogListOptions{MinLevel: kestra.LevelWarn}); err != nil {
				t.Fatal(err)
			}
			if got, want := messages(), []string{"one", "fine print", "the end"}; !slices.Equal(got, want) {
				t.Errorf("after deleting WARN and above: %q, want %q", got, want)
			}
			if err := env.c.Logs.Delete(ctx, ex.ID, &kestra.LogListOptions{TaskID: "detail"}); err != nil {
				t.Fatal(err)
			}
			if got, want := messages(), []string{"one", "the end"}; !slices.Equal(got, want) {
				t.Errorf("after deleting the task detail's: %q, want %q", got, want)
			}
			if err := env.c.Logs.Delete(ctx, ex.ID, nil); err != nil {
				t.Fatal(err)
			}
			if got := messages(); len(got) != 0 {
				t.Errorf("after deleting all: %q", got)
			}
			reqs := env.emu.Requests()
			last := reqs[len(reqs)-2] // before the last List
			if last.Method != http.MethodDelete || last.RawQuery != "" {
				t.Errorf("Delete with nil options sent %s ?%s", last.Method, last.RawQuery)
			}
			if err := env.c.Logs.Delete(ctx, "", nil); err == nil {
				t.Error("Delete with an empty execution id: no error")
			}
		})
	}
}

func TestLogsErrors(t *testing.T) {
	t.Parallel()
	env := newStreamEnv(t)
	if _, err := env.c.Logs.Download(t.Context(), "nope"); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("Download: %v, want ErrNotFound", err)
	}
	if _, err := env.c.Logs.List(t.Context(), "", nil); err == nil {
		t.Error("List with an empty id: want an error")
	}
	if _, err := env.c.Logs.Download(t.Context(), ""); err == nil {
		t.Error("Download with an empty id: want an error")
	}
	for _, err := range env.c.Logs.Follow(t.Context(), "", nil) {
		if err == nil {
			t.Error("Follow with an empty id: want an error")
		}
	}
}
