package cloudsigma

import (
	"net/http"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// controlRoutes adds CloudSigma's own /_sim/ endpoints to the common ones
// (clock, faults, rate limit, stats). Model changes take effect from the
// next billing cycle; payments and promotions enter the ledger at once.
func (s *Sim) controlRoutes() {
	c := s.Server.Control()
	m := s.Model
	sim.HandleControl(c, "GET /_sim/model", func(*http.Request, struct{}) (any, error) {
		return map[string]any{
			"start": m.Start(), "now": m.Now(), "balance": m.Balance().String(), "currency": m.cfg.Currency,
			"ledger_entries": m.LedgerLen(), "servers": len(m.Servers()), "subscriptions": len(m.Subscriptions()),
		}, nil
	})
	type addServers struct {
		Count int `json:"count"`
	}
	sim.HandleControl(c, "POST /_sim/servers", func(_ *http.Request, in addServers) (any, error) {
		return map[string]any{"uuids": m.AddServers(max(1, in.Count))}, nil
	})
	sim.HandleControl(c, "DELETE /_sim/servers/{uuid}", func(r *http.Request, _ struct{}) (any, error) {
		return sim.OK, m.RemoveServer(r.PathValue("uuid"))
	})
	type buy struct {
		Resource  string `json:"resource"`
		Amount    int64  `json:"amount"`
		Period    string `json:"period"`
		AutoRenew bool   `json:"auto_renew"`
	}
	sim.HandleControl(c, "POST /_sim/subscriptions", func(_ *http.Request, in buy) (any, error) {
		sub, err := m.BuySubscription(in.Resource, in.Amount, in.Period, in.AutoRenew)
		return map[string]any{"id": sub.ID, "uuid": sub.UUID, "price": sub.Price.String(), "start": sub.Start, "end": sub.End}, err
	})
	type payment struct {
		Amount float64 `json:"amount"`
	}
	sim.HandleControl(c, "POST /_sim/payments", func(_ *http.Request, in payment) (any, error) {
		e, err := m.AddPayment(in.Amount)
		return ledgerObject(e), err
	})
	type promotion struct {
		Code   string `json:"code"`
		Amount string `json:"amount"`
	}
	sim.HandleControl(c, "POST /_sim/promotions", func(_ *http.Request, in promotion) (any, error) {
		e, err := m.AddPromotion(in.Code, in.Amount)
		return ledgerObject(e), err
	})
	sim.HandleControl(c, "POST /_sim/nonces/expire", func(*http.Request, struct{}) (any, error) {
		s.ExpireNonces()
		return sim.OK, nil
	})
}
