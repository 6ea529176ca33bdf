package kestra

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kestra-go/sdk/gen"
)

// ServerInfo is what a Kestra server says of itself (GET /api/v1/configs,
// which needs no authentication).
type ServerInfo = gen.MiscControllerConfiguration

// Server returns the server's version and edition. The answer is cached
// for the client's life once a call succeeds; concurrent callers share one
// request, each waiting on its own ctx. The calls that pick a path by the
// server's version remember a failure for a few seconds, so that a server
// that cannot answer is not asked by each of them; Server itself asks
// again.
//
// Kestra API: GET /api/v1/configs
func (c *Client) Server(ctx context.Context) (*ServerInfo, error) {
	return c.server.get(ctx, c, false)
}

// How long a failed probe of the server's version is remembered, and how
// long one may take.
const (
	probeFailureTTL = 10 * time.Second
	probeTimeout    = 10 * time.Second
)

type serverInfoCache struct {
	mu       sync.Mutex
	info     *ServerInfo
	err      error
	failedAt time.Time
	inflight chan struct{} // closed when the probe in flight ends
}

// get returns the cached answer, or waits for the probe in flight, or
// probes. With recent, a failure of the last few seconds is returned as
// it is.
func (s *serverInfoCache) get(ctx context.Context, c *Client, recent bool) (*ServerInfo, error) {
	for {
		s.mu.Lock()
		switch {
		case s.info != nil:
			s.mu.Unlock()
			return s.info, nil
		case recent && s.err != nil && time.Since(s.failedAt) < probeFailureTTL:
			err := s.err
			s.mu.Unlock()
			return nil, err
		case s.inflight != nil:
			wait := s.inflight
			s.mu.Unlock()
			select {
			case <-wait:
				continue // the probe ended: read its outcome, or probe again
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		s.inflight = done
		s.mu.Unlock()

		info, err := s.probe(ctx, c)
		s.mu.Lock()
		s.inflight = nil
		switch {
		case err == nil:
			s.info, s.err = info, nil
		case ctx.Err() == nil:
			// The server's failure, not this caller's: remembered briefly.
			s.err, s.failedAt = err, time.Now()
		}
		s.mu.Unlock()
		close(done)
		return info, err
	}
}

// probe asks the server once, within half of what is left of ctx (so that
// the call that needs the version still has time after a probe that hung).
func (s *serverInfoCache) probe(ctx context.Context, c *Client) (*ServerInfo, error) {
	limit := probeTimeout
	if d, ok := ctx.Deadline(); ok {
		limit = min(limit, time.Until(d)/2)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var info ServerInfo
	if err := c.run(ctx, &call{method: "GET", path: "configs", root: true, out: &info}); err != nil {
		return nil, err
	}
	return &info, nil
}

// serverMajor returns the major version of the server, 0 when unknown.
func (c *Client) serverMajor(ctx context.Context) int {
	info, err := c.server.get(ctx, c, true)
	if err != nil {
		return 0
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(info.Version, "v"), ".")
	n, _ := strconv.Atoi(major)
	return n
}
