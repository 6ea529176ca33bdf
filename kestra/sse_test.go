package kestra

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	sse "github.com/tmaxmax/go-sse"
)

type testEvent struct{ ID, Type, Data string }

// ownEvents reads body with readEvents.
func ownEvents(t *testing.T, r io.Reader, maxSize int) ([]testEvent, error) {
	t.Helper()
	var got []testEvent
	err := readEvents(r, maxSize, func(ev *sseEvent) bool {
		got = append(got, testEvent{ev.ID, ev.Type, string(ev.Data)})
		return true
	})
	return got, err
}

// goSSEEvents reads body with go-sse, the reference.
func goSSEEvents(body []byte, maxSize int) ([]testEvent, error) {
	var got []testEvent
	for ev, err := range sse.Read(bytes.NewReader(body), &sse.ReadConfig{MaxEventSize: maxSize}) {
		if err != nil {
			return got, err
		}
		got = append(got, testEvent{ev.LastEventID, ev.Type, ev.Data})
	}
	return got, nil
}

func TestReadEvents(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []testEvent
	}{
		{"kestra frames", "id: start\ndata: {}\n\nid: progress\ndata: {\"a\":1}\n\n",
			[]testEvent{{"start", "", "{}"}, {"progress", "", `{"a":1}`}}},
		{"CRLF", "id: end\r\ndata: x\r\n\r\n", []testEvent{{"end", "", "x"}}},
		{"CR", "id: end\rdata: x\r\r", []testEvent{{"end", "", "x"}}},
		{"multi-line data", "data: a\ndata:b\ndata\n\n", []testEvent{{"", "", "a\nb\n"}}},
		{"one space trimmed", "data:  a \n\n", []testEvent{{"", "", " a "}}},
		{"event type reset, id kept", "id: 1\nevent: e\ndata: a\n\ndata: b\n\n",
			[]testEvent{{"1", "e", "a"}, {"1", "", "b"}}},
		{"empty id resets", "id: 1\ndata: a\n\nid\ndata: b\n\n", []testEvent{{"1", "", "a"}, {"", "", "b"}}},
		{"id with NUL ignored", "id: 1\n\nid: a\x00b\ndata: c\n\n", []testEvent{{"1", "", ""}, {"1", "", "c"}}},
		{"comments, retry and unknown fields ignored", ": hi\nretry: 5\nfoo: bar\ndata: x\n\n:\n\n",
			[]testEvent{{"", "", "x"}}},
		{"byte-order mark", "\xEF\xBB\xBFid: a\n\n", []testEvent{{"a", "", ""}}},
		{"byte-order mark only once", "\xEF\xBB\xBFid: a\n\n\xEF\xBB\xBFid: b\n\n", []testEvent{{"a", "", ""}}},
		{"last event cut short", "data: a\n\ndata: b\n", []testEvent{{"", "", "a"}}},
		{"last line cut short", "data: a\n\ndata: b", []testEvent{{"", "", "a"}}},
		{"blank lines only", "\n\r\n\r\n", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readers := map[string]io.Reader{
				"whole":    strings.NewReader(tt.body),
				"one byte": iotest.OneByteReader(strings.NewReader(tt.body)),
			}
			for how, r := range readers {
				got, err := ownEvents(t, r, 1<<10)
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s: events (-want +got):\n%s", how, diff)
				}
			}
			// The expectations are go-sse's too.
			ref, err := goSSEEvents([]byte(tt.body), 1<<10)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ref); diff != "" {
				t.Errorf("go-sse disagrees with the expectation (-want +go-sse):\n%s", diff)
			}
		})
	}
}

func TestReadEventsStops(t *testing.T) {
	n := 0
	err := readEvents(strings.NewReader("data: a\n\ndata: b\n\ndata: c\n\n"), 1<<10, func(*sseEvent) bool {
		n++
		return n < 2
	})
	if err != nil || n != 2 {
		t.Fatalf("readEvents read %d events (err %v) after the callback asked to stop at 2", n, err)
	}
}

func TestReadEventsTooLarge(t *testing.T) {
	for name, body := range map[string]string{
		"one long line":         "data: " + strings.Repeat("x", 200) + "\n\n",
		"many lines, long data": strings.Repeat("data: "+strings.Repeat("x", 20)+"\n", 10) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ownEvents(t, strings.NewReader("data: small\n\n"+body), 128)
			if !errors.Is(err, bufio.ErrTooLong) {
				t.Fatalf("err = %v, want bufio.ErrTooLong", err)
			}
			if len(got) != 1 || got[0].Data != "small" {
				t.Fatalf("events before the large one = %+v, want the small one", got)
			}
		})
	}
}

func TestReadEventsReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom))
	got, err := ownEvents(t, r, 1<<10)
	if !errors.Is(err, boom) || len(got) != 1 {
		t.Fatalf("got %+v, %v; want one event then the read error", got, err)
	}
}

// FuzzReadEventsMatchesGoSSE holds readEvents to go-sse's sse.Read: on any
// input, read whole or a byte at a time, both yield the same events.
func FuzzReadEventsMatchesGoSSE(f *testing.F) {
	transcript, err := os.ReadFile("testdata/follow_success.sse")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(transcript)
	f.Add(bytes.ReplaceAll(transcript, []byte("\n"), []byte("\r\n")))
	f.Add(bytes.ReplaceAll(transcript, []byte("\n"), []byte("\r")))
	f.Add([]byte("\xEF\xBB\xBF\n\xEF\xBB\xBFdata: a\n\n"))
	f.Add([]byte("\n\n\xEF\xBB\xBFid: a\n\n"))
	f.Add([]byte("id: 1\ndata: a\r\n\r\nid\nevent: x\ndata\n\ndata:b\r\rretry: 1\n\n"))
	f.Add([]byte("data: a\r\r\ndata: b\n\r\n"))
	f.Add([]byte("id: a\x00\n\n: c\nfoo\ndata: x\n"))
	f.Add([]byte("event\n\nevent: \n\nretry\n\n"))

	f.Fuzz(func(t *testing.T, body []byte) {
		const maxSize = 1 << 20 // above any input the fuzzer makes
		want, err := goSSEEvents(body, maxSize)
		if err != nil {
			t.Skip("go-sse fails:", err)
		}
		for how, r := range map[string]io.Reader{
			"whole":    bytes.NewReader(body),
			"one byte": iotest.OneByteReader(bytes.NewReader(body)),
		} {
			got, err := ownEvents(t, r, maxSize)
			if err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: events differ from go-sse's (-go-sse +readEvents):\n%s\ninput %q", how, diff, body)
			}
		}
	})
}
