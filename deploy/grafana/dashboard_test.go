// Package grafana holds the Grafana provisioning; its test runs every
// panel's SQL the way Grafana would.
package grafana

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/simwarehouse"
)

type dashboardJSON struct {
	Templating struct {
		List []struct{ Name, Query string } `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			RawSQL string `json:"rawSql"`
			Format string `json:"format"`
		} `json:"targets"`
	} `json:"panels"`
}

// columns are what each panel expects back; time series panels read
// time, metric and value.
var columns = map[string][]string{
	"Month to date": {"provider", "account", "currency", "billing_month", "closed", "billed_to_date", "forecast_month_end",
		"previous_month_same_period", "previous_month_total", "forecast_change_pct"},
	"Daily cost by service (amortized commitments apart)": {"time", "metric", "value"},
	"Top resources of the month":                          {"account", "currency", "rank", "resource_family", "resource_id", "resource_name", "billed_cost", "share_of_month"},
	"Credit":                                              {"time", "metric", "value"},
	"Credit runway":                                       {"provider", "account", "currency", "observed_at", "credit", "avg_daily_cost_7d", "days_left", "runs_out_on"},
	"Anomalies":                                           {"day", "account", "currency", "resource_family", "resource_id", "resource_name", "cost", "baseline", "ratio"},
	"Corrections (restatements of settled periods)": {"observed_at", "account", "currency", "table_name", "resource_family", "resource_id", "period_start", "old_value", "new_value", "delta"},
	"Ingest health": {"provider", "account", "endpoint_family", "last_success_at", "lag_seconds", "last_run_status", "last_error"},
}

// expand does what Grafana's PostgreSQL datasource does to a query for
// the range from–to with the variables' values (all selected).
func expand(sql string, from, to time.Time, vars map[string][]string) string {
	f, t := from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339)
	sql = regexp.MustCompile(`\$__timeFilter\(([^)]+)\)`).ReplaceAllString(sql, fmt.Sprintf("$1 BETWEEN '%s' AND '%s'", f, t))
	sql = strings.ReplaceAll(sql, "$__timeFrom()", "'"+f+"'")
	sql = strings.ReplaceAll(sql, "$__timeTo()", "'"+t+"'")
	for name, values := range vars {
		quoted := make([]string, len(values))
		for i, v := range values {
			quoted[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		}
		sql = strings.ReplaceAll(sql, "${"+name+"}", strings.Join(quoted, ","))
		sql = strings.ReplaceAll(sql, "$"+name, strings.Join(quoted, ","))
	}
	return sql
}

// readerURL creates a login in billing_reader, as the datasource's
// grafana_reader, and returns dbURL as that login.
func readerURL(t *testing.T, dbURL string) string {
	t.Helper()
	admin := dbtest.Conn(t, dbtest.AdminURL())
	name := fmt.Sprintf("bw_grafana_%d", rand.Int64())
	if _, err := admin.Exec(t.Context(), "CREATE ROLE "+name+" LOGIN IN ROLE billing_reader"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, dbtest.AdminURL()); err == nil {
			defer c.Close(ctx)
			c.Exec(ctx, "DROP ROLE "+name)
		}
	})
	u, _ := url.Parse(dbURL)
	u.User = url.User(name)
	return u.String()
}

// TestPanelsOnABackfilledWarehouse runs the variables' queries and every
// panel's SQL, macros expanded for the simulator's last 60 days, as a
// billing_reader login: each returns rows with the panel's columns.
func TestPanelsOnABackfilledWarehouse(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("dashboards/billing-warehouse.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboardJSON
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	dbURL := simwarehouse.Backfilled(t)
	// The simulator's backfill restates nothing and has no jumps: one
	// correction, seen a day before the simulated now, for the corrections
	// panel, and the costliest daily bucket since Nov 10 made ten times
	// dearer, for the anomalies panel.
	fixed := dbtest.Conn(t, dbURL)
	if _, err := fixed.Exec(t.Context(), `
INSERT INTO billing.restatements (provider, account, table_name, row_key, measure, old_value, new_value, run_id, observed_at, kind)
VALUES ('hyperstack', 'default', 'billing.cost_datapoints',
  '{"family": "virtual-machine", "resource_id": "1", "bucket_seconds": 86400, "bucket_start": "2026-10-10T00:00:00+00:00"}',
  'incurred_bill', 12, 10, 1, '2026-11-22 10:00Z', 'correction');
UPDATE billing.cost_datapoints SET incurred_bill = incurred_bill * 10 + 5
WHERE (provider, account, family, resource_id, bucket_seconds, bucket_start) = (
  SELECT provider, account, family, resource_id, bucket_seconds, bucket_start FROM billing.cost_datapoints
  WHERE bucket_seconds = 86400 AND incurred_bill > 0 AND bucket_start >= '2026-11-10' ORDER BY incurred_bill DESC, resource_id LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	dbtest.RefreshDayCosts(t, fixed)
	conn := dbtest.Conn(t, readerURL(t, dbURL))
	to := simwarehouse.Now
	from := to.AddDate(0, 0, -60)

	vars := map[string][]string{}
	for _, v := range d.Templating.List {
		rows, err := conn.Query(t.Context(), v.Query)
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		vals, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(vals) == 0 {
			t.Fatalf("variable %s: %v %v", v.Name, vals, err)
		}
		vars[v.Name] = vals
	}
	if !slices.Equal(vars["account"], []string{"default"}) || !slices.Equal(vars["currency"], []string{"USD"}) {
		t.Errorf("variables: %v", vars)
	}
	var titles []string
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
		want, ok := columns[p.Title]
		if !ok {
			t.Errorf("panel %q: no expected columns in this test", p.Title)
			continue
		}
		for _, target := range p.Targets {
			sql := expand(target.RawSQL, from, to, vars)
			if strings.Contains(sql, "$") {
				t.Errorf("panel %q: unexpanded macro or variable in\n%s", p.Title, sql)
				continue
			}
			rows, err := conn.Query(t.Context(), sql)
			if err != nil {
				t.Errorf("panel %q: %v\n%s", p.Title, err, sql)
				continue
			}
			var got []string
			for _, f := range rows.FieldDescriptions() {
				got = append(got, f.Name)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Errorf("panel %q: %v", p.Title, err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("panel %q: columns %v, want %v", p.Title, got, want)
			}
			if n == 0 {
				t.Errorf("panel %q: no rows on the backfilled warehouse", p.Title)
			}
			if target.Format == "time_series" && (p.Type != "timeseries" || got[0] != "time") {
				t.Errorf("panel %q: a time series must start with time", p.Title)
			}
		}
	}
	if len(titles) != len(columns) {
		t.Errorf("panels %v, the test expects %d", titles, len(columns))
	}
}

// TestDatasourceIsAReader: the datasource logs in as grafana_reader, which
// create-reader.sh makes a member of billing_reader and nothing else, and
// the panels use that datasource.
func TestDatasourceIsAReader(t *testing.T) {
	t.Parallel()
	ds, err := os.ReadFile("provisioning/datasources/billing-warehouse.yml")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("create-reader.sh")
	if err != nil {
		t.Fatal(err)
	}
	dash, _ := os.ReadFile("dashboards/billing-warehouse.json")
	for _, c := range []struct {
		text []byte
		want string
	}{
		{ds, "user: grafana_reader"}, {ds, "uid: billing-warehouse"}, {ds, "$__file{/run/secrets/grafana_db_password}"},
		{script, "CREATE ROLE grafana_reader LOGIN IN ROLE billing_reader"}, {dash, `"uid": "billing-warehouse"`},
	} {
		if !strings.Contains(string(c.text), c.want) {
			t.Errorf("%q missing", c.want)
		}
	}
}
