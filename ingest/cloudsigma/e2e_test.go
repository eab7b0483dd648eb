package cloudsigma_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/cloudsigma"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/internal/ingesttest"
	"github.com/billing-warehouse/billing-warehouse/internal/sim"
	cssim "github.com/billing-warehouse/billing-warehouse/internal/sim/cloudsigma"
	"github.com/billing-warehouse/billing-warehouse/store"
)

var simNow = time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)

const (
	user     = "finops@example.com"
	password = "pw-Zq81-secret"
	settle   = 5 * time.Minute
)

// env is a simulator, a warehouse and a crawler between them.
type env struct {
	sim     *cssim.Sim
	url     string
	store   *store.Store
	source  ingest.Source
	crawler *ingest.Crawler
}

type options struct {
	sim      cssim.Config
	settings map[string]string
	client   ingest.ClientConfig
	crawl    ingest.Config
	wrap     func(*cssim.Sim, http.Handler) http.Handler
	account  string
	store    *store.Store
}

func newSim(t *testing.T, cfg cssim.Config) *cssim.Sim {
	t.Helper()
	if cfg.Now.IsZero() && cfg.Clock == nil {
		cfg.Now = simNow
	}
	if cfg.Start.IsZero() {
		cfg.Start = simNow.AddDate(0, 0, -21)
	}
	if cfg.ModelConfig.Seed == 0 {
		cfg.ModelConfig.Seed = 7
	}
	if cfg.Servers == 0 {
		cfg.Servers = 6
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	cfg.User, cfg.Password = user, password
	s, err := cssim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	s := newSim(t, o.sim)
	var h http.Handler = s
	if o.wrap != nil {
		h = o.wrap(s, s)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if o.client.RatePerMinute == 0 {
		o.client.RatePerMinute = 1_000_000
	}
	if o.client.BackoffBase == 0 {
		o.client.BackoffBase = time.Millisecond
	}
	settings := map[string]string{"api_url": srv.URL + "/api/2.0/", "username": user, "password": password, "usage_days": "60"}
	for k, v := range o.settings {
		settings[k] = v
	}
	if o.account == "" {
		o.account = "default"
	}
	source, err := cloudsigma.New(ingest.SourceConfig{Provider: cloudsigma.Name, Account: o.account, Settings: settings}, ingest.Deps{Client: o.client})
	if err != nil {
		t.Fatal(err)
	}
	st := o.store
	if st == nil {
		st = dbtest.NewStore(t)
	}
	if o.crawl.Now == nil {
		o.crawl.Now = s.Model.Now
	}
	return &env{sim: s, url: srv.URL, store: st, source: source, crawler: ingest.NewCrawler(o.crawl, st)}
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

func money(m cssim.Money) string { return decimal.MustParse(m.String()).String() }

// expected is what the warehouse must hold of the account after a crawl at
// now: every ledger entry up to now − settle, the usage of every day, the
// subscriptions.
func expected(e *env, now time.Time, account string) map[string]map[string]string {
	m := e.sim.Model
	end := now.Add(-settle)
	want := map[string]map[string]string{"ledger": {}, "usage": {}, "subscriptions": {}}
	for _, l := range m.Ledger(time.Time{}, end) {
		kind := l.Kind
		if kind == "burst" && strings.HasPrefix(l.Resource, "msft_") {
			kind = "licence"
		}
		want["ledger"][account+"/"+l.ID] = fmt.Sprintf("%s %s %s %s %s %s", l.Time.Format(time.RFC3339Nano), money(l.Amount),
			money(l.Initial), money(l.End), kind, l.Resource)
	}
	type key struct {
		res    string
		secs   int
		bucket time.Time
	}
	type sum struct {
		units   int64
		samples int
		objects map[string]bool
	}
	sums := map[key]*sum{}
	for _, u := range m.Usage(m.Start().Add(-time.Second), end) {
		for _, k := range []key{{u.Resource, 3600, u.PollTime.Truncate(time.Hour)}, {u.Resource, 86400, u.PollTime.Truncate(24 * time.Hour)}} {
			if sums[k] == nil {
				sums[k] = &sum{objects: map[string]bool{}}
			}
			sums[k].units += u.Amount
			sums[k].samples++
			sums[k].objects[u.UUID] = true
		}
	}
	for k, s := range sums {
		want["usage"][fmt.Sprintf("%s/%s/%d/%s", account, k.res, k.secs, k.bucket.Format(time.RFC3339))] = fmt.Sprintf("%d %d %d", s.units, s.samples, len(s.objects))
	}
	for _, s := range m.Subscriptions() {
		want["subscriptions"][fmt.Sprintf("%s/%d", account, s.ID)] = fmt.Sprintf("%s %s %d", s.Resource, money(s.Price), s.Amount)
	}
	return want
}

func rows(t *testing.T, s *store.Store, sql string, args ...any) map[string]string {
	t.Helper()
	r, err := s.Pool().Query(t.Context(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out := map[string]string{}
	var k, v string
	if _, err := pgx.ForEachRow(r, []any{&k, &v}, func() error { out[k] = v; return nil }); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// actual reads the same from the warehouse; trailing zeros of numerics
// are normalised by the decimal package.
func actual(t *testing.T, s *store.Store) map[string]map[string]string {
	norm := func(m map[string]string) map[string]string {
		for k, v := range m {
			f := strings.Fields(v)
			for i, x := range f {
				if d, err := decimal.Parse(x); err == nil {
					f[i] = d.String()
				}
			}
			m[k] = strings.Join(f, " ")
		}
		return m
	}
	return map[string]map[string]string{
		"ledger": norm(rows(t, s, `SELECT account || '/' || entry_id,
			to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || ' ' || amount || ' ' || initial_balance || ' ' || end_balance || ' ' || kind || ' ' || coalesce(resource, '')
			FROM billing.cloudsigma_ledger_entries`)),
		"usage": rows(t, s, `SELECT account || '/' || resource || '/' || bucket_seconds || '/' || to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
			unit_samples || ' ' || samples || ' ' || objects FROM billing.cloudsigma_usage`),
		"subscriptions": norm(rows(t, s, `SELECT account || '/' || subscription_id, resource || ' ' || price || ' ' || amount FROM billing.cloudsigma_subscriptions`)),
	}
}

// fixTimes rewrites the model's times as the warehouse prints them.
func fixTimes(want map[string]map[string]string) {
	for k, v := range want["ledger"] {
		f := strings.Fields(v)
		t, _ := time.Parse(time.RFC3339Nano, f[0])
		f[0] = t.UTC().Format("2006-01-02T15:04:05.000000Z")
		want["ledger"][k] = strings.TrimSpace(strings.Join(f, " "))
	}
}

func diff(want, got map[string]map[string]string) string {
	fixTimes(want)
	for k, v := range got["ledger"] {
		got["ledger"][k] = strings.TrimSpace(v)
	}
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

func checkModel(t *testing.T, e *env, now time.Time) {
	t.Helper()
	want := expected(e, now, "default")
	for name, rows := range want {
		if len(rows) == 0 {
			t.Fatalf("the model has no %s rows: the test would prove nothing", name)
		}
	}
	if d := diff(want, actual(t, e.store)); d != "" {
		t.Fatalf("the warehouse differs from the model:\n%s", d)
	}
}

func mustSucceed(t *testing.T, e *env, res ingest.Result) {
	t.Helper()
	if res.Status != store.RunSucceeded {
		errs, _ := e.store.RunErrors(t.Context(), res.RunID)
		t.Fatalf("run ended %s: %s %+v", res.Status, res.Summary, errs)
	}
}

func TestBackfillMatchesModel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{sim: cssim.Config{ModelConfig: cssim.ModelConfig{Currency: "EUR", Location: "fra"}}})
	began := time.Now()
	res := e.run(t, backfill(e))
	t.Logf("backfill took %s", time.Since(began))
	mustSucceed(t, e, res)
	checkModel(t, e, e.sim.Model.Now())
	t.Logf("with the check %s", time.Since(began))
	got := rows(t, e.store, `SELECT 'credit', credit::text FROM billing.credit_observations
		UNION ALL SELECT 'currency', currency FROM billing.accounts WHERE provider = 'cloudsigma'
		UNION ALL SELECT 'ledger_currency', string_agg(DISTINCT currency, ',') FROM billing.cloudsigma_ledger_entries
		UNION ALL SELECT 'kinds', string_agg(DISTINCT kind, ',' ORDER BY kind) FROM billing.cloudsigma_ledger_entries
		UNION ALL SELECT 'prices', count(*)::text FROM billing.cloudsigma_prices
		UNION ALL SELECT 'levels', count(*)::text FROM billing.cloudsigma_burst_levels
		UNION ALL SELECT 'discounts', count(*)::text FROM billing.cloudsigma_discounts
		UNION ALL SELECT 'licences', count(*)::text FROM billing.cloudsigma_licences`)
	bal, _ := decimal.Parse(got["credit"])
	want := map[string]string{"credit": money(e.sim.Model.Balance()), "currency": "EUR", "ledger_currency": "EUR",
		"kinds": "burst,licence,payment,promotion,subscription", "prices": "480", "levels": "40", "discounts": "5", "licences": "4"}
	got["credit"] = bal.String()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: warehouse %q, model %q", k, got[k], v)
		}
	}
	t.Logf("%d requests; %d rows inserted", res.Counters.Requests, res.Counters.RowsInserted)
}

// TestIdenticalRerunWritesNothing: runs with the window settled and
// nothing new write no row, by any mode, also when the full refresh
// re-fetches every window.
func TestIdenticalRerunWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{crawl: ingest.Config{FullRefreshEvery: time.Nanosecond}})
	mustSucceed(t, e, e.run(t, backfill(e)))
	before := ingesttest.WarehouseVersions(t, e.store)
	for _, mode := range []ingest.Mode{{}, backfill(e), {Backfill: true, Since: e.sim.Model.Start(), Refetch: true}} {
		res := e.run(t, mode)
		c := res.Counters
		if res.Status != store.RunSucceeded || c.RowsInserted != 0 || c.RowsUpdated != 0 || c.RowsDeleted != 0 {
			t.Errorf("re-run %+v: %s, %+v %s", mode, res.Status, c, res.Summary)
		}
	}
	if after := ingesttest.WarehouseVersions(t, e.store); after != before {
		t.Errorf("an identical re-run rewrote rows:\n%s\n%s", before, after)
	}
}

// TestFaultsConverge: every fault class and a 429 storm; one repair run
// later the warehouse equals the model, and the ledger's requests and 429s
// are the simulator's.
func TestFaultsConverge(t *testing.T) {
	t.Parallel()
	clock := ingesttest.NewClock(time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC))
	faults := sim.AllFaults(0.03)
	faults.Extra = map[sim.Class]float64{cssim.FaultConflict: 0.03}
	e := newEnv(t, options{
		sim: cssim.Config{Config: sim.Config{Faults: faults, RateLimit: 100, WallClock: clock.Now,
			HangFor: 2 * time.Second, SlowBodyFor: 20 * time.Millisecond}},
		client: ingest.ClientConfig{RatePerMinute: 300, Timeout: 500 * time.Millisecond, Clock: clock, BackoffBase: time.Second},
	})
	first := e.run(t, backfill(e))
	if first.Status != store.RunSucceeded && first.Status != store.RunPartial {
		t.Fatalf("a run with faults ended %s: %s", first.Status, first.Summary)
	}
	c := first.Counters
	stats := e.sim.Server.Stats()
	if c.Retries == 0 || c.RateLimited == 0 {
		t.Errorf("the ledger shows no retries or 429s under faults and a storm: %+v", c)
	}
	// The ledger counts what reached the wire. A request written on a
	// pooled connection that a reset or hang fault's connection had just
	// closed never reaches the simulator's handler, and Go's transport
	// sends it again on a new one: each such fault can add at most one
	// request the simulator did not see.
	unseen := c.Requests - stats.Requests
	if c.RateLimited != stats.RateLimited || unseen < 0 || unseen > stats.Faults["reset"]+stats.Faults["hang"] {
		t.Errorf("ledger counts %d requests and %d 429s, the simulator %d and %d (%d resets and hangs)",
			c.Requests, c.RateLimited, stats.Requests, stats.RateLimited, stats.Faults["reset"]+stats.Faults["hang"])
	}
	t.Logf("with faults: %s, %+v, faults served %v", first.Status, c, stats.Faults)
	e.sim.Server.SetFaults(sim.Faults{})
	second := e.run(t, backfill(e))
	mustSucceed(t, e, second)
	checkModel(t, e, e.sim.Model.Now())
}

