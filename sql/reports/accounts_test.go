package reports_test

import (
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// twoAccounts is one provider with two accounts whose resources share ids,
// events and buckets, so that any aggregate or join that forgets the
// account sums or pairs rows of both.
const twoAccounts = `
INSERT INTO billing.accounts (provider, account, display_name, provider_account_id, currency) VALUES
  ('hyperstack', 'acme-prod', 'Acme Prod', '4711', 'USD'),
  ('hyperstack', 'acme-lab', NULL, NULL, 'USD');
INSERT INTO billing.resources (provider, account, family, resource_id, name, status) VALUES
  ('hyperstack', 'acme-prod', 'virtual-machine', '1', 'train-prod', 'ACTIVE'),
  ('hyperstack', 'acme-lab', 'virtual-machine', '1', 'train-lab', 'ACTIVE');
INSERT INTO billing.resource_month_costs (provider, account, family, resource_id, billing_month, status, incurred_bill, non_discounted_bill, usage_seconds) VALUES
  ('hyperstack', 'acme-prod', 'virtual-machine', '1', '2026-09-01', 'ACTIVE', 300, 300, 720000),
  ('hyperstack', 'acme-prod', 'virtual-machine', '1', '2026-10-01', 'ACTIVE', 60, 75, 7200),
  ('hyperstack', 'acme-lab', 'virtual-machine', '1', '2026-10-01', 'ACTIVE', 40, 40, 3600);
-- prod has a daily bucket on Oct 1, lab only hourly ones that day: the
-- daily-else-hourly rule must not let prod's daily bucket hide lab's hours.
INSERT INTO billing.cost_datapoints (provider, account, family, resource_id, bucket_seconds, bucket_start, incurred_bill) VALUES
  ('hyperstack', 'acme-prod', 'virtual-machine', '1', 86400, '2026-10-01 00:00Z', 10),
  ('hyperstack', 'acme-lab', 'virtual-machine', '1', 3600, '2026-10-01 05:00Z', 4),
  ('hyperstack', 'acme-lab', 'virtual-machine', '1', 86400, '2026-10-02 00:00Z', 13);
INSERT INTO billing.vm_subresource_costs (provider, account, vm_id, billing_month, subresource, incurred_bill) VALUES
  ('hyperstack', 'acme-prod', '1', '2026-10-01', 'gpu', 5), ('hyperstack', 'acme-lab', '1', '2026-10-01', 'gpu', 3);
INSERT INTO billing.billing_events (provider, account, family, resource_id, event_start, event, duration_hours, price_per_hour, total_cost) VALUES
  ('hyperstack', 'acme-prod', 'virtual-machine', '1', '2026-10-01 00:00Z', 'SHUTOFF', 2, 1, 2),
  ('hyperstack', 'acme-lab', 'virtual-machine', '1', '2026-10-01 00:00Z', 'ACTIVE', 3, 1, 3);
INSERT INTO billing.org_month_costs (provider, account, billing_month, incurred_bill) VALUES
  ('hyperstack', 'acme-prod', '2026-10-01', 60), ('hyperstack', 'acme-lab', '2026-10-01', 40);
INSERT INTO billing.credit_observations (provider, account, observed_hour, credit) VALUES
  ('hyperstack', 'acme-prod', '2026-10-03 09:00Z', 100), ('hyperstack', 'acme-lab', '2026-10-03 09:00Z', 50);
INSERT INTO billing.restatements (provider, account, table_name, row_key, measure, old_value, new_value, run_id, observed_at, kind) VALUES
  ('hyperstack', 'acme-prod', 'billing.cost_datapoints',
   '{"provider": "hyperstack", "account": "acme-prod", "family": "virtual-machine", "resource_id": "1", "bucket_seconds": 86400, "bucket_start": "2026-10-01T00:00:00+00:00"}',
   'incurred_bill', 12, 10, 7, '2026-11-05 00:00Z', 'correction');
`

// TestV1ViewsKeepAccountsApart: every v1 view has an account column and
// one row per account where it would otherwise add two accounts together.
func TestV1ViewsKeepAccountsApart(t *testing.T) {
	t.Parallel()
	conn := dbtest.Conn(t, dbtest.New(t))
	exec(t, conn, twoAccounts)

	expect(t, "resource_month_cost_v1", query(t, conn, `SELECT account, billing_month, resource_id, resource_name, incurred_bill
		FROM reports.resource_month_cost_v1 ORDER BY account, billing_month`),
		[]string{"acme-lab|2026-10-01|1|train-lab|40", "acme-prod|2026-09-01|1|train-prod|300", "acme-prod|2026-10-01|1|train-prod|60"})

	expect(t, "resource_day_cost_v1", query(t, conn, `SELECT account, day, resource_id, incurred_bill FROM reports.resource_day_cost_v1 ORDER BY account, day`),
		[]string{"acme-lab|2026-10-01|1|4", "acme-lab|2026-10-02|1|13", "acme-prod|2026-10-01|1|10"})

	expect(t, "daily_cost_v1", query(t, conn, `SELECT account, day, resource_family, incurred_bill FROM reports.daily_cost_v1 ORDER BY account, day`),
		[]string{"acme-lab|2026-10-01|virtual-machine|4", "acme-lab|2026-10-02|virtual-machine|13", "acme-prod|2026-10-01|virtual-machine|10"})

	expect(t, "month_to_date_v1", query(t, conn, `SELECT account, billing_month, incurred_to_date, previous_month_total
		FROM reports.month_to_date_v1 ORDER BY account, billing_month`),
		[]string{"acme-lab|2026-10-01|40|<nil>", "acme-prod|2026-09-01|300|<nil>", "acme-prod|2026-10-01|60|300"})

	expect(t, "top_resources_v1", query(t, conn, `SELECT account, rank, resource_name, share_of_month FROM reports.top_resources_v1
		WHERE billing_month = '2026-10-01' ORDER BY account`),
		[]string{"acme-lab|1|train-lab|1", "acme-prod|1|train-prod|1"})

	expect(t, "vm_cost_breakdown_v1", query(t, conn, `SELECT account, vm_name, gpu, total FROM reports.vm_cost_breakdown_v1 ORDER BY account`),
		[]string{"acme-lab|train-lab|3|3", "acme-prod|train-prod|5|5"})

	expect(t, "idle_cost_v1", query(t, conn, `SELECT account, vm_name, active_hours, shutoff_hours, idle_cost FROM reports.idle_cost_v1 ORDER BY account`),
		[]string{"acme-lab|train-lab|3|0|0", "acme-prod|train-prod|0|2|2"})

	// prod: 10 in the 7 days before Oct 3, 100 left: 70 days (69.99… as v1
	// divides: out on Dec 11).
	// lab: 17, 50 left: 20.59 days, out on Oct 23.
	expect(t, "credit_runway_v1", query(t, conn, `SELECT account, credit, avg_daily_cost_7d, days_left, runs_out_on FROM reports.credit_runway_v1 ORDER BY account`),
		[]string{"acme-lab|50|2.428571|20.59|2026-10-23", "acme-prod|100|1.428571|70|2026-12-11"})

	expect(t, "reconciliation_v1", query(t, conn, `SELECT account, billing_month, resource_family, summary_total, datapoint_total, org_total, difference
		FROM reports.reconciliation_v1 ORDER BY account, billing_month, resource_family`),
		[]string{
			"acme-lab|2026-10-01|all|40|<nil>|40|0", "acme-lab|2026-10-01|virtual-machine|40|17|<nil>|23",
			"acme-prod|2026-09-01|all|300|<nil>|<nil>|0", "acme-prod|2026-09-01|virtual-machine|300|0|<nil>|300",
			"acme-prod|2026-10-01|all|60|<nil>|60|0", "acme-prod|2026-10-01|virtual-machine|60|10|<nil>|50",
		})

	expect(t, "restatements_v1", query(t, conn, `SELECT account, resource_id, delta FROM reports.restatements_v1`),
		[]string{"acme-prod|1|-2"})

	expect(t, "focus_v1", query(t, conn, `SELECT "x_Account", "BillingAccountId", "BillingAccountName", "ChargePeriodStart", "BilledCost",
		"PricingQuantity", "ResourceName", "ChargeClass" FROM reports.focus_v1 ORDER BY 1, 4`),
		[]string{
			"acme-lab|acme-lab|acme-lab|2026-10-01T00:00:00Z|4|0.1|train-lab|<nil>",
			"acme-lab|acme-lab|acme-lab|2026-10-02T00:00:00Z|13|0.325|train-lab|<nil>",
			"acme-prod|4711|Acme Prod|2026-10-01T00:00:00Z|10|0.333333333|train-prod|Correction",
		})
}
