package dbtest

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// RefreshDayCosts rewrites billing.resource_day_costs (what
// reports.resource_day_cost_v2 reads) from the warehouse, as the runs do
// for their days: a fixture written by hand has had no run to do it.
func RefreshDayCosts(t testing.TB, conn *pgx.Conn) {
	t.Helper()
	if err := store.RebuildDayCosts(t.Context(), conn); err != nil {
		t.Fatalf("dbtest: refresh day costs: %v", err)
	}
}
