package kestra

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FormatISODuration writes d as an ISO-8601 duration, the form Kestra reads
// and writes (PT1H30M, PT1.5S, -PT2S).
func FormatISODuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	b.WriteString("PT")
	if h := d / time.Hour; h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10))
		b.WriteByte('H')
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		b.WriteString(strconv.FormatInt(int64(m), 10))
		b.WriteByte('M')
		d -= m * time.Minute
	}
	if d > 0 {
		s := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
		b.WriteString(s)
		b.WriteByte('S')
	}
	return b.String()
}

// ParseISODuration reads an ISO-8601 duration with days, hours, minutes and
// seconds (P1DT2H, PT0.5S). Years, months and weeks have no fixed length
// and are refused.
func ParseISODuration(s string) (time.Duration, error) {
	orig := s
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") && !strings.HasPrefix(s, "p") {
		return 0, fmt.Errorf("invalid ISO-8601 duration %q", orig)
	}
	s = s[1:]
	var total float64
	inTime, any := false, false
	for s != "" {
		if s[0] == 'T' || s[0] == 't' {
			if inTime {
				return 0, fmt.Errorf("invalid ISO-8601 duration %q", orig)
			}
			inTime, s = true, s[1:]
			continue
		}
		i := 0
		for i < len(s) && (s[i] == '.' || s[i] == ',' || s[i] == '-' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("invalid ISO-8601 duration %q", orig)
		}
		n, err := strconv.ParseFloat(strings.ReplaceAll(s[:i], ",", "."), 64)
		if err != nil {
			return 0, fmt.Errorf("invalid ISO-8601 duration %q", orig)
		}
		unit := s[i] | 0x20 // lower case
		var mult float64
		switch {
		case !inTime && unit == 'd':
			mult = float64(24 * time.Hour)
		case inTime && unit == 'h':
			mult = float64(time.Hour)
		case inTime && unit == 'm':
			mult = float64(time.Minute)
		case inTime && unit == 's':
			mult = float64(time.Second)
		default:
			return 0, errors.New("unsupported ISO-8601 duration " + strconv.Quote(orig) + ": only days, hours, minutes and seconds")
		}
		total += n * mult
		any = true
		s = s[i+1:]
	}
	if !any {
		return 0, fmt.Errorf("invalid ISO-8601 duration %q", orig)
	}
	if neg {
		total = -total
	}
	return time.Duration(total), nil
}
