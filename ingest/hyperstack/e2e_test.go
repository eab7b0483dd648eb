package hyperstack_test

import (
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/hyperstack"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/store"
)

var simNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const apiKey = "e2e-key-5b7a"

// env is a simulator, a warehouse and a crawler between them.
type env struct {
	sim     *hyperstacksim.Sim
	store   *store.Store
	source  ingest.Source
	crawler *ingest.Crawler
}

func newEnv(t *testing.T, simCfg hyperstacksim.Config, clientCfg ingest.ClientConfig, crawlCfg ingest.Config) *env {
	t.Helper()
	if simCfg.Now.IsZero() {
		simCfg.Now = simNow
	}
	if simCfg.Seed == 0 {
		simCfg.Seed = 11
	}
	if simCfg.RateLimit == 0 {
		simCfg.RateLimit = -1
	}
	simCfg.APIKey = apiKey
	sim := hyperstacksim.New(simCfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	if clientCfg.RatePerMinute == 0 {
		clientCfg.RatePerMinute = 1_000_000
	}
	if clientCfg.BackoffBase == 0 {
		clientCfg.BackoffBase = time.Millisecond
	}
	source, err := hyperstack.New(ingest.SourceConfig{Provider: hyperstack.Name, Account: "default",
		Settings: map[string]string{"api_url": srv.URL + "/v1", "api_key": apiKey}}, ingest.Deps{Client: clientCfg})
	if err != nil {
		t.Fatal(err)
	}
	s := dbtest.NewStore(t)
	if crawlCfg.Now == nil {
		crawlCfg.Now = sim.Model.Now
	}
	return &env{sim: sim, store: s, source: source, crawler: ingest.NewCrawler(crawlCfg, s)}
}

func (e *env) run(t *testing.T, mode ingest.Mode) ingest.Result {
	t.Helper()
	res, err := e.crawler.Run(t.Context(), e.source, store.TriggerBackfill, mode)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

func backfill(e *env) ingest.Mode {
	return ingest.Mode{Backfill: true, Since: e.sim.Model.Start(), Until: e.sim.Model.Now()}
}

// months of the simulated history, with their windows up to now.
func months(e *env) []hyperstacksim.Window {
	now := e.sim.Model.Now()
	var out []hyperstacksim.Window
	for m := hyperstacksim.MonthStart(e.sim.Model.Start()); m.Before(now); m = m.AddDate(0, 1, 0) {
		end := m.AddDate(0, 1, 0)
		if end.After(now) {
			end = now
		}
		out = append(out, hyperstacksim.Window{Start: m, End: end})
	}
	return out
}

// table reads a query of (key, value) rows into a map.
func table(t *testing.T, s *store.Store, sql string) map[string]string {
	t.Helper()
	rows, err := s.Pool().Query(t.Context(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out := map[string]string{}
	var k string
	var v decimal.Decimal
	_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		out[k] = v.String()
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func nano(n hyperstacksim.Nano) string { return decimal.MustParse(n.String()).String() }

// expected computes, from the simulator's model, what the warehouse must
// hold after a complete backfill.
func expected(e *env) map[string]map[string]string {
	m := e.sim.Model
	want := map[string]map[string]string{"month": {}, "points": {}, "events": {}, "sub": {}, "org": {}}
	for _, w := range months(e) {
		mon := w.Start.Format("2006-01")
		g := w.Granularity()
		orgTotal := hyperstacksim.Nano(0)
		for _, c := range m.FamilyCosts(w) {
			orgTotal += c
		}
		want["org"][mon] = nano(orgTotal)
		for _, r := range m.Resources("") {
			if !r.Created.Before(w.End) || !r.Terminated.IsZero() && !r.Terminated.After(w.Start) {
				continue
			}
			c, _ := m.CostIn(r.Family, r.ID, w)
			key := fmt.Sprintf("%s/%d/%s", r.Family, r.ID, mon)
			want["month"][key] = nano(c.Incurred)
			if r.Family == hyperstacksim.FamilyContract {
				continue
			}
			if r.Family == hyperstacksim.FamilyVM || r.Family == hyperstacksim.FamilyVolume {
				want["events"][key] = nano(c.Incurred)
			}
			if r.Family == hyperstacksim.FamilyVM {
				for _, cc := range c.Components {
					want["sub"][key+"/"+cc.Kind] = nano(cc.Incurred)
				}
			}
			if r.Family == hyperstacksim.FamilyImageGen {
				continue // its graph carries tokens only
			}
			for _, b := range w.Buckets(g) {
				if !r.Created.Before(b.End) || !r.Terminated.IsZero() && !r.Terminated.After(b.Start) {
					continue
				}
				bc, _ := m.CostIn(r.Family, r.ID, b)
				want["points"][fmt.Sprintf("%s/%d/%d/%s", r.Family, r.ID, int(g/time.Second), b.Start.Truncate(g).Format(time.RFC3339))] = nano(bc.Incurred)
			}
		}
	}
	return want
}

// actual reads the same figures from the warehouse.
func actual(t *testing.T, s *store.Store) map[string]map[string]string {
	return map[string]map[string]string{
		"month": table(t, s, `SELECT family || '/' || resource_id || '/' || to_char(billing_month, 'YYYY-MM'), incurred_bill FROM billing.resource_month_costs`),
		"points": table(t, s, `SELECT family || '/' || resource_id || '/' || bucket_seconds || '/' || to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), incurred_bill
			FROM billing.cost_datapoints WHERE incurred_bill IS NOT NULL`),
		"events": table(t, s, `SELECT family || '/' || resource_id || '/' || to_char(event_start AT TIME ZONE 'UTC', 'YYYY-MM'), sum(total_cost)
			FROM billing.billing_events GROUP BY 1`),
		"sub": table(t, s, `SELECT 'virtual-machine/' || vm_id || '/' || to_char(billing_month, 'YYYY-MM') || '/' || subresource, incurred_bill FROM billing.vm_subresource_costs`),
		"org": table(t, s, `SELECT to_char(billing_month, 'YYYY-MM'), incurred_bill FROM billing.org_month_costs`),
	}
}

// diff describes how two warehouse pictures differ, at most a few lines per table.
func diff(want, got map[string]map[string]string) string {
	var b strings.Builder
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var lines []string
		for k, v := range want[n] {
			if got[n][k] != v {
				lines = append(lines, fmt.Sprintf("  %s %s: want %s, got %q", n, k, v, got[n][k]))
			}
		}
		for k, v := range got[n] {
			if _, ok := want[n][k]; !ok {
				lines = append(lines, fmt.Sprintf("  %s %s: unexpected %s", n, k, v))
			}
		}
		sort.Strings(lines)
		if len(lines) > 5 {
			lines = append(lines[:5], fmt.Sprintf("  … and %d more", len(lines)-5))
		}
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func TestBackfillMatchesModel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Counts: hyperstacksim.Scales["medium"]}}, ingest.ClientConfig{}, ingest.Config{})
	res := e.run(t, backfill(e))
	if res.Status != store.RunSucceeded {
		errs, _ := e.store.RunErrors(t.Context(), res.RunID)
		t.Fatalf("backfill ended %s: %s %+v", res.Status, res.Summary, errs)
	}
	want := expected(e)
	for name, rows := range want {
		if len(rows) == 0 {
			t.Fatalf("the model has no %s rows: the test would prove nothing", name)
		}
	}
	if d := diff(want, actual(t, e.store)); d != "" {
		t.Fatalf("the warehouse differs from the model:\n%s", d)
	}
	checkPointInTime(t, e)
	checkDayCosts(t, e)
	t.Logf("%d requests; %d rows inserted", res.Counters.Requests, res.Counters.RowsInserted)
}

// checkDayCosts: the day costs the writer rewrote month by month equal
// what the computed view says of the warehouse, and the run is marked as
// reflected in them.
func checkDayCosts(t *testing.T, e *env) {
	t.Helper()
	const cols = `provider, account, currency, day, resource_family, resource_id, billed_cost, amortized_cost, source`
	got := table(t, e.store, `
		SELECT 'differ', ((SELECT count(*) FROM (SELECT `+cols+` FROM billing.resource_day_costs
		                                       EXCEPT ALL SELECT `+cols+` FROM reports.resource_day_cost_computed_v2) a)
		               + (SELECT count(*) FROM (SELECT `+cols+` FROM reports.resource_day_cost_computed_v2
		                                       EXCEPT ALL SELECT `+cols+` FROM billing.resource_day_costs) b))::numeric
		UNION ALL SELECT 'baselines differ', count(*)::numeric FROM billing.resource_day_costs t
		    JOIN (SELECT provider, account, resource_family, resource_id, day,
		                 avg(billed_cost) OVER w AS baseline, count(billed_cost) OVER w AS history_days
		          FROM billing.resource_day_costs
		          WINDOW w AS (PARTITION BY provider, account, resource_family, resource_id ORDER BY day
		                       RANGE BETWEEN interval '14 days' PRECEDING AND interval '1 day' PRECEDING)) w
		    USING (provider, account, resource_family, resource_id, day)
		    WHERE (t.baseline, t.history_days) IS DISTINCT FROM (w.baseline, w.history_days)
		UNION ALL SELECT 'rows', count(*)::numeric FROM billing.resource_day_costs
		UNION ALL SELECT 'unrefreshed', count(*)::numeric FROM ingest.runs WHERE NOT day_costs_refreshed`)
	if got["differ"] != "0" || got["baselines differ"] != "0" || got["rows"] == "0" || got["unrefreshed"] != "0" {
		t.Errorf("day costs: %s rows differ from the computed view, %s baselines from the days', %s rows, %s runs not refreshed; want 0, 0, some, 0",
			got["differ"], got["baselines differ"], got["rows"], got["unrefreshed"])
	}
}

// checkPointInTime compares the observations of a run with the model:
// credit, yesterday's cost, the usage snapshot and the thresholds.
func checkPointInTime(t *testing.T, e *env) {
	t.Helper()
	m := e.sim.Model
	now := m.Now()
	got := table(t, e.store, `SELECT 'credit', credit FROM billing.credit_observations
		UNION ALL SELECT 'last_day', total_cost FROM billing.last_day_costs
		UNION ALL SELECT 'usage_rows', count(*) FROM billing.usage_snapshots
		UNION ALL SELECT 'usage_total', sum(total_bill) FROM billing.usage_snapshots
		UNION ALL SELECT 'thresholds', count(*) FROM billing.threshold_observations`)
	var lastDay, lifetime hyperstacksim.Nano
	for _, c := range m.FamilyCosts(hyperstacksim.LastDay(now)) {
		lastDay += c
	}
	usageRows := 0
	for _, f := range []hyperstacksim.Family{hyperstacksim.FamilyVM, hyperstacksim.FamilyVolume} {
		usageRows += len(m.Resources(f))
		lifetime += m.FamilyCosts(hyperstacksim.Window{Start: m.Start().AddDate(-1, 0, 0), End: now})[f]
	}
	want := map[string]string{
		"credit": nano(m.Credit()), "last_day": nano(lastDay), "usage_rows": fmt.Sprint(usageRows),
		"usage_total": nano(lifetime), "thresholds": "3",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: warehouse %s, model %s", k, got[k], v)
		}
	}
}