// TestLedgerGrowsWhilePaging moves the simulator's clock forward while the
// run pages, and adds payments and promotions: the entries of the run's
// windows are all there, once, and the next run, later, catches up.
func TestLedgerGrowsWhilePaging(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	n := 0
	e := newEnv(t, options{wrap: func(s *cssim.Sim, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/ledger") {
				mu.Lock()
				n++
				k := n
				mu.Unlock()
				s.Model.Advance(20 * time.Second)
				switch k % 7 {
				case 3:
					s.Model.AddPayment(12.34)
				case 5:
					s.Model.AddPromotion("GROW", "2.50")
				}
			}
			h.ServeHTTP(w, r)
		})
	}})
	began := e.sim.Model.Now()
	mustSucceed(t, e, e.run(t, backfill(e)))
	checkModel(t, e, began.Truncate(time.Second))
	second := e.sim.Model.Now()
	mustSucceed(t, e, e.run(t, ingest.Mode{}))
	checkModel(t, e, second.Truncate(time.Second))
}

// TestDigestNonceExpiry: Digest auth, with every nonce expired every 25
// requests: the run answers each stale challenge and succeeds.
func TestDigestNonceExpiry(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	n := 0
	var unauthorized int
	e := newEnv(t, options{
		sim:      cssim.Config{Auth: cssim.AuthDigest},
		settings: map[string]string{"auth": "digest"},
		wrap: func(s *cssim.Sim, h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n++
				if n%25 == 0 {
					s.ExpireNonces()
				}
				if r.Header.Get("Authorization") == "" || strings.HasPrefix(r.Header.Get("Authorization"), "Basic") {
					unauthorized++
				}
				mu.Unlock()
				h.ServeHTTP(w, r)
			})
		},
	})
	res := e.run(t, backfill(e))
	mustSucceed(t, e, res)
	checkModel(t, e, e.sim.Model.Now())
	stats := e.sim.Server.Stats()
	if stats.ByStatus["401"] == 0 {
		t.Fatal("no 401: the test proved nothing")
	}
	t.Logf("%d requests, %d answered 401 (%d unsigned), %d expiries", stats.Requests, stats.ByStatus["401"], unauthorized, n/25)
}

