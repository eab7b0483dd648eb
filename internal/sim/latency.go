package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Latency is how long after it arrives a request is answered, the
// simulator's own work included: Min when Max is zero, otherwise drawn
// uniformly between Min and Max.
type Latency struct {
	Min, Max time.Duration
}

// ParseLatency reads "50ms" or "10ms-80ms"; "" is no latency.
func ParseLatency(s string) (Latency, error) {
	if s == "" {
		return Latency{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	min, err := time.ParseDuration(lo)
	if err != nil {
		return Latency{}, fmt.Errorf("latency %q: %w", s, err)
	}
	if !isRange {
		return Latency{Min: min}, nil
	}
	max, err := time.ParseDuration(hi)
	if err != nil || max < min {
		return Latency{}, errors.New("latency range must be MIN-MAX with MIN <= MAX, e.g. 10ms-80ms")
	}
	return Latency{Min: min, Max: max}, nil
}

// Duration is the latency of the request with draw d.
func (l Latency) Duration(d Draw) time.Duration {
	if l.Max <= l.Min {
		return l.Min
	}
	return l.Min + time.Duration(d.Float(200)*float64(l.Max-l.Min))
}

// String gives the form ParseLatency reads.
func (l Latency) String() string {
	switch {
	case l.Max > l.Min:
		return l.Min.String() + "-" + l.Max.String()
	case l.Min > 0:
		return l.Min.String()
	}
	return ""
}
