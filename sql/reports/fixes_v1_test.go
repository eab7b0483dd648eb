package reports_test

import (
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// TestV1Fixes holds the v1 bug fixes of the README's changelog to rows
// worked out by hand.
func TestV1Fixes(t *testing.T) {
	t.Parallel()
	conn := dbtest.Conn(t, dbtest.New(t))
	exec(t, conn, `
INSERT INTO ingest.runs (provider, account, trigger, status, window_start, window_end, started_at, finished_at) VALUES
  ('hyperstack', 'default', 'schedule', 'succeeded', '2026-10-01 00:00Z', '2026-10-02 07:56Z', '2026-10-02 07:56Z', '2026-10-02 07:58Z');
INSERT INTO billing.resource_month_costs (provider, account, family, resource_id, billing_month, incurred_bill, non_discounted_bill,
    price_per_hour, usage_seconds, usage_active_seconds, usage_shutoff_seconds, usage_hibernated_seconds, input_tokens, output_tokens) VALUES
  ('hyperstack', 'default', 'virtual-machine', '1', '2026-09-01', 300, 300, 1, 1080000, NULL, NULL, NULL, NULL, NULL),
  ('hyperstack', 'default', 'virtual-machine', '1', '2026-10-01', 10, 10, 1, 36000, NULL, NULL, NULL, NULL, NULL),
  ('hyperstack', 'default', 'virtual-machine', '5', '2026-10-01', 4.5, 4.5, 1.5, 10800, 7200, 3600, 0, NULL, NULL),
  ('hyperstack', 'default', 'serverless_inference', '3', '2026-10-01', 0.000000010478, 0.000000010478, NULL, 60, NULL, NULL, NULL, 3, 2),
  ('hyperstack', 'default', 'contract', 'c1', '2026-10-01', 100, 100, NULL, 86400, NULL, NULL, NULL, NULL, NULL);
-- Sep's graph ends on Sep 12 (the resource stopped), Oct's reaches 08:00 on the 2nd.
INSERT INTO billing.cost_datapoints (provider, account, family, resource_id, bucket_seconds, bucket_start, incurred_bill) VALUES
  ('hyperstack', 'default', 'virtual-machine', '1', 86400, '2026-09-11 00:00Z', 300),
  ('hyperstack', 'default', 'virtual-machine', '1', 86400, '2026-10-01 00:00Z', 6),
  ('hyperstack', 'default', 'virtual-machine', '1', 3600, '2026-10-02 06:00Z', 2),
  ('hyperstack', 'default', 'virtual-machine', '1', 3600, '2026-10-02 07:00Z', 2),
  ('hyperstack', 'default', 'serverless_inference', '3', 86400, '2026-10-01 00:00Z', 0.000000010478);
INSERT INTO billing.restatements (provider, account, table_name, row_key, measure, old_value, new_value, run_id, observed_at, kind) VALUES
  ('hyperstack', 'default', 'billing.cost_datapoints',
   '{"family": "virtual-machine", "resource_id": "1", "bucket_seconds": 86400, "bucket_start": "2026-10-01T00:00:00+00:00"}',
   'incurred_bill', 7, 6, 9, '2026-11-05 00:00Z', 'correction'),
  ('hyperstack', 'default', 'billing.cost_datapoints',
   '{"family": "virtual-machine", "resource_id": "1", "bucket_seconds": 3600, "bucket_start": "2026-10-02T06:00:00+00:00"}',
   'incurred_bill', 3, 2, 8, '2026-10-02 07:56Z', 'correction'),
  ('hyperstack', 'default', 'billing.resource_month_costs',
   '{"family": "virtual-machine", "resource_id": "1", "billing_month": "2026-10-01"}',
   'incurred_bill', 9, 10, 8, '2026-10-02 07:56Z', 'accrual');
`)

	// Sep is closed: all 30 days, forecast = total (v1 said 30 / 11 days x 30).
	// Oct 2 07:56 is 1.3306 days in (v1 said 2): 114.500000010478 / 1.3306 x 31.
	expect(t, "month_to_date_v1", query(t, conn, `SELECT billing_month, incurred_to_date, days_elapsed, forecast_month_end
		FROM reports.month_to_date_v1 ORDER BY 1`),
		[]string{"2026-09-01|300|30|300", "2026-10-01|114.500000010478|1.3306|2667.593567"})

	// No events for vm 5: 2 h active, 1 h shut off at 1.5/h: 1.5 idle.
	expect(t, "idle_cost_v1", query(t, conn, `SELECT vm_id, active_hours, shutoff_hours, hibernated_hours, idle_cost FROM reports.idle_cost_v1 ORDER BY vm_id`),
		[]string{"5|2|1|0|1.5"})

	// Accruals are not corrections.
	expect(t, "restatements_v1", query(t, conn, `SELECT period, delta FROM reports.restatements_v1 ORDER BY period`),
		[]string{"2026-10-01T00:00:00+00:00|-1", "2026-10-02T06:00:00+00:00|-1"})

	// ListCost exact; token units in Unit Format; no consumption on a purchase;
	// a correction seen while October was open is no Correction, one seen in
	// November is.
	expect(t, "focus_v1", query(t, conn, `SELECT "ResourceId", "ChargePeriodStart", "BilledCost", "ListCost", "x_DiscountSavings", "PricingUnit",
		"ConsumedQuantity", "ConsumedUnit", "ChargeClass", "SkuPriceId", "SkuMeter" FROM reports.focus_v1 WHERE "BillingPeriodStart" = '2026-10-01' ORDER BY 1, 2`),
		[]string{
			"1|2026-10-01T00:00:00Z|6|6|0|Hours|6|Hours|Correction|virtual-machine@1|Runtime",
			"1|2026-10-02T00:00:00Z|4|4|0|Hours|4|Hours|<nil>|virtual-machine@1|Runtime",
			"3|2026-10-01T00:00:00Z|0.000000010478|0.000000010478|0|1000000 Tokens|0.000005|1000000 Tokens|<nil>|serverless_inference@0.0020956|Tokens",
			"c1|2026-10-01T00:00:00Z|100|100|0|Hours|<nil>|<nil>|<nil>|contract@4.166666667|Contract",
		})
}