// TestDigestSurvivesResets: Digest auth with one request in five reset
// after the API has counted its nonce. Go's transport sends such a GET
// again on its own, with the same nonce count, and the API refuses the
// count without saying stale; the run must take that for the nonce's
// fault, not the password's.
func TestDigestSurvivesResets(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var signed401 int
	e := newEnv(t, options{
		sim:      cssim.Config{Auth: cssim.AuthDigest, Config: sim.Config{Faults: sim.Faults{Reset: 0.2}}},
		settings: map[string]string{"auth": "digest", "usage_days": "2"},
		wrap: func(s *cssim.Sim, h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec := &statusRecorder{ResponseWriter: w}
				h.ServeHTTP(rec, r)
				if rec.status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" &&
					!strings.Contains(rec.Header().Get("WWW-Authenticate"), "stale=true") {
					mu.Lock()
					signed401++
					mu.Unlock()
				}
			})
		},
	})
	res := e.run(t, backfill(e))
	if res.Status == store.RunFailed {
		t.Fatalf("the run ended %s: %s", res.Status, res.Summary)
	}
	mu.Lock()
	defer mu.Unlock()
	if signed401 == 0 {
		t.Fatal("no signed request was refused: the test proved nothing")
	}
	t.Logf("%s; %d signed requests refused, not stale; %v", res.Status, signed401, e.sim.Server.Stats().Faults)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

