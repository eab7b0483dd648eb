package soracom_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/ingesttest"
	"github.com/billing-warehouse/billing-warehouse/internal/sim"
	simsoracom "github.com/billing-warehouse/billing-warehouse/internal/sim/soracom"
	"github.com/billing-warehouse/billing-warehouse/store"
)

func mustSucceed(t *testing.T, e *env, what string, res ingest.Result) {
	t.Helper()
	if res.Status != store.RunSucceeded {
		errs, _ := e.store.RunErrors(t.Context(), res.RunID)
		t.Fatalf("%s ended %s: %s %+v", what, res.Status, res.Summary, errs)
	}
}

func mustEqualModel(t *testing.T, e *env, when string) {
	t.Helper()
	if d := diff(expected(e), actual(t, e.store)); d != "" {
		t.Fatalf("%s the warehouse differs from the model:\n%s", when, d)
	}
}

func TestIdenticalRerunWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	mustSucceed(t, e, "backfill", e.run(t, backfill(e)))
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

// TestFaultsConverge runs a backfill with every fault class on at a few
// percent, the export faults too, and a per-path rate limit far below the
// crawler's pace (a 429 storm), then one run without faults: the
// warehouse must then equal the model.
func TestFaultsConverge(t *testing.T) {
	t.Parallel()
	clock := ingesttest.NewClock(simNow)
	faults := sim.AllFaults(0.04)
	faults.UnstablePages = 0
	faults.Extra = map[sim.Class]float64{simsoracom.FaultExportFailed: 0.2, simsoracom.FaultExportStuck: 0.1, simsoracom.FaultLinkExpired: 0.2}
	var seen seenByCrawler
	e := newEnv(t, options{
		sim: simsoracom.Config{Config: sim.Config{Faults: faults, RateLimit: 3, WallClock: clock.Now,
			HangFor: 2 * time.Second, SlowBodyFor: 20 * time.Millisecond}},
		client: ingest.ClientConfig{Timeout: 500 * time.Millisecond, Clock: clock, BackoffBase: time.Second},
		wrap:   seen.withNeighbour,
	})
	first := e.run(t, backfill(e))
	if first.Status != store.RunSucceeded && first.Status != store.RunPartial {
		t.Fatalf("a run with faults ended %s: %s", first.Status, first.Summary)
	}
	c := first.Counters
	stats := e.sim.Stats()
	if c.Retries == 0 || c.RateLimited == 0 {
		t.Errorf("the ledger shows no retries or 429s under faults and a storm: %+v", c)
	}
	if c.RateLimited != seen.limited.Load() {
		t.Errorf("ledger counts %d 429s, the crawler was served %d", c.RateLimited, seen.limited.Load())
	}
	if c.Requests != seen.requests.Load() {
		t.Errorf("ledger counts %d requests, the simulator and its file host saw %d of the crawler's", c.Requests, seen.requests.Load())
	}
	errs, err := e.store.RunErrors(t.Context(), first.RunID)
	if err != nil || int64(len(errs)) != c.Errors {
		t.Errorf("%d errors recorded for %d counted (%v)", len(errs), c.Errors, err)
	}
	t.Logf("with faults: %s, %+v, faults served %v", first.Status, c, stats.Faults)

	e.sim.Server().SetFaults(sim.Faults{})
	mustSucceed(t, e, "the repair run", e.run(t, backfill(e)))
	mustEqualModel(t, e, "after one repair run")
}

// seenByCrawler counts what the crawler's requests were answered, beside a
// noisy neighbour: another client of the same account that sends a copy of
// each of the crawler's GETs first, spending the per-path limit behind the
// crawler's back, so the rate-limit headers the crawler reads are always
// one request stale, and it meets 429s.
type seenByCrawler struct {
	requests, limited atomic.Int64
}

