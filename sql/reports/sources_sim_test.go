package reports_test

import (
	"context"
	"fmt"
	"math/big"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/cloudsigma"
	"github.com/billing-warehouse/billing-warehouse/ingest/soracom"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	cssim "github.com/billing-warehouse/billing-warehouse/internal/sim/cloudsigma"
	simsoracom "github.com/billing-warehouse/billing-warehouse/internal/sim/soracom"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// sourcesNow is May 20: Soracom's February to April are closed and May is
// preliminary; CloudSigma's history starts on March 10, so April is a whole
// closed month.
var sourcesNow = time.Date(2026, 5, 20, 3, 30, 0, 0, time.UTC)

// jumpClock jumps instead of sleeping, so that Soracom's export polls take
// no time.
type jumpClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *jumpClock) SleepUntil(ctx context.Context, t time.Time) bool {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
	return ctx.Err() == nil
}

func backfillSource(t *testing.T, source ingest.Source, now func() time.Time, since time.Time) *pgx.Conn {
	t.Helper()
	url := dbtest.New(t)
	s, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	res, err := ingest.NewCrawler(ingest.Config{Now: now}, s).Run(t.Context(), source, store.TriggerBackfill,
		ingest.Mode{Backfill: true, Since: since, Until: now()})
	if err != nil || res.Status != store.RunSucceeded {
		t.Fatalf("backfill: %v %s", err, res.Status)
	}
	return dbtest.Conn(t, url)
}

