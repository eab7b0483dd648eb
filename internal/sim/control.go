package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// ErrNotFound is what a control function wraps to answer 404.
var ErrNotFound = errors.New("not found")

// HandleControl registers a /_sim/ endpoint on mux (Server.Control()). The
// request's JSON body is decoded into an In first, unless In is struct{};
// fn's Out is the JSON answer. An error answers {"error": "..."}: 404 if it
// wraps ErrNotFound, 400 otherwise. Control endpoints need no credentials
// and count toward neither the rate limit nor the statistics.
func HandleControl[In, Out any](mux *http.ServeMux, pattern string, fn func(r *http.Request, in In) (Out, error)) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		var in In
		if _, none := any(in).(struct{}); !none {
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid JSON body: " + err.Error()})
				return
			}
		}
		out, err := fn(r, in)
		switch {
		case err == nil:
			WriteJSON(w, http.StatusOK, out)
		case errors.Is(err, ErrNotFound):
			WriteJSON(w, http.StatusNotFound, map[string]any{"error": err.Error()})
		default:
			WriteJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		}
	})
}

// OK is the answer of a control endpoint with nothing else to say:
// {"ok": true}.
var OK = struct {
	OK bool `json:"ok"`
}{true}

// RateLimitBody is the body of POST /_sim/rate-limit. PerMinute is the
// limit per window, a minute unless Config.RateWindow says otherwise.
type RateLimitBody struct {
	PerMinute  int  `json:"per_minute"`
	RetryAfter bool `json:"retry_after"`
}

// ClockBody is the body of POST /_sim/clock: advance by a duration ("90m")
// or set to a time (RFC 3339).
type ClockBody struct {
	Advance string    `json:"advance,omitempty"`
	Set     time.Time `json:"set,omitzero"`
}

// commonControls registers what every simulator answers under /_sim/.
func (s *Server) commonControls() {
	c := s.control
	HandleControl(c, "GET /_sim/stats", func(*http.Request, struct{}) (any, error) {
		st := s.Stats()
		return struct {
			Stats
			ByResource map[string]map[string]int64 `json:"by_resource"`
		}{st, st.ByResource}, nil
	})
	HandleControl(c, "POST /_sim/stats/reset", func(*http.Request, struct{}) (any, error) {
		s.ResetStats()
		return OK, nil
	})
	HandleControl(c, "GET /_sim/faults", func(*http.Request, struct{}) (Faults, error) {
		return s.Faults(), nil
	})
	HandleControl(c, "POST /_sim/faults", func(_ *http.Request, f Faults) (Faults, error) {
		for class := range f.Extra {
			if !slices.Contains(s.p.Classes, class) {
				return Faults{}, fmt.Errorf("unknown fault class %q", class)
			}
		}
		s.SetFaults(f)
		return f, nil
	})
	HandleControl(c, "POST /_sim/rate-limit", func(_ *http.Request, b RateLimitBody) (RateLimitBody, error) {
		s.SetRateLimit(b.PerMinute, b.RetryAfter)
		return b, nil
	})
	if clock := s.p.Clock; clock != nil {
		view := func() map[string]any {
			out := map[string]any{}
			if s.p.ClockInfo != nil {
				out = s.p.ClockInfo()
			}
			out["now"] = clock.Now().Format(time.RFC3339)
			return out
		}
		HandleControl(c, "GET /_sim/clock", func(*http.Request, struct{}) (map[string]any, error) {
			return view(), nil
		})
		HandleControl(c, "POST /_sim/clock", func(_ *http.Request, b ClockBody) (map[string]any, error) {
			var err error
			switch {
			case b.Advance != "" && !b.Set.IsZero():
				err = errors.New("advance or set, not both")
			case b.Advance != "":
				var d time.Duration
				if d, err = time.ParseDuration(b.Advance); err == nil {
					err = clock.Advance(d)
				}
			case !b.Set.IsZero():
				err = clock.Set(b.Set)
			default:
				err = errors.New(`want {"advance": "1h"} or {"set": "2026-11-01T00:00:00Z"}`)
			}
			if err != nil {
				return nil, err
			}
			return map[string]any{"now": clock.Now().Format(time.RFC3339)}, nil
		})
	}
}
