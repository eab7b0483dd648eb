package soracom

import "time"

// State is where a month is in its life cycle, on the model's clock.
type State string

const (
	StateNone        State = "none"        // before the account's first day: no charge
	StateExpired     State = "expired"     // more than MonthsKept months back
	StateFuture      State = "future"      // not begun
	StatePreliminary State = "preliminary" // the current month
	StatePending     State = "pending"     // ended, not closed yet
	StateClosed      State = "closed"      // final; never changes
)

// MonthsKept is how far back the API answers: "the last 18 months".
const MonthsKept = 18

// CurrentMonth is the month of the clock's day.
func (m *Model) CurrentMonth() Month { return m.today().Month() }

// State is a month's place in its life cycle now.
func (m *Model) State(mo Month) State {
	today := m.today()
	cur := today.Month()
	switch {
	case mo > cur:
		return StateFuture
	case mo < m.start.Month():
		return StateNone
	case mo < cur-MonthsKept:
		return StateExpired
	case mo == cur:
		return StatePreliminary
	case today < closesOn(mo, m.closeDelay):
		return StatePending
	}
	return StateClosed
}

// ClosesAt is when a month's bill becomes final.
func (m *Model) ClosesAt(mo Month) time.Time {
	return closesOn(mo, m.closeDelay).Start(m.tariff.loc)
}

// EvaluatedAt is the time up to which the preliminary figures are
// evaluated: Soracom's lastEvaluatedTime, lagging the clock by LatestLag.
// Preliminary figures cover the whole days before it.
func (m *Model) EvaluatedAt() time.Time {
	return m.Now().Add(-m.latestLag).Truncate(time.Hour)
}

// viewOf is how much of a month the figures show now: all of it once it
// is closed, else its days before the evaluation time's day.
func (m *Model) viewOf(mo Month) view {
	if m.State(mo) == StateClosed {
		return view{month: mo, days: mo.Days()}
	}
	days := int(dayOf(m.EvaluatedAt(), m.tariff.loc) - mo.First())
	return view{month: mo, days: max(0, min(days, mo.Days()))}
}

// Bill is a month's bill as the model computes it.
type Bill struct {
	Month  Month
	State  State
	Days   int   // days of the month covered
	PreTax Money // Σ CSV rows: after free tier and discounts, before coupons and tax
	Billed Money // PreTax rounded down to the currency's minor unit
	Coupon Money // coupons applied
	Tax    Money // on Billed − Coupon, rounded down to the minor unit
	Amount Money // Billed − Coupon + Tax
	Rows   int64 // CSV rows
}

// bills computes the bills from the account's first month up to mo,
// carrying coupon balances forward, and returns them with the balances
// left after the last.
func (m *Model) bills(upTo Month) ([]Bill, []Money) {
	t := m.tariff
	balances := make([]Money, len(m.coupons))
	for i, c := range m.coupons {
		balances[i] = c.Amount
	}
	var out []Bill
	for cur := m.start.Month(); cur <= upTo; cur++ {
		a := m.aggregate(m.viewOf(cur))
		b := Bill{Month: cur, State: m.State(cur), Days: a.view.days, PreTax: a.total, Rows: a.rows}
		b.Billed = a.total.floorTo(t.minor)
		// Coupons apply oldest expiry first; they were issued in that order.
		for i, c := range m.coupons {
			if cur < c.Registered || cur > c.Expiry || b.Billed-b.Coupon <= 0 {
				continue
			}
			use := min(balances[i], b.Billed-b.Coupon)
			balances[i] -= use
			b.Coupon += use
		}
		if taxable := b.Billed - b.Coupon; taxable > 0 {
			b.Tax = (taxable * Money(t.taxPercent) / 100).floorTo(t.minor)
		}
		b.Amount = b.Billed - b.Coupon + b.Tax
		out = append(out, b)
	}
	return out, balances
}

// ExpectedBill is a month's bill as the model has it now, whether or not
// the API would show it (see State); the zero Bill before the account.
func (m *Model) ExpectedBill(mo Month) Bill {
	bills, _ := m.bills(mo)
	if len(bills) == 0 {
		return Bill{Month: mo, State: m.State(mo)}
	}
	return bills[len(bills)-1]
}

// DailyAmount is one day's total of the daily rows.
type DailyAmount struct {
	Day    Day
	Amount Money
}

// ExpectedDaily is a month's daily totals now, oldest first, from the
// account's first day to the last evaluated day. Monthly rows are not in it.
func (m *Model) ExpectedDaily(mo Month) []DailyAmount {
	a := m.aggregate(m.viewOf(mo))
	var out []DailyAmount
	for i, amount := range a.daily {
		d := mo.First() + Day(i)
		if d >= m.start {
			out = append(out, DailyAmount{Day: d, Amount: amount})
		}
	}
	return out
}

// ExpectedBillItems is the bill-item summary of a month now: every item
// with its total, largest first. It sums to the month's PreTax.
func (m *Model) ExpectedBillItems(mo Month) []ItemCost {
	return append([]ItemCost(nil), m.aggregate(m.viewOf(mo)).items...)
}

// ExpectedTopSIMs is the SIM summary of a month now: the 100 SIMs with the
// largest totals of their CSV rows.
func (m *Model) ExpectedTopSIMs(mo Month) []SIMCost {
	return m.aggregate(m.viewOf(mo)).topSIMs(100)
}

// ExpectedRows returns a month's CSV rows now, in the file's order. A big
// account's month is large: prefer EachRow.
func (m *Model) ExpectedRows(mo Month) []Row {
	var out []Row
	m.EachRow(mo, func(r *Row) { out = append(out, *r) })
	return out
}

// EachRow calls fn with each of a month's CSV rows now, in the file's
// order: daily rows day by day, then the monthly rows. fn must not keep
// the *Row.
func (m *Model) EachRow(mo Month, fn func(*Row)) {
	m.eachRow(m.aggregate(m.viewOf(mo)), fn)
}

func (m *Model) eachRow(a *aggregate, fn func(*Row)) {
	m.eachDailyRow(a.view, a.sims, fn)
	for i := range a.monthly {
		r := a.monthly[i]
		fn(&r)
	}
}

// CouponBalance is a coupon with what is left of it after the closed
// months' bills.
type CouponBalance struct {
	Coupon
	Balance Money
}

// CouponBalances returns the account's coupons and what is left of them
// after the closed months' bills.
func (m *Model) CouponBalances() []CouponBalance {
	last := m.start.Month() - 1
	for st := m.State(last + 1); st == StateClosed || st == StateExpired; st = m.State(last + 1) {
		last++
	}
	_, balances := m.bills(last)
	out := make([]CouponBalance, len(m.coupons))
	for i, c := range m.coupons {
		out[i] = CouponBalance{Coupon: c, Balance: balances[i]}
	}
	return out
}

// Months lists the months the account has, oldest first, up to the
// current one.
func (m *Model) Months() []Month {
	var out []Month
	for mo := m.start.Month(); mo <= m.CurrentMonth(); mo++ {
		out = append(out, mo)
	}
	return out
}

func (s State) String() string { return string(s) }
