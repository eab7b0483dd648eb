package hyperstack_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/hyperstack"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// TestLateCorrectionOutsideLookback: a correction of last month, after the
// lookback, is left alone by incremental runs and picked up by a backfill
// of that month with --refetch, which records it as a restatement.
func TestLateCorrectionOutsideLookback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hyperstacksim.Config{}, ingest.ClientConfig{}, ingest.Config{})
	e.run(t, backfill(e))
	m := e.sim.Model
	now := m.Now()
	october := hyperstacksim.MonthStart(now).AddDate(0, -1, 0)
	var vm hyperstacksim.Resource
	for _, r := range m.Resources(hyperstacksim.FamilyVM) {
		if c, _ := m.CostIn(r.Family, r.ID, hyperstacksim.Window{Start: october.AddDate(0, 0, 9), End: october.AddDate(0, 0, 10)}); c.Incurred > 0 {
			vm = r
			break
		}
	}
	hour := october.AddDate(0, 0, 9).Add(5 * time.Hour)
	if err := m.Restate(vm.Family, vm.ID, hour, hour.Add(3*time.Hour), 10); err != nil {
		t.Fatal(err)
	}

	res := e.run(t, ingest.Mode{})
	if res.Status != store.RunSucceeded {
		t.Fatalf("incremental run: %s", res.Status)
	}
	d := diff(expected(e), actual(t, e.store))
	if d == "" || !strings.Contains(d, fmt.Sprintf("/%d/", vm.ID)) {
		t.Fatalf("the correction outside the lookback was applied by an incremental run, or something else changed:\n%s", d)
	}
	for _, line := range strings.Split(strings.TrimSpace(d), "\n") {
		if !strings.Contains(line, fmt.Sprint(vm.ID)) && !strings.Contains(line, "org ") && !strings.Contains(line, "more") {
			t.Errorf("an incremental run changed something besides VM %d: %s", vm.ID, line)
		}
	}

	e.sim.ResetStats()
	e.run(t, ingest.Mode{Backfill: true, Since: october, Until: october})
	for endpoint, n := range e.sim.Stats().ByEndpoint {
		if strings.Contains(endpoint, "/history") {
			t.Errorf("a backfill of a finished month without --refetch fetched its history: %s ×%d", endpoint, n)
		}
	}
	res = e.run(t, ingest.Mode{Backfill: true, Since: october, Until: october, Refetch: true})
	if res.Status != store.RunSucceeded || res.Counters.RowsUpdated == 0 {
		t.Fatalf("backfill --refetch: %s %+v", res.Status, res.Counters)
	}
	if d := diff(expected(e), actual(t, e.store)); d != "" {
		t.Fatalf("after the backfill the warehouse differs from the model:\n%s", d)
	}
	var recorded int
	e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM billing.restatements WHERE run_id = $1`, res.RunID).Scan(&recorded)
	if recorded == 0 {
		t.Error("the correction was not recorded as a restatement")
	}
}

// TestDatabaseOutage stops the test's own PostgreSQL cluster in the middle
// of a backfill (an immediate shutdown, as in a crash) and starts it again a
// second later: the run ends failed (or partial) with a clear error, its end
// is recorded once the database is back, and the next run completes with
// the warehouse equal to the model.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	sim := hyperstacksim.New(hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Seed: 11, Now: simNow,
		Counts: hyperstacksim.Scales["medium"]}, APIKey: apiKey, RateLimit: -1, Latency: hyperstacksim.Latency{Min: time.Millisecond}})
	var served atomic.Int64
	reached := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) == 200 {
			close(reached)
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cluster := dbtest.NewCluster(t)
	s, err := store.Open(t.Context(), cluster.URL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	source, err := hyperstack.New(ingest.SourceConfig{Provider: hyperstack.Name, Account: "default",
		Settings: map[string]string{"api_url": srv.URL + "/v1", "api_key": apiKey}},
		ingest.Deps{Client: ingest.ClientConfig{RatePerMinute: 1_000_000, BackoffBase: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	crawler := ingest.NewCrawler(ingest.Config{Now: sim.Model.Now, HeartbeatEvery: 100 * time.Millisecond}, s)
	e := &env{sim: sim, store: s, source: source, crawler: crawler}

	type outcome struct {
		res ingest.Result
		err error
	}
	done := make(chan outcome)
	go func() {
		res, err := crawler.Run(context.Background(), source, store.TriggerBackfill, backfill(e))
		done <- outcome{res, err}
	}()
	<-reached
	cluster.Stop()
	time.Sleep(time.Second) // the outage lasts a second
	cluster.Start()
	out := <-done
	if out.err != nil {
		t.Fatalf("the run's end was not recorded: %v", out.err)
	}
	if out.res.Status != store.RunFailed && out.res.Status != store.RunPartial {
		t.Fatalf("a run through a database outage ended %s", out.res.Status)
	}
	if !strings.HasPrefix(out.res.Summary, "lost the database connection") {
		t.Errorf("the error summary does not say what happened: %q", out.res.Summary)
	}
	run, err := s.Run(t.Context(), out.res.RunID)
	if err != nil || run.Status != out.res.Status || run.ErrorSummary == "" {
		t.Errorf("the ledger has %+v (%v)", run, err)
	}
	t.Logf("through the outage: %s, %s", out.res.Status, out.res.Summary)

	if res := e.run(t, backfill(e)); res.Status != store.RunSucceeded {
		t.Fatalf("the run after the outage: %s %s", res.Status, res.Summary)
	}
	if d := diff(expected(e), actual(t, s)); d != "" {
		t.Fatalf("after the outage and one more run the warehouse differs from the model:\n%s", d)
	}
}

// TestMalformedBodies: every malformed body becomes a ledger error naming
// the endpoint (and the resource, for per-resource endpoints), the rest of
// the run completes, and one clean run repairs the rest.
func TestMalformedBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hyperstacksim.Config{Faults: hyperstacksim.Faults{Truncate: 0.08, WrongType: 0.08, Null: 0.08}},
		ingest.ClientConfig{}, ingest.Config{})
	res := e.run(t, backfill(e))
	if res.Status != store.RunPartial {
		t.Fatalf("a run meeting malformed bodies ended %s", res.Status)
	}
	errs, err := e.store.RunErrors(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	faults := e.sim.Stats().Faults
	hard := faults["truncate"] + faults["wrong_type"]
	if int64(len(errs)) < hard || int64(len(errs)) > hard+faults["null"] {
		t.Errorf("%d ledger errors for %d truncated or mistyped bodies and %d nulls", len(errs), hard, faults["null"])
	}
	names := map[string]bool{}
	for _, ep := range hyperstack.Catalog {
		names[ep.Name] = true
	}
	for _, re := range errs {
		perResource := strings.HasSuffix(re.Endpoint, "/detail") || strings.HasSuffix(re.Endpoint, "/graph") ||
			strings.HasSuffix(re.Endpoint, "/events") || strings.Contains(re.Endpoint, "sub-resource")
		if !names[re.Endpoint] || perResource && re.ResourceID == "" || !strings.Contains(re.Message, "malformed") {
			t.Errorf("a ledger error that does not name its endpoint, resource or cause: %+v", re)
		}
	}
	e.sim.SetFaults(hyperstacksim.Faults{})
	if res := e.run(t, backfill(e)); res.Status != store.RunSucceeded {
		t.Fatalf("the repair run: %s", res.Status)
	}
	if d := diff(expected(e), actual(t, e.store)); d != "" {
		t.Fatalf("after the repair run the warehouse differs from the model:\n%s", d)
	}
}
