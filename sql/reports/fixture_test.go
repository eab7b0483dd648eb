package reports_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// query returns a query's rows, each rendered as "a|b|c" with numerics
// normalised (trailing zeros dropped), for comparison with expectations
// worked out by hand.
func query(t *testing.T, conn *pgx.Conn, sql string) []string {
	t.Helper()
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > 5*time.Second {
			t.Logf("slow (%s): %.80s", d, sql)
		}
	}()
	rows, err := conn.Query(t.Context(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = render(v)
		}
		out = append(out, strings.Join(cells, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// exec runs a fixture's statements, then refreshes the day costs as the
// run that wrote them would have.
func exec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	dbtest.RefreshDayCosts(t, conn)
}

func expect(t *testing.T, name string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot\n  %s\nwant\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestReportsOnFixtures loads a small hand-built warehouse and checks every
// report against rows worked out by hand.
func TestReportsOnFixtures(t *testing.T) {
	t.Parallel()
	conn := dbtest.Conn(t, dbtest.New(t))
	exec(t, conn, `
INSERT INTO billing.resources (provider, account, family, resource_id, name, status, base_model, lora_adapter) VALUES
  ('hyperstack', 'default', 'virtual-machine', '1', 'train-1', 'ACTIVE', NULL, NULL),
  ('hyperstack', 'default', 'volume', '2', 'data-2', 'IN-USE', NULL, NULL),
  ('hyperstack', 'default', 'serverless_inference', '3', 'endpoint-3', 'ACTIVE', 'meta/llama', '');
INSERT INTO billing.resource_month_costs (provider, account, family, resource_id, billing_month, status, incurred_bill, non_discounted_bill,
    price_per_hour, usage_seconds, input_tokens, output_tokens) VALUES
  ('hyperstack', 'default', 'virtual-machine', '1', '2026-09-01', 'ACTIVE', 300, 300, 1.5, 720000, NULL, NULL),
  ('hyperstack', 'default', 'virtual-machine', '1', '2026-10-01', 'ACTIVE', 60, 75, 1.5, 7200, NULL, NULL),
  ('hyperstack', 'default', 'volume', '2', '2026-10-01', 'IN-USE', 39.5, 40, 0.1, 3600, NULL, NULL),
  ('hyperstack', 'default', 'serverless_inference', '3', '2026-10-01', 'ACTIVE', 0.5, 0.5, NULL, 3600, 600000, 400000);
-- vm 1: a daily bucket on Oct 1 (so its hourly buckets that day are ignored),
-- hourly buckets only on Oct 2; the month's data reaches Oct 10.
INSERT INTO billing.cost_datapoints (provider, account, family, resource_id, bucket_seconds, bucket_start, incurred_bill) VALUES
  ('hyperstack', 'default', 'virtual-machine', '1', 86400, '2026-10-01 00:00Z', 10),
  ('hyperstack', 'default', 'virtual-machine', '1', 3600, '2026-10-01 05:00Z', 3),
  ('hyperstack', 'default', 'virtual-machine', '1', 3600, '2026-10-01 06:00Z', 4),
  ('hyperstack', 'default', 'virtual-machine', '1', 3600, '2026-10-02 05:00Z', 1),
  ('hyperstack', 'default', 'virtual-machine', '1', 3600, '2026-10-02 06:00Z', 2),
  ('hyperstack', 'default', 'virtual-machine', '1', 86400, '2026-10-09 00:00Z', 45),
  ('hyperstack', 'default', 'volume', '2', 86400, '2026-10-01 00:00Z', 39.5);
INSERT INTO billing.vm_subresource_costs (provider, account, vm_id, billing_month, subresource, incurred_bill) VALUES
  ('hyperstack', 'default', '1', '2026-10-01', 'gpu', 5), ('hyperstack', 'default', '1', '2026-10-01', 'cpu', 1), ('hyperstack', 'default', '1', '2026-10-01', 'ram', 0.5);
INSERT INTO billing.billing_events (provider, account, family, resource_id, event_start, event, duration_hours, price_per_hour, total_cost) VALUES
  ('hyperstack', 'default', 'virtual-machine', '1', '2026-10-01 00:00Z', 'ACTIVE', 10, 1, 10),
  ('hyperstack', 'default', 'virtual-machine', '1', '2026-10-01 10:00Z', 'SHUTOFF', 5, 1, 5),
  ('hyperstack', 'default', 'virtual-machine', '1', '2026-10-01 15:00Z', 'HIBERNATED', 2, 0.1, 0.2);
INSERT INTO billing.org_month_costs (provider, account, billing_month, incurred_bill) VALUES ('hyperstack', 'default', '2026-10-01', 100);
INSERT INTO billing.restatements (provider, account, table_name, row_key, measure, old_value, new_value, run_id, observed_at, kind) VALUES
  ('hyperstack', 'default', 'billing.cost_datapoints', '{"family": "virtual-machine", "resource_id": "1", "bucket_start": "2026-10-09T00:00:00+00:00"}',
   'incurred_bill', 50, 45, 7, '2026-10-12 00:00Z', 'correction');
-- The account's last run looked on Oct 10 at midnight.
INSERT INTO ingest.runs (provider, account, trigger, status, window_start, window_end, started_at, finished_at) VALUES
  ('hyperstack', 'default', 'schedule', 'succeeded', '2026-10-01 00:00Z', '2026-10-10 00:00Z', '2026-10-10 00:00Z', '2026-10-10 00:05Z');
`)

	expect(t, "resource_month_cost_v1", query(t, conn, `SELECT billing_month, resource_family, resource_id, resource_name, incurred_bill,
		non_discounted_bill, discount_savings, usage_hours FROM reports.resource_month_cost_v1 WHERE billing_month = '2026-10-01' ORDER BY resource_id`),
		[]string{"2026-10-01|virtual-machine|1|train-1|60|75|15|2", "2026-10-01|volume|2|data-2|39.5|40|0.5|1", "2026-10-01|serverless_inference|3|endpoint-3|0.5|0.5|0|1"})

	expect(t, "daily_cost_v1", query(t, conn, `SELECT day, resource_family, incurred_bill FROM reports.daily_cost_v1 ORDER BY day, resource_family`),
		[]string{"2026-10-01|virtual-machine|10", "2026-10-01|volume|39.5", "2026-10-02|virtual-machine|3", "2026-10-09|virtual-machine|45"})

	// October: 100 over 9 days of data (to Oct 10 00:00) of 31 -> 344.444444; against 300: +14.81%.
	expect(t, "month_to_date_v1", query(t, conn, `SELECT billing_month, incurred_to_date, days_elapsed, forecast_month_end,
		previous_month_total, change_pct FROM reports.month_to_date_v1 ORDER BY billing_month`),
		[]string{"2026-09-01|300|30|300|<nil>|<nil>", "2026-10-01|100|9|344.444444|300|14.81"})

	expect(t, "top_resources_v1", query(t, conn, `SELECT rank, resource_id, incurred_bill, share_of_month FROM reports.top_resources_v1
		WHERE billing_month = '2026-10-01' ORDER BY rank`),
		[]string{"1|1|60|0.6", "2|2|39.5|0.395", "3|3|0.5|0.005"})

	expect(t, "vm_cost_breakdown_v1", query(t, conn, `SELECT vm_id, vm_name, gpu, cpu, ram, disk, ephemeral, public_ip, total FROM reports.vm_cost_breakdown_v1`),
		[]string{"1|train-1|5|1|0.5|0|0|0|6.5"})

	expect(t, "idle_cost_v1", query(t, conn, `SELECT billing_month, vm_id, active_hours, shutoff_hours, hibernated_hours, idle_cost FROM reports.idle_cost_v1`),
		[]string{"2026-10-01|1|10|5|2|5.2"})

	// 0.5 USD for 1,000,000 tokens.
	expect(t, "ai_usage_v1", query(t, conn, `SELECT service, resource_id, base_model, lora_adapter, input_tokens, output_tokens, incurred_bill,
		cost_per_million_tokens FROM reports.ai_usage_v1`),
		[]string{"serverless_inference|3|meta/llama|<nil>|600000|400000|0.5|0.5"})

	expect(t, "reconciliation_v1", query(t, conn, `SELECT billing_month, resource_family, summary_total, datapoint_total, org_total, difference, within_tolerance
		FROM reports.reconciliation_v1 WHERE billing_month = '2026-10-01' ORDER BY resource_family`),
		[]string{
			"2026-10-01|all|100|<nil>|100|0|true",
			"2026-10-01|serverless_inference|0.5|0|<nil>|0.5|false",
			"2026-10-01|virtual-machine|60|58|<nil>|2|false",
			"2026-10-01|volume|39.5|39.5|<nil>|0|true",
		})

	expect(t, "restatements_v1", query(t, conn, `SELECT run_id, resource_family, resource_id, period, measure, old_value, new_value, delta FROM reports.restatements_v1`),
		[]string{"7|virtual-machine|1|2026-10-09T00:00:00+00:00|incurred_bill|50|45|-5"})
}

// TestRunwayAnomaliesAndHealth covers the reports that need a longer history.
func TestRunwayAnomaliesAndHealth(t *testing.T) {
	t.Parallel()
	conn := dbtest.Conn(t, dbtest.New(t))
	// vm 9 costs 10 a day from Oct 1 to Oct 14, 30 on Oct 15 and 15 on Oct 16.
	var values []string
	for d := 1; d <= 16; d++ {
		cost := 10
		switch d {
		case 15:
			cost = 30
		case 16:
			cost = 15
		}
		values = append(values, fmt.Sprintf("('hyperstack', 'default', 'virtual-machine', '9', 86400, '2026-10-%02d 00:00Z', %d)", d, cost))
		// Another account's vm 9 costs 1 a day: mixed into the baseline it
		// would halve it.
		values = append(values, fmt.Sprintf("('hyperstack', 'lab', 'virtual-machine', '9', 86400, '2026-10-%02d 00:00Z', 1)", d))
	}
	exec(t, conn, `INSERT INTO billing.cost_datapoints (provider, account, family, resource_id, bucket_seconds, bucket_start, incurred_bill) VALUES `+strings.Join(values, ", "))
	exec(t, conn, `INSERT INTO billing.credit_observations (provider, account, observed_hour, credit) VALUES ('hyperstack', 'default', '2026-10-15 09:00Z', 1000)`)

	// The 7 days before Oct 15 cost 10 each: 10/day, 100 days left, out on Jan 23.
	expect(t, "credit_runway_v1", query(t, conn, `SELECT credit, avg_daily_cost_7d, days_left, runs_out_on FROM reports.credit_runway_v1`),
		[]string{"1000|10|100|2027-01-23"})

	// Oct 15: 30 against a baseline of 10 (x3, +20). Oct 16: 15 against (13*10+30)/14 = 11.43: x1.31, no.
	// Oct 8, the first day with a 7-day history: 10 against 10, no.
	expect(t, "cost_anomalies_v1", query(t, conn, `SELECT day, resource_id, cost, baseline, ratio, account FROM reports.cost_anomalies_v1`),
		[]string{"2026-10-15|9|30|10|3|default"})

	exec(t, conn, `
INSERT INTO ingest.runs (provider, account, trigger, status, started_at, finished_at) VALUES
  ('hyperstack', 'default', 'schedule', 'partial', '2026-10-15 10:00Z', '2026-10-15 10:05Z'),
  ('hyperstack', 'lab', 'schedule', 'succeeded', '2026-10-15 11:00Z', '2026-10-15 11:05Z');
INSERT INTO ingest.run_errors (run_id, provider, account, endpoint, resource_id, http_status, attempts, message)
  SELECT id, provider, account, 'volume/detail', '5', 500, 5, 'GET /billing/billing/history/volume/5: HTTP 500' FROM ingest.runs WHERE account = 'default';
INSERT INTO ingest.raw_payloads (provider, account, endpoint, params, status_code, fetched_at, decoded_at, content_sha256, body_gzip) VALUES
  ('hyperstack', 'default', 'volume/list', '/billing/billing/history/volume?page=1', 200, '2026-10-15 10:00Z', '2026-10-15 10:00Z', '\x01', '\x00'),
  ('hyperstack', 'default', 'volume/list', '/billing/billing/history/volume?page=2', 200, '2026-10-15 11:00Z', NULL, '\x03', '\x00'),
  ('hyperstack', 'default', 'credit', '/billing/user-credit/credit?', 200, '2026-10-15 09:00Z', '2026-10-15 09:00Z', '\x02', '\x00'),
  ('hyperstack', 'lab', 'volume/list', '/billing/billing/history/volume?page=1', 200, '2026-10-15 11:00Z', '2026-10-15 11:00Z', '\x01', '\x00');`)
	expect(t, "ingest_health_v1", query(t, conn, `SELECT account, endpoint_family, last_success_at, last_run_status, last_error, lag > interval '1 day'
		FROM reports.ingest_health_v1 ORDER BY account, endpoint_family`),
		[]string{
			"default|credit|2026-10-15T09:00:00Z|partial|<nil>|true",
			"default|volume|2026-10-15T10:00:00Z|partial|GET /billing/billing/history/volume/5: HTTP 500|true",
			"lab|volume|2026-10-15T11:00:00Z|succeeded|<nil>|true",
		})
}