func (s *statusRecorder) Flush() { http.NewResponseController(s.ResponseWriter).Flush() }

// TestTwoLocations: two accounts at two locations, in different currencies,
// in one warehouse, crawled by one engine run; their rows stay apart.
func TestTwoLocations(t *testing.T) {
	t.Parallel()
	zrh := newEnv(t, options{account: "zrh", settings: map[string]string{"location": "zrh"}, sim: cssim.Config{ModelConfig: cssim.ModelConfig{Currency: "CHF", Location: "zrh", Seed: 3}}})
	sjc := newEnv(t, options{account: "sjc", settings: map[string]string{"location": "sjc"}, store: zrh.store, sim: cssim.Config{ModelConfig: cssim.ModelConfig{Currency: "USD", Location: "sjc", Seed: 4}}})
	mode := ingest.Mode{Backfill: true, Since: zrh.sim.Model.Start(), Until: zrh.sim.Model.Now()}
	for _, o := range zrh.crawler.RunAll(t.Context(), []ingest.Source{zrh.source, sjc.source}, store.TriggerBackfill, mode) {
		if o.Err != nil || o.Result.Status != store.RunSucceeded {
			t.Fatalf("%s: %v %s %s", o.Result.Owner, o.Err, o.Result.Status, o.Result.Summary)
		}
	}
	want := expected(zrh, zrh.sim.Model.Now(), "zrh")
	other := expected(sjc, sjc.sim.Model.Now(), "sjc")
	for n, m := range other {
		for k, v := range m {
			want[n][k] = v
		}
	}
	if d := diff(want, actual(t, zrh.store)); d != "" {
		t.Fatalf("the warehouse differs from the two models:\n%s", d)
	}
	got := rows(t, zrh.store, `SELECT a.account, a.currency || ' ' || a.region || ' ' || string_agg(DISTINCT l.currency, ',')
		FROM billing.accounts a JOIN billing.cloudsigma_ledger_entries l USING (provider, account) GROUP BY a.account, a.currency, a.region`)
	if got["zrh"] != "CHF zrh CHF" || got["sjc"] != "USD sjc USD" {
		t.Errorf("accounts and their ledger currencies: %v", got)
	}
}

