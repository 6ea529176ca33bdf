package kestra

import (
	"fmt"
	"testing"
	"time"
)

// TestReplayFilterBounded: however many lines pass, the filter remembers at
// most replayWindow of them, and still recognises the replay of older ones.
func TestReplayFilterBounded(t *testing.T) {
	t.Parallel()
	f := newReplayFilter()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	line := func(i int) *LogEntry {
		return &LogEntry{Timestamp: base.Add(time.Duration(i) * time.Millisecond), Level: LevelInfo, Message: fmt.Sprint("line ", i)}
	}
	const n = 50 * replayWindow
	for i := range n {
		if f.replay(line(i)) {
			t.Fatalf("line %d dropped on a healthy connection", i)
		}
	}
	if len(f.ring) > replayWindow || len(f.counts) > replayWindow {
		t.Fatalf("remembers %d lines (%d keys), want at most %d", len(f.ring), len(f.counts), replayWindow)
	}
	f.reconnected()
	for i := range n {
		if !f.replay(line(i)) {
			t.Fatalf("replayed line %d yielded again", i)
		}
	}
	if len(f.replayed) > replayWindow {
		t.Fatalf("replay map holds %d keys", len(f.replayed))
	}
	// A line newer than all ends the replay: alike lines are kept again.
	for range 2 {
		if f.replay(line(n)) {
			t.Fatal("new line dropped")
		}
	}
	// A late line, inside the remembered window but never yielded, is new.
	f.reconnected()
	late := line(n - 10)
	late.Message = "late"
	if f.replay(late) {
		t.Fatal("a line never yielded was taken for a replay")
	}
}
