package cloudsigma

import (
	"math/big"
	"testing"
	"time"
)

// testNow is the fixed clock of most tests.
var testNow = time.Date(2026, 3, 18, 12, 2, 30, 0, time.UTC)

func newTestModel(t testing.TB, cfg ModelConfig) *Model {
	t.Helper()
	if cfg.Now.IsZero() {
		cfg.Now = testNow
	}
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	return NewModel(cfg)
}

// TestWorkedExample reproduces the README's hand-checked docs entry: 4.5 GB
// of dssd bursting for 300 s at the USD level-1 price of 0.28 per GB-month
// costs 0.00014583333333333333, and 299 s cost 0.00014534722222222222.
func TestWorkedExample(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, ModelConfig{Currency: "USD", Servers: -1})
	if got := Price(resDSSD, "USD", 1).String(); got != "0.28000000000000000000" {
		t.Fatalf("USD level-1 dssd price %s", got)
	}
	if got := Price(resDSSD, "USD", 0).String(); got != "0.14000000000000000000" {
		t.Fatalf("USD level-0 dssd price %s", got)
	}
	if mult := Resources[resDSSD].Multiplier; mult != 2783138807808000 {
		t.Fatalf("dssd multiplier %d", mult)
	}
	for _, c := range []struct {
		secs int64
		want string
	}{{300, "0.00014583333333333333"}, {299, "0.00014534722222222222"}} {
		if got := m.burstCost(resDSSD, 1, 4831838208, c.secs).String(); got != c.want {
			t.Errorf("%d s: %s, want %s", c.secs, got, c.want)
		}
	}
	// The docs' chain: 469291.07502821435786823786 − 0.00014583333333333333.
	initial := MustMoney("469291.07502821435786823786")
	if got := initial.Sub(MustMoney("0.00014583333333333333")).String(); got != "469291.07488238102453490453" {
		t.Errorf("end %s", got)
	}
	// Payments are floats: 55.45 becomes what the docs show.
	if got := moneyFromFloat(55.45).Neg().String(); got != "-55.45000000000000284217" {
		t.Errorf("payment %s", got)
	}
	if got := moneyFromFloat(77.23).Neg().String(); got != "-77.23000000000000397904" {
		t.Errorf("payment %s", got)
	}
	if (Money{}).String() != "0E-20" {
		t.Errorf("zero is %s", Money{})
	}
	if got := humanInterval(137) + "," + humanInterval(299); got != "2 minutes,5 minutes" {
		t.Errorf("human intervals %s", got)
	}
	if k := CycleOf(time.Date(2014, 6, 5, 9, 6, 6, 0, time.UTC)); k != 105157 {
		t.Errorf("the docs' poll falls in cycle %d, want 105157", k)
	}
}

// TestLedgerChain checks the chain exactly: every entry's initial is the
// previous end, end = initial − amount, the first initial is zero, the
// balance is the last end, and times and ids grow.
func TestLedgerChain(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, ModelConfig{Servers: 12})
	all := m.Ledger(m.Start().Add(-time.Hour), m.Now().Add(time.Hour))
	if len(all) < 30*288 {
		t.Fatalf("only %d entries in 30 days", len(all))
	}
	if all[0].Initial.Sign() != 0 || all[0].Kind != "payment" {
		t.Errorf("the chain opens with %+v", all[0])
	}
	sum := new(big.Int)
	kinds := map[string]int{}
	var prevID int64
	for i, e := range all {
		kinds[e.Kind]++
		if e.Initial.Sub(e.Amount) != e.End {
			t.Fatalf("entry %d: %s − %s ≠ %s", i, e.Initial, e.Amount, e.End)
		}
		if i > 0 && e.Initial != all[i-1].End {
			t.Fatalf("entry %d: initial %s, previous end %s", i, e.Initial, all[i-1].End)
		}
		if i > 0 && e.Time.Before(all[i-1].Time) {
			t.Fatalf("entry %d goes back in time", i)
		}
		id, _ := new(big.Int).SetString(e.ID, 10)
		if id.Int64() <= prevID {
			t.Fatalf("entry %d: id %s after %d", i, e.ID, prevID)
		}
		prevID = id.Int64()
		sum.Sub(sum, e.Amount.Big())
		if e.Time.After(m.Now()) {
			t.Fatalf("entry %d from the future: %s", i, e.Time)
		}
	}
	if got := m.Balance(); got != all[len(all)-1].End || got.Big().Cmp(sum) != 0 {
		t.Errorf("balance %s, chain end %s, −Σ amounts %s", got, all[len(all)-1].End, sum)
	}
	for _, k := range []string{"burst", "payment", "promotion", "subscription"} {
		if kinds[k] == 0 {
			t.Errorf("no %s entries: %v", k, kinds)
		}
	}
	t.Logf("%d entries: %v; balance %s", len(all), kinds, m.Balance())
}

