package emulator

import (
	"net/http"
	"testing"
)

// recordResponses wraps the handler for tests; a later spec check hooks
// in here.
func recordResponses(t *testing.T, h http.Handler) http.Handler {
	t.Helper()
	return h
}
