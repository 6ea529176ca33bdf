// Command kestra-emulator serves an in-memory emulation of the Kestra REST
// API, the same one package kestratest runs in-process, so that any client
// (curl, other SDKs, a browser) can exercise flows, executions, follow
// streams, logs, KV and namespace files without a Kestra server.
//
// Usage:
//
//	kestra-emulator [-addr 127.0.0.1:8080] [-user USER -password PASS] [-enterprise -token TOKEN] [-version 2.0|1.3] [-speed 1]
//
// Like Kestra OSS, every /api/v1 call but /api/v1/configs and webhooks
// needs basic auth, and bearer tokens are refused. Without -user the user
// is root@root.com with password Root!1234, as in Kestra's documentation.
// -enterprise plays Kestra Enterprise Edition as far as authentication
// goes: bearer tokens given with -token are accepted too. Requests are
// logged to standard error. For example:
//
//	kestra-emulator &
//	curl -u 'root@root.com:Root!1234' -H 'Content-Type: application/x-yaml' \
//	  --data-binary $'id: hello\nnamespace: demo\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: Hello\n' \
//	  http://127.0.0.1:8080/api/v1/main/flows
//	curl -u 'root@root.com:Root!1234' -F dummy= \
//	  'http://127.0.0.1:8080/api/v1/main/executions/demo/hello?wait=true'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kestra-go/sdk/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "kestra-emulator:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx ends, and calls ready with the
// listening address once it accepts connections.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("kestra-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	user := fs.String("user", "", "basic-auth user name (requires -password; default "+emulator.DefaultUsername+")")
	password := fs.String("password", "", "basic-auth password (default "+emulator.DefaultPassword+")")
	enterprise := fs.Bool("enterprise", false, "play Kestra Enterprise Edition: accept the bearer token of -token")
	token := fs.String("token", "", "accepted bearer token (requires -enterprise: Kestra OSS refuses tokens)")
	version := fs.String("version", "2.0", "Kestra API generation: 2.0 or 1.3")
	speed := fs.Float64("speed", 1, "simulation speed: simulated durations are divided by it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var opts []emulator.Option
	switch *version {
	case "2.0":
		opts = append(opts, emulator.WithVersion(emulator.Version20))
	case "1.3":
		opts = append(opts, emulator.WithVersion(emulator.Version13))
	default:
		return fmt.Errorf("-version must be 2.0 or 1.3, not %q", *version)
	}
	if (*user == "") != (*password == "") {
		return errors.New("-user and -password go together")
	}
	if *user != "" {
		opts = append(opts, emulator.WithBasicAuth(*user, *password))
	}
	if *token != "" && !*enterprise {
		return errors.New("-token needs -enterprise: Kestra OSS accepts basic auth only")
	}
	if *enterprise {
		opts = append(opts, emulator.WithEnterprise())
	}
	if *token != "" {
		opts = append(opts, emulator.WithToken(*token))
	}
	if *speed <= 0 {
		return errors.New("-speed must be positive")
	}
	opts = append(opts, emulator.WithSpeed(*speed))

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	emu := emulator.New(append(opts, emulator.WithURL(url), emulator.WithLogger(logger))...)
	srv := &http.Server{Handler: logRequests(logger, emu), ReadHeaderTimeout: 10 * time.Second}
	username := *user
	if username == "" {
		username = emulator.DefaultUsername
	}
	logger.Info("kestra emulator listening", "url", url, "version", *version, "user", username, "enterprise", *enterprise)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		emu.Close()
		return err
	case <-ctx.Done():
	}
	// End streams and executions first, so Shutdown does not wait on them.
	emu.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, path, query, status,
// size and duration (never headers, which carry credentials).
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		logger.Info("request", "method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery,
			"status", sw.status, "bytes", sw.bytes, "duration", time.Since(start))
	})
}
