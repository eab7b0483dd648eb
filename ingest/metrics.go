package ingest

import (
	"slices"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Metrics receives what runs do, for monitoring. Implementations must be
// safe for concurrent use; NopMetrics ignores everything.
type Metrics interface {
	// Request counts one API request of an endpoint family; status 0 is a
	// request that got no HTTP response.
	Request(owner store.Owner, family string, status int)
	Retry(owner store.Owner, family string)
	RateLimited(owner store.Owner)
	PacerWait(d time.Duration)
	// RowsWritten counts warehouse rows by table and operation
	// (inserted, updated, deleted).
	RowsWritten(owner store.Owner, table, operation string, n int64)
	RunFinished(owner store.Owner, status string, took time.Duration, at time.Time)
}

// NopMetrics discards every measurement.
type NopMetrics struct{}

func (NopMetrics) Request(store.Owner, string, int)                          {}
func (NopMetrics) Retry(store.Owner, string)                                 {}
func (NopMetrics) RateLimited(store.Owner)                                   {}
func (NopMetrics) PacerWait(time.Duration)                                   {}
func (NopMetrics) RowsWritten(store.Owner, string, string, int64)            {}
func (NopMetrics) RunFinished(store.Owner, string, time.Duration, time.Time) {}

// Progress is where a run stands, for a progress line.
type Progress struct {
	Source                string // provider/account
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

func slicesSortProgress(ps []Progress) {
	slices.SortFunc(ps, func(a, b Progress) int { return strings.Compare(a.Source, b.Source) })
}
