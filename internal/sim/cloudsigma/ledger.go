package cloudsigma

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"time"
)

type entryKind uint8

const (
	kindBurst entryKind = iota
	kindPayment
	kindPromotion
	kindSubscription
)

var kindNames = [...]string{"burst", "payment", "promotion", "subscription"}

// entry is one ledger entry, compact: a year of five-minute cycles for 200
// servers is about a million of them.
type entry struct {
	time      int64 // unix microseconds; the chain is in time order
	amount    Money // > 0 debit, < 0 credit
	end       Money // balance after it; initial = end + amount
	resAmount int64
	cycle     int32 // -1: none (payments, promotions, purchases)
	interval  int16 // seconds of use billed; 0 for non-burst entries
	level     int8
	kind      entryKind
	resource  uint8
	ref       int32 // subscription or promotion index
}

// ledger is the account's transaction chain. Entries are computed one
// billing cycle at a time when the clock reaches the cycle, wait in pending
// until the clock reaches their time, then join the chain, which only ever
// grows at its end.
type ledger struct {
	entries   []entry // in the chain: time <= now
	pending   []entry // computed, not yet due; by time
	nextCycle int64
	queue     []credit // seeded payments and promotions not yet due; by time
	nextMonth time.Time

	subscribed []int64
	uses       []use
	prices     map[[2]int]*big.Int // (resource, level) → price in 10^-20 units

	scratch, scratch2, scratch3 big.Int
}

// openingPayment is the float the seed's first payment is, before the
// history's first cycle.
func (m *Model) openingPayment() float64 {
	return float64((int64(len(m.servers))*15000+5000)*(90+int64(mix(m.seed, saltPayment, 0)%20))/100) / 100
}

func (l *ledger) init(m *Model) {
	first := CycleOf(m.start)
	l.nextCycle = first
	l.nextMonth = time.Date(m.start.Year(), m.start.Month(), 1, 0, 0, 0, 0, time.UTC)
	l.prices = map[[2]int]*big.Int{}
	// The history opens with a payment onto an empty account, then the
	// seeded subscriptions' purchases.
	at := m.start.Add(500 * time.Millisecond).UnixMicro()
	l.queue = append(l.queue, credit{at: at, kind: kindPayment, amount: moneyFromFloat(m.openingPayment()).Neg()})
	for i, s := range m.subs {
		l.pending = append(l.pending, entry{time: s.Bought.Add(time.Second).UnixMicro() + int64(i), kind: kindSubscription,
			amount: s.Price, resAmount: s.Amount, cycle: -1, ref: int32(i)})
	}
	n := max(0, int(CycleOf(m.nowLocked())-first)) * min(len(m.servers)/8+3, 10)
	l.entries = make([]entry, 0, min(n, 4<<20))
}

// syncLocked brings the ledger up to the clock.
func (m *Model) syncLocked() {
	now := m.nowLocked()
	nowCycle := CycleOf(now)
	for m.led.nextCycle <= nowCycle {
		m.computeCycle(m.led.nextCycle)
		m.led.nextCycle++
		m.led.materialise(m, now.UnixMicro())
	}
	m.led.materialise(m, now.UnixMicro())
}

func (l *ledger) materialise(m *Model, now int64) {
	n := 0
	for n < len(l.pending) && l.pending[n].time <= now {
		l.chain(m, l.pending[n])
		n++
	}
	l.pending = append(l.pending[:0], l.pending[n:]...)
}

// chain appends an entry to the chain, working out its balance.
func (l *ledger) chain(m *Model, e entry) int {
	var initial Money
	if n := len(l.entries); n > 0 {
		initial = l.entries[n-1].end
	}
	e.end = initial.Sub(e.amount)
	if e.kind != kindBurst {
		e.cycle = -1
	}
	l.entries = append(l.entries, e)
	return len(l.entries) - 1
}

// appendNow puts an entry made by a control into the chain at now.
func (l *ledger) appendNow(m *Model, e entry, now time.Time) int {
	e.time = now.UnixMicro()
	if n := len(l.entries); n > 0 && l.entries[n-1].time > e.time {
		e.time = l.entries[n-1].time
	}
	return l.chain(m, e)
}

// pollTime is when cycle k's usage was polled: six seconds and a seeded
// fraction into the cycle, as in the docs' example.
func (m *Model) pollTime(k int64) int64 {
	return cycleStartUnix(k)*1e6 + 6e6 + int64(mix(m.seed, saltPoll, uint64(k))%1e6)
}

