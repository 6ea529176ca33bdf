package examples_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests when a goroutine outlives them, such as the
// wait of an example process that was never reaped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
