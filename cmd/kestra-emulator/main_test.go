package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var logs syncBuffer
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-user", "u", "-password", "p", "-version", "1.3", "-speed", "100"}, &logs, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	base := "http://" + addr
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
		if auth {
			req.SetBasicAuth("u", "p")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/api/v1/main/flows/search", false); code != 401 {
		t.Errorf("no auth: %d", code)
	}
	if code, _ := get("/api/v1/main/flows/search", true); code != 200 {
		t.Errorf("auth: %d", code)
	}
	if code, body := get("/api/v1/configs", false); code != 200 || !strings.Contains(body, `"version":"1.3`) || !strings.Contains(body, base) {
		t.Errorf("configs: %d %s", code, body)
	}
	// An open follow stream must not block shutdown.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/v1/main/logs/x/follow", nil)
	req.SetBasicAuth("u", "p")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown blocked")
	}
	if !strings.Contains(logs.String(), "path=/api/v1/main/flows/search") || strings.Contains(logs.String(), "Authorization") {
		t.Errorf("logs:\n%s", logs.String())
	}
	http.DefaultClient.CloseIdleConnections()
}

// Without -user, the user is Kestra's documented default; bearer tokens
// only with -enterprise (Kestra OSS 1.3.25 and 2.0 take basic auth only:
// webserver/.../filter/AuthenticationFilter.java).
func TestRunDefaultUserAndEnterprise(t *testing.T) {
	for _, tc := range []struct {
		args                []string
		basic, bearer, none int
	}{
		{nil, 200, 401, 401},
		{[]string{"-enterprise", "-token", "tok"}, 200, 200, 401},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		addrc := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, tc.args...), io.Discard, func(a string) { addrc <- a })
		}()
		var addr string
		select {
		case addr = <-addrc:
		case err := <-done:
			t.Fatalf("run: %v", err)
		}
		status := func(auth func(*http.Request)) int {
			req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+addr+"/api/v1/main/flows/search", nil)
			auth(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := status(func(r *http.Request) { r.SetBasicAuth("root@root.com", "Root!1234") }); got != tc.basic {
			t.Errorf("%v basic: %d, want %d", tc.args, got, tc.basic)
		}
		if got := status(func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok") }); got != tc.bearer {
			t.Errorf("%v bearer: %d, want %d", tc.args, got, tc.bearer)
		}
		if got := status(func(*http.Request) {}); got != tc.none {
			t.Errorf("%v none: %d, want %d", tc.args, got, tc.none)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-version", "3"}, {"-user", "u"}, {"-speed", "0"}, {"-nope"}, {"-token", "t"}} {
		if err := run(t.Context(), args, io.Discard, nil); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// -help prints the usage, ending with a newline, and ends the command
// with status 0, without calling it an error.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-help", "-h", "--help"} {
		var out syncBuffer
		err := run(t.Context(), []string{arg}, &out, nil)
		if code := exitCode(err); code != 0 {
			t.Errorf("%s: exit code %d (%v), want 0", arg, code, err)
		}
		s := out.String()
		if !strings.HasPrefix(s, "Usage: kestra-emulator [flags]\n") || !strings.HasSuffix(s, "\n") {
			t.Errorf("%s: usage %q does not start with the usage line or end with a newline", arg, s)
		}
		for _, want := range []string{"-addr", "-password", "-speed", "-token", "-user", "-version"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: usage lacks %s", arg, want)
			}
		}
		if strings.Contains(s, "help requested") {
			t.Errorf("%s: usage says %q", arg, s)
		}
	}
	// A wrong flag is a usage error: status 2, usage printed.
	var out syncBuffer
	err := run(t.Context(), []string{"-nope"}, &out, nil)
	if code := exitCode(err); code != 2 || !strings.Contains(out.String(), "Usage: kestra-emulator") {
		t.Errorf("-nope: exit code %d (%v), output %q", code, err, out.String())
	}
	if code := exitCode(run(t.Context(), []string{"extra"}, &out, nil)); code != 2 {
		t.Errorf("an extra argument: exit code %d, want 2", code)
	}
	if code := exitCode(run(t.Context(), []string{"-speed", "0"}, &out, nil)); code != 1 {
		t.Errorf("-speed 0: exit code %d, want 1", code)
	}
}
