package soracom

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// routes registers every path of the spec subset, and GET /coupons.
func (s *Sim) routes() {
	s.handle("POST /v1/auth", s.auth.login)
	s.handle("POST /v1/auth/logout", s.auth.logout)
	s.handle("GET /v1/bills", s.billList)
	s.handle("GET /v1/bills/latest", s.latest)
	s.handle("GET /v1/bills/{yyyyMM}", s.monthHandler(s.monthlyBill))
	s.handle("GET /v1/bills/{yyyyMM}/daily", s.monthHandler(s.daily))
	s.handle("GET /v1/bills/summaries/bill_items", s.summaries(s.billItems))
	s.handle("GET /v1/bills/summaries/sims", s.summaries(s.simSummary))
	s.handle("POST /v1/bills/{yyyyMM}/export", s.monthHandler(s.exportMonth))
	s.handle("POST /v1/bills/latest/export", s.exportLatest)
	s.handle("GET /v1/files/exported/{exported_file_id}", s.exportedFile)
	s.handle("GET /v1/coupons", s.couponList)
}

func money(m Money) json.Number { return m.JSON() }

// monthHandler resolves the {yyyyMM} of a path: a month that is not the
// current one must be closed, within the last MonthsKept months and have
// charges, or it is 404, as Soracom answers for a month not finalized yet.
func (s *Sim) monthHandler(h func(r *sim.Request, mo Month) (any, error)) sim.Handler {
	return func(r *sim.Request) (any, error) {
		raw := r.PathValue("yyyyMM")
		mo, err := ParseMonth(raw)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "Invalid yyyyMM: %q.", raw)
		}
		r.CountResource(raw)
		return h(r, mo)
	}
}

func (s *Sim) noBill(mo Month) error {
	return errorf(http.StatusNotFound, CodeNoBill, "No finalized bill for %s (%s).", mo, s.Model.State(mo))
}

// monthlyBillJSON is a MonthlyBill: a closed month's, or the current
// month's preliminary one (state temporary, no payment yet).
func (s *Sim) monthlyBillJSON(b Bill) map[string]any {
	out := map[string]any{
		"yearMonth":           b.Month.String(),
		"amount":              money(b.Amount),
		"appliedCouponAmount": money(b.Coupon),
		"currency":            s.Model.Currency(),
		"state":               "temporary",
	}
	if b.State == StateClosed {
		out["state"] = "closed"
		out["paymentStatus"] = "paid"
		h := derive([]byte(strconv.FormatUint(s.Model.seed, 10)), "payment", b.Month.String())
		n, _ := strconv.ParseUint(h[:14], 16, 64)
		out["paymentTransactionId"] = strconv.FormatUint(10_000_000_000_000_000+n%90_000_000_000_000_000, 10) + "_" + uuidOf(h[16:])
	}
	return out
}

func (s *Sim) billList(*sim.Request) (any, error) {
	m := s.Model
	var closed []Month
	for _, mo := range m.Months() {
		if m.State(mo) == StateClosed {
			closed = append(closed, mo)
		}
	}
	list := []any{}
	if len(closed) > 0 {
		bills, _ := m.bills(closed[len(closed)-1])
		for i := len(bills) - 1; i >= 0; i-- {
			if bills[i].State == StateClosed {
				list = append(list, s.monthlyBillJSON(bills[i]))
			}
		}
	}
	return map[string]any{"billList": list}, nil
}

// shown reports whether a month's bill and daily figures are visible: the
// current month's preliminary ones, or a closed month's.
func (s *Sim) shown(mo Month) bool {
	st := s.Model.State(mo)
	return st == StateClosed || st == StatePreliminary
}

func (s *Sim) monthlyBill(_ *sim.Request, mo Month) (any, error) {
	if !s.shown(mo) {
		return nil, s.noBill(mo)
	}
	return s.monthlyBillJSON(s.Model.ExpectedBill(mo)), nil
}

func (s *Sim) daily(_ *sim.Request, mo Month) (any, error) {
	if !s.shown(mo) {
		return nil, s.noBill(mo)
	}
	days := s.Model.ExpectedDaily(mo)
	list := make([]any, 0, len(days))
	for i := len(days) - 1; i >= 0; i-- {
		list = append(list, map[string]any{
			"date": days[i].Day.String(), "amount": money(days[i].Amount), "currency": s.Model.Currency(),
		})
	}
	return map[string]any{"billList": list}, nil
}

func (s *Sim) latest(*sim.Request) (any, error) {
	m := s.Model
	b := m.ExpectedBill(m.CurrentMonth())
	return map[string]any{
		"amount":            money(b.Amount),
		"currency":          m.Currency(),
		"lastEvaluatedTime": m.EvaluatedAt().In(m.Location()).Format("20060102150405"),
	}, nil
}

// SummaryMonths are the months a summary covers now: this month and the
// three before it, newest first, those the account has.
func (m *Model) SummaryMonths() []Month {
	var out []Month
	cur := m.CurrentMonth()
	for mo := cur; mo > cur-4; mo-- {
		if st := m.State(mo); st != StateNone && st != StateExpired {
			out = append(out, mo)
		}
	}
	return out
}

// UpdatedAt is when a month's summary figures were last evaluated: when it
// closed, or the evaluation time.
func (m *Model) UpdatedAt(mo Month) time.Time {
	if m.State(mo) == StateClosed {
		return m.ClosesAt(mo)
	}
	return m.EvaluatedAt()
}

func (s *Sim) summaries(breakdown func(mo Month) []any) sim.Handler {
	return func(*sim.Request) (any, error) {
		m := s.Model
		out := []any{}
		for _, mo := range m.SummaryMonths() {
			out = append(out, map[string]any{
				"yearMonth":         mo.String(),
				"currency":          m.Currency(),
				"updatedTime":       json.Number(strconv.FormatInt(m.UpdatedAt(mo).Unix(), 10)),
				"costBreakdownList": breakdown(mo),
			})
		}
		return out, nil
	}
}

func (s *Sim) billItems(mo Month) []any {
	items := s.Model.ExpectedBillItems(mo)
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = map[string]any{"amount": money(it.Amount), "billItemCategory": it.Category, "billItemName": it.Name}
	}
	return out
}

func (s *Sim) simSummary(mo Month) []any {
	top := s.Model.ExpectedTopSIMs(mo)
	out := make([]any, len(top))
	for i, c := range top {
		out[i] = map[string]any{"amount": money(c.Amount), "simId": c.SimID}
	}
	return out
}

func (s *Sim) couponList(*sim.Request) (any, error) {
	list := []any{}
	for _, c := range s.Model.CouponBalances() {
		list = append(list, map[string]any{
			"couponCode":      c.Code,
			"amount":          money(c.Amount),
			"balance":         money(c.Balance),
			"expiryYearMonth": c.Expiry.String(),
		})
	}
	return map[string]any{"couponList": list}, nil
}
