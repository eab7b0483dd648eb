package hyperstack_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/internal/ingesttest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

func TestIdenticalRerunWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hyperstacksim.Config{}, ingest.ClientConfig{}, ingest.Config{})
	if res := e.run(t, backfill(e)); res.Status != store.RunSucceeded {
		t.Fatalf("backfill: %s %s", res.Status, res.Summary)
	}
	before := ingesttest.WarehouseVersions(t, e.store)
	for _, mode := range []ingest.Mode{{}, backfill(e)} {
		res := e.run(t, mode)
		c := res.Counters
		if res.Status != store.RunSucceeded || c.RowsInserted != 0 || c.RowsUpdated != 0 || c.RowsDeleted != 0 {
			t.Errorf("re-run %+v: %s, %+v", mode, res.Status, c)
		}
	}
	if after := ingesttest.WarehouseVersions(t, e.store); after != before {
		t.Errorf("an identical re-run rewrote rows:\n%s\n%s", before, after)
	}
}

// TestIncremental backfills, moves the clock an hour, and checks that the
// next run calls per-resource endpoints only for resources whose month
// changed, and brings the warehouse up to the model; then restates an hour
// of the current month and checks the next run applies and records it.
func TestIncremental(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Counts: hyperstacksim.Scales["medium"]}}, ingest.ClientConfig{}, ingest.Config{})
	e.run(t, backfill(e))
	m := e.sim.Model
	before := m.Now()
	month := hyperstacksim.Window{Start: hyperstacksim.MonthStart(before), End: before}
	old := map[string]hyperstacksim.Nano{}
	for _, r := range m.Resources("") {
		c, _ := m.CostIn(r.Family, r.ID, month)
		old[fmt.Sprintf("%d", r.ID)] = c.Incurred
	}

	if err := m.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetStats()
	res, err := e.crawler.Run(t.Context(), e.source, store.TriggerSchedule, ingest.Mode{})
	if err != nil || res.Status != store.RunSucceeded {
		t.Fatalf("incremental run: %v %s %s", err, res.Status, res.Summary)
	}
	changed := map[string]bool{}
	month.End = m.Now()
	for _, r := range m.Resources("") {
		c, _ := m.CostIn(r.Family, r.ID, month)
		// Contracts have no per-resource endpoints: their list carries them.
		if id := fmt.Sprintf("%d", r.ID); c.Incurred != old[id] && r.Family != hyperstacksim.FamilyContract {
			changed[id] = true
		}
	}
	if len(changed) == 0 {
		t.Fatal("no resource changed in an hour: the test would prove nothing")
	}
	called := map[string]bool{}
	for endpoint, byID := range e.sim.Stats().ByResource {
		for id := range byID {
			called[id] = true
			if !changed[id] {
				t.Errorf("%s called for %s, whose month did not change", endpoint, id)
			}
		}
	}
	for id := range changed {
		if !called[id] {
			t.Errorf("resource %s changed but was not fetched", id)
		}
	}
	if d := diff(expected(e), actual(t, e.store)); d != "" {
		t.Fatalf("after the incremental run the warehouse differs from the model:\n%s", d)
	}
	t.Logf("an hour later: %d requests, %d units skipped, %d resources changed", res.Counters.Requests, res.Skipped, len(changed))

	// A late correction of yesterday's 10:00 hour for one changed VM.
	var vm hyperstacksim.Resource
	for _, r := range m.Resources(hyperstacksim.FamilyVM) {
		if changed[fmt.Sprintf("%d", r.ID)] {
			vm = r
			break
		}
	}
	hour := m.Now().Truncate(24 * time.Hour).Add(-14 * time.Hour)
	if err := m.Restate(vm.Family, vm.ID, hour, hour.Add(time.Hour), 40); err != nil {
		t.Fatal(err)
	}
	res, _ = e.crawler.Run(t.Context(), e.source, store.TriggerSchedule, ingest.Mode{})
	if res.Status != store.RunSucceeded || res.Counters.RowsUpdated == 0 {
		t.Fatalf("run after the restatement: %s %+v", res.Status, res.Counters)
	}
	if d := diff(expected(e), actual(t, e.store)); d != "" {
		t.Fatalf("the restatement was not applied:\n%s", d)
	}
	var recorded int
	err = e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM billing.restatements WHERE run_id = $1 AND row_key->>'resource_id' = $2`,
		res.RunID, fmt.Sprint(vm.ID)).Scan(&recorded)
	if err != nil || recorded == 0 {
		t.Fatalf("the restatement of VM %d was not recorded (%v)", vm.ID, err)
	}
}

// TestFaultsConverge runs a backfill with every fault class on at a few
// percent and a rate limit far below the crawler's pace (a 429 storm), then
// one run without faults; the warehouse must then equal the model.
func TestFaultsConverge(t *testing.T) {
	t.Parallel()
	clock := ingesttest.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	e := newEnv(t,
		hyperstacksim.Config{
			ModelConfig: hyperstacksim.ModelConfig{Counts: hyperstacksim.Scales["small"]},
			Faults:      hyperstacksim.AllFaults(0.03), RateLimit: 100, Clock: clock.Now,
			HangFor: 2 * time.Second, SlowBodyFor: 20 * time.Millisecond,
		},
		ingest.ClientConfig{RatePerMinute: 300, Timeout: 500 * time.Millisecond, Clock: clock, BackoffBase: time.Second},
		ingest.Config{})
	first := e.run(t, backfill(e))
	if first.Status != store.RunSucceeded && first.Status != store.RunPartial {
		t.Fatalf("a run with faults ended %s: %s", first.Status, first.Summary)
	}
	c := first.Counters
	if c.Retries == 0 || c.RateLimited == 0 {
		t.Errorf("the ledger shows no retries or 429s under faults and a storm: %+v", c)
	}
	stats := e.sim.Stats()
	if c.RateLimited != stats.RateLimited {
		t.Errorf("ledger counts %d 429s, the simulator served %d", c.RateLimited, stats.RateLimited)
	}
	if c.Requests != stats.Requests {
		t.Errorf("ledger counts %d requests, the simulator saw %d", c.Requests, stats.Requests)
	}
	errs, err := e.store.RunErrors(t.Context(), first.RunID)
	if err != nil || int64(len(errs)) != c.Errors {
		t.Errorf("%d errors recorded for %d counted (%v)", len(errs), c.Errors, err)
	}
	for _, re := range errs {
		if strings.Contains(re.Message, apiKey) {
			t.Errorf("an error shows the API key: %s", re.Message)
		}
	}
	t.Logf("with faults: %s, %+v, faults served %v", first.Status, c, stats.Faults)

	e.sim.SetFaults(hyperstacksim.Faults{})
	second := e.run(t, backfill(e))
	if second.Status != store.RunSucceeded {
		t.Fatalf("the repair run ended %s: %s", second.Status, second.Summary)
	}
	if d := diff(expected(e), actual(t, e.store)); d != "" {
		t.Fatalf("after one repair run the warehouse differs from the model:\n%s", d)
	}
}

// TestPacing runs a backfill needing over a thousand requests against the
// live API's limit of 500 a minute, with the crawler at its defaults: no
// request may be refused.
func TestPacing(t *testing.T) {
	t.Parallel()
	clock := ingesttest.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	e := newEnv(t,
		hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Counts: hyperstacksim.Scales["medium"]}, RateLimit: 500, Clock: clock.Now},
		ingest.ClientConfig{RatePerMinute: 450, Clock: clock},
		ingest.Config{})
	began := clock.Now()
	res := e.run(t, backfill(e))
	stats := e.sim.Stats()
	if stats.Requests <= 1000 {
		t.Fatalf("only %d requests: the test needs more than 1000", stats.Requests)
	}
	if stats.RateLimited != 0 || res.Status != store.RunSucceeded {
		t.Fatalf("%d of %d requests got 429 (%s)", stats.RateLimited, stats.Requests, res.Status)
	}
	minutes := clock.Now().Sub(began).Minutes()
	t.Logf("%d requests in %.1f simulated minutes: %.0f per minute", stats.Requests, minutes, float64(stats.Requests)/minutes)
	if rate := float64(stats.Requests) / minutes; rate > 460 {
		t.Errorf("paced at %.0f requests a minute, above the configured 450", rate)
	}
}

// TestReprocess backfills, runs again an hour later and after a late
// correction (so later payloads restate what earlier ones said), empties the
// warehouse tables, and rebuilds them from the raw payloads alone, in
// batches small enough that every table takes many, concurrently.
func TestReprocess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hyperstacksim.Config{}, ingest.ClientConfig{}, ingest.Config{})
	e.run(t, backfill(e))
	m := e.sim.Model
	if err := m.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	vm := m.Resources(hyperstacksim.FamilyVM)[0]
	hour := m.Now().Truncate(time.Hour).Add(-3 * time.Hour)
	if err := m.Restate(vm.Family, vm.ID, hour, hour.Add(time.Hour), 40); err != nil {
		t.Fatal(err)
	}
	// Every month's list named the running VMs active; the newest says
	// one is shut off, and replayed out of order the older lists would win.
	for _, r := range m.Resources(hyperstacksim.FamilyVM) {
		if r.Terminated.IsZero() {
			if err := m.SetVMState(r.ID, hyperstacksim.StateShutoff); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	e.run(t, ingest.Mode{})
	want := contents(t, e.store)
	requests := e.sim.Stats().Requests
	for _, tbl := range store.WarehouseTables {
		if _, err := e.store.Pool().Exec(t.Context(), "TRUNCATE "+tbl.Name); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.crawler.Reprocess(t.Context(), e.source, ingest.ReprocessConfig{BatchRows: 50})
	if err != nil || res.Status != store.RunSucceeded {
		t.Fatalf("reprocess: %v %s %s", err, res.Status, res.Summary)
	}
	if res.Counters.RowsInserted < 50*20 {
		t.Fatalf("reprocess wrote %d rows: too few to take many batches", res.Counters.RowsInserted)
	}
	if d := diff(want, contents(t, e.store)); d != "" {
		t.Fatalf("the rebuilt warehouse differs:\n%s", d)
	}
	if d := diff(expected(e), actual(t, e.store)); d != "" {
		t.Fatalf("the rebuilt warehouse differs from the model:\n%s", d)
	}
	if e.sim.Stats().Requests != requests {
		t.Error("reprocessing called the API")
	}
}

// contents is every row of every warehouse table, as text.
func contents(t *testing.T, s *store.Store) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, tbl := range store.WarehouseTables {
		out[tbl.Name] = map[string]string{}
		rows, err := s.Pool().Query(t.Context(), fmt.Sprintf("SELECT t::text FROM %s t", tbl.Name))
		if err != nil {
			t.Fatal(err)
		}
		var row string
		if _, err := pgx.ForEachRow(rows, []any{&row}, func() error {
			out[tbl.Name][row] = "present"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
