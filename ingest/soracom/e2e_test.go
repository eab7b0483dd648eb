package soracom_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/soracom"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/internal/ingesttest"
	simsoracom "github.com/billing-warehouse/billing-warehouse/internal/sim/soracom"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// simNow is the 20th: February to April are closed, May is preliminary.
var simNow = time.Date(2026, 5, 20, 3, 30, 0, 0, time.UTC)

const (
	authKeyID = "keyId-e2e-4f1c"
	authKey   = "secret-e2e-9d2b7a"
)

// env is a simulator, a warehouse and a crawler between them.
type env struct {
	sim     *simsoracom.Sim
	srv     *httptest.Server
	store   *store.Store
	source  ingest.Source
	crawler *ingest.Crawler
}

type options struct {
	sim      simsoracom.Config
	client   ingest.ClientConfig
	crawl    ingest.Config
	settings map[string]string
	// wrap, when set, stands between the server and the simulator.
	wrap func(http.Handler) http.Handler
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	cfg := o.sim
	if cfg.Now.IsZero() {
		cfg.Now = simNow
	}
	if cfg.Seed == 0 {
		cfg.Seed = 7
	}
	if cfg.Model.SIMs == 0 {
		cfg.Model.SIMs = 40
	}
	cfg.AuthKeyID, cfg.AuthKey = authKeyID, authKey
	if cfg.AuthRateLimit == 0 {
		cfg.AuthRateLimit = -1
	}
	s, err := simsoracom.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = s
	if o.wrap != nil {
		h = o.wrap(s)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if o.client.RatePerMinute == 0 {
		o.client.RatePerMinute = 1_000_000
	}
	if o.client.BackoffBase == 0 {
		o.client.BackoffBase = time.Millisecond
	}
	if o.client.Clock == nil {
		o.client.Clock = ingesttest.NewClock(simNow) // export polls wait on it
	}
	settings := map[string]string{"api_url": srv.URL + "/v1", "auth_key_id": authKeyID, "auth_key": authKey, "coverage": string(s.Model.Coverage())}
	for k, v := range o.settings {
		settings[k] = v
	}
	source, err := soracom.New(ingest.SourceConfig{Provider: soracom.Name, Account: "default", Settings: settings}, ingest.Deps{Client: o.client})
	if err != nil {
		t.Fatal(err)
	}
	st := dbtest.NewStore(t)
	if o.crawl.Now == nil {
		o.crawl.Now = s.Model.Now
	}
	return &env{sim: s, srv: srv, store: st, source: source, crawler: ingest.NewCrawler(o.crawl, st)}
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
	return ingest.Mode{Backfill: true, Since: e.sim.Model.StartDay().Start(time.UTC), Until: e.sim.Model.Now()}
}

func money(m simsoracom.Money) string { return decimal.MustParse(m.String()).String() }

func monthDate(mo simsoracom.Month) string { return fmt.Sprintf("%04d-%02d", mo.Year(), int(mo.Mon())) }

// shown reports whether the API shows a month's bill now.
func shown(m *simsoracom.Model, mo simsoracom.Month) bool {
	st := m.State(mo)
	return st == simsoracom.StateClosed || st == simsoracom.StatePreliminary
}

// expected computes, from the simulator's model, what the warehouse must
// hold after a complete crawl now.
func expected(e *env) map[string]map[string]string {
	m := e.sim.Model
	want := map[string]map[string]string{"bill": {}, "state": {}, "daily": {}, "item": {}, "quantity": {}, "summary": {}, "coupon": {}, "resource": {}}
	for _, mo := range m.Months() {
		if !shown(m, mo) {
			continue
		}
		b := m.ExpectedBill(mo)
		label := monthDate(mo)
		want["bill"][label] = money(b.Amount)
		want["state"][label] = map[bool]string{true: "closed", false: "temporary"}[b.State == simsoracom.StateClosed]
		for _, d := range m.ExpectedDaily(mo) {
			want["daily"][d.Day.String()] = money(d.Amount)
		}
		amounts, quantities := map[string]simsoracom.Money{}, map[string]int64{}
		m.EachRow(mo, func(r *simsoracom.Row) {
			family, id := "account", ""
			switch {
			case r.SimID != "":
				family, id = "sim", r.SimID
				want["resource"]["sim/"+id] = "1"
			case r.VpgID != "":
				family, id = "vpg", r.VpgID
				want["resource"]["vpg/"+id] = "1"
			case r.DeviceID != "":
				family, id = "device", r.DeviceID
				want["resource"]["device/"+id] = "1"
			}
			date := r.Date()
			if r.Monthly {
				date = mo.String() + "01"
			}
			k := fmt.Sprintf("%s/%s/%t/%s/%s/%s", mo, date, r.Monthly, family, id, r.BillItemName)
			amounts[k] += r.Amount
			quantities[k] += r.Quantity
		})
		for k, a := range amounts {
			want["item"][k] = money(a)
			want["quantity"][k] = fmt.Sprint(quantities[k])
		}
	}
	for _, mo := range m.SummaryMonths() {
		for _, it := range m.ExpectedBillItems(mo) {
			want["summary"][mo.String()+"/bill_item/"+it.Name] = money(it.Amount)
		}
		for _, c := range m.ExpectedTopSIMs(mo) {
			want["summary"][mo.String()+"/sim/"+c.SimID] = money(c.Amount)
		}
	}
	for _, c := range m.CouponBalances() {
		want["coupon"][c.Code] = money(c.Balance)
	}
	return want
}

// actual reads the same figures from the warehouse.
func actual(t *testing.T, s *store.Store) map[string]map[string]string {
	return map[string]map[string]string{
		"bill":  table(t, s, `SELECT to_char(billing_month, 'YYYY-MM'), amount::text FROM billing.soracom_bills`),
		"state": table(t, s, `SELECT to_char(billing_month, 'YYYY-MM'), state FROM billing.soracom_bills`),
		"daily": table(t, s, `SELECT to_char(day, 'YYYYMMDD'), amount::text FROM billing.soracom_daily_bills`),
		"item": table(t, s, `SELECT to_char(billing_month, 'YYYYMM') || '/' || to_char(charge_date, 'YYYYMMDD') || '/' || monthly || '/' || family || '/' || resource_id || '/' || bill_item_name,
			amount::text FROM billing.soracom_bill_items`),
		"quantity": table(t, s, `SELECT to_char(billing_month, 'YYYYMM') || '/' || to_char(charge_date, 'YYYYMMDD') || '/' || monthly || '/' || family || '/' || resource_id || '/' || bill_item_name,
			quantity::text FROM billing.soracom_bill_items`),
		// The API summarises the last four months; the warehouse keeps older ones.
		"summary": table(t, s, `SELECT to_char(billing_month, 'YYYYMM') || '/' || breakdown || '/' || item, amount::text FROM billing.soracom_summaries
			WHERE billing_month > (SELECT max(billing_month) FROM billing.soracom_summaries) - interval '4 months'`),
		"coupon":   table(t, s, `SELECT coupon_code, balance::text FROM billing.soracom_coupons`),
		"resource": table(t, s, `SELECT family || '/' || resource_id, '1' FROM billing.resources WHERE provider = 'soracom'`),
	}
}

// table reads a query of (key, value) rows into a map; numbers are
// normalised as decimals.
func table(t *testing.T, s *store.Store, sql string) map[string]string {
	t.Helper()
	rows, err := s.Pool().Query(t.Context(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out := map[string]string{}
	var k, v string
	_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		if d, err := decimal.Parse(v); err == nil {
			v = d.String()
		}
		out[k] = v
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
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
	e := newEnv(t, options{})
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
	var opID, currency, region string
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT coalesce(provider_account_id, ''), currency, region FROM billing.accounts WHERE provider = 'soracom'`).Scan(&opID, &currency, &region); err != nil {
		t.Fatal(err)
	}
	if opID != e.sim.Model.OperatorID() || currency != e.sim.Model.Currency() || region != string(e.sim.Model.Coverage()) {
		t.Errorf("billing.accounts: %s %s %s, want %s %s %s", opID, currency, region, e.sim.Model.OperatorID(), e.sim.Model.Currency(), e.sim.Model.Coverage())
	}
	t.Logf("%d requests; %d rows inserted", res.Counters.Requests, res.Counters.RowsInserted)
}