func (s *seenByCrawler) withNeighbour(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/") {
			h.ServeHTTP(httptest.NewRecorder(), r.Clone(r.Context()))
		}
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests {
			s.limited.Add(1)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// TestMonthCloses: a month fetched preliminary closes between two runs,
// after the lookback: the next run finds it closed in /bills, fetches it
// once more, and records no correction. A late adjustment of it, which
// Soracom books in the month it is issued in, is stored as a row that
// says which month it corrects.
func TestMonthCloses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{crawl: ingest.Config{Lookback: time.Hour}})
	mustSucceed(t, e, "backfill", e.run(t, backfill(e)))
	m := e.sim.Model
	may := m.CurrentMonth()
	e.sim.Clock.Set(m.ClosesAt(may).Add(3 * time.Hour))
	if st := m.State(may); st != simsoracom.StateClosed {
		t.Fatalf("May is %s", st)
	}
	res := e.run(t, ingest.Mode{})
	mustSucceed(t, e, "the run after May closed", res)
	mustEqualModel(t, e, "after May closed")
	var restated int
	e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM billing.restatements WHERE provider = 'soracom'`).Scan(&restated)
	if restated != 0 {
		t.Errorf("a month closing recorded %d corrections", restated)
	}
	var final int
	e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM billing.soracom_bill_items WHERE billing_month = '2026-05-01' AND final_amount IS NULL`).Scan(&final)
	if final != 0 {
		t.Errorf("%d bill items of the closed month have no final amount", final)
	}

	// Fetched closed once: the next runs leave it alone.
	e.sim.Server().ResetStats()
	mustSucceed(t, e, "a run after that", e.run(t, ingest.Mode{Backfill: true, Since: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Until: simNow.AddDate(0, 1, 0)}))
	if n := e.sim.Stats().ByEndpoint["GET /bills/{yyyyMM}"]; n > 1 {
		t.Errorf("a closed month fetched before was fetched again: %v", e.sim.Stats().ByEndpoint)
	}

	sims := m.SIMs()
	if _, err := m.Correct(may, sims[0].SimID, simsoracom.Money(-1500*simsoracom.Micro)); err != nil {
		t.Fatal(err)
	}
	e.sim.Clock.Advance(24 * time.Hour) // the adjustment shows once its day is evaluated
	res = e.run(t, ingest.Mode{})
	mustSucceed(t, e, "the run after the adjustment", res)
	mustEqualModel(t, e, "after the adjustment")
	var item, corrects string
	err := e.store.Pool().QueryRow(t.Context(), `SELECT bill_item_name, to_char(corrects_month, 'YYYY-MM') FROM billing.soracom_bill_items
		WHERE corrects_month IS NOT NULL AND resource_id = $1`, sims[0].SimID).Scan(&item, &corrects)
	if err != nil || corrects != "2026-05" {
		t.Errorf("the adjustment is not recorded as a correction of May: %q %q %v", item, corrects, err)
	}
}

// TestTokenExpiresMidRun: the token expires part way through a run; the
// source logs in again once and the run completes.
func TestTokenExpiresMidRun(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	var s *simsoracom.Sim
	e := newEnv(t, options{
		sim: simsoracom.Config{TokenTTL: 10 * time.Minute},
		wrap: func(h http.Handler) http.Handler {
			s = h.(*simsoracom.Sim)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if served.Add(1) == 12 {
					s.Clock.Advance(11 * time.Minute)
				}
				h.ServeHTTP(w, r)
			})
		},
	})
	mustSucceed(t, e, "the backfill", e.run(t, backfill(e)))
	st := e.sim.Stats()
	if st.ByStatus["401"] == 0 || st.ByEndpoint["POST /auth"] != 2 {
		t.Errorf("the token did not expire and get renewed once: %v %v", st.ByStatus, st.ByEndpoint)
	}
	mustEqualModel(t, e, "after a run whose token expired")
}

// TestExportFaults: an export that fails falls back to a sync export; one
// that stays processing past the run's patience, or whose links have
// expired, is an error of its month, which the next run repairs.
func TestExportFaults(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		class   sim.Class
		partial bool
	}{{simsoracom.FaultExportFailed, false}, {simsoracom.FaultExportStuck, true}, {simsoracom.FaultLinkExpired, true}} {
		t.Run(string(c.class), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, options{sim: simsoracom.Config{Config: sim.Config{Faults: sim.Faults{Extra: map[sim.Class]float64{c.class: 1}}}}})
			res := e.run(t, backfill(e))
			if !c.partial {
				mustSucceed(t, e, "the backfill", res)
				mustEqualModel(t, e, "after failed exports")
				return
			}
			if res.Status != store.RunPartial {
				t.Fatalf("the backfill ended %s: %s", res.Status, res.Summary)
			}
			errs, _ := e.store.RunErrors(t.Context(), res.RunID)
			if len(errs) != len(e.sim.Model.Months()) {
				t.Errorf("%d errors for %d months: %+v", len(errs), len(e.sim.Model.Months()), errs)
			}
			for _, re := range errs {
				if re.Endpoint != "month" || re.ResourceID == "" || strings.Contains(re.Message, "Signature=") || strings.Contains(re.Message, "AWSAccessKeyId") {
					t.Errorf("an error that does not name its month, or shows the link: %+v", re)
				}
			}
			e.sim.Server().SetFaults(sim.Faults{})
			mustSucceed(t, e, "the repair run", e.run(t, backfill(e)))
			mustEqualModel(t, e, "after the repair run")
		})
	}
}