// TestReprocess rebuilds every table, /usage/ too, from the raw payloads
// of a backfill and of an hourly run after it (whose pages of today
// overlap the backfill's), without calling the API.
func TestReprocess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	mustSucceed(t, e, e.run(t, backfill(e)))
	if err := e.sim.Model.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, e, e.run(t, ingest.Mode{}))
	want := contents(t, e.store)
	requests := e.sim.Server.Stats().Requests
	for _, tbl := range store.WarehouseTables {
		if _, err := e.store.Pool().Exec(t.Context(), "TRUNCATE "+tbl.Name); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.crawler.Reprocess(t.Context(), e.source, ingest.ReprocessConfig{BatchRows: 500})
	if err != nil || res.Status != store.RunSucceeded {
		t.Fatalf("reprocess: %v %s %s", err, res.Status, res.Summary)
	}
	got := contents(t, e.store)
	if len(want) != 7 {
		t.Errorf("only %d of the 7 tables have rows after the crawl: the test proves nothing of the others", len(want))
	}
	for name, digest := range want {
		if got[name] != digest {
			t.Errorf("%s: the crawl's rows (md5 %s) are not the reprocess's (md5 %q)", name, digest, got[name])
		}
	}
	checkModel(t, e, e.sim.Model.Now())
	if e.sim.Server.Stats().Requests != requests {
		t.Error("reprocessing called the API")
	}
}

// contents is a digest of every row of each CloudSigma table.
func contents(t *testing.T, s *store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"billing.cloudsigma_ledger_entries", "billing.cloudsigma_usage", "billing.cloudsigma_subscriptions",
		"billing.cloudsigma_prices", "billing.cloudsigma_burst_levels", "billing.cloudsigma_discounts", "billing.cloudsigma_licences"} {
		var digest *string
		if err := s.Pool().QueryRow(t.Context(), fmt.Sprintf("SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM %s t", name)).Scan(&digest); err != nil {
			t.Fatal(err)
		}
		if digest != nil {
			out[name] = *digest
		}
	}
	return out
}