func soracomWarehouse(t *testing.T) (*simsoracom.Sim, *pgx.Conn) {
	t.Helper()
	sim, err := simsoracom.New(simsoracom.Config{Now: sourcesNow, Model: simsoracom.ModelConfig{Seed: 7, SIMs: 30},
		AuthKeyID: "k", AuthKey: "s", AuthRateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	source, err := soracom.New(ingest.SourceConfig{Provider: soracom.Name, Account: "fleet", Settings: map[string]string{
		"api_url": srv.URL + "/v1", "auth_key_id": "k", "auth_key": "s", "coverage": string(sim.Model.Coverage())}},
		ingest.Deps{Client: ingest.ClientConfig{RatePerMinute: 1_000_000, BackoffBase: time.Millisecond, Clock: &jumpClock{now: sourcesNow}}})
	if err != nil {
		t.Fatal(err)
	}
	return sim, backfillSource(t, source, sim.Model.Now, sim.Model.StartDay().Start(time.UTC))
}

func cloudsigmaWarehouse(t *testing.T) (*cssim.Sim, *pgx.Conn) {
	t.Helper()
	cfg := cssim.Config{ModelConfig: cssim.ModelConfig{Seed: 5, Currency: "CHF", Location: "zrh", Servers: 4,
		Start: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), Now: sourcesNow, User: "u@example.com"}, Password: "p"}
	cfg.RateLimit = -1
	sim, err := cssim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	source, err := cloudsigma.New(ingest.SourceConfig{Provider: cloudsigma.Name, Account: "zrh", Settings: map[string]string{
		"api_url": srv.URL + "/api/2.0/", "username": "u@example.com", "password": "p", "usage_days": "0"}},
		ingest.Deps{Client: ingest.ClientConfig{RatePerMinute: 1_000_000, BackoffBase: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return sim, backfillSource(t, source, sim.Model.Now, sim.Model.Start())
}

func rat(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("not a number: %q", s)
	}
	return r
}

func text(t *testing.T, conn *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	var s *string
	if err := conn.QueryRow(t.Context(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestSoracomViewsMatchModel: after a backfill from the Soracom simulator,
// each month's row of account_month_cost_v1 is the model's bill, a closed
// month's amortized days add up to its pre-tax total, and focus_v2's charges
// to the bill.
func TestSoracomViewsMatchModel(t *testing.T) {
	t.Parallel()
	sim, conn := soracomWarehouse(t)
	m := sim.Model
	closed := 0
	for _, mo := range m.Months() {
		st := m.State(mo)
		if st != simsoracom.StateClosed && st != simsoracom.StatePreliminary {
			continue
		}
		b := m.ExpectedBill(mo)
		month := fmt.Sprintf("%04d-%02d-01", mo.Year(), int(mo.Mon()))
		want := fmt.Sprintf("%s|%s|%s|%s|%s", m.Currency(), b.Billed, b.Coupon, b.Tax, b.Amount)
		got := text(t, conn, `SELECT currency || '|' || trim_scale(billed_cost) || '|' || trim_scale(credits) || '|' || trim_scale(tax) || '|' || trim_scale(invoice_total)
			FROM reports.account_month_cost_v1 WHERE provider = 'soracom' AND billing_month = $1`, month)
		if !sameNumbers(t, got, want) {
			t.Errorf("account_month_cost_v1 %s: %s, model %s", month, got, want)
		}
		if st != simsoracom.StateClosed {
			continue
		}
		closed++
		for name, sql := range map[string]string{
			"daily_cost_v2": `SELECT trim_scale(sum(amortized_cost))::text FROM reports.daily_cost_v2
				WHERE provider = 'soracom' AND day >= $1::date AND day < $1::date + interval '1 month'`,
			"month_to_date_v2": `SELECT trim_scale(billed_to_date)::text FROM reports.month_to_date_v2 WHERE provider = 'soracom' AND billing_month = $1`,
		} {
			if got := text(t, conn, sql, month); !sameNumbers(t, got, b.PreTax.String()) {
				t.Errorf("%s %s: %s, model's pre-tax %s", name, month, got, b.PreTax)
			}
		}
		// Charges, tax and coupons: the CSV's sum less coupons plus tax, which
		// is the bill but for the rounding of the sum to the minor unit.
		want = b.PreTax.String()
		got = text(t, conn, `SELECT trim_scale(sum("BilledCost") - sum("BilledCost") FILTER (WHERE "ChargeCategory" = 'Tax')
			- coalesce(sum("BilledCost") FILTER (WHERE "ServiceName" = 'Coupons'), 0))::text
			FROM reports.focus_v2 WHERE "x_Provider" = 'soracom' AND "BillingPeriodStart" = $1`, month)
		if !sameNumbers(t, got, want) {
			t.Errorf("focus_v2 %s: usage and credits %s, model's pre-tax %s", month, got, want)
		}
	}
	if closed == 0 {
		t.Fatal("no closed month to check")
	}
	var off int
	conn.QueryRow(t.Context(), `SELECT count(*) FROM reports.reconciliation_v2 WHERE provider = 'soracom' AND NOT within_tolerance`).Scan(&off)
	if off != 0 {
		t.Errorf("%d reconciliation_v2 rows of Soracom are off", off)
	}
}

// TestCloudSigmaViewsMatchModel: after a backfill from the CloudSigma
// simulator, each month's invoice_total is the sum of the model's debits,
// and a closed month's amortized days are its debits with every
// subscription spread over its period.
func TestCloudSigmaViewsMatchModel(t *testing.T) {
	t.Parallel()
	sim, conn := cloudsigmaWarehouse(t)
	m := sim.Model
	walked := m.Now().Add(-5 * time.Minute) // the ledger is walked up to five minutes before the clock
	subs := m.Subscriptions()
	if len(subs) == 0 {
		t.Fatal("the model bought no subscription: nothing is amortized")
	}
	for mon := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC); mon.Before(walked); mon = mon.AddDate(0, 1, 0) {
		end := mon.AddDate(0, 1, 0)
		to := end
		if to.After(walked) {
			to = walked
		}
		debits, amortized := new(big.Rat), new(big.Rat)
		for _, e := range m.Ledger(mon, to) {
			if e.Amount.Sign() <= 0 {
				continue
			}
			a := rat(t, e.Amount.String())
			debits.Add(debits, a)
			if e.Kind != "subscription" {
				amortized.Add(amortized, a)
			}
		}
		for _, s := range subs {
			from, until := later(s.Start, mon), earlier(s.End, end)
			if !until.After(from) {
				continue
			}
			share := new(big.Rat).Mul(rat(t, s.Price.String()), big.NewRat(int64(until.Sub(from)/time.Second), int64(s.End.Sub(s.Start)/time.Second)))
			amortized.Add(amortized, share)
		}
		month := mon.Format("2006-01-02")
		got := text(t, conn, `SELECT trim_scale(invoice_total)::text FROM reports.account_month_cost_v1 WHERE provider = 'cloudsigma' AND billing_month = $1`, month)
		if rat(t, got).Cmp(debits) != 0 {
			t.Errorf("account_month_cost_v1 %s: %s, model's debits %s", month, got, debits.FloatString(20))
		}
		if end.After(walked) {
			continue
		}
		got = text(t, conn, `SELECT sum(amortized_cost)::text FROM reports.daily_cost_v2
			WHERE provider = 'cloudsigma' AND day >= $1::date AND day < $1::date + interval '1 month'`, month)
		if diff := new(big.Rat).Sub(rat(t, got), amortized); diff.Abs(diff).Cmp(big.NewRat(1, 1_000_000)) > 0 {
			t.Errorf("daily_cost_v2 %s: amortized %s, model %s", month, got, amortized.FloatString(10))
		}
	}
	var off int
	conn.QueryRow(t.Context(), `SELECT count(*) FROM reports.reconciliation_v2 WHERE provider = 'cloudsigma' AND NOT within_tolerance`).Scan(&off)
	if off != 0 {
		t.Errorf("%d reconciliation_v2 rows of CloudSigma are off", off)
	}
}

// TestFocusV2ConformanceSources runs the FOCUS 1.2 rules over warehouses
// backfilled from the Soracom and CloudSigma simulators.
func TestFocusV2ConformanceSources(t *testing.T) {
	t.Parallel()
	t.Run("soracom", func(t *testing.T) {
		t.Parallel()
		_, conn := soracomWarehouse(t)
		checkFocus(t, conn)
	})
	t.Run("cloudsigma", func(t *testing.T) {
		t.Parallel()
		_, conn := cloudsigmaWarehouse(t)
		checkFocus(t, conn)
	})
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// sameNumbers compares "a|b|…" lists field by field as numbers (or as text
// where a field is not one).
func sameNumbers(t *testing.T, got, want string) bool {
	t.Helper()
	g, w := splitBar(got), splitBar(want)
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		gr, ok1 := new(big.Rat).SetString(g[i])
		wr, ok2 := new(big.Rat).SetString(w[i])
		if ok1 && ok2 {
			if gr.Cmp(wr) != 0 {
				return false
			}
		} else if g[i] != w[i] {
			return false
		}
	}
	return true
}

func splitBar(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