// computeCycle adds cycle k's entries to pending: subscription renewals and
// seeded credits that fall in it, then its bursts.
func (m *Model) computeCycle(k int64) {
	l := &m.led
	cs, ce := CycleStart(k), CycleStart(k+1)
	// Entries already pending that fall in this cycle sort with its own.
	tail := sort.Search(len(l.pending), func(i int) bool { return l.pending[i].time >= cs.UnixMicro() })
	for i := 0; i < len(m.subs); i++ {
		s := m.subs[i]
		if s.AutoRenew && !s.Renewed && !s.End.After(cs) {
			s.Renewed = true
			p, _ := periodByName(s.Period)
			n := m.newSubscription(s.res, s.Amount, p, s.End, s.End, true)
			l.pending = append(l.pending, entry{time: n.Bought.UnixMicro() + int64(n.ID), kind: kindSubscription,
				amount: n.Price, resAmount: n.Amount, cycle: -1, ref: int32(len(m.subs) - 1)})
		}
	}
	for !l.nextMonth.After(ce) {
		for _, c := range m.seededCredits(l.nextMonth) {
			if c.at > m.start.UnixMicro() {
				l.queue = append(l.queue, c)
			}
		}
		slices.SortFunc(l.queue, func(a, b credit) int { return int(a.at - b.at) })
		l.nextMonth = l.nextMonth.AddDate(0, 1, 0)
	}
	for len(l.queue) > 0 && l.queue[0].at < ce.UnixMicro() {
		c := l.queue[0]
		l.queue = l.queue[1:]
		l.pending = append(l.pending, entry{time: c.at, kind: c.kind, amount: c.amount, resAmount: 1, cycle: -1, ref: c.ref})
	}

	poll := m.pollTime(k)
	j := int64(0)
	m.bursts(k, func(b burst) {
		l.pending = append(l.pending, entry{
			time:   poll + 161e6 + j*11_000 + int64(mix(m.seed, saltPoll, uint64(k), uint64(j))%1000),
			amount: b.cost, resAmount: b.amount, cycle: int32(k), interval: int16(b.secs),
			level: int8(b.level), kind: kindBurst, resource: uint8(b.resource),
		})
		j++
	})
	slices.SortStableFunc(l.pending[tail:], func(a, b entry) int { return int(a.time - b.time) })
}

// burst is the use of one resource beyond its subscriptions for secs
// seconds of one cycle, and what it costs.
type burst struct {
	resource int
	secs     int64
	amount   int64 // usage units beyond the subscriptions
	used     int64 // usage units of the group
	covered  int64
	level    int
	cost     Money
}

// cycleGroups returns cycle k's use per resource and interval: uses of the
// same resource for the same number of seconds add up. Whole-cycle groups
// come first within a resource, then shorter ones, longest first.
func (m *Model) cycleGroups(k int64, buf []use) ([]burst, []use) {
	cs := cycleStartUnix(k)
	buf = buf[:0]
	for _, s := range m.servers {
		buf = s.uses(cs, buf)
	}
	var groups []burst
	for _, u := range buf {
		i := slices.IndexFunc(groups, func(g burst) bool { return g.resource == u.resource && g.secs == u.secs })
		if i < 0 {
			groups = append(groups, burst{resource: u.resource, secs: u.secs})
			i = len(groups) - 1
		}
		groups[i].used += u.amount
	}
	slices.SortFunc(groups, func(a, b burst) int {
		if a.resource != b.resource {
			return a.resource - b.resource
		}
		return int(b.secs - a.secs)
	})
	return groups, buf
}

// bursts works out cycle k's bursts: each resource's subscriptions cover
// its whole-cycle use first, then its shorter uses, longest first; what is
// left over bursts at the price of the cycle's burst level:
//
//	cost = price per unit × units × seconds ÷ multiplier, to 20 digits, half to even.
func (m *Model) bursts(k int64, emit func(burst)) {
	l := &m.led
	var groups []burst
	groups, l.uses = m.cycleGroups(k, l.uses)
	l.subscribed = m.subscribedAt(CycleStart(k), l.subscribed)
	left := slices.Clone(l.subscribed)
	for _, g := range groups {
		g.covered = min(left[g.resource], g.used)
		left[g.resource] -= g.covered
		g.amount = g.used - g.covered
		if g.amount == 0 {
			continue
		}
		g.level = m.Level(g.resource, k)
		g.cost = m.burstCost(g.resource, g.level, g.amount, g.secs)
		emit(g)
	}
}

func (m *Model) burstCost(res, level int, amount, secs int64) Money {
	l := &m.led
	p := l.prices[[2]int{res, level}]
	if p == nil {
		p = Price(res, m.cfg.Currency, level).Big()
		l.prices[[2]int{res, level}] = p
	}
	num := l.scratch.Mul(p, l.scratch2.SetInt64(amount*secs))
	return moneyFromBig(divRound(num, l.scratch3.SetInt64(Resources[res].Multiplier)))
}

