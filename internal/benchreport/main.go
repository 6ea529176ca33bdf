// Command benchreport reads `go test -bench` output on stdin and prints, for
// each benchmark that has a /raw variant, how its other variants (/sdk)
// compare with it: the ns/op ratio and the difference in B/op and
// allocs/op. Runs repeated with -count are averaged. Lines it does not
// understand are ignored, so the whole output of `go test` can be piped in:
//
//	go test -run '^$' -bench Get -benchmem ./kestra | tee bench.out
//	go run ./internal/benchreport < bench.out
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
)

// baseline is the variant the others are compared with.
const baseline = "raw"

// result is the mean of the runs of one benchmark.
type result struct {
	runs                   int
	nsOp, bytesOp, allocOp float64
}

func (r *result) add(ns, b, a float64) {
	r.runs++
	r.nsOp += (ns - r.nsOp) / float64(r.runs)
	r.bytesOp += (b - r.bytesOp) / float64(r.runs)
	r.allocOp += (a - r.allocOp) / float64(r.runs)
}

// procSuffix is the -GOMAXPROCS suffix go test appends to names.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark lines: name, iterations, then value/unit pairs.
func parse(r io.Reader) (map[string]*result, []string, error) {
	results := map[string]*result{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		var ns, b, a float64
		hasNs := false
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			switch f[i+1] {
			case "ns/op":
				ns, hasNs = v, true
			case "B/op":
				b = v
			case "allocs/op":
				a = v
			}
		}
		if !hasNs {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		res, ok := results[name]
		if !ok {
			res = &result{}
			results[name] = res
			order = append(order, name)
		}
		res.add(ns, b, a)
	}
	return results, order, sc.Err()
}

// row is one variant compared with its baseline.
type row struct {
	group, variant string
	base, v        *result
}

func compare(results map[string]*result, order []string) []row {
	var rows []row
	for _, name := range order {
		i := strings.LastIndexByte(name, '/')
		if i < 0 || name[i+1:] == baseline {
			continue
		}
		group := name[:i]
		base, ok := results[group+"/"+baseline]
		if !ok {
			continue
		}
		rows = append(rows, row{group: group, variant: name[i+1:], base: base, v: results[name]})
	}
	return rows
}

func write(w io.Writer, rows []row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "benchmark\tvariant\traw ns/op\tns/op\tratio\traw B/op\tB/op\traw allocs\tallocs\tΔallocs\t\n")
	for _, r := range rows {
		ratio := r.v.nsOp / r.base.nsOp
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f×\t%s\t%s\t%.0f\t%.0f\t%+.0f\t\n",
			r.group, r.variant, human(r.base.nsOp), human(r.v.nsOp), ratio,
			human(r.base.bytesOp), human(r.v.bytesOp), r.base.allocOp, r.v.allocOp, r.v.allocOp-r.base.allocOp)
	}
	return tw.Flush()
}

// human prints v with three significant figures and a k/M suffix.
func human(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func main() {
	results, order, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	rows := compare(results, order)
	if len(rows) == 0 {
		fmt.Fprintln(os.Stderr, "benchreport: no benchmark with a /raw baseline in the input")
		os.Exit(1)
	}
	if err := write(os.Stdout, rows); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}
