package main

import (
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// moneyFixture: account "us" spent 10 a day in September (closed, 300) and
// in October up to Oct 16 12:00 (155); 1000 of credit on Oct 16 lasts 100
// days at the last 7 days' 10 a day; a correction of -2 was seen just now.
const moneyFixture = `
INSERT INTO billing.accounts (provider, account, currency) VALUES ('hyperstack', 'us', 'USD');
INSERT INTO ingest.runs (provider, account, trigger, status, window_start, window_end, started_at, finished_at) VALUES
  ('hyperstack', 'us', 'schedule', 'succeeded', '2026-10-01 00:00Z', '2026-10-16 12:00Z', '2026-10-16 12:00Z', '2026-10-16 12:05Z');
INSERT INTO billing.resource_month_costs (provider, account, family, resource_id, billing_month, incurred_bill, non_discounted_bill) VALUES
  ('hyperstack', 'us', 'virtual-machine', 'v1', '2026-09-01', 300, 300), ('hyperstack', 'us', 'virtual-machine', 'v1', '2026-10-01', 155, 155);
INSERT INTO billing.cost_datapoints (provider, account, family, resource_id, bucket_seconds, bucket_start, incurred_bill)
SELECT 'hyperstack', 'us', 'virtual-machine', 'v1', 86400, d, 10
FROM generate_series('2026-09-01 00:00Z'::timestamptz, '2026-10-15 00:00Z', interval '1 day') d
UNION ALL SELECT 'hyperstack', 'us', 'virtual-machine', 'v1', 3600, h, 5 / 12.0
FROM generate_series('2026-10-16 00:00Z'::timestamptz, '2026-10-16 11:00Z', interval '1 hour') h;
INSERT INTO billing.org_month_costs (provider, account, billing_month, incurred_bill) VALUES
  ('hyperstack', 'us', '2026-09-01', 300), ('hyperstack', 'us', '2026-10-01', 155);
INSERT INTO billing.credit_observations (provider, account, observed_hour, credit) VALUES ('hyperstack', 'us', '2026-10-16 12:00Z', 1000);
INSERT INTO billing.restatements (provider, account, table_name, row_key, measure, old_value, new_value, run_id, observed_at, kind) VALUES
  ('hyperstack', 'us', 'billing.cost_datapoints',
   '{"family": "virtual-machine", "resource_id": "v1", "bucket_seconds": 86400, "bucket_start": "2026-09-10T00:00:00+00:00"}',
   'incurred_bill', 12, 10, 1, now(), 'correction');`

// exported gathers a serve registry over the fixture: metric name ->
// "provider/account/currency" -> value.
func exported(t *testing.T) map[string]map[string]float64 {
	t.Helper()
	url := dbtest.New(t)
	conn := dbtest.Conn(t, url)
	if _, err := conn.Exec(t.Context(), moneyFixture); err != nil {
		t.Fatal(err)
	}
	dbtest.RefreshDayCosts(t, conn)
	s, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	reg := prometheus.NewRegistry()
	m := newPromMetrics(reg)
	reg.MustRegister(newMoneyCollector(s.Pool(), slog.New(slog.DiscardHandler)))
	o := store.Owner{Provider: "hyperstack", Account: "us"}
	m.watch(o)
	m.RunFinished(o, "partial", time.Second, time.Now())
	m.RunFinished(o, "partial", time.Second, time.Now())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, f := range families {
		out[f.GetName()] = map[string]float64{}
		for _, mm := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range mm.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			key := ""
			for _, l := range []string{"provider", "account", "currency"} {
				if v, ok := labels[l]; ok {
					key += "/" + v
				}
			}
			out[f.GetName()][key] = mm.GetGauge().GetValue()
		}
	}
	return out
}

// TestMoneyMetrics: the gauges carry the views' values.
func TestMoneyMetrics(t *testing.T) {
	t.Parallel()
	got := exported(t)
	for name, want := range map[string]float64{
		"billing_warehouse_credit_balance":         1000,
		"billing_warehouse_credit_runway_days":     100,
		"billing_warehouse_month_to_date_cost":     155,
		"billing_warehouse_month_forecast_cost":    310, // 155 over 15.5 of 31 days
		"billing_warehouse_previous_month_cost":    300,
		"billing_warehouse_unreconciled_amount":    0,
		"billing_warehouse_corrections_24h_amount": 2,
	} {
		if v, ok := got[name]["/hyperstack/us/USD"]; !ok || v != want {
			t.Errorf("%s = %v (exported %v), want %v", name, v, ok, want)
		}
	}
	if v := got["billing_warehouse_consecutive_partial_runs"]["/hyperstack/us"]; v != 2 {
		t.Errorf("consecutive_partial_runs = %v, want 2", v)
	}
	if v := got["billing_warehouse_money_scrape_error"][""]; v != 0 {
		t.Errorf("money_scrape_error = %v", v)
	}
}

// TestAlertRules parses deploy/prometheus/alerts.yml with Prometheus's own
// rule parser and checks that every metric an alert names is exported.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	p := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.ParseFile("../../deploy/prometheus/alerts.yml", false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("alerts.yml: %v", errs)
	}
	names := map[string]bool{}
	alerts := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Fatalf("%s: %v", r.Alert, err)
			}
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok {
					names[vs.Name] = true
				}
				return nil
			})
		}
	}
	if alerts < 6 {
		t.Errorf("%d alerts, want at least the 6 of the README", alerts)
	}
	got := exported(t)
	var missing []string
	for n := range names {
		if _, ok := got[n]; !ok {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("alerts.yml names metrics /metrics does not export: %v", missing)
	}
}
