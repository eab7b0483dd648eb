package hyperstacksim

import (
	"net/http"
	"strconv"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// controlRoutes registers the /_sim/ endpoints of this simulator's model:
// the same operations as the Model's methods, for a simulator running in
// another process. Package sim adds the clock, faults, rate limit and
// statistics.
func (s *Sim) controlRoutes() {
	c := s.srv.Control()
	sim.HandleControl(c, "POST /_sim/resources", func(_ *http.Request, body NewResource) (any, error) {
		id, err := s.Model.CreateResource(body)
		return map[string]any{"id": id}, err
	})
	sim.HandleControl(c, "POST /_sim/resources/{family}/{id}/terminate", func(r *http.Request, _ struct{}) (any, error) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			return nil, err
		}
		return sim.OK, s.Model.Terminate(Family(r.PathValue("family")), id)
	})
	sim.HandleControl(c, "POST /_sim/vms/{id}/state", func(r *http.Request, body struct {
		State string `json:"state"`
	}) (any, error) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			return nil, err
		}
		return sim.OK, s.Model.SetVMState(id, body.State)
	})
	sim.HandleControl(c, "POST /_sim/restate", func(_ *http.Request, body struct {
		Family  Family    `json:"family"`
		ID      int64     `json:"id"`
		From    time.Time `json:"from"`
		To      time.Time `json:"to"`
		Percent int64     `json:"percent"`
	}) (any, error) {
		return sim.OK, s.Model.Restate(body.Family, body.ID, body.From, body.To, body.Percent)
	})
}
