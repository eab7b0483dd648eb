package reports_test

import (
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// sourcesFixture: a Soracom account in JPY with a closed September (coupons,
// tax, a monthly fee and a free tier) and a preliminary October (an
// "Adjustment for 202609" correction), and two CloudSigma locations, Zurich
// in CHF (a payment, a promotion, a subscription bought on Sep 15 for Sep 16
// to Oct 16, bursts, a licence, a refund) and San Jose in USD (a burst and a
// payment). Every account's last run looked at Oct 16, 12:00.
const sourcesFixture = `
INSERT INTO billing.accounts (provider, account, display_name, provider_account_id, currency, region) VALUES
  ('soracom', 'fleet-jp', 'Fleet JP', 'OP0012345678', 'JPY', 'jp'),
  ('cloudsigma', 'sigma-zrh', NULL, NULL, 'CHF', 'zrh'),
  ('cloudsigma', 'sigma-sjc', NULL, NULL, 'USD', 'sjc');
INSERT INTO ingest.runs (provider, account, trigger, status, window_start, window_end, started_at, finished_at) VALUES
  ('soracom', 'fleet-jp', 'schedule', 'succeeded', '2026-10-01 00:00Z', '2026-10-16 12:00Z', '2026-10-16 12:00Z', '2026-10-16 12:05Z'),
  ('cloudsigma', 'sigma-zrh', 'schedule', 'succeeded', '2026-10-01 00:00Z', '2026-10-16 12:00Z', '2026-10-16 12:00Z', '2026-10-16 12:05Z'),
  ('cloudsigma', 'sigma-sjc', 'schedule', 'succeeded', '2026-10-01 00:00Z', '2026-10-16 12:00Z', '2026-10-16 12:00Z', '2026-10-16 12:05Z');
INSERT INTO billing.resources (provider, account, family, resource_id, name) VALUES
  ('soracom', 'fleet-jp', 'sim', 'sim-a', 'gateway-a'), ('soracom', 'fleet-jp', 'sim', 'sim-b', NULL);
-- September: 100 + 50 + 10 daily, a monthly fee of 90, a free tier of -30:
-- 220 before tax; coupons 20, tax 10% of 200 = 20: 220. October so far:
-- 200 + 100, a fee of 90, an adjustment of -10 for September: 380, tax 38.
INSERT INTO billing.soracom_bills (provider, account, billing_month, amount, applied_coupon_amount, currency, state, payment_status, payment_transaction_id, final_amount) VALUES
  ('soracom', 'fleet-jp', '2026-09-01', 220, 20, 'JPY', 'closed', 'paid', 'tx-202609', 220),
  ('soracom', 'fleet-jp', '2026-10-01', 418, NULL, 'JPY', 'temporary', NULL, NULL, NULL);
INSERT INTO billing.soracom_bill_items (provider, account, billing_month, charge_date, monthly, family, resource_id, bill_item_name, imsi, unit_price, quantity, amount, tags, corrects_month) VALUES
  ('soracom', 'fleet-jp', '2026-09-01', '2026-09-01', false, 'sim', 'sim-a', 'Data traffic charge (s1.standard)', '4401', 0.2, 500, 100, '{"site": "osaka"}', NULL),
  ('soracom', 'fleet-jp', '2026-09-01', '2026-09-02', false, 'sim', 'sim-a', 'Data traffic charge (s1.standard)', '4401', 0.2, 250, 50, '{"site": "osaka"}', NULL),
  ('soracom', 'fleet-jp', '2026-09-01', '2026-09-01', false, 'sim', 'sim-b', 'Basic charge (plan01s)', '4402', 10, 1, 10, NULL, NULL),
  ('soracom', 'fleet-jp', '2026-09-01', '2026-09-01', true, 'sim', 'sim-b', 'Monthly fee (plan-KM1)', '4402', 90, 1, 90, NULL, NULL),
  ('soracom', 'fleet-jp', '2026-09-01', '2026-09-01', true, 'account', '', 'Free tier (data traffic)', NULL, -30, 1, -30, NULL, NULL),
  ('soracom', 'fleet-jp', '2026-10-01', '2026-10-01', false, 'sim', 'sim-a', 'Data traffic charge (s1.standard)', '4401', 0.2, 1000, 200, '{"site": "osaka"}', NULL),
  ('soracom', 'fleet-jp', '2026-10-01', '2026-10-02', false, 'sim', 'sim-a', 'Data traffic charge (s1.standard)', '4401', 0.2, 500, 100, '{"site": "osaka"}', NULL),
  ('soracom', 'fleet-jp', '2026-10-01', '2026-10-01', true, 'sim', 'sim-b', 'Monthly fee (plan-KM1)', '4402', 90, 1, 90, NULL, NULL),
  ('soracom', 'fleet-jp', '2026-10-01', '2026-10-01', true, 'account', '', 'Adjustment for 202609', NULL, -10, 1, -10, NULL, '2026-09-01');
INSERT INTO billing.soracom_daily_bills (provider, account, billing_month, day, amount, currency) VALUES
  ('soracom', 'fleet-jp', '2026-09-01', '2026-09-01', 110, 'JPY'), ('soracom', 'fleet-jp', '2026-09-01', '2026-09-02', 50, 'JPY'),
  ('soracom', 'fleet-jp', '2026-10-01', '2026-10-01', 200, 'JPY'), ('soracom', 'fleet-jp', '2026-10-01', '2026-10-02', 100, 'JPY');
-- Zurich, September: a subscription (60) and two cpu bursts (4), a promotion
-- of 25; October: a mem burst (3), a licence (5), a refund of 1.25.
INSERT INTO billing.cloudsigma_ledger_entries (provider, account, entry_id, time, amount, initial_balance, end_balance, currency, kind, resource, resource_amount, interval_seconds, reference, reason) VALUES
  ('cloudsigma', 'sigma-zrh', '1', '2026-09-01 00:00:05Z', -500, 0, 500, 'CHF', 'payment', NULL, NULL, NULL, 'pay-1', 'Payment through card - pay-1'),
  ('cloudsigma', 'sigma-zrh', '2', '2026-09-03 08:00Z', -25, 500, 525, 'CHF', 'promotion', NULL, NULL, NULL, 'WELCOME25', 'Promotional credit - WELCOME25'),
  ('cloudsigma', 'sigma-zrh', '3', '2026-09-15 23:00Z', 60, 525, 465, 'CHF', 'subscription', 'dssd', NULL, NULL, 'sub-1', 'Subscription: 100.00 GB of dssd for 1 month - sub-1'),
  ('cloudsigma', 'sigma-zrh', '4', '2026-09-20 10:00Z', 1.5, 465, 463.5, 'CHF', 'burst', 'cpu', 2000, 300, NULL, 'Burst: 2.00 GHz of cpu for 5 minutes at 2026-09-20 10:00'),
  ('cloudsigma', 'sigma-zrh', '5', '2026-09-20 11:00Z', 2.5, 463.5, 461, 'CHF', 'burst', 'cpu', 3000, 300, NULL, 'Burst: 3.00 GHz of cpu for 5 minutes at 2026-09-20 11:00'),
  ('cloudsigma', 'sigma-zrh', '6', '2026-10-02 10:00Z', 3, 461, 458, 'CHF', 'burst', 'mem', 1073741824, 300, NULL, 'Burst: 1.00 GB of mem for 5 minutes at 2026-10-02 10:00'),
  ('cloudsigma', 'sigma-zrh', '7', '2026-10-02 11:00Z', 5, 458, 453, 'CHF', 'licence', 'msft_win', 2, 300, NULL, 'Burst: 2.00 of msft_win for 5 minutes at 2026-10-02 11:00'),
  ('cloudsigma', 'sigma-zrh', '8', '2026-10-05 09:00Z', -1.25, 453, 454.25, 'CHF', 'refund', NULL, NULL, NULL, NULL, 'Refund'),
  ('cloudsigma', 'sigma-sjc', '1', '2026-10-01 00:00:05Z', -100, 0, 100, 'USD', 'payment', NULL, NULL, NULL, 'pay-2', 'Payment through card - pay-2'),
  ('cloudsigma', 'sigma-sjc', '2', '2026-10-01 12:00Z', 7.5, 100, 92.5, 'USD', 'burst', 'cpu', 10000, 300, NULL, 'Burst: 10.00 GHz of cpu for 5 minutes at 2026-10-01 12:00');
INSERT INTO billing.cloudsigma_subscriptions (provider, account, subscription_id, uuid, resource, amount, price, currency, period, start_time, end_time, status, auto_renew, discount_amount, discount_percent) VALUES
  ('cloudsigma', 'sigma-zrh', '11', 'sub-1', 'dssd', 107374182400, 60, 'CHF', '1 month', '2026-09-16 00:00Z', '2026-10-16 00:00Z', 'inactive', false, 20, 25);
INSERT INTO billing.credit_observations (provider, account, observed_hour, credit, threshold) VALUES
  ('cloudsigma', 'sigma-zrh', '2026-10-16 12:00Z', 400, 50), ('cloudsigma', 'sigma-sjc', '2026-10-16 12:00Z', 92.5, NULL);
INSERT INTO billing.soracom_summaries (provider, account, billing_month, breakdown, item, category, amount, currency) VALUES
  ('soracom', 'fleet-jp', '2026-09-01', 'bill_item', 'Data traffic charge (s1.standard)', 'Air', 150, 'JPY'),
  ('soracom', 'fleet-jp', '2026-09-01', 'bill_item', 'Basic charge (plan01s)', 'Air', 10, 'JPY'),
  ('soracom', 'fleet-jp', '2026-09-01', 'bill_item', 'Monthly fee (plan-KM1)', 'Air', 90, 'JPY'),
  ('soracom', 'fleet-jp', '2026-09-01', 'bill_item', 'Free tier (data traffic)', 'Air', -30, 'JPY'),
  ('soracom', 'fleet-jp', '2026-09-01', 'sim', 'sim-a', NULL, 150, 'JPY'),
  ('soracom', 'fleet-jp', '2026-10-01', 'bill_item', 'Data traffic charge (s1.standard)', 'Air', 300, 'JPY'),
  ('soracom', 'fleet-jp', '2026-10-01', 'bill_item', 'Monthly fee (plan-KM1)', 'Air', 90, 'JPY');
INSERT INTO billing.restatements (provider, account, table_name, row_key, measure, old_value, new_value, run_id, observed_at, kind) VALUES
  ('soracom', 'fleet-jp', 'billing.soracom_bills', '{"provider": "soracom", "account": "fleet-jp", "billing_month": "2026-09-01"}',
   'final_amount', 230, 220, 1, '2026-10-10 00:00Z', 'correction');
`

func TestSourcesV2Views(t *testing.T) {
	t.Parallel()
	conn := dbtest.Conn(t, dbtest.New(t))
	exec(t, conn, sourcesFixture)

	expect(t, "account_month_cost_v1", query(t, conn, `SELECT provider, account, billing_month, currency, billed_cost, list_cost, credits, tax, invoice_total,
		state, source_rows FROM reports.account_month_cost_v1 ORDER BY 1, 2, 3`),
		[]string{
			"cloudsigma|sigma-sjc|2026-10-01|USD|7.5|7.5|0|<nil>|7.5|open|1",
			"cloudsigma|sigma-zrh|2026-09-01|CHF|64|84|25|<nil>|64|closed|4",
			"cloudsigma|sigma-zrh|2026-10-01|CHF|8|8|1.25|<nil>|8|open|3",
			"soracom|fleet-jp|2026-09-01|JPY|220|250|20|20|220|closed|5",
			"soracom|fleet-jp|2026-10-01|JPY|380|380|0|38|418|open|4",
		})

	// Soracom: daily rows on their day; the monthly fee (90) and free tier
	// (-30) of September spread over its 30 days, October's fee and
	// adjustment over the two days evaluated so far.
	expect(t, "daily_cost_v2 soracom", query(t, conn, `SELECT currency, day, service, billed_cost, amortized_cost FROM reports.daily_cost_v2
		WHERE provider = 'soracom' AND day IN ('2026-09-01', '2026-09-30', '2026-10-01', '2026-10-02', '2026-10-03') ORDER BY 2, 3`),
		[]string{
			"JPY|2026-09-01|account|<nil>|-1", "JPY|2026-09-01|sim|110|113",
			"JPY|2026-09-30|account|<nil>|-1", "JPY|2026-09-30|sim|<nil>|3",
			"JPY|2026-10-01|account|<nil>|-5", "JPY|2026-10-01|sim|200|245",
			"JPY|2026-10-02|account|<nil>|-5", "JPY|2026-10-02|sim|100|145",
		})
	// CloudSigma: the subscription's 60 billed on Sep 15 and amortized at 2 a
	// day from Sep 16 to Oct 15; credits and payments are no cost.
	expect(t, "daily_cost_v2 cloudsigma", query(t, conn, `SELECT account, currency, day, service, billed_cost, amortized_cost FROM reports.daily_cost_v2
		WHERE provider = 'cloudsigma' AND day IN ('2026-09-03', '2026-09-15', '2026-09-16', '2026-09-20', '2026-10-01', '2026-10-02', '2026-10-15', '2026-10-16')
		ORDER BY 1, 3, 4`),
		[]string{
			"sigma-sjc|USD|2026-10-01|cpu|7.5|7.5",
			"sigma-zrh|CHF|2026-09-15|dssd|60|0",
			"sigma-zrh|CHF|2026-09-16|dssd|<nil>|2",
			"sigma-zrh|CHF|2026-09-20|cpu|4|4",
			"sigma-zrh|CHF|2026-09-20|dssd|<nil>|2",
			"sigma-zrh|CHF|2026-10-01|dssd|<nil>|2",
			"sigma-zrh|CHF|2026-10-02|dssd|<nil>|2",
			"sigma-zrh|CHF|2026-10-02|mem|3|3",
			"sigma-zrh|CHF|2026-10-02|msft_win|5|5",
			"sigma-zrh|CHF|2026-10-15|dssd|<nil>|2",
		})
	// A month's amortized days add up to its total: Soracom's pre-tax CSV sum,
	// CloudSigma's debits with the subscription amortized (4 + 15 x 2 in September).
	expect(t, "daily_cost_v2 months", query(t, conn, `SELECT provider, account, currency, date_trunc('month', day)::date, sum(billed_cost), sum(amortized_cost)
		FROM reports.daily_cost_v2 WHERE provider <> 'hyperstack' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 4`),
		[]string{
			"cloudsigma|sigma-sjc|USD|2026-10-01|7.5|7.5",
			"cloudsigma|sigma-zrh|CHF|2026-09-01|64|34",
			"cloudsigma|sigma-zrh|CHF|2026-10-01|8|38",
			"soracom|fleet-jp|JPY|2026-09-01|160|220",
			"soracom|fleet-jp|JPY|2026-10-01|300|380",
		})

	expect(t, "top_resources_v2", query(t, conn, `SELECT provider, account, currency, billing_month, rank, resource_family, resource_id, resource_name,
		billed_cost, share_of_month FROM reports.top_resources_v2 ORDER BY 1, 2, 4, 5`),
		[]string{
			"cloudsigma|sigma-sjc|USD|2026-10-01|1|cpu|cpu|<nil>|7.5|1",
			"cloudsigma|sigma-zrh|CHF|2026-09-01|1|dssd|dssd|<nil>|30|0.882353",
			"cloudsigma|sigma-zrh|CHF|2026-09-01|2|cpu|cpu|<nil>|4|0.117647",
			"cloudsigma|sigma-zrh|CHF|2026-10-01|1|dssd|dssd|<nil>|30|0.789474",
			"cloudsigma|sigma-zrh|CHF|2026-10-01|2|msft_win|msft_win|<nil>|5|0.131579",
			"cloudsigma|sigma-zrh|CHF|2026-10-01|3|mem|mem|<nil>|3|0.078947",
			"soracom|fleet-jp|JPY|2026-09-01|1|sim|sim-a|gateway-a|150|0.6",
			"soracom|fleet-jp|JPY|2026-09-01|2|sim|sim-b|<nil>|100|0.4",
			"soracom|fleet-jp|JPY|2026-10-01|1|sim|sim-a|gateway-a|300|0.769231",
			"soracom|fleet-jp|JPY|2026-10-01|2|sim|sim-b|<nil>|90|0.230769",
		})

	// Soracom October: 380 over the 2 days evaluated -> 5890; September's first
	// two days cost 112 + 52. Zurich October: 38 over 15.5 days -> 76; September's
	// first 15.5 days: half of Sep 16's 2.
	expect(t, "month_to_date_v2", query(t, conn, `SELECT provider, account, currency, billing_month, closed, billed_to_date, list_to_date, days_elapsed,
		month_days, forecast_month_end, previous_month_same_period, previous_month_total, change_to_date_pct, forecast_change_pct
		FROM reports.month_to_date_v2 WHERE provider <> 'hyperstack' ORDER BY 1, 2, 4`),
		[]string{
			"cloudsigma|sigma-sjc|USD|2026-10-01|false|7.5|<nil>|15.5|31|15|<nil>|<nil>|<nil>|<nil>",
			"cloudsigma|sigma-zrh|CHF|2026-09-01|true|34|<nil>|30|30|34|<nil>|<nil>|<nil>|<nil>",
			"cloudsigma|sigma-zrh|CHF|2026-10-01|false|38|<nil>|15.5|31|76|1|34|3700|123.53",
			"soracom|fleet-jp|JPY|2026-09-01|true|220|250|30|30|220|<nil>|<nil>|<nil>|<nil>",
			"soracom|fleet-jp|JPY|2026-10-01|false|380|380|2|31|5890|164|220|131.71|2577.27",
		})

	// Zurich: Oct 9-15 amortized 2 a day; 400 down to the limit of 50 lasts 175
	// days. San Jose spent nothing that week. Soracom is post-paid: no rows.
	expect(t, "credit_runway_v2", query(t, conn, `SELECT provider, account, currency, credit, avg_daily_cost_7d, days_left, runs_out_on
		FROM reports.credit_runway_v2 ORDER BY 1, 2`),
		[]string{
			"cloudsigma|sigma-sjc|USD|92.5|<nil>|<nil>|<nil>",
			"cloudsigma|sigma-zrh|CHF|400|2|175|2027-04-09",
		})

	// Soracom October: its summary has not caught up with the adjustment (-10).
	// CloudSigma: every month's entries add up to the fall of its balance chain.
	expect(t, "reconciliation_v2", query(t, conn, `SELECT provider, account, currency, billing_month, resource_family, summary_total, datapoint_total,
		account_total, difference, tolerance, within_tolerance FROM reports.reconciliation_v2 WHERE provider <> 'hyperstack' ORDER BY 1, 2, 4, 5`),
		[]string{
			"cloudsigma|sigma-sjc|USD|2026-10-01|all|-92.5|<nil>|-92.5|0|0.01|true",
			"cloudsigma|sigma-sjc|USD|2026-10-01|burst|7.5|<nil>|<nil>|0|0.01|true",
			"cloudsigma|sigma-sjc|USD|2026-10-01|payment|-100|<nil>|<nil>|0|0.01|true",
			"cloudsigma|sigma-zrh|CHF|2026-09-01|all|-461|<nil>|-461|0|0.01|true",
			"cloudsigma|sigma-zrh|CHF|2026-09-01|burst|4|<nil>|<nil>|0|0.01|true",
			"cloudsigma|sigma-zrh|CHF|2026-09-01|payment|-500|<nil>|<nil>|0|0.01|true",
			"cloudsigma|sigma-zrh|CHF|2026-09-01|promotion|-25|<nil>|<nil>|0|0.01|true",
			"cloudsigma|sigma-zrh|CHF|2026-09-01|subscription|60|<nil>|<nil>|0|0.01|true",
			"cloudsigma|sigma-zrh|CHF|2026-10-01|all|6.75|<nil>|6.75|0|0.01|true",
			"cloudsigma|sigma-zrh|CHF|2026-10-01|burst|3|<nil>|<nil>|0|0.01|true",
			"cloudsigma|sigma-zrh|CHF|2026-10-01|licence|5|<nil>|<nil>|0|0.01|true",
			"cloudsigma|sigma-zrh|CHF|2026-10-01|refund|-1.25|<nil>|<nil>|0|0.01|true",
			"soracom|fleet-jp|JPY|2026-09-01|all|220|<nil>|220|0|1|true",
			"soracom|fleet-jp|JPY|2026-09-01|daily|160|160|<nil>|0|1|true",
			"soracom|fleet-jp|JPY|2026-10-01|all|380|<nil>|390|-10|1|false",
			"soracom|fleet-jp|JPY|2026-10-01|daily|300|300|<nil>|0|1|true",
		})

	// A closed Soracom bill that changed, from billing.restatements as it is.
	expect(t, "restatements_v2", query(t, conn, `SELECT provider, account, currency, kind, table_name, period_start, period_end, measure, is_money, delta
		FROM reports.restatements_v2`),
		[]string{"soracom|fleet-jp|JPY|correction|billing.soracom_bills|2026-09-01T00:00:00Z|2026-10-01T00:00:00Z|final_amount|true|-10"})

	// Soracom: one charge per CSV key, the bill's tax and coupons, the
	// adjustment a Correction of September seen in October. CloudSigma: the
	// subscription's Purchase (EffectiveCost 0, ListCost with its discount of 20)
	// and its first and last amortized days (720 hours at 60/720 an hour),
	// bursts per day and resource, the promotion and the refund as credits.
	expect(t, "focus_v2", query(t, conn, `SELECT "x_Account", "BillingPeriodStart"::date, "ChargePeriodStart"::date, "ChargePeriodEnd"::date,
		"ChargeCategory", "ChargeClass", "ChargeFrequency", "BilledCost", "EffectiveCost", round("ListCost", 6), round("PricingQuantity", 6), "PricingUnit",
		round("ListUnitPrice", 6), "ResourceId", "ServiceName", "CommitmentDiscountId", "CommitmentDiscountStatus", "CommitmentDiscountQuantity",
		"InvoiceId", "BillingCurrency", "x_RegionId", "Tags" FROM reports.focus_v2
		WHERE "x_Provider" <> 'hyperstack' AND ("CommitmentDiscountStatus" IS NULL OR "ChargePeriodStart" IN ('2026-09-16', '2026-10-15'))
		ORDER BY 1, 3, 5, 14, "ChargeDescription"`),
		[]string{
			"fleet-jp|2026-10-01|2026-09-01|2026-10-01|Credit|Correction|Recurring|-10|-10|-10|<nil>|<nil>|<nil>|<nil>|Soracom Air|<nil>|<nil>|<nil>|<nil>|JPY|jp|<nil>",
			"fleet-jp|2026-09-01|2026-09-01|2026-10-01|Credit|<nil>|Recurring|-20|-20|-20|<nil>|<nil>|<nil>|<nil>|Coupons|<nil>|<nil>|<nil>|tx-202609|JPY|jp|<nil>",
			"fleet-jp|2026-09-01|2026-09-01|2026-10-01|Credit|<nil>|Recurring|-30|-30|-30|<nil>|<nil>|<nil>|<nil>|Soracom Air|<nil>|<nil>|<nil>|tx-202609|JPY|jp|<nil>",
			"fleet-jp|2026-09-01|2026-09-01|2026-10-01|Tax|<nil>|Recurring|20|20|20|<nil>|<nil>|<nil>|<nil>|Tax|<nil>|<nil>|<nil>|tx-202609|JPY|jp|<nil>",
			"fleet-jp|2026-09-01|2026-09-01|2026-09-02|Usage|<nil>|Usage-Based|100|100|100|500|MB|0.2|sim-a|Soracom Air|<nil>|<nil>|<nil>|tx-202609|JPY|jp|map[site:osaka]",
			"fleet-jp|2026-09-01|2026-09-01|2026-09-02|Usage|<nil>|Usage-Based|10|10|10|1|Days|10|sim-b|Soracom Air|<nil>|<nil>|<nil>|tx-202609|JPY|jp|<nil>",
			"fleet-jp|2026-09-01|2026-09-01|2026-10-01|Usage|<nil>|Recurring|90|90|90|1|Months|90|sim-b|Soracom Air|<nil>|<nil>|<nil>|tx-202609|JPY|jp|<nil>",
			"fleet-jp|2026-09-01|2026-09-02|2026-09-03|Usage|<nil>|Usage-Based|50|50|50|250|MB|0.2|sim-a|Soracom Air|<nil>|<nil>|<nil>|tx-202609|JPY|jp|map[site:osaka]",
			"fleet-jp|2026-10-01|2026-10-01|2026-11-01|Tax|<nil>|Recurring|38|38|38|<nil>|<nil>|<nil>|<nil>|Tax|<nil>|<nil>|<nil>|<nil>|JPY|jp|<nil>",
			"fleet-jp|2026-10-01|2026-10-01|2026-10-02|Usage|<nil>|Usage-Based|200|200|200|1000|MB|0.2|sim-a|Soracom Air|<nil>|<nil>|<nil>|<nil>|JPY|jp|map[site:osaka]",
			"fleet-jp|2026-10-01|2026-10-01|2026-11-01|Usage|<nil>|Recurring|90|90|90|1|Months|90|sim-b|Soracom Air|<nil>|<nil>|<nil>|<nil>|JPY|jp|<nil>",
			"fleet-jp|2026-10-01|2026-10-02|2026-10-03|Usage|<nil>|Usage-Based|100|100|100|500|MB|0.2|sim-a|Soracom Air|<nil>|<nil>|<nil>|<nil>|JPY|jp|map[site:osaka]",
			"sigma-sjc|2026-10-01|2026-10-01|2026-10-02|Usage|<nil>|Usage-Based|7.5|7.5|7.5|0.083333|Hours|90|cpu|Cloud Servers|<nil>|<nil>|<nil>|<nil>|USD|sjc|<nil>",
			"sigma-zrh|2026-09-01|2026-09-03|2026-09-04|Credit|<nil>|One-Time|-25|-25|-25|<nil>|<nil>|<nil>|<nil>|Credits|<nil>|<nil>|<nil>|<nil>|CHF|zrh|<nil>",
			"sigma-zrh|2026-09-01|2026-09-15|2026-09-16|Purchase|<nil>|One-Time|60|0|80|720|Hours|0.111111|sub-1|Drives|sub-1|<nil>|720|<nil>|CHF|zrh|<nil>",
			"sigma-zrh|2026-09-01|2026-09-16|2026-09-17|Usage|<nil>|Usage-Based|0|2|2.666667|24|Hours|0.111111|sub-1|Drives|sub-1|Used|24|<nil>|CHF|zrh|<nil>",
			"sigma-zrh|2026-09-01|2026-09-20|2026-09-21|Usage|<nil>|Usage-Based|4|4|4|0.166667|Hours|24|cpu|Cloud Servers|<nil>|<nil>|<nil>|<nil>|CHF|zrh|<nil>",
			"sigma-zrh|2026-10-01|2026-10-02|2026-10-03|Usage|<nil>|Usage-Based|3|3|3|0.083333|Hours|36|mem|Cloud Servers|<nil>|<nil>|<nil>|<nil>|CHF|zrh|<nil>",
			"sigma-zrh|2026-10-01|2026-10-02|2026-10-03|Usage|<nil>|Usage-Based|5|5|5|0.083333|Hours|60|msft_win|Licences|<nil>|<nil>|<nil>|<nil>|CHF|zrh|<nil>",
			"sigma-zrh|2026-10-01|2026-10-05|2026-10-06|Credit|<nil>|One-Time|-1.25|-1.25|-1.25|<nil>|<nil>|<nil>|<nil>|Credits|<nil>|<nil>|<nil>|<nil>|CHF|zrh|<nil>",
			"sigma-zrh|2026-10-01|2026-10-15|2026-10-16|Usage|<nil>|Usage-Based|0|2|2.666667|24|Hours|0.111111|sub-1|Drives|sub-1|Used|24|<nil>|CHF|zrh|<nil>",
		})

	// A Soracom month's charges add up to its bill (220, 418); CloudSigma's
	// billed to the debits less credits (64 - 25), effective to the debits with
	// the subscription amortized less credits (4 + 30 - 25).
	expect(t, "focus_v2 totals", query(t, conn, `SELECT "x_Account", "BillingCurrency", "BillingPeriodStart"::date, sum("BilledCost"), round(sum("EffectiveCost"), 6)
		FROM reports.focus_v2 WHERE "x_Provider" <> 'hyperstack' GROUP BY 1, 2, 3 ORDER BY 1, 3`),
		[]string{
			"fleet-jp|JPY|2026-09-01|220|220", "fleet-jp|JPY|2026-10-01|418|418",
			"sigma-sjc|USD|2026-10-01|7.5|7.5",
			"sigma-zrh|CHF|2026-09-01|39|9", "sigma-zrh|CHF|2026-10-01|6.75|36.75",
		})
}
