package ingest

import "time"

// Metrics receives what runs do, for monitoring. Implementations must be
// safe for concurrent use; NopMetrics ignores everything.
type Metrics interface {
	// Request counts one API request of an endpoint family; status 0 is a
	// request that got no HTTP response.
	Request(family string, status int)
	Retry(family string)
	RateLimited()
	PacerWait(d time.Duration)
	// RowsWritten counts warehouse rows by table and operation
	// (inserted, updated, deleted).
	RowsWritten(table, operation string, n int64)
	RunFinished(status string, took time.Duration, at time.Time)
}

// NopMetrics discards every measurement.
type NopMetrics struct{}

func (NopMetrics) Request(string, int)                          {}
func (NopMetrics) Retry(string)                                 {}
func (NopMetrics) RateLimited()                                 {}
func (NopMetrics) PacerWait(time.Duration)                      {}
func (NopMetrics) RowsWritten(string, string, int64)            {}
func (NopMetrics) RunFinished(string, time.Duration, time.Time) {}

// Progress is where a run stands, for a progress line.
type Progress struct {
	Month                 string
	ListsDone, ListsTotal int64
	UnitsDone, UnitsTotal int64
	Requests, Rows        int64
	RateLimited           int64
	Elapsed               time.Duration
}

// ETA estimates the time left from the units done so far; zero when unknown.
func (p Progress) ETA() time.Duration {
	if p.UnitsDone == 0 || p.UnitsTotal <= p.UnitsDone {
		return 0
	}
	return time.Duration(float64(p.Elapsed) / float64(p.UnitsDone) * float64(p.UnitsTotal-p.UnitsDone))
}
