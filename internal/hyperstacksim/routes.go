package hyperstacksim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// routes registers every path of the billing API's spec.
func (s *Sim) routes() {
	const base = "/v1/billing/billing"
	for _, f := range Families {
		sh := shapes[f]
		s.handle("GET "+base+"/history/"+string(f), s.listHandler(f))
		if f == FamilyContract {
			continue
		}
		one := base + "/history/" + string(f) + "/{" + sh.param + "}"
		s.handle("GET "+one, s.resourceHandler(f, sh.param, (*Model).detail))
		s.handle("GET "+one+"/graph", s.resourceHandler(f, sh.param, (*Model).graph))
	}
	s.handle("GET "+base+"/history", func(r *sim.Request) (obj, *apiError) {
		w, err := s.window(r.Request)
		if err != nil {
			return nil, err
		}
		graph := r.URL.Query().Get("graph") == "true"
		return s.read(func(m *Model) obj { return m.orgHistory(w, graph) }), nil
	})
	// The spec documents no 404 for billing events: an unknown id gets the
	// documented 400, with error_reason not_found.
	s.handle("GET "+base+"/virtual-machine/{vm_id}/billing-events", withStatus(http.StatusBadRequest, s.resourceHandler(FamilyVM, "vm_id", (*Model).events)))
	s.handle("GET "+base+"/volume/{volume_id}/billing-events", withStatus(http.StatusBadRequest, s.resourceHandler(FamilyVolume, "volume_id", (*Model).events)))
	s.handle("GET "+base+"/virtual-machine/{vm_id}/sub-resource", s.resourceHandler(FamilyVM, "vm_id",
		func(m *Model, r *Resource, w Window) obj { return m.subResources(r, w, false) }))
	s.handle("GET "+base+"/virtual-machine/{vm_id}/sub-resource/graph", s.resourceHandler(FamilyVM, "vm_id",
		func(m *Model, r *Resource, w Window) obj { return m.subResources(r, w, true) }))
	s.handle("GET "+base+"/last-day-cost", func(*sim.Request) (obj, *apiError) {
		return s.read((*Model).lastDayCost), nil
	})
	s.handle("GET "+base+"/usage", func(r *sim.Request) (obj, *apiError) {
		q := r.URL.Query()
		deleted := false
		if v := q.Get("deleted"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, badRequest("deleted must be true or false")
			}
			deleted = b
		}
		env := q.Get("environment")
		return s.read(func(m *Model) obj { return m.usage(deleted, env) }), nil
	})
	s.handle("GET "+base+"/threshold", func(*sim.Request) (obj, *apiError) {
		return s.read((*Model).thresholdList), nil
	})
	s.handle("PUT "+base+"/threshold/{threshold_id}", s.updateThreshold)
	s.handle("POST "+base+"/vouchers/redeem", s.redeemVoucher)
	s.handle("GET /v1/billing/user-credit/credit", func(*sim.Request) (obj, *apiError) {
		return s.read((*Model).credit), nil
	})
}

// read runs fn under the model's read lock.
func (s *Sim) read(fn func(*Model) obj) obj {
	s.Model.mu.RLock()
	defer s.Model.mu.RUnlock()
	return fn(s.Model)
}

func (s *Sim) window(r *http.Request) (Window, *apiError) {
	q := r.URL.Query()
	w, err := windowFromQuery(q.Get("start_date"), q.Get("end_date"), s.Model.Now())
	if err != nil {
		return Window{}, badRequest("%v", err)
	}
	return w, nil
}

func (s *Sim) listHandler(f Family) apiHandler {
	return func(r *sim.Request) (obj, *apiError) {
		w, err := s.window(r.Request)
		if err != nil {
			return nil, err
		}
		q := r.URL.Query()
		p, err := pageFromQuery(q, s.Model.shapes.MaxPerPage)
		if err != nil {
			return nil, err
		}
		if r.Fault == sim.FaultUnstablePages {
			p.shift = []int{1, -1}[r.Draw.Pick(105, 2)] // an item appeared before this page, or vanished
		}
		paged := f != FamilyContract // the contract history has no pagination
		return s.read(func(m *Model) obj { return m.list(f, w, q.Get("search"), p, paged) }), nil
	}
}

// resourceHandler serves a per-resource endpoint: it resolves the id, reads
// the window and hands both to build.
func (s *Sim) resourceHandler(f Family, param string, build func(*Model, *Resource, Window) obj) apiHandler {
	return func(r *sim.Request) (obj, *apiError) {
		raw := r.PathValue(param)
		id, perr := strconv.ParseInt(raw, 10, 64)
		if perr != nil {
			return nil, badRequest("%s must be an integer", param)
		}
		r.CountResource(raw)
		w, err := s.window(r.Request)
		if err != nil {
			return nil, err
		}
		s.Model.mu.RLock()
		defer s.Model.mu.RUnlock()
		rs, ok := s.Model.byID[f][id]
		if !ok || rs.Created.After(s.Model.Now()) {
			return nil, notFound("%s %d not found", strings.ReplaceAll(string(f), "-", "_"), id)
		}
		return build(s.Model, rs, w), nil
	}
}

// withStatus answers an unknown resource with another HTTP status.
func withStatus(status int, h apiHandler) apiHandler {
	return func(r *sim.Request) (obj, *apiError) {
		body, err := h(r)
		if err != nil && err.reason == "not_found" {
			err.status = status
		}
		return body, err
	}
}

func decodeBody(r *http.Request, v any) *apiError {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return badRequest("read body: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: %v", err)
	}
	return nil
}

func (s *Sim) updateThreshold(r *sim.Request) (obj, *apiError) {
	id, err := strconv.ParseInt(r.PathValue("threshold_id"), 10, 64)
	if err != nil {
		return nil, badRequest("threshold_id must be an integer")
	}
	var body struct {
		Subscribe *bool `json:"subscribe"`
	}
	if e := decodeBody(r.Request, &body); e != nil {
		return nil, e
	}
	if body.Subscribe == nil {
		return nil, badRequest("subscribe is required")
	}
	m := s.Model
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.thresholds {
		if t.ID == id {
			t.Subscribed = *body.Subscribe
			return obj{"status": true, "message": "Threshold updated successfully", "threshold": t.json()}, nil
		}
	}
	return nil, notFound("threshold %d not found", id)
}

func (s *Sim) redeemVoucher(r *sim.Request) (obj, *apiError) {
	var body struct {
		Code string `json:"voucher_code"`
	}
	if e := decodeBody(r.Request, &body); e != nil {
		return nil, e
	}
	if body.Code == "" {
		return nil, badRequest("voucher_code is required")
	}
	m := s.Model
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vouchers[body.Code]
	if !ok {
		return nil, notFound("voucher %q not found", body.Code)
	}
	if v.uses >= v.maxUses {
		return nil, badRequest("voucher %q has already been redeemed", body.Code)
	}
	v.uses++
	m.redeemed += v.amount
	return obj{"status": true, "message": fmt.Sprintf("Voucher redeemed: %s credit added", v.amount), "voucher": obj{
		"code": body.Code, "id": intJSON(v.id), "status": "REDEEMED",
		"redemption_count": intJSON(v.uses), "max_redemption_count": intJSON(v.maxUses),
		"remaining_redemptions": intJSON(v.maxUses - v.uses),
	}}, nil
}
