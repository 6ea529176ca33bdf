package kestra_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
)

func TestFormatISODuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "PT0S"},
		{time.Second, "PT1S"},
		{1500 * time.Millisecond, "PT1.5S"},
		{time.Nanosecond, "PT0.000000001S"},
		{90 * time.Minute, "PT1H30M"},
		{time.Hour + time.Second, "PT1H1S"},
		{26 * time.Hour, "PT26H"},
		{-2 * time.Second, "-PT2S"},
		{-(time.Minute + 250*time.Millisecond), "-PT1M0.25S"},
		{time.Hour + time.Nanosecond, "PT1H0.000000001S"},
		{59*time.Second + 999999999, "PT59.999999999S"},
		{math.MaxInt64, "PT2562047H47M16.854775807S"},
		{math.MinInt64, "-PT2562047H47M16.854775808S"},
	} {
		equal(t, "FormatISODuration("+tc.d.String()+")", kestra.FormatISODuration(tc.d), tc.want)
	}
}

func TestParseISODuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    string
		want time.Duration
	}{
		{"PT0S", 0},
		{"PT1S", time.Second},
		{"PT0.5S", 500 * time.Millisecond},
		{"PT0,5S", 500 * time.Millisecond},
		{"PT1.123456789S", time.Second + 123456789},
		{"PT59.999999999S", 59*time.Second + 999999999},
		{"PT1H30M", 90 * time.Minute},
		{"P1D", 24 * time.Hour},
		{"P1DT2H", 26 * time.Hour},
		{"P2DT3H4M5.6S", 2*24*time.Hour + 3*time.Hour + 4*time.Minute + 5600*time.Millisecond},
		{"PT1.5H", 90 * time.Minute},
		{"-PT2S", -2 * time.Second},
		{"+PT2S", 2 * time.Second},
		{"PT-6H3M", -6*time.Hour + 3*time.Minute}, // Java's per-component signs
		{"pt1m", time.Minute},
		{"PT36H", 36 * time.Hour},
		{"PT2562047H47M16.854775807S", math.MaxInt64},
		{"-PT2562047H47M16.854775808S", math.MinInt64},
	} {
		got, err := kestra.ParseISODuration(tc.s)
		if err != nil {
			t.Errorf("ParseISODuration(%q): %v", tc.s, err)
			continue
		}
		equal(t, "ParseISODuration("+tc.s+")", got, tc.want)
	}
}

func TestParseISODurationRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s, want string
	}{
		{"P1Y", "only days"},
		{"P2M", "only days"},
		{"P1W", "only days"},
		{"P1Y2M3DT4H", "only days"},
		{"P1H", ""}, // hours before T
		{"PT1D", ""},
		{"", ""},
		{"P", ""},
		{"PT", ""},
		{"1H", ""},
		{"PTS", ""},
		{"PT1", ""},
		{"PTxS", ""},
		{"PT1.2.3S", ""},
		{"PT1HT2M", ""},
		{"PT9999999999999H", "range"},
		{"PT2562047H47M16.854775808S", "range"},
		{"P999999999999999999999D", ""},
	} {
		d, err := kestra.ParseISODuration(tc.s)
		if err == nil {
			t.Errorf("ParseISODuration(%q) = %v, want an error", tc.s, d)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseISODuration(%q): error %q lacks %q", tc.s, err, tc.want)
		}
	}
}

func TestISODurationRoundTrip(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{
		0, 1, -1, time.Millisecond, time.Second, time.Minute, time.Hour, 24 * time.Hour,
		time.Hour + time.Nanosecond, 59*time.Second + 999999999, 1234567890123456789,
		1000*time.Hour + 7*time.Nanosecond, math.MaxInt64, math.MinInt64, math.MinInt64 + 1,
	} {
		s := kestra.FormatISODuration(d)
		got, err := kestra.ParseISODuration(s)
		if err != nil || got != d {
			t.Errorf("ParseISODuration(FormatISODuration(%d) = %q) = %d, %v", d, s, got, err)
		}
	}
}

func FuzzISODuration(f *testing.F) {
	for _, d := range []int64{0, 1, -1, 1500000000, 5400000000000, math.MaxInt64, math.MinInt64, 3600000000001} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		d := time.Duration(n)
		s := kestra.FormatISODuration(d)
		got, err := kestra.ParseISODuration(s)
		if err != nil || got != d {
			t.Fatalf("ParseISODuration(FormatISODuration(%d) = %q) = %d, %v", n, s, got, err)
		}
	})
}

func FuzzParseISODuration(f *testing.F) {
	for _, s := range []string{"PT0S", "P1DT2H", "PT1.5S", "-PT2S", "PT-6H3M", "P1Y", "PT9999999999999H", "pt1,5m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := kestra.ParseISODuration(s)
		if err != nil {
			return
		}
		// Whatever parses formats to a canonical form that parses back.
		canon := kestra.FormatISODuration(d)
		got, err := kestra.ParseISODuration(canon)
		if err != nil || got != d {
			t.Fatalf("ParseISODuration(%q) = %d; its form %q parses to %d, %v", s, d, canon, got, err)
		}
	})
}
