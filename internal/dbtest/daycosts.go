package dbtest

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// rebuildDayCosts is what the runs' refreshes leave, for every account and
// day at once.
const rebuildDayCosts = `
DELETE FROM billing.resource_day_costs;
INSERT INTO billing.resource_day_costs (provider, account, currency, day, resource_family, resource_id, billed_cost, amortized_cost, source)
SELECT provider, account, currency, day, resource_family, resource_id, billed_cost, amortized_cost, source
FROM reports.resource_day_cost_computed_v2;
UPDATE ingest.runs SET day_costs_refreshed = true WHERE NOT day_costs_refreshed`

// RefreshDayCosts rewrites billing.resource_day_costs (what
// reports.resource_day_cost_v2 reads) from the warehouse, as the runs do
// for their days: a fixture written by hand has had no run to do it.
func RefreshDayCosts(t testing.TB, conn *pgx.Conn) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), rebuildDayCosts); err != nil {
		t.Fatalf("dbtest: refresh day costs: %v", err)
	}
}
