package kestra

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// FormatISODuration writes d as an ISO-8601 duration, the form Kestra reads
// and writes (PT1H30M, PT1.5S, -PT2S). It is exact to the nanosecond:
// [ParseISODuration] reads it back to d.
func FormatISODuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	b := make([]byte, 0, 32)
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = -u // the magnitude, right for math.MinInt64 too
	}
	b = append(b, "PT"...)
	if h := u / uint64(time.Hour); h > 0 {
		b = strconv.AppendUint(b, h, 10)
		b = append(b, 'H')
		u -= h * uint64(time.Hour)
	}
	if m := u / uint64(time.Minute); m > 0 {
		b = strconv.AppendUint(b, m, 10)
		b = append(b, 'M')
		u -= m * uint64(time.Minute)
	}
	if u > 0 {
		b = strconv.AppendUint(b, u/uint64(time.Second), 10)
		if ns := u % uint64(time.Second); ns > 0 {
			frac := strconv.AppendUint([]byte("00000000"), ns, 10) // 9 digits at least
			frac = frac[len(frac)-9:]
			b = append(b, '.')
			b = append(b, strings.TrimRight(string(frac), "0")...)
		}
		b = append(b, 'S')
	}
	return string(b)
}

// ParseISODuration reads an ISO-8601 duration with days, hours, minutes and
// seconds (P1DT2H, PT0.5S, -PT2S, and Java's PT-6H3M). Years, months and
// weeks have no fixed length and are refused, as is a duration that does
// not fit a time.Duration.
func ParseISODuration(s string) (time.Duration, error) {
	orig := s
	invalid := func() (time.Duration, error) {
		return 0, fmt.Errorf("invalid ISO-8601 duration %q", orig)
	}
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") && !strings.HasPrefix(s, "p") {
		return invalid()
	}
	s = s[1:]
	var total int64
	inTime, any := false, false
	for s != "" {
		if s[0] == 'T' || s[0] == 't' {
			if inTime || len(s) == 1 {
				return invalid()
			}
			inTime, s = true, s[1:]
			continue
		}
		compNeg := neg
		if s[0] == '-' || s[0] == '+' {
			compNeg = compNeg != (s[0] == '-')
			s = s[1:]
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		intDigits := s[:i]
		var fracDigits string
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			fracDigits, i = s[i+1:j], j
		}
		if intDigits == "" && fracDigits == "" || i == len(s) {
			return invalid()
		}
		var unit time.Duration
		switch c := s[i] | 0x20; { // lower case
		case !inTime && c == 'd':
			unit = 24 * time.Hour
		case inTime && c == 'h':
			unit = time.Hour
		case inTime && c == 'm':
			unit = time.Minute
		case inTime && c == 's':
			unit = time.Second
		case !inTime && (c == 'y' || c == 'm' || c == 'w'):
			return 0, errors.New("unsupported ISO-8601 duration " + strconv.Quote(orig) + ": only days, hours, minutes and seconds")
		default:
			return invalid()
		}
		s = s[i+1:]
		any = true

		mag, ok := component(intDigits, fracDigits, uint64(unit))
		var v int64
		switch {
		case !ok, !compNeg && mag > math.MaxInt64, compNeg && mag > 1<<63:
			return 0, fmt.Errorf("ISO-8601 duration %q out of range", orig)
		case compNeg:
			v = -int64(mag) // 1<<63 becomes math.MinInt64, as it should
		default:
			v = int64(mag)
		}
		sum := total + v
		if v > 0 && sum < total || v < 0 && sum > total {
			return 0, fmt.Errorf("ISO-8601 duration %q out of range", orig)
		}
		total = sum
	}
	if !any {
		return invalid()
	}
	return time.Duration(total), nil
}

// component returns intDigits.fracDigits times unit nanoseconds, exactly
// (the fraction truncated to the nanosecond), and false past 1<<63.
func component(intDigits, fracDigits string, unit uint64) (uint64, bool) {
	var n uint64
	for _, c := range []byte(intDigits) {
		hi, lo := bits.Mul64(n, 10)
		if hi != 0 || lo+uint64(c-'0') < lo {
			return 0, false
		}
		n = lo + uint64(c-'0')
	}
	hi, mag := bits.Mul64(n, unit)
	if hi != 0 || mag > 1<<63 {
		return 0, false
	}
	// At most 18 digits of fraction: below a nanosecond for any unit.
	fracDigits = fracDigits[:min(len(fracDigits), 18)]
	if fracDigits == "" {
		return mag, true
	}
	frac, _ := strconv.ParseUint(fracDigits, 10, 64)
	pow := uint64(1)
	for range fracDigits {
		pow *= 10
	}
	// frac·unit < pow·2^64, so the quotient fits in 64 bits.
	hi, lo := bits.Mul64(frac, unit)
	q, _ := bits.Div64(hi, lo, pow)
	mag += q
	return mag, mag <= 1<<63
}