// TestReprocess rebuilds every table from the raw payloads after a
// backfill, a month closing and a late adjustment.
func TestReprocess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{crawl: ingest.Config{Lookback: time.Hour}})
	mustSucceed(t, e, "backfill", e.run(t, backfill(e)))
	m := e.sim.Model
	may := m.CurrentMonth()
	e.sim.Clock.Set(m.ClosesAt(may).Add(3 * time.Hour))
	mustSucceed(t, e, "after May closed", e.run(t, ingest.Mode{}))
	if _, err := m.Correct(may, "", simsoracom.Money(-2*simsoracom.Micro)); err != nil {
		t.Fatal(err)
	}
	e.sim.Clock.Advance(24 * time.Hour)
	mustSucceed(t, e, "after the adjustment", e.run(t, ingest.Mode{}))
	want := contents(t, e.store)
	requests := e.sim.Stats().Requests
	for _, tbl := range store.WarehouseTables {
		if _, err := e.store.Pool().Exec(t.Context(), "TRUNCATE "+tbl.Name); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.crawler.Reprocess(t.Context(), e.source, ingest.ReprocessConfig{BatchRows: 200})
	if err != nil || res.Status != store.RunSucceeded {
		t.Fatalf("reprocess: %v %s %s", err, res.Status, res.Summary)
	}
	if d := diff(want, contents(t, e.store)); d != "" {
		t.Fatalf("the rebuilt warehouse differs:\n%s", d)
	}
	mustEqualModel(t, e, "after reprocess")
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

// TestAFailedPartRefetchesTheMonth: a month's CSV is written in parts, a
// day a unit, in several batches. A batch of March's first days fails
// while its later batches, the month's last unit with its fetch state
// among them, are written: the next run, incremental, must fetch March
// again and not take it for complete.
func TestAFailedPartRefetchesTheMonth(t *testing.T) {
	t.Parallel()
	// Enough SIMs that a month is several batches of the writer.
	e := newEnv(t, options{sim: simsoracom.Config{Model: simsoracom.ModelConfig{SIMs: 700}}})
	inject := `CREATE FUNCTION public.fail_march_2() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.charge_date = '2026-03-02' THEN RAISE EXCEPTION 'injected failure of a day of March'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER fail_march_2 BEFORE INSERT ON billing.soracom_bill_items FOR EACH ROW EXECUTE FUNCTION public.fail_march_2()`
	if _, err := e.store.Pool().Exec(t.Context(), inject); err != nil {
		t.Fatal(err)
	}
	res := e.run(t, backfill(e))
	if res.Status != store.RunPartial {
		t.Fatalf("the backfill ended %s: %s", res.Status, res.Summary)
	}
	var written int
	e.store.Pool().QueryRow(t.Context(), `SELECT count(DISTINCT charge_date) FROM billing.soracom_bill_items
		WHERE billing_month = '2026-03-01' AND NOT monthly`).Scan(&written)
	if written == 0 || written >= 31 {
		t.Fatalf("%d days of March written: the failure must hit some, not all", written)
	}
	var state string
	e.store.Pool().QueryRow(t.Context(), `SELECT fingerprint FROM ingest.fetch_state WHERE unit = 'month/202603'`).Scan(&state)
	if !strings.HasPrefix(state, "closed") {
		t.Fatalf("March's last unit was not written (%q): the test does not test a month whose last unit outlived a failed part", state)
	}
	if _, err := e.store.Pool().Exec(t.Context(), `DROP TRIGGER fail_march_2 ON billing.soracom_bill_items`); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, e, "the next run", e.run(t, ingest.Mode{}))
	mustEqualModel(t, e, "after the next run")
}
