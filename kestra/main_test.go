package kestra_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: a
// stream left open, a watcher not stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
