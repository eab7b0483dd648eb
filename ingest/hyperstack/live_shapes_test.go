package hyperstack_test

import (
	"testing"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// TestLiveShapesBackfill runs a backfill against the simulator answering
// as the live API does: lists capped at 10 a page, empty families as
// {status: false, "No … data found"}, and the organisation graph without
// granularity. It must succeed and equal the model.
func TestLiveShapesBackfill(t *testing.T) {
	t.Parallel()
	counts := map[hyperstacksim.Family]int{}
	for f, n := range hyperstacksim.Scales["medium"] {
		counts[f] = n
	}
	counts[hyperstacksim.FamilyCluster] = 0 // a family the organisation does not use
	e := newEnv(t, hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Counts: counts},
		Shapes: hyperstacksim.Shapes{MaxPerPage: 10, NoData: true, OrgGraphNoGranularity: true}},
		ingest.ClientConfig{}, ingest.Config{})
	res := e.run(t, backfill(e))
	if res.Status != store.RunSucceeded {
		errs, _ := e.store.RunErrors(t.Context(), res.RunID)
		t.Fatalf("backfill ended %s: %s %+v", res.Status, res.Summary, errs)
	}
	if d := diff(expected(e), actual(t, e.store)); d != "" {
		t.Fatalf("the warehouse differs from the model:\n%s", d)
	}
	// Every month's organisation graph had its bucket size derived, and
	// said how.
	var derived int
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM reports.data_quality_v1
		WHERE endpoint = 'org/graph' AND field = 'granularity' AND value = 86400 AND note LIKE 'granularity absent%'`).Scan(&derived); err != nil {
		t.Fatal(err)
	}
	if want := len(months(e)); derived != want {
		t.Errorf("%d derived organisation granularities recorded, want %d", derived, want)
	}
	// A re-run adds and deletes nothing; it only moves the current month's
	// granularity note to the run that saw it last.
	again := e.run(t, backfill(e))
	if c := again.Counters; again.Status != store.RunSucceeded || c.RowsInserted+c.RowsDeleted != 0 || c.RowsUpdated > 1 {
		t.Errorf("re-run: %s %+v", again.Status, c)
	}
}
