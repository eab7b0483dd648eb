package soracom

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// CorrectionBody is the body of POST /_sim/corrections.
type CorrectionBody struct {
	Month  string `json:"month"`            // the closed month corrected, yyyyMM
	SimID  string `json:"sim_id,omitempty"` // the SIM it concerns; empty: the account
	Amount string `json:"amount"`           // decimal, negative for a credit
}

// SIMsBody is the body of POST /_sim/sims.
type SIMsBody struct {
	Count int `json:"count"`
}

// controlRoutes registers the simulator's own /_sim/ endpoints; the common
// ones (clock, faults, rate limit, stats) come with the server.
func (s *Sim) controlRoutes() {
	c := s.server.Control()
	sim.HandleControl(c, "POST /_sim/corrections", func(_ *http.Request, b CorrectionBody) (any, error) {
		mo, err := ParseMonth(b.Month)
		if err != nil {
			return nil, err
		}
		amount, err := ParseMoney(b.Amount)
		if err != nil {
			return nil, err
		}
		corr, err := s.Model.Correct(mo, b.SimID, amount)
		if errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("%w: %v", sim.ErrNotFound, err)
		}
		if err != nil {
			return nil, err
		}
		return map[string]any{"month": corr.Target.String(), "issued": corr.Issued.String(),
			"booked_in": corr.Issued.Month().String(), "amount": corr.Amount.JSON()}, nil
	})
	sim.HandleControl(c, "POST /_sim/sims", func(_ *http.Request, b SIMsBody) (any, error) {
		added, err := s.Model.AddSIMs(b.Count)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(added))
		for i, a := range added {
			ids[i] = a.SimID
		}
		return map[string]any{"sim_ids": ids, "activated": s.Model.today().String()}, nil
	})
	sim.HandleControl(c, "GET /_sim/months", func(*http.Request, struct{}) (any, error) {
		m := s.Model
		out := []any{}
		for _, mo := range m.Months() {
			b := m.ExpectedBill(mo)
			out = append(out, map[string]any{
				"month": mo.String(), "state": b.State, "closes_at": m.ClosesAt(mo).Format(time.RFC3339),
				"days": b.Days, "rows": b.Rows, "pre_tax": b.PreTax.JSON(), "billed": b.Billed.JSON(),
				"coupon": b.Coupon.JSON(), "tax": b.Tax.JSON(), "amount": b.Amount.JSON(),
			})
		}
		return out, nil
	})
	sim.HandleControl(c, "GET /_sim/downloads", func(*http.Request, struct{}) (DownloadStats, error) {
		return s.Downloads(), nil
	})
}
