package hyperstacksim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// controlRoutes registers the /_sim/ endpoints: the same operations as the
// Go methods, for a simulator running in another process. They need no key
// and do not count toward the rate limit or the statistics.
func (s *Sim) controlRoutes() {
	c := s.control
	c.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, r *http.Request) {
		st := s.Stats()
		out := struct {
			Stats
			ByResource map[string]map[string]int64 `json:"by_resource"`
		}{st, st.ByResource}
		writeJSON(w, http.StatusOK, out)
	})
	c.HandleFunc("POST /_sim/stats/reset", func(w http.ResponseWriter, r *http.Request) {
		s.ResetStats()
		writeJSON(w, http.StatusOK, obj{"ok": true})
	})
	c.HandleFunc("GET /_sim/clock", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, obj{"now": timestamp(s.Model.Now()), "start": timestamp(s.Model.Start())})
	})
	c.HandleFunc("POST /_sim/clock", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Advance string `json:"advance"`
		}
		d, err := decodeControl(r, &body, func() (time.Duration, error) { return time.ParseDuration(body.Advance) })
		if err == nil {
			err = s.Model.Advance(d)
		}
		if reply(w, err) {
			writeJSON(w, http.StatusOK, obj{"now": timestamp(s.Model.Now())})
		}
	})
	c.HandleFunc("POST /_sim/resources", func(w http.ResponseWriter, r *http.Request) {
		var body NewResource
		id, err := decodeControl(r, &body, func() (int64, error) { return s.Model.CreateResource(body) })
		if reply(w, err) {
			writeJSON(w, http.StatusOK, obj{"id": id})
		}
	})
	c.HandleFunc("POST /_sim/resources/{family}/{id}/terminate", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err == nil {
			err = s.Model.Terminate(Family(r.PathValue("family")), id)
		}
		if reply(w, err) {
			writeJSON(w, http.StatusOK, obj{"ok": true})
		}
	})
	c.HandleFunc("POST /_sim/vms/{id}/state", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		var body struct {
			State string `json:"state"`
		}
		if err == nil {
			_, err = decodeControl(r, &body, func() (bool, error) { return true, s.Model.SetVMState(id, body.State) })
		}
		if reply(w, err) {
			writeJSON(w, http.StatusOK, obj{"ok": true})
		}
	})
	c.HandleFunc("POST /_sim/restate", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Family  Family    `json:"family"`
			ID      int64     `json:"id"`
			From    time.Time `json:"from"`
			To      time.Time `json:"to"`
			Percent int64     `json:"percent"`
		}
		_, err := decodeControl(r, &body, func() (bool, error) {
			return true, s.Model.Restate(body.Family, body.ID, body.From, body.To, body.Percent)
		})
		if reply(w, err) {
			writeJSON(w, http.StatusOK, obj{"ok": true})
		}
	})
	c.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		f := s.faults
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, f)
	})
	c.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		_, err := decodeControl(r, &f, func() (bool, error) { s.SetFaults(f); return true, nil })
		if reply(w, err) {
			writeJSON(w, http.StatusOK, f)
		}
	})
	c.HandleFunc("POST /_sim/rate-limit", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			PerMinute  int  `json:"per_minute"`
			RetryAfter bool `json:"retry_after"`
		}
		_, err := decodeControl(r, &body, func() (bool, error) { s.SetRateLimit(body.PerMinute, body.RetryAfter); return true, nil })
		if reply(w, err) {
			writeJSON(w, http.StatusOK, body)
		}
	})
}

// decodeControl decodes a control request's JSON body, then runs do.
func decodeControl[T any](r *http.Request, body any, do func() (T, error)) (T, error) {
	var zero T
	if err := json.NewDecoder(r.Body).Decode(body); err != nil {
		return zero, errors.New("invalid JSON body: " + err.Error())
	}
	return do()
}

// reply writes an error, if any, and reports whether the caller should
// write its success answer.
func reply(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, obj{"error": err.Error()})
	default:
		writeJSON(w, http.StatusBadRequest, obj{"error": err.Error()})
	}
	return false
}
