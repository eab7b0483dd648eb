package hyperstacksim

import (
	"errors"
	"fmt"
	"time"
)

// Window is a half-open time range [Start, End).
type Window struct {
	Start, End time.Time
}

// Granularity is the graph bucket size the API uses for a window: hourly
// buckets up to three days, daily buckets beyond.
func (w Window) Granularity() time.Duration {
	if w.End.Sub(w.Start) <= 72*time.Hour {
		return time.Hour
	}
	return 24 * time.Hour
}

// Buckets cuts the window into buckets of size g aligned in UTC; the first
// and last may be partial.
func (w Window) Buckets(g time.Duration) []Window {
	var out []Window
	for t := w.Start.Truncate(g); t.Before(w.End); t = t.Add(g) {
		b := Window{Start: t, End: t.Add(g)}
		if b.Start.Before(w.Start) {
			b.Start = w.Start
		}
		if b.End.After(w.End) {
			b.End = w.End
		}
		out = append(out, b)
	}
	return out
}

// clip limits the window to what has happened by now.
func (w Window) clip(now time.Time) Window {
	if w.End.After(now) {
		w.End = now
	}
	if w.Start.After(w.End) {
		w.Start = w.End
	}
	return w
}

// MonthStart is the first instant of t's billing month (calendar month, UTC).
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// DateLayout is how the API formats start_date and end_date.
const DateLayout = "2006-01-02T15:04:05"

var errBadDate = errors.New("date should be formatted in YYYY-MM-DDTHH:MM:SS")

// parseDate reads a query date as UTC. It accepts the documented layout and,
// leniently, a bare date.
func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{DateLayout, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: %w", s, errBadDate)
}

// windowFromQuery reads start_date and end_date. The default is the current
// billing cycle: the start of this month up to now.
func windowFromQuery(start, end string, now time.Time) (Window, error) {
	w := Window{Start: MonthStart(now), End: now}
	var err error
	if start != "" {
		if w.Start, err = parseDate(start); err != nil {
			return Window{}, fmt.Errorf("start_date %w", err)
		}
	}
	if end != "" {
		if w.End, err = parseDate(end); err != nil {
			return Window{}, fmt.Errorf("end_date %w", err)
		}
	}
	if w.End.Before(w.Start) {
		return Window{}, errors.New("end_date is before start_date")
	}
	return w, nil
}
