package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/kestra-go/sdk/kestra
BenchmarkGet/small/par=1/raw-2         	   20000	     50000 ns/op	  40.00 MB/s	    6000 B/op	      60 allocs/op
BenchmarkGet/small/par=1/sdk-2         	   20000	     60000 ns/op	  33.33 MB/s	    7000 B/op	      75 allocs/op
BenchmarkGet/small/par=1/raw-2         	   20000	     70000 ns/op	  40.00 MB/s	    6000 B/op	      60 allocs/op
BenchmarkGet/large/par=8/sdk-2         	     500	   2200000 ns/op	 140.00 MB/s	  900000 B/op	   9000 allocs/op
BenchmarkGet/large/par=8/raw-2         	     500	   2000000 ns/op	 150.00 MB/s	  880000 B/op	   8990 allocs/op
BenchmarkFilesStream64MiB/upload-2     	       1	 100000000 ns/op
--- FAIL: BenchmarkBroken
PASS
ok  	github.com/kestra-go/sdk/kestra	12.3s
`

func TestReport(t *testing.T) {
	results, order, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if r := results["BenchmarkGet/small/par=1/raw"]; r == nil || r.runs != 2 || r.nsOp != 60000 {
		t.Fatalf("raw small = %+v, want the mean of two runs, 60000 ns/op", r)
	}
	rows := compare(results, order)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2 (the files benchmark has no baseline)", len(rows))
	}
	var out strings.Builder
	if err := write(&out, rows); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"BenchmarkGet/small/par=1", "1.00×", "+15",
		"BenchmarkGet/large/par=8", "1.10×", "+10", "2.00M", "2.20M",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