// TestSubscriptionsCover checks each burst entry against its cycle: the
// account's use, less what subscriptions cover, costs exactly the level's
// price, and a cycle fully covered has no entry for the resource.
func TestSubscriptionsCover(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, ModelConfig{Servers: 8, Currency: "EUR"})
	now := m.Now()
	from := now.Add(-48 * time.Hour)
	entries := m.Ledger(from, now)
	byCycle := map[int64][]LedgerEntry{}
	for _, e := range entries {
		if e.Kind == "burst" {
			byCycle[e.BillingCycle] = append(byCycle[e.BillingCycle], e)
		}
	}
	subs := m.Subscriptions()
	checked, covered := 0, 0
	for k := CycleOf(from) + 1; k < CycleOf(now); k++ {
		cs := CycleStart(k)
		// Use per resource and seconds, from /usage/'s rows.
		type key struct {
			res  string
			secs int64
		}
		used := map[key]int64{}
		for _, r := range m.Usage(cs, CycleStart(k+1)) {
			used[key{r.Resource, r.Seconds}] += r.Amount
		}
		left := map[string]int64{}
		for _, s := range subs {
			if !cs.Before(s.Start) && cs.Before(s.End) {
				left[s.Resource] += s.Amount
			}
		}
		want := map[key]int64{}
		for _, res := range Resources {
			for secs := int64(cycleSecs); secs > 0; secs-- {
				u, ok := used[key{res.Name, secs}]
				if !ok {
					continue
				}
				c := min(u, left[res.Name])
				left[res.Name] -= c
				if c > 0 {
					covered++
				}
				if u > c {
					want[key{res.Name, secs}] = u - c
				}
			}
		}
		got := byCycle[k]
		if len(got) != len(want) {
			t.Fatalf("cycle %d: %d burst entries, want %d (%v)", k, len(got), len(want), want)
		}
		for _, e := range got {
			amount := want[key{e.Resource, int64(e.Interval)}]
			if e.ResourceAmount != big.NewInt(amount).String() {
				t.Fatalf("cycle %d %s: bursts %s, want %d", k, e.Resource, e.ResourceAmount, amount)
			}
			if e.Level != m.Level(ResourceIndex(e.Resource), k) {
				t.Fatalf("cycle %d: level %d", k, e.Level)
			}
			price := new(big.Rat).SetFrac(Price(ResourceIndex(e.Resource), "EUR", e.Level).Big(), scaleInt)
			cost := price.Mul(price, new(big.Rat).SetFrac64(amount*int64(e.Interval), Resources[ResourceIndex(e.Resource)].Multiplier))
			if roundRat(cost) != e.Amount {
				t.Fatalf("cycle %d %s: amount %s, want %s", k, e.Resource, e.Amount, cost.FloatString(22))
			}
			checked++
		}
	}
	if checked < 500 || covered == 0 {
		t.Errorf("checked %d bursts, %d covered uses", checked, covered)
	}
}

// TestUsageAgreesWithLedger checks the hourly roll-up the accessors give
// against the ledger's burst entries, and /currentusage/'s numbers against
// the cycle's entries.
func TestUsageAgreesWithLedger(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, ModelConfig{Servers: 10})
	now := m.Now()
	from := now.Add(-24 * time.Hour).Truncate(time.Hour)
	to := now.Truncate(time.Hour)
	cost := map[string]Money{}
	for _, e := range m.Ledger(from, to.Add(3*time.Minute)) {
		if e.Kind == "burst" && !e.PollTime.Before(from) && e.PollTime.Before(to) {
			cost[e.Resource] = cost[e.Resource].Add(e.Amount)
		}
	}
	sum := map[string]Money{}
	for _, b := range m.UsagePerHour(from, to) {
		sum[b.Resource] = sum[b.Resource].Add(b.Cost)
	}
	if len(cost) < 3 {
		t.Fatalf("bursts of only %v", cost)
	}
	for r, c := range cost {
		if sum[r] != c {
			t.Errorf("%s: hourly roll-up %s, ledger %s", r, sum[r], c)
		}
	}
	var days Money
	for _, b := range m.UsagePerDay(from, to) {
		days = days.Add(b.Cost)
	}
	var hours Money
	for _, c := range sum {
		hours = hours.Add(c)
	}
	if days != hours {
		t.Errorf("daily %s, hourly %s", days, hours)
	}

	// /currentusage/ is the newest polled cycle; once its bursts are in
	// the chain they add up to its burst numbers.
	m.SetNow(CycleStart(CycleOf(now) + 1).Add(200 * time.Second))
	cur := m.CurrentUsage()
	k := CycleOf(m.Now())
	burst := map[string]int64{}
	for _, e := range m.Ledger(CycleStart(k), CycleStart(k+1)) {
		if e.Kind == "burst" {
			n, _ := new(big.Int).SetString(e.ResourceAmount, 10)
			burst[e.Resource] += n.Int64()
		}
	}
	for name, u := range cur {
		if u.Burst != burst[name] {
			t.Errorf("%s: currentusage bursts %d, ledger %d", name, u.Burst, burst[name])
		}
		if u.Burst > u.Using || (u.Using <= u.Subscribed && u.Burst != 0) {
			t.Errorf("%s: %+v", name, u)
		}
	}
}

// TestDeterministic: the same seed gives the same ledger, another seed another.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	a := newTestModel(t, ModelConfig{Seed: 7})
	b := newTestModel(t, ModelConfig{Seed: 7})
	c := newTestModel(t, ModelConfig{Seed: 8})
	la, lb, lc := a.Ledger(a.Start(), testNow), b.Ledger(b.Start(), testNow), c.Ledger(c.Start(), testNow)
	if len(la) != len(lb) || la[len(la)-1] != lb[len(lb)-1] || a.Balance() != b.Balance() {
		t.Errorf("seed 7 twice: %d and %d entries, balances %s and %s", len(la), len(lb), a.Balance(), b.Balance())
	}
	if a.Balance() == c.Balance() {
		t.Errorf("seeds 7 and 8 give the same balance %s (%d, %d entries)", a.Balance(), len(la), len(lc))
	}
}

// TestGrowsWithClock: moving the clock appends entries and never changes
// the ones already there.
func TestGrowsWithClock(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, ModelConfig{})
	before := m.Ledger(m.Start(), m.Now().Add(time.Hour))
	m.Advance(6 * time.Hour)
	after := m.Ledger(m.Start(), m.Now().Add(time.Hour))
	if len(after) <= len(before) {
		t.Fatalf("%d entries, then %d", len(before), len(after))
	}
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("entry %d changed: %+v → %+v", i, before[i], after[i])
		}
	}
}
