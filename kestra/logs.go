package kestra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kestra-go/sdk/gen"
)

// LogsService reads, downloads and follows the logs of executions.
type LogsService service

// Level is the level of a log line. It is an open string.
type Level = gen.Level

// Log levels, from the most to the least verbose.
const (
	LevelTrace Level = gen.LevelTRACE
	LevelDebug Level = gen.LevelDEBUG
	LevelInfo  Level = gen.LevelINFO
	LevelWarn  Level = gen.LevelWARN
	LevelError Level = gen.LevelERROR
)

var levelRank = map[Level]int{LevelTrace: 1, LevelDebug: 2, LevelInfo: 3, LevelWarn: 4, LevelError: 5}

// LogListOptions selects log lines. The zero value selects them all.
type LogListOptions struct {
	// MinLevel keeps lines of this level and above.
	MinLevel Level
	// TaskID keeps the lines of one task.
	TaskID string
	// TaskRunID keeps the lines of one task run.
	TaskRunID string
}

// LogFollowOptions tunes [LogsService.Follow]. The zero value follows
// every line until the loop ends.
type LogFollowOptions struct {
	// MinLevel keeps lines of this level and above.
	MinLevel Level
	// TaskID keeps the lines of one task.
	TaskID string
	// UntilDone ends the iteration once the execution has ended and its
	// last lines were yielded. Without it the iteration goes on, as
	// Kestra's log stream does, until the loop ends or ctx is done.
	UntilDone bool
	// Grace is, with UntilDone, how long to wait for more lines once the
	// execution has ended: the iteration ends when none has arrived for
	// Grace. Zero means 500ms.
	Grace time.Duration
	// MaxReconnects is how many times in a row a lost connection is
	// reopened before the iteration ends with an error. Zero means 5;
	// negative never reconnects. A connection that delivered a new line,
	// stayed open 30s, or was closed by IdleTimeout resets the count.
	MaxReconnects int
	// IdleTimeout treats a connection that receives no byte for this long
	// as lost (see [FollowIdleTimeout]). Zero waits forever.
	IdleTimeout time.Duration
}

const defaultLogGrace = 500 * time.Millisecond

// filterQueries returns the query of a log filter in the form of Kestra
// 2 (filters[...], also used when the version is unknown) and of Kestra 1
// (legacy parameters); nil for no filter. The version is asked only when
// there is a filter.
func filterQueries(o LogListOptions) (q2, q1 url.Values) {
	if o.MinLevel == "" && o.TaskID == "" && o.TaskRunID == "" {
		return nil, nil
	}
	q1, q2 = url.Values{}, url.Values{}
	setIf(q1, "minLevel", string(o.MinLevel))
	setIf(q1, "taskId", o.TaskID)
	setIf(q1, "taskRunId", o.TaskRunID)
	setIf(q2, "filters[level][GREATER_THAN_OR_EQUAL_TO]", string(o.MinLevel))
	setIf(q2, "filters[taskId][EQUALS]", o.TaskID)
	setIf(q2, "filters[taskRunId][EQUALS]", o.TaskRunID)
	return q2, q1
}

func setIf(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}

// matches reports whether l passes the filter; the server filters too, but
// Kestra 1 follows with a level filter only.
func (o *LogListOptions) matches(l *LogEntry) bool {
	if o.MinLevel != "" {
		if want, ok := levelRank[Level(strings.ToUpper(string(o.MinLevel)))]; ok && levelRank[l.Level] < want {
			return false
		}
	}
	return (o.TaskID == "" || l.TaskID == o.TaskID) && (o.TaskRunID == "" || l.TaskRunID == o.TaskRunID)
}

// List returns the log lines of an execution that opts selects (nil: all),
// oldest first.
//
// Kestra API: GET /api/v1/{tenant}/logs/{executionId}
func (s *LogsService) List(ctx context.Context, executionID string, opts *LogListOptions) ([]LogEntry, error) {
	if executionID == "" {
		return nil, errEmptyID
	}
	var o LogListOptions
	if opts != nil {
		o = *opts
	}
	var out []LogEntry
	cl := &call{method: http.MethodGet, path: "logs/{executionId}", args: []string{executionID}, out: &out}
	cl.query, cl.query1x = filterQueries(o)
	if err := s.c.run(ctx, cl); err != nil {
		return nil, err
	}
	return out, nil
}

// Delete deletes the log lines of an execution that opts selects: with
// nil, all of them; with MinLevel, those of that level and above; with
// TaskID or TaskRunID, those of one task or task run. Deleting the lines
// of an execution that has none is no error.
//
// Kestra API: DELETE /api/v1/{tenant}/logs/{executionId}
func (s *LogsService) Delete(ctx context.Context, executionID string, opts *LogListOptions) error {
	if executionID == "" {
		return errEmptyID
	}
	q := url.Values{}
	if opts != nil {
		setIf(q, "minLevel", string(opts.MinLevel))
		setIf(q, "taskId", opts.TaskID)
		setIf(q, "taskRunId", opts.TaskRunID)
	}
	return s.c.run(ctx, &call{method: http.MethodDelete, path: "logs/{executionId}", args: []string{executionID}, query: q})
}

// Download returns the logs of an execution as text, one line per log:
// "TIMESTAMP LEVEL message". The caller reads and closes it. Only ctx
// bounds the read, not [Config.Timeout].
//
// Kestra API: GET /api/v1/{tenant}/logs/{executionId}/download
func (s *LogsService) Download(ctx context.Context, executionID string) (io.ReadCloser, error) {
	if executionID == "" {
		return nil, errEmptyID
	}
	return s.c.openStream(ctx, &call{method: http.MethodGet, path: "logs/{executionId}/download", args: []string{executionID}})
}

