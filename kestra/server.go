package kestra

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/kestra-go/sdk/gen"
)

// ServerInfo is what a Kestra server says of itself (GET /api/v1/configs,
// which needs no authentication).
type ServerInfo = gen.MiscControllerConfiguration

// Server returns the server's version and edition. The answer is cached
// for the client's life once a call succeeds.
//
// Kestra API: GET /api/v1/configs
func (c *Client) Server(ctx context.Context) (*ServerInfo, error) {
	return c.server.get(ctx, c)
}

type serverInfoCache struct {
	mu   sync.Mutex
	info *ServerInfo
}

func (s *serverInfoCache) get(ctx context.Context, c *Client) (*ServerInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.info != nil {
		return s.info, nil
	}
	var info ServerInfo
	resp, err := c.raw.GetConfiguration(ctx)
	if err := decode(resp, err, &info); err != nil {
		return nil, err
	}
	s.info = &info
	return s.info, nil
}

// serverMajor returns the major version of the server, 0 when unknown.
func (c *Client) serverMajor(ctx context.Context) int {
	info, err := c.Server(ctx)
	if err != nil {
		return 0
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(info.Version, "v"), ".")
	n, _ := strconv.Atoi(major)
	return n
}
