package kestra

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"math"
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
	// execution has ended: the iteration ends when no line was yielded for
	// Grace. Zero means 500ms.
	Grace time.Duration
	// StreamOptions tune the log stream, and with UntilDone the
	// execution's stream followed alongside.
	StreamOptions
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
	q1 = url.Values{}
	setIf(q1, "minLevel", string(o.MinLevel))
	setIf(q1, "taskId", o.TaskID)
	setIf(q1, "taskRunId", o.TaskRunID)
	f := filters{}
	f.add("level", "GREATER_THAN_OR_EQUAL_TO", string(o.MinLevel))
	f.add("taskId", "EQUALS", o.TaskID)
	f.add("taskRunId", "EQUALS", o.TaskRunID)
	return url.Values(f), q1
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
func (s *LogsService) List(ctx context.Context, executionID string, opts *LogListOptions) ([]*LogEntry, error) {
	if executionID == "" {
		return nil, errEmptyID
	}
	var o LogListOptions
	if opts != nil {
		o = *opts
	}
	var out []*LogEntry
	cl := &call{method: http.MethodGet, path: "logs/{executionId}", args: []string{executionID}, out: &out}
	cl.query, cl.query1x = filterQueries(o)
	if err := s.c.run(ctx, cl); err != nil {
		return nil, err
	}
	return out, noNil(out, "log line")
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

// touch restarts the grace period when it is armed: a line was yielded,
// or a new connection opened.
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

// replayWindow is how many of the last lines yielded a log stream
// remembers, to recognise them when a reconnect replays them.
const replayWindow = 1024

// replayFilter drops the lines a reconnect replays. Kestra's log stream
// starts each connection with every stored line, oldest first, then the
// new ones. On the first connection nothing is dropped, however alike two
// lines are. After a reconnect, until a line newer than every line yielded
// arrives, a line is a replay when it is one of the last lines yielded
// (each counted as often as it was yielded) or older than all of them.
// Memory stays bounded however long the stream.
type replayFilter struct {
	seed      maphash.Seed
	ring      []replayKey // the last lines yielded; next is the oldest once full
	next      int
	counts    map[uint64]int // lines of ring by key
	forgotten int64          // newest timestamp of a line that left ring
	newest    int64          // newest timestamp yielded
	replaying bool
	replayed  map[uint64]int // lines of ring seen again since the reconnect
}

type replayKey struct {
	h  uint64
	ts int64
}

func newReplayFilter() *replayFilter {
	return &replayFilter{seed: maphash.MakeSeed(), counts: map[uint64]int{}, forgotten: math.MinInt64, newest: math.MinInt64}
}

// reconnected starts the replay of a new connection.
func (f *replayFilter) reconnected() {
	f.replaying = len(f.ring) > 0
	clear(f.replayed)
}

// replay reports whether l is a replay of a line already yielded, and
// otherwise remembers it as yielded.
func (f *replayFilter) replay(l *LogEntry) bool {
	k := replayKey{f.key(l), l.Timestamp.UnixNano()}
	if f.replaying {
		if k.ts > f.newest {
			f.replaying = false
		} else {
			if f.replayed[k.h] < f.counts[k.h] {
				if f.replayed == nil {
					f.replayed = map[uint64]int{}
				}
				f.replayed[k.h]++
				return true
			}
			if k.ts <= f.forgotten {
				return true
			}
		}
	}
	f.remember(k)
	return false
}

func (f *replayFilter) remember(k replayKey) {
	f.newest = max(f.newest, k.ts)
	f.counts[k.h]++
	if len(f.ring) < replayWindow {
		f.ring = append(f.ring, k)
		return
	}
	old := f.ring[f.next]
	f.ring[f.next] = k
	f.next = (f.next + 1) % replayWindow
	f.forgotten = max(f.forgotten, old.ts)
	if f.counts[old.h]--; f.counts[old.h] <= 0 {
		delete(f.counts, old.h)
	}
	if f.replayed[old.h] > f.counts[old.h] {
		f.replayed[old.h] = f.counts[old.h]
	}
}

// key identifies a log line by everything Kestra sends of it.
func (f *replayFilter) key(l *LogEntry) uint64 {
	var h maphash.Hash
	h.SetSeed(f.seed)
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(l.Timestamp.UnixNano()))
	binary.LittleEndian.PutUint32(b[8:], uint32(l.AttemptNumber))
	h.Write(b[:])
	for _, s := range []string{string(l.Level), l.TaskID, l.TaskRunID, l.TriggerID, l.Thread, l.Message} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// Follow streams the log lines of an execution: those already written,
// then new ones as they come. Kestra's log stream never ends by itself;
// with opts.UntilDone the iteration ends once the execution has ended and
// its last lines were yielded (the execution is followed alongside, on a
// goroutine that ends with the iteration, and an execution deleted
// meanwhile ends it with [ErrNotFound]). A lost connection is reopened
// (see [StreamOptions]), and the lines it replays are not yielded again;
// on a connection that was not lost, every line is yielded, even two
// alike.
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
	sc := newStreamConfig(&o.StreamOptions)
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
		// The grace period counts from the first frame: held until then.
		grace := &graceTimer{d: o.Grace, cancel: cancel, held: true}
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
		replays := newReplayFilter()
		resumed := false // the current connection delivered a frame
		loop := streamLoop{
			sc:   &sc,
			name: "follow logs of " + executionID,
			open: func(ctx context.Context) (*http.Response, error) {
				return s.c.openEvents(ctx, &call{path: "logs/{executionId}/follow", args: []string{executionID}, query: q2, query1x: q1})
			},
			attempt: func(n int) {
				if n > 0 {
					replays.reconnected()
					resumed = false
				}
			},
			frame: func(tag string, data []byte) (frameAction, error) {
				if !resumed {
					// The first frame of a connection: the grace period,
					// held until now, goes on.
					resumed = true
					grace.touch()
				}
				if tag != tagProgress || isNull(data) {
					return frameOld, nil // start, tags this client does not know, no line
				}
				l := new(LogEntry)
				if err := json.Unmarshal(data, l); err != nil {
					return frameStop, fmt.Errorf("kestra: follow logs of %s: decode frame: %w", executionID, err)
				}
				if !filter.matches(l) {
					return frameOld, nil
				}
				if replays.replay(l) {
					// A replay brings the stream closer to new lines.
					grace.touch()
					return frameOld, nil
				}
				grace.touch()
				if !yield(l, nil) {
					return frameStop, nil
				}
				return frameNew, nil
			},
			lost: func(context.Context) (bool, error) {
				grace.hold()
				return false, nil
			},
		}
		err := loop.run(lctx)
		if err == nil {
			return // the consumer stopped
		}
		// The cause of an ended stream becomes what the caller sees:
		// nothing for the end of UntilDone, else the error.
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
}
