package cloudsigma

import (
	"fmt"
	"time"
)

// credit is a payment or promotion waiting for its time in the ledger.
type credit struct {
	at     int64 // unix microseconds
	kind   entryKind
	amount Money // negative: credits lower the debt
	ref    int32 // promotion code index
}

// seededCredits returns the payments and promotions the seed schedules in
// the calendar month starting at month: a card payment on a day of every
// month, sized to the account, and a welcome promotion three days into the
// history. The history opens with a payment of its own (see ledger.init).
func (m *Model) seededCredits(month time.Time) []credit {
	var out []credit
	mi := uint64(month.Year()*12 + int(month.Month()))
	h := func(what uint64) uint64 { return mix(m.seed, saltPayment, mi, what) }
	at := month.AddDate(0, 0, int(h(1)%28)).Add(time.Duration(h(2)%86400)*time.Second + time.Duration(h(3)%1e6)*time.Microsecond)
	// Card amounts are floats in the live API: 55.45 is stored as 55.45000000000000284217.
	cents := (int64(len(m.servers))*13000 + 2000 + int64(h(4)%5000)) * (95 + int64(h(5)%10)) / 100
	out = append(out, credit{at: at.UnixMicro(), kind: kindPayment, amount: moneyFromFloat(float64(cents) / 100).Neg()})
	if promo := m.start.Add(72*time.Hour + time.Duration(mix(m.seed, saltPromo)%3600)*time.Second); !promo.Before(month) && promo.Before(month.AddDate(0, 1, 0)) {
		m.promos = append(m.promos, "WELCOME25")
		out = append(out, credit{at: promo.UnixMicro(), kind: kindPromotion, amount: MustMoney("-25").MulInt(int64(max(1, len(m.servers)/10))), ref: int32(len(m.promos) - 1)})
	}
	return out
}

// AddPayment records a card payment of amount (a float, as a card form
// sends it) now, and returns its ledger entry.
func (m *Model) AddPayment(amount float64) (LedgerEntry, error) {
	if !(amount > 0) || amount > 1e9 {
		return LedgerEntry{}, fmt.Errorf("payment amount must be between 0 and 1e9, not %v", amount)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	i := m.led.appendNow(m, entry{kind: kindPayment, amount: moneyFromFloat(amount).Neg(), resAmount: 1}, m.nowLocked())
	return m.led.export(m, i), nil
}

// AddPromotion credits a promotion code's amount ("25.00") now, and returns
// its ledger entry.
func (m *Model) AddPromotion(code, amount string) (LedgerEntry, error) {
	a, err := ParseMoney(amount)
	if err != nil || a.Sign() <= 0 {
		return LedgerEntry{}, fmt.Errorf("promotion amount must be a positive decimal, not %q", amount)
	}
	if code == "" {
		code = "PROMO"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	m.promos = append(m.promos, code)
	i := m.led.appendNow(m, entry{kind: kindPromotion, amount: a.Neg(), resAmount: 1, ref: int32(len(m.promos) - 1)}, m.nowLocked())
	return m.led.export(m, i), nil
}
