package contract

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// The suite runs against the server KESTRA_API_URL names, with
// KESTRA_USERNAME and KESTRA_PASSWORD, or, when it is unset, against an
// in-process emulator that requires the same basic auth as Kestra OSS.
// KESTRA_CONTRACT_LOG names a file to write the recorded calls to (see
// Recorder), for the shapediff command.
var (
	// target is "kestra" for a server named by KESTRA_API_URL, "emulator"
	// otherwise.
	target string
	// cfg is the configuration of the server under test.
	cfg kestra.Config
	// recorder records every answer of every test's client.
	recorder *Recorder
)

const (
	defaultUser     = "root@root.com"
	defaultPassword = "Root!1234"
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	routes, err := LoadRoutes(filepath.Join("..", "..", "openapi.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "contract:", err)
		return 1
	}
	recorder = &Recorder{Next: http.DefaultTransport, Routes: routes}
	var srv *kestratest.Server
	if os.Getenv("KESTRA_API_URL") != "" {
		target = "kestra"
		cfg, err = kestra.LoadConfig()
		if err != nil {
			fmt.Fprintln(os.Stderr, "contract:", err)
			return 1
		}
	} else {
		target = "emulator"
		user, pass := os.Getenv("KESTRA_USERNAME"), os.Getenv("KESTRA_PASSWORD")
		if user == "" || pass == "" {
			user, pass = defaultUser, defaultPassword
		}
		srv = kestratest.NewServer(kestratest.WithBasicAuth(user, pass))
		cfg = srv.Config()
	}
	code := m.Run()
	if srv != nil {
		srv.Close()
	}
	if file := os.Getenv("KESTRA_CONTRACT_LOG"); file != "" && code == 0 {
		if err := recorder.WriteLog(file); err != nil {
			fmt.Fprintln(os.Stderr, "contract:", err)
			return 1
		}
	}
	if code == 0 && srv != nil {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: goroutine leak:", err)
			return 1
		}
	}
	return code
}

// newClient returns a client of the server under test whose answers the
// recorder records.
func newClient(t *testing.T) *kestra.Client {
	t.Helper()
	return clientWith(t, cfg)
}

func clientWith(t *testing.T, c kestra.Config) *kestra.Client {
	t.Helper()
	cl, err := kestra.New(c, kestra.WithHTTPClient(&http.Client{Transport: recorder}))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// namespace returns a namespace of the test's own; the flows, KV pairs and
// namespace files left in it are deleted when the test ends.
func namespace(t *testing.T) string {
	t.Helper()
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	ns := "contract.t" + hex.EncodeToString(b[:])
	t.Cleanup(func() { cleanNamespace(t, ns) })
	return ns
}

func cleanNamespace(t *testing.T, ns string) {
	// Not recorded: what is left to clean depends on timing.
	c, err := kestra.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// t.Context is done once cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ids := []string{}
	for e, err := range c.Executions.All(ctx, &kestra.ExecutionSearchOptions{Namespace: ns}) {
		if err != nil {
			t.Logf("cleanup %s: executions: %v", ns, err)
			break
		}
		ids = append(ids, e.ID)
	}
	if len(ids) > 0 {
		if _, err := c.Executions.KillByIDs(ctx, ids); err != nil {
			t.Logf("cleanup %s: kill: %v", ns, err)
		}
		if _, err := c.Executions.DeleteByIDs(ctx, ids, &kestra.BulkDeleteOptions{IncludeRunning: true}); err != nil {
			t.Logf("cleanup %s: delete executions: %v", ns, err)
		}
	}
	flows, err := c.Flows.ListNamespace(ctx, ns)
	if err != nil {
		t.Logf("cleanup %s: flows: %v", ns, err)
	}
	for _, f := range flows {
		if err := c.Flows.Delete(ctx, ns, f.ID); err != nil {
			t.Logf("cleanup %s: delete flow %s: %v", ns, f.ID, err)
		}
	}
	for e, err := range c.KV.All(ctx, &kestra.KVSearchOptions{Namespace: ns}) {
		if err != nil {
			t.Logf("cleanup %s: kv: %v", ns, err)
			break
		}
		if _, err := c.KV.Delete(ctx, ns, e.Key); err != nil {
			t.Logf("cleanup %s: delete kv %s: %v", ns, e.Key, err)
		}
	}
	files, err := c.Files.List(ctx, ns, "/")
	if err == nil {
		for _, f := range files {
			if err := c.Files.Delete(ctx, ns, "/"+f.FileName); err != nil {
				t.Logf("cleanup %s: delete file %s: %v", ns, f.FileName, err)
			}
		}
	}
}
