package ingest

import (
	"context"
	"time"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// refreshDayCosts rewrites the days the run fetched in
// billing.resource_day_costs (what reports.resource_day_cost_v2 reads), with
// those of earlier runs whose refresh never happened. A run that wrote
// nothing still refreshes: its window moved the account's clock, which ends
// the spread of an open month's commitments. A cancelled run or one that
// lost the database leaves it to the next run; a failure is a run error,
// and the days stay as they were until a later refresh.
func (r *Run) refreshDayCosts(ctx context.Context) {
	if ctx.Err() != nil || r.lost.Load() || r.rejected.Load() {
		return
	}
	began := time.Now()
	if err := r.c.store.RefreshDayCosts(ctx, r.owner, r.id, r.dayCostsCovered); err != nil {
		r.Fail(ctx, "day_costs", "", err)
		return
	}
	r.logger.InfoContext(ctx, "refreshed day costs", "took", time.Since(began))
}

// refreshMonthDayCosts rewrites the days of a month once it and everything
// before it is written, while the next month is fetched and written (see
// crawl); it reports a failure as a run error, which leaves the run's days
// to its closing refresh.
func (r *Run) refreshMonthDayCosts(ctx context.Context, w store.Window) {
	if ctx.Err() != nil || r.lost.Load() {
		r.dayCostsMissed.Store(true)
		return
	}
	if err := r.c.store.RefreshDayCostsIn(ctx, r.owner, r.id, w); err != nil {
		r.dayCostsMissed.Store(true)
		r.Fail(ctx, "day_costs", "", err)
	}
}
