package cloudsigma

import (
	"fmt"
	"math/big"
	"time"
)

// Subscription is an amount of one resource bought for a period. While it
// is active it covers the account's use of the resource up to Amount; use
// beyond it bursts.
type Subscription struct {
	ID        int
	UUID      string
	Resource  string
	Amount    int64 // usage units: MHz, bytes, IPs, cores
	Period    string
	Bought    time.Time // when its purchase entered the ledger
	Start     time.Time // it covers the cycles that begin in [Start, End)
	End       time.Time
	AutoRenew bool
	// Price is what the purchase cost: Amount at the level-0 price for
	// the period's months, less the period's discount.
	Price          Money
	DiscountAmount Money
	DiscountPct    string // "25.00"
	Renewed        bool   // its successor has been bought
	res            int
}

// Status is "active" while now is within the subscription's period.
func (s *Subscription) Status(now time.Time) string {
	switch {
	case now.Before(s.Start):
		return "upcoming"
	case now.Before(s.End):
		return "active"
	}
	return "inactive"
}

// newSubscription prices and records a subscription; the caller holds the
// lock and adds its purchase to the ledger.
func (m *Model) newSubscription(res int, amount int64, p Discount, bought, start time.Time, autoRenew bool) *Subscription {
	id := len(m.subs) + 1
	gross := new(big.Rat).SetInt(Price(res, m.cfg.Currency, 0).Big())
	gross.Quo(gross, new(big.Rat).SetInt(scaleInt))
	gross.Mul(gross, new(big.Rat).SetFrac64(amount*int64(p.Months)*monthSecs, Resources[res].Multiplier))
	disc, _ := new(big.Rat).SetString(p.Value)
	discount := new(big.Rat).Mul(gross, disc)
	pct := new(big.Rat).Mul(disc, big.NewRat(100, 1))
	s := &Subscription{
		ID: id, UUID: uuidFrom(m.seed, saltSub, uint64(id)),
		Resource: Resources[res].Name, res: res, Amount: amount, Period: p.Period,
		Bought: bought, Start: start, End: start.AddDate(0, p.Months, 0), AutoRenew: autoRenew,
		Price: roundRat(gross).Sub(roundRat(discount)), DiscountAmount: roundRat(discount),
		DiscountPct: pct.FloatString(2),
	}
	m.subs = append(m.subs, s)
	return s
}

// generateSubscriptions buys, when the history starts, subscriptions that
// cover part of what the servers existing then use: a monthly one that
// renews itself for the first server's CPU and RAM, a yearly one for dssd.
func (m *Model) generateSubscriptions() {
	start := m.start.Unix()
	var cpu, mem, dssd int64
	var cpuRes, memRes = resCPU, resMem
	for i, s := range m.servers {
		if !s.exists(start) {
			continue
		}
		if i == 0 {
			cpuRes, memRes = s.CPURes, s.MemRes
		}
		if s.CPURes == cpuRes {
			cpu += s.CPU
			mem += s.Mem
		}
		for _, d := range s.Drives {
			dssd += d.Size
		}
	}
	month, year := Periods[0], Periods[3]
	if cpu = cpu * 6 / 10 / 1000 * 1000; cpu > 0 {
		m.newSubscription(cpuRes, cpu, month, m.start, m.start, true)
	}
	if mem = mem * 6 / 10 / gib * gib; mem > 0 {
		m.newSubscription(memRes, mem, month, m.start, m.start, true)
	}
	if dssd = dssd / 2 / gib * gib; dssd > 0 {
		m.newSubscription(resDSSD, dssd, year, m.start, m.start, false)
	}
}

// subscribedAt sums the amounts of the subscriptions covering the cycle
// starting at cs, per resource.
func (m *Model) subscribedAt(cs time.Time, out []int64) []int64 {
	out = append(out[:0], make([]int64, len(Resources))...)
	for _, s := range m.subs {
		if !cs.Before(s.Start) && cs.Before(s.End) {
			out[s.res] += s.Amount
		}
	}
	return out
}

// Subscriptions returns every subscription bought so far, oldest first.
func (m *Model) Subscriptions() []Subscription {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	now := m.nowLocked()
	var out []Subscription
	for _, s := range m.subs {
		if !s.Bought.After(now) {
			out = append(out, *s)
		}
	}
	return out
}

// BuySubscription buys amount of a resource for a period ("1 month",
// "1 year", …). The purchase enters the ledger now; the subscription
// covers use from the next billing cycle on.
func (m *Model) BuySubscription(resource string, amount int64, period string, autoRenew bool) (Subscription, error) {
	res := ResourceIndex(resource)
	if res < 0 {
		return Subscription{}, fmt.Errorf("resource %q: %w", resource, ErrNotFound)
	}
	p, ok := periodByName(period)
	if !ok {
		return Subscription{}, fmt.Errorf("period %q: %w", period, ErrNotFound)
	}
	if amount <= 0 {
		return Subscription{}, fmt.Errorf("amount must be positive, not %d", amount)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	now := m.nowLocked()
	s := m.newSubscription(res, amount, p, now, CycleStart(m.effectiveCycle(now)), autoRenew)
	m.led.appendNow(m, entry{kind: kindSubscription, ref: int32(len(m.subs) - 1), amount: s.Price, resAmount: amount}, now)
	return *s, nil
}
