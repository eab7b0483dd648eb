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
	Month                 string // the billing month being fetched
	MonthIndex, Months    int    // it is month MonthIndex (from 1) of Months
	ListsDone, ListsTotal int64  // of this month
	UnitsDone, UnitsTotal int64  // of this month
	Requests, Rows        int64
	RateLimited           int64
	Elapsed               time.Duration // since the run started
	MonthElapsed          time.Duration // since this month started
	// PerMonth is how long the months finished so far took on average
	// (zero before the first); RequestsPerUnit is how many requests a
	// unit took so far; Rate is the source's pace, requests a minute.
	PerMonth        time.Duration
	UnitsPerMonth   float64 // how many units the months done had, on average
	RequestsPerUnit float64
	Rate            int
}

// ETA estimates the time left of the whole run: the rest of this month,
// from its units' measured pace (or, before its first unit, as long as the
// months done took, or before any, from the requests its units need at
// the source's pace), plus the months after it, at the pace of the months
// done (or of this one). ok is false while nothing
// is known yet: the month's lists have not named its units.
func (p Progress) ETA() (eta time.Duration, ok bool) {
	left := p.UnitsTotal - p.UnitsDone
	// A month takes as long as the months done took, scaled by how many
	// units it has against theirs (a growing organisation's later months
	// hold more resources); the months after this one are assumed like it.
	perMonth := p.PerMonth
	if perMonth > 0 && p.UnitsPerMonth > 0 && p.UnitsTotal > 0 {
		perMonth = time.Duration(float64(perMonth) * float64(p.UnitsTotal) / p.UnitsPerMonth)
	}
	var month time.Duration
	switch {
	case left <= 0:
	case p.UnitsDone > 0:
		month = time.Duration(float64(p.MonthElapsed) / float64(p.UnitsDone) * float64(left))
	case perMonth > 0:
		month = max(0, perMonth-p.MonthElapsed)
	case p.Rate > 0:
		perUnit := p.RequestsPerUnit
		if perUnit == 0 {
			perUnit = 4
		}
		month = time.Duration(float64(left) * perUnit / float64(p.Rate) * float64(time.Minute))
	}
	if p.UnitsTotal == 0 && p.PerMonth == 0 {
		return 0, false
	}
	if perMonth == 0 {
		perMonth = p.MonthElapsed + month
	}
	return month + time.Duration(max(0, p.Months-p.MonthIndex))*perMonth, true
}

func sortProgress(ps []Progress) {
	slices.SortFunc(ps, func(a, b Progress) int { return strings.Compare(a.Source, b.Source) })
}
