package emulator

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var isoDurationRe = regexp.MustCompile(`^([-+]?)P(?:([-+]?[0-9]+)D)?(?:T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?$`)

// parseISODuration parses a java.time.Duration string such as PT1.5S or
// P1DT2H.
func parseISODuration(s string) (time.Duration, error) {
	m := isoDurationRe.FindStringSubmatch(strings.ToUpper(s))
	if m == nil || s == "P" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return 0, fmt.Errorf("Text cannot be parsed to a Duration")
	}
	var d time.Duration
	add := func(v string, unit time.Duration) {
		if v == "" {
			return
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		d += time.Duration(n) * unit
	}
	add(m[2], 24*time.Hour)
	add(m[3], time.Hour)
	add(m[4], time.Minute)
	add(m[5], time.Second)
	if m[6] != "" {
		frac := (m[6] + "000000000")[:9]
		n, _ := strconv.ParseInt(frac, 10, 64)
		if strings.HasPrefix(m[5], "-") {
			n = -n
		}
		d += time.Duration(n)
	}
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}

// formatISODuration renders d as java.time.Duration#toString does.
func formatISODuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("PT")
	neg := d < 0
	if neg {
		d = -d
	}
	sign := ""
	if neg {
		sign = "-"
	}
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	if h > 0 {
		fmt.Fprintf(&b, "%s%dH", sign, h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%s%dM", sign, m)
	}
	if d > 0 {
		sec := d / time.Second
		ns := d - sec*time.Second
		b.WriteString(sign)
		b.WriteString(strconv.FormatInt(int64(sec), 10))
		if ns > 0 {
			frac := strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
			b.WriteString("." + frac)
		}
		b.WriteString("S")
	}
	return b.String()
}