// errGraceOver ends a log stream once the execution has ended and no line
// came for the grace period.
var errGraceOver = errors.New("kestra: log stream grace period over")

// watchError carries the error of the execution watcher of UntilDone.
type watchError struct{ err error }

func (e *watchError) Error() string { return e.err.Error() }
func (e *watchError) Unwrap() error { return e.err }

// graceTimer ends a log stream when no line arrives for d after arm,
// counting only the time a connection is open.
type graceTimer struct {
	mu     sync.Mutex
	d      time.Duration
	t      *time.Timer
	held   bool
	cancel context.CancelCauseFunc
}

// arm starts the grace period: the execution has ended.
func (g *graceTimer) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.t == nil {
		g.t = time.AfterFunc(g.d, func() { g.cancel(errGraceOver) })
		if g.held {
			g.t.Stop()
		}
	}
}

// touch restarts the grace period when it is armed: a frame arrived.
func (g *graceTimer) touch() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = false
	if g.t != nil {
		g.t.Reset(g.d)
	}
}

// hold suspends the grace period while the stream reconnects, so that the
// lines a lost connection missed are still read.
func (g *graceTimer) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = true
	if g.t != nil {
		g.t.Stop()
	}
}

func (g *graceTimer) stop() { g.hold() }

// logKey identifies a log line across reconnects: its timestamp, message
// and task run.
func logKey(seed maphash.Seed, l *LogEntry) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var ts [8]byte
	n := l.Timestamp.UnixNano()
	for i := range ts {
		ts[i] = byte(n >> (8 * i))
	}
	h.Write(ts[:])
	h.WriteString(l.Message)
	h.WriteByte(0)
	h.WriteString(l.TaskRunID)
	return h.Sum64()
}

// Follow streams the log lines of an execution: those already written,
// then new ones as they come. Kestra's log stream never ends by itself;
// with opts.UntilDone the iteration ends once the execution has ended and
// its last lines were yielded (the execution is followed alongside, on a
// goroutine that ends with the iteration). A lost connection is reopened,
// and the lines it replays are not yielded again.
//
// Errors are yielded once, after which the iteration stops. Leaving the
// loop early, or cancelling ctx, closes the connections.
//
// Kestra API: GET /api/v1/{tenant}/logs/{executionId}/follow
func (s *LogsService) Follow(ctx context.Context, executionID string, opts *LogFollowOptions) iter.Seq2[*LogEntry, error] {
	var o LogFollowOptions
	if opts != nil {
		o = *opts
	}
	if o.Grace <= 0 {
		o.Grace = defaultLogGrace
	}
	sc := defaultStreamConfig()
	switch {
	case o.MaxReconnects < 0:
		sc.maxReconnects = 0
	case o.MaxReconnects > 0:
		sc.maxReconnects = o.MaxReconnects
	}
	sc.idleTimeout = max(o.IdleTimeout, 0)
	filter := LogListOptions{MinLevel: o.MinLevel, TaskID: o.TaskID}

	return func(yield func(*LogEntry, error) bool) {
		if executionID == "" {
			yield(nil, errEmptyID)
			return
		}
		lctx, cancel := context.WithCancelCause(ctx)
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel(nil)
		grace := &graceTimer{d: o.Grace, cancel: cancel}
		defer grace.stop()

		if o.UntilDone {
			wg.Go(func() {
				err := s.c.Executions.follow(lctx, executionID, &sc, func(_ *Execution, final, _ bool) bool {
					if final {
						grace.arm()
					}
					return true
				})
				if err != nil && lctx.Err() == nil {
					cancel(&watchError{err})
				}
			})
		}

		q2, q1 := filterQueries(filter)
		open := func(ctx context.Context) (*http.Response, error) {
			return s.c.openEvents(ctx, &call{path: "logs/{executionId}/follow", args: []string{executionID}, query: q2, query1x: q1})
		}
		seed := maphash.MakeSeed()
		seen := map[uint64]struct{}{}
		// finish turns the cause of an ended stream into what the caller
		// sees: nothing for the end of UntilDone, else the error.
		finish := func(err error) {
			cause := context.Cause(lctx)
			var we *watchError
			switch {
			case errors.Is(cause, errGraceOver) && ctx.Err() == nil:
			case errors.As(cause, &we):
				yield(nil, we.err)
			default:
				yield(nil, err)
			}
		}

		failures := 0
		for {
			var (
				newLine   bool
				stopped   bool
				decodeErr error
			)
			opened := time.Now()
			res, err := runConn(lctx, &sc, open, func(tag string, data []byte) bool {
				grace.touch()
				if tag != tagProgress {
					return true // start, and tags this client does not know
				}
				l := new(LogEntry)
				if err := json.Unmarshal(data, l); err != nil {
					decodeErr = fmt.Errorf("kestra: follow logs of %s: decode frame: %w", executionID, err)
					return false
				}
				if !filter.matches(l) {
					return true
				}
				k := logKey(seed, l)
				if _, dup := seen[k]; dup {
					return true
				}
				seen[k] = struct{}{}
				newLine = true
				if !yield(l, nil) {
					stopped = true
					return false
				}
				return true
			})
			switch {
			case stopped:
				return
			case decodeErr != nil:
				yield(nil, decodeErr)
				return
			case res == connFatal:
				finish(err)
				return
			case res == connDone:
				return
			}
			grace.hold()
			if healthyConn(newLine, opened, err) {
				failures = 0
			}
			failures++
			if failures > sc.maxReconnects {
				finish(fmt.Errorf("kestra: follow logs of %s: connection lost %d times in a row: %w", executionID, failures, err))
				return
			}
			if err := sleepCtx(lctx, sc.backoff(failures)); err != nil {
				finish(err)
				return
			}
		}
	}
}
