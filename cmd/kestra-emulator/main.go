// Command kestra-emulator serves an in-memory emulation of the Kestra REST
// API, the same one package kestratest runs in-process, so that any client
// (curl, other SDKs, a browser) can exercise flows, executions, follow
// streams, logs, KV and namespace files without a Kestra server.
//
// Usage:
//
//	kestra-emulator [-addr 127.0.0.1:8080] [-user USER -password PASS] [-enterprise -token TOKEN] [-version 2.0|1.3] [-speed 1] [-plugins TYPE,PKG.]
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
//	curl -u 'root@root.com:Root!1234' -X POST \
//	  'http://127.0.0.1:8080/api/v1/main/executions/demo/hello?wait=true'
//
// An execution without inputs needs no body: Kestra's route consumes
// multipart/form-data, but Micronaut matches a request without a
// Content-Type to it, and the inputs part is optional (ExecutionController
// create, @Nullable @Body MultipartBody inputs). Inputs are form parts:
// curl -F name=value, or -F doc=@file.csv for a FILE input.
//
// Build the binary and run it (make emulator does both) rather than go run:
// stopping go run does not stop the program it started.
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
	"strings"
	"syscall"
	"time"

	"github.com/kestra-go/sdk/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "kestra-emulator:", err)
	}
	os.Exit(exitCode(err))
}

// exitCode is 0 for a clean end and for -help, 2 for a usage error (as the
// flag package does), 1 otherwise.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// usageError is a flag the command cannot parse; the usage is printed.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

const usageText = `Usage: kestra-emulator [flags]

Serves an in-memory emulation of the Kestra REST API (the one package
kestratest runs in tests) until interrupted. Requests are logged to
standard error.

Flags:
`

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
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	plugins := fs.String("plugins", "", "installed plugin types, comma-separated; a type ending with a dot stands for its package (io.kestra.plugin.scripts.)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
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
	if *plugins != "" {
		opts = append(opts, emulator.WithPlugins(strings.Split(*plugins, ",")...))
	}

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
