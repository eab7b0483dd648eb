package reports_test

import (
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// v2Fixture: account "us" (USD) with a VM and a contract over a closed
// September and an open October, a correction and an accrual; account "jp"
// (JPY) whose VM shares the US VM's id. Reports in EUR; the ECB rates cover
// USD on Sep 30, Oct 1 and Oct 2 only, JPY never.
const v2Fixture = `
INSERT INTO billing.accounts (provider, account, display_name, provider_account_id, currency) VALUES
  ('hyperstack', 'us', 'Acme US', 'org-17', 'USD'), ('hyperstack', 'jp', NULL, NULL, 'JPY');
UPDATE billing.settings SET reporting_currency = 'EUR';
INSERT INTO billing.fx_rates (currency, day, rate_to_eur) VALUES
  ('USD', '2026-09-30', 1.25), ('USD', '2026-10-01', 1.25), ('USD', '2026-10-02', 1);
-- Both accounts' last runs looked at Oct 16, 12:00.
INSERT INTO ingest.runs (provider, account, trigger, status, window_start, window_end, started_at, finished_at) VALUES
  ('hyperstack', 'us', 'schedule', 'succeeded', '2026-10-01 00:00Z', '2026-10-16 12:00Z', '2026-10-16 12:00Z', '2026-10-16 12:05Z'),
  ('hyperstack', 'jp', 'schedule', 'succeeded', '2026-10-01 00:00Z', '2026-10-16 12:00Z', '2026-10-16 12:00Z', '2026-10-16 12:05Z');
INSERT INTO billing.resources (provider, account, family, resource_id, name, created_at) VALUES
  ('hyperstack', 'us', 'virtual-machine', 'v1', 'train', '2026-08-01 00:00Z'),
  ('hyperstack', 'us', 'contract', 'k1', '8x H100 reserved', '2026-09-16 00:00Z'),
  ('hyperstack', 'jp', 'virtual-machine', 'v1', 'tokyo', '2026-08-01 00:00Z');
INSERT INTO billing.resource_month_costs (provider, account, family, resource_id, billing_month, incurred_bill, non_discounted_bill, price_per_hour, usage_seconds) VALUES
  ('hyperstack', 'us', 'virtual-machine', 'v1', '2026-09-01', 300, 300, 0.416666666667, 2592000),
  ('hyperstack', 'us', 'virtual-machine', 'v1', '2026-10-01', 171, 200, 0.416666666667, 1339200),
  ('hyperstack', 'us', 'contract', 'k1', '2026-09-01', 150, 150, NULL, 1296000),
  ('hyperstack', 'us', 'contract', 'k1', '2026-10-01', 155, 155, NULL, 1339200),
  ('hyperstack', 'jp', 'virtual-machine', 'v1', '2026-10-01', 1640.4, 1640.4, 4.1, 1296000);
-- us v1: 10 a day in September; in October 10 a day, 25 on the 15th, then
-- 12 hourly buckets of 0.5 on the 16th. jp v1: 100 a day, 240 on the 15th.
INSERT INTO billing.cost_datapoints (provider, account, family, resource_id, bucket_seconds, bucket_start, incurred_bill)
SELECT 'hyperstack', 'us', 'virtual-machine', 'v1', 86400, d, CASE WHEN d = '2026-10-15' THEN 25 ELSE 10 END
FROM generate_series('2026-09-01 00:00Z'::timestamptz, '2026-10-15 00:00Z', interval '1 day') d
UNION ALL
SELECT 'hyperstack', 'us', 'virtual-machine', 'v1', 3600, h, 0.5
FROM generate_series('2026-10-16 00:00Z'::timestamptz, '2026-10-16 11:00Z', interval '1 hour') h
UNION ALL
SELECT 'hyperstack', 'jp', 'virtual-machine', 'v1', 86400, d, CASE WHEN d = '2026-10-15' THEN 240 ELSE 100 END
FROM generate_series('2026-10-01 00:00Z'::timestamptz, '2026-10-15 00:00Z', interval '1 day') d;
INSERT INTO billing.org_month_costs (provider, account, billing_month, incurred_bill) VALUES
  ('hyperstack', 'us', '2026-09-01', 450), ('hyperstack', 'us', '2026-10-01', 326), ('hyperstack', 'jp', '2026-10-01', 1640.4);
INSERT INTO billing.credit_observations (provider, account, observed_hour, credit) VALUES ('hyperstack', 'us', '2026-10-16 12:00Z', 1000);
INSERT INTO billing.restatements (provider, account, table_name, row_key, measure, old_value, new_value, run_id, observed_at, kind) VALUES
  ('hyperstack', 'us', 'billing.cost_datapoints',
   '{"provider": "hyperstack", "account": "us", "family": "virtual-machine", "resource_id": "v1", "bucket_seconds": 86400, "bucket_start": "2026-09-10T00:00:00+00:00"}',
   'incurred_bill', 12, 10, 1, '2026-10-05 10:00Z', 'correction'),
  ('hyperstack', 'us', 'billing.resource_month_costs',
   '{"provider": "hyperstack", "account": "us", "family": "virtual-machine", "resource_id": "v1", "billing_month": "2026-10-01"}',
   'incurred_bill', 100, 171, 1, '2026-10-16 12:05Z', 'accrual');
`

func TestV2Views(t *testing.T) {
	t.Parallel()
	conn := dbtest.Conn(t, dbtest.New(t))
	exec(t, conn, v2Fixture)

	// September is closed (and past the 3 days of re-fetching); its USD turns into
	// EUR at Sep 30's rate (0.8), October's at Oct 2's (1); JPY has no rate.
	expect(t, "account_month_cost_v1", query(t, conn, `SELECT account, billing_month, currency, billed_cost, list_cost, credits, tax, invoice_total,
		state, source_rows, reporting_currency, billed_cost_reporting, invoice_total_reporting FROM reports.account_month_cost_v1 ORDER BY 1, 2`),
		[]string{
			"jp|2026-10-01|JPY|1640.4|1640.4|<nil>|<nil>|1640.4|open|1|EUR|<nil>|<nil>",
			"us|2026-09-01|USD|450|450|<nil>|<nil>|450|closed|2|EUR|360|360",
			"us|2026-10-01|USD|326|326|<nil>|<nil>|326|open|2|EUR|326|326",
		})

	// The contract's 150 of September spread over Sep 16–30 (10 a day); October's
	// 155 over Oct 1 to Oct 16 12:00 (15.5 days). Sep 16 has no rate.
	expect(t, "daily_cost_v2", query(t, conn, `SELECT account, day, service, billed_cost, amortized_cost, billed_cost_reporting, amortized_cost_reporting
		FROM reports.daily_cost_v2 WHERE day IN ('2026-09-15', '2026-09-16', '2026-10-01', '2026-10-16') ORDER BY 1, 2, 3`),
		[]string{
			"jp|2026-10-01|virtual-machine|100|100|<nil>|<nil>",
			"us|2026-09-15|virtual-machine|10|10|<nil>|<nil>",
			"us|2026-09-16|contract|<nil>|10|<nil>|<nil>",
			"us|2026-09-16|virtual-machine|10|10|<nil>|<nil>",
			"us|2026-10-01|contract|<nil>|10|<nil>|8",
			"us|2026-10-01|virtual-machine|10|10|8|8",
			"us|2026-10-16|contract|<nil>|5|<nil>|<nil>",
			"us|2026-10-16|virtual-machine|6|6|<nil>|<nil>",
		})
	// A closed month's amortized days add up to its total.
	expect(t, "daily_cost_v2 September", query(t, conn, `SELECT account, sum(amortized_cost), sum(billed_cost) FROM reports.daily_cost_v2
		WHERE day >= '2026-09-01' AND day < '2026-10-01' GROUP BY 1`), []string{"us|450|300"})

	// us October: 326 over 15.5 days -> 652; September's first 15.5 days cost
	// 150 + half of Sep 16's 20 = 160. jp: its graph ends on Oct 16 00:00: 15 days.
	expect(t, "month_to_date_v2", query(t, conn, `SELECT account, currency, billing_month, closed, billed_to_date, days_elapsed, month_days,
		forecast_month_end, previous_month_same_period, previous_month_total, change_to_date_pct, forecast_change_pct,
		billed_to_date_reporting, forecast_month_end_reporting FROM reports.month_to_date_v2 ORDER BY 1, 3`),
		[]string{
			"jp|JPY|2026-10-01|false|1640.4|15|31|3390.16|<nil>|<nil>|<nil>|<nil>|<nil>|<nil>",
			"us|USD|2026-09-01|true|450|30|30|450|<nil>|<nil>|<nil>|<nil>|360|360",
			"us|USD|2026-10-01|false|326|15.5|31|652|160|450|103.75|44.89|326|652",
		})

	expect(t, "top_resources_v2", query(t, conn, `SELECT account, currency, rank, resource_id, resource_name, billed_cost, share_of_month, billed_cost_reporting
		FROM reports.top_resources_v2 WHERE billing_month = '2026-10-01' ORDER BY 1, 3`),
		[]string{
			"jp|JPY|1|v1|tokyo|1640.4|1|<nil>",
			"us|USD|1|v1|train|171|0.52454|171",
			"us|USD|2|k1|8x H100 reserved|155|0.47546|155",
		})

	// us Oct 15: 25 against 10 (x2.5, 15 USD above). jp Oct 15: 240 against 100
	// is x2.4 but only 140 JPY above, under JPY's floor of 150.
	expect(t, "cost_anomalies_v2", query(t, conn, `SELECT account, currency, day, resource_id, resource_name, cost, baseline, ratio, floor
		FROM reports.cost_anomalies_v2 ORDER BY 1, 3`),
		[]string{"us|USD|2026-10-15|v1|train|25|10|2.5|1"})

	// Oct 9–15: the VM 85, the contract 70: 155 a week, 1000 lasts 45.16 days.
	expect(t, "credit_runway_v2", query(t, conn, `SELECT account, currency, credit, avg_daily_cost_7d, days_left, runs_out_on FROM reports.credit_runway_v2`),
		[]string{"us|USD|1000|22.142857|45.16|2026-11-30"})

	expect(t, "restatements_v2", query(t, conn, `SELECT account, currency, kind, table_name, resource_id, period_start, period_end, measure, is_money, old_value, new_value, delta
		FROM reports.restatements_v2 ORDER BY observed_at`),
		[]string{
			"us|USD|correction|billing.cost_datapoints|v1|2026-09-10T00:00:00Z|2026-09-11T00:00:00Z|incurred_bill|true|12|10|-2",
			"us|USD|accrual|billing.resource_month_costs|v1|2026-10-01T00:00:00Z|2026-11-01T00:00:00Z|incurred_bill|true|100|171|71",
		})
	// The README's question: how much was corrected, per month it was noticed?
	expect(t, "corrected", query(t, conn, `SELECT account, date_trunc('month', observed_at)::date, sum(delta) FROM reports.restatements_v2
		WHERE kind = 'correction' AND is_money GROUP BY 1, 2`), []string{"us|2026-10-01|-2"})

	// The Sep 10 bucket was billed at 12 and corrected to 10 on Oct 5, after
	// September closed: its row keeps 12, a Correction row of -2 sits in
	// October's billing period. The contract's September: a Purchase of 150
	// (EffectiveCost 0) and 15 amortized days of 10 (24 of its 360 hours each).
	// Converted at the rate of the charge's day: none for September's days.
	expect(t, "focus_v2", query(t, conn, `SELECT "x_Account", "BillingPeriodStart"::date, "ChargePeriodStart"::date, "ChargeCategory", "ChargeClass",
		"ChargeFrequency", "BilledCost", "EffectiveCost", "ListCost", "PricingQuantity", "PricingUnit", "CommitmentDiscountId", "CommitmentDiscountStatus",
		"CommitmentDiscountQuantity", "BillingCurrency", "BillingAccountId", "x_EffectiveCostReporting" FROM reports.focus_v2
		WHERE "ChargePeriodStart" IN ('2026-09-01', '2026-09-10', '2026-09-16') AND "x_Account" = 'us' ORDER BY 2, 3, 4, 5, "ResourceId"`),
		[]string{
			"us|2026-09-01|2026-09-01|Purchase|<nil>|Recurring|150|0|150|360|Hours|k1|<nil>|360|USD|org-17|0",
			"us|2026-09-01|2026-09-01|Usage|<nil>|Usage-Based|10|10|10|24|Hours|<nil>|<nil>|<nil>|USD|org-17|<nil>",
			"us|2026-09-01|2026-09-10|Usage|<nil>|Usage-Based|12|12|12|28.8|Hours|<nil>|<nil>|<nil>|USD|org-17|<nil>",
			"us|2026-09-01|2026-09-16|Usage|<nil>|Usage-Based|0|10|10|24|Hours|k1|Used|24|USD|org-17|<nil>",
			"us|2026-09-01|2026-09-16|Usage|<nil>|Usage-Based|10|10|10|24|Hours|<nil>|<nil>|<nil>|USD|org-17|<nil>",
			"us|2026-10-01|2026-09-10|Usage|Correction|Usage-Based|-2|-2|-2|<nil>|<nil>|<nil>|<nil>|<nil>|USD|org-17|<nil>",
		})
	expect(t, "focus_v2 totals", query(t, conn, `SELECT "BillingCurrency", sum("BilledCost"), sum("EffectiveCost") FROM reports.focus_v2 GROUP BY 1 ORDER BY 1`),
		[]string{"JPY|1640|1640", "USD|776|776"}) // jp's days come from its graph, 0.4 JPY under its summary

	// jp's summary is 0.4 JPY over its datapoints: within one yen.
	expect(t, "reconciliation_v2", query(t, conn, `SELECT account, currency, billing_month, resource_family, summary_total, datapoint_total, account_total,
		difference, tolerance, within_tolerance FROM reports.reconciliation_v2 ORDER BY 1, 3, 4`),
		[]string{
			"jp|JPY|2026-10-01|all|1640.4|<nil>|1640.4|0|1|true",
			"jp|JPY|2026-10-01|virtual-machine|1640.4|1640|<nil>|0.4|1|true",
			"us|USD|2026-09-01|all|450|<nil>|450|0|0.01|true",
			"us|USD|2026-09-01|contract|150|<nil>|<nil>|0|0.01|true",
			"us|USD|2026-09-01|virtual-machine|300|300|<nil>|0|0.01|true",
			"us|USD|2026-10-01|all|326|<nil>|326|0|0.01|true",
			"us|USD|2026-10-01|contract|155|<nil>|<nil>|0|0.01|true",
			"us|USD|2026-10-01|virtual-machine|171|171|<nil>|0|0.01|true",
		})
}
