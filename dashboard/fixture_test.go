package dashboard_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/dashboard"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// fixture is sql/reports' v2 fixture (v2_test.go), whose view rows are
// worked out by hand there: account "us" (USD) with a VM and a contract
// over a closed September and an open October, a correction and an
// accrual; account "jp" (JPY).
const fixture = `
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

var keyed = regexp.MustCompile(`data-key="([^"]+)"[^>]*>([^<]*)<`)

// figures are the page's keyed numbers: data-key -> text.
func figures(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range keyed.FindAllStringSubmatch(page, -1) {
		out[m[1]] = strings.TrimSpace(m[2])
	}
	return out
}

func render(t *testing.T, d *dashboard.Data) string {
	t.Helper()
	var buf bytes.Buffer
	if err := dashboard.Render(&buf, d, dashboard.Options{Now: time.Date(2026, 10, 16, 13, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func expectFigures(t *testing.T, name string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q", name, k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected figure %s = %q", name, k, got[k])
		}
	}
}

// TestPageOnFixture renders the hand-built warehouse: every figure printed
// is the view's value, rounded to the currency's minor unit.
func TestPageOnFixture(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	conn := dbtest.Conn(t, url)
	if _, err := conn.Exec(t.Context(), fixture); err != nil {
		t.Fatal(err)
	}
	dbtest.RefreshDayCosts(t, conn)
	db := pool(t, url)
	for _, c := range []struct {
		name   string
		filter dashboard.Filter
		month  string
		until  string
		want   map[string]string
	}{{
		// October is the newest month. us: 326 over 15.5 days, 652 forecast,
		// September 450; jp: 1640.4 JPY over 15 days. The daily chart ends on
		// Oct 16 (us's data reaches into it) and holds all of September and
		// October: 450 + 326 USD; jp 14 x 100 + 240 JPY.
		name: "all accounts", month: "2026-10", until: "2026-10-16",
		want: map[string]string{
			"mtd/hyperstack/us/USD/billed": "326.00", "mtd/hyperstack/us/USD/forecast": "652.00", "mtd/hyperstack/us/USD/previous": "450.00",
			"mtd/hyperstack/jp/JPY/billed": "1,640", "mtd/hyperstack/jp/JPY/forecast": "3,390", "mtd/hyperstack/jp/JPY/previous": "–",
			"daily/USD/total": "776.00", "daily/JPY/total": "1,640",
			"top/USD/us/virtual-machine/v1": "171.00", "top/USD/us/contract/k1": "155.00", "top/USD/total": "326.00",
			"top/JPY/jp/virtual-machine/v1": "1,640", "top/JPY/total": "1,640",
			"credit/hyperstack/us/credit": "1,000.00 USD", "credit/hyperstack/us/days": "45.16",
			"corr/hyperstack/us/billing.cost_datapoints/virtual-machine": "-2.00 USD",
		},
	}, {
		name: "jp only", filter: dashboard.Filter{Account: "jp"}, month: "2026-10", until: "2026-10-15",
		want: map[string]string{
			"mtd/hyperstack/jp/JPY/billed": "1,640", "mtd/hyperstack/jp/JPY/forecast": "3,390", "mtd/hyperstack/jp/JPY/previous": "–",
			"daily/JPY/total": "1,640", "top/JPY/jp/virtual-machine/v1": "1,640", "top/JPY/total": "1,640",
		},
	}, {
		// A closed month: its forecast is its total; the chart ends on its last day.
		name: "us in September", filter: dashboard.Filter{Account: "us", Month: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}, month: "2026-09", until: "2026-09-30",
		want: map[string]string{
			"mtd/hyperstack/us/USD/billed": "450.00", "mtd/hyperstack/us/USD/forecast": "450.00", "mtd/hyperstack/us/USD/previous": "–",
			"daily/USD/total": "450.00", "top/USD/us/virtual-machine/v1": "300.00", "top/USD/us/contract/k1": "150.00", "top/USD/total": "450.00",
		},
	}} {
		d, err := dashboard.Load(t.Context(), db, c.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Month.Format("2006-01"); got != c.month {
			t.Errorf("%s: month %s, want %s", c.name, got, c.month)
		}
		if got := d.Until.Format("2006-01-02"); got != c.until {
			t.Errorf("%s: daily chart ends %s, want %s", c.name, got, c.until)
		}
		page := render(t, d)
		expectFigures(t, c.name, figures(t, page), c.want)
		if c.name == "all accounts" {
			if d.AnomalyCount != 1 || d.AnomalyRows[0].Cost.Text("USD") != "25.00" || d.AnomalyRows[0].Ratio != 2.5 {
				t.Errorf("anomalies: %d %+v", d.AnomalyCount, d.AnomalyRows)
			}
			if r := d.Runway[0]; r.RunsOutOn == nil || r.RunsOutOn.Format("2006-01-02") != "2026-11-30" {
				t.Errorf("runway: %+v", r)
			}
			for _, s := range []string{"2026-10-15", "No source has stored a response yet", "train", "8x H100 reserved"} {
				if !strings.Contains(page, s) {
					t.Errorf("the page does not say %q", s)
				}
			}
		}
	}
}

// TestPageOnEmptyWarehouse: a migrated warehouse with no data renders every
// section with what is missing and how to fill it.
func TestPageOnEmptyWarehouse(t *testing.T) {
	t.Parallel()
	d, err := dashboard.Load(t.Context(), pool(t, dbtest.New(t)), dashboard.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	page := render(t, d)
	for _, s := range []string{"No costs for", "ingest backfill", "No daily cost", "No resource had a cost", "No credit observed",
		"No anomalies", "No corrections", "No source has stored a response yet"} {
		if !strings.Contains(page, s) {
			t.Errorf("the empty page does not say %q", s)
		}
	}
	if len(figures(t, page)) != 0 {
		t.Errorf("figures on an empty page: %v", figures(t, page))
	}
}

// TestThousandsOfResources: 3,000 resources in a month list the top 15 and
// sum up the rest.
func TestThousandsOfResources(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	conn := dbtest.Conn(t, url)
	// Resource i costs i/100: the total is 3000 x 3001 / 200 = 45,015.
	if _, err := conn.Exec(t.Context(), `
INSERT INTO billing.resource_month_costs (provider, account, family, resource_id, billing_month, incurred_bill, non_discounted_bill)
SELECT 'hyperstack', 'default', 'volume', i::text, '2026-10-01', i / 100.0, i / 100.0 FROM generate_series(1, 3000) i`); err != nil {
		t.Fatal(err)
	}
	d, err := dashboard.Load(t.Context(), pool(t, url), dashboard.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	page := render(t, d)
	got := figures(t, page)
	if got["top/USD/total"] != "45,015.00" || got["top/USD/default/volume/3000"] != "30.00" || got["top/USD/default/volume/2986"] != "29.86" {
		t.Errorf("top: %v", got)
	}
	// The 2,985 others: 45,015 - (30.00 + 29.99 + ... + 29.86) = 45,015 - 448.95.
	if !strings.Contains(page, `2985 more resources</td><td class="n">44,566.05<`) {
		t.Errorf("the rest is not summed up")
	}
	if n := strings.Count(page, "<tr><td class=\"n\">"); n != dashboard.TopN {
		t.Errorf("%d resource rows, want %d", n, dashboard.TopN)
	}
}