// Level is the burst level of a resource in cycle k, from 1 to 5. The live
// API derives it from the whole cloud's use; the model draws it from the
// seed for each half hour, mostly 1.
func (m *Model) Level(resource int, k int64) int {
	block := uint64(k) / 6
	u := mix(m.seed, saltLevel, uint64(resource), block) % 100
	switch {
	case u < 60:
		return 1
	case u < 85:
		return 2
	case u < 95:
		return 3
	case u < 99:
		return 4
	}
	return 5
}

// LedgerEntry is one transaction, as /ledger/ sends it, with what the
// model knows beyond it.
type LedgerEntry struct {
	ID             string
	Time, PollTime time.Time
	Amount         Money
	Initial, End   Money
	BillingCycle   int64 // -1 when the API sends null
	Interval       int   // seconds; 0 when the API sends null
	HumanInterval  string
	Reason         string
	ResourceAmount string
	Kind           string // burst, payment, promotion, subscription
	Resource       string // of a burst or subscription
	Level          int    // of a burst
}

// entryID numbers the chain: ids grow with time and leave gaps, as the
// live API's global ids do.
func (m *Model) entryID(i int) string {
	return fmt.Sprint(39500000 + 7*int64(i) + int64(mix(m.seed, saltID, uint64(i))%7))
}

func (l *ledger) export(m *Model, i int) LedgerEntry {
	e := &l.entries[i]
	poll := e.time + 12 // the docs' payments are polled 12µs after their time
	if e.kind == kindBurst {
		poll = m.pollTime(int64(e.cycle))
	}
	out := LedgerEntry{
		ID: m.entryID(i), Time: time.UnixMicro(e.time).UTC(), PollTime: time.UnixMicro(poll).UTC(),
		Amount: e.amount, End: e.end, Initial: e.end.Add(e.amount), BillingCycle: -1,
		ResourceAmount: fmt.Sprint(e.resAmount), Kind: kindNames[e.kind],
	}
	switch e.kind {
	case kindBurst:
		r := Resources[e.resource]
		out.BillingCycle, out.Interval, out.Resource, out.Level = int64(e.cycle), int(e.interval), r.Name, int(e.level)
		out.HumanInterval = humanInterval(int(e.interval))
		out.Reason = fmt.Sprintf("Burst: %s %s of %s for %s at %s", displayAmount(int(e.resource), e.resAmount),
			r.Display, r.Name, out.HumanInterval, out.PollTime.Format("2006-01-02 15:04"))
	case kindPayment:
		out.Reason = "Payment through card - " + uuidFrom(m.seed, saltPayment, uint64(e.time))
	case kindPromotion:
		out.Reason = "Promotional credit - " + m.promos[e.ref]
	case kindSubscription:
		s := m.subs[e.ref]
		out.Resource = s.Resource
		out.Reason = fmt.Sprintf("Subscription: %s %s of %s for %s - %s", displayAmount(s.res, s.Amount),
			Resources[s.res].Display, s.Resource, s.Period, s.UUID)
	}
	return out
}

// humanInterval is how the API words an interval: whole minutes, rounded
// ("2 minutes" for 137 s, "5 minutes" for 299 s).
func humanInterval(secs int) string {
	switch n := (secs + 30) / 60; n {
	case 0:
		return fmt.Sprintf("%d seconds", secs)
	case 1:
		return "1 minute"
	default:
		return fmt.Sprintf("%d minutes", n)
	}
}

// displayAmount is a usage amount in the resource's display unit, two
// decimals: 4831838208 bytes is "4.50" (GB).
func displayAmount(res int, amount int64) string {
	return new(big.Rat).SetFrac64(amount, Resources[res].DisplayDiv).FloatString(2)
}

// searchTime returns the first chain index whose time is >= t (µs).
func (l *ledger) searchTime(t int64) int {
	return sort.Search(len(l.entries), func(i int) bool { return l.entries[i].time >= t })
}

// LedgerLen is how many entries the chain holds now.
func (m *Model) LedgerLen() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	return len(m.led.entries)
}

// Ledger returns the entries whose time is in [from, to), oldest first:
// what a crawl of that window must find.
func (m *Model) Ledger(from, to time.Time) []LedgerEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	lo, hi := m.led.searchTime(from.UnixMicro()), m.led.searchTime(to.UnixMicro())
	out := make([]LedgerEntry, 0, max(0, hi-lo))
	for i := lo; i < hi; i++ {
		out = append(out, m.led.export(m, i))
	}
	return out
}

// Balance is the account's balance now: the end of the chain.
func (m *Model) Balance() Money {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	return m.led.balance()
}

func (l *ledger) balance() Money {
	if n := len(l.entries); n > 0 {
		return l.entries[n-1].end
	}
	return Money{}
}
