// Package hyperstacksim simulates the Hyperstack billing API for tests,
// benchmarks and demos.
//
// One seeded cost model (Model) stands behind every endpoint, so the numbers
// of all endpoints agree exactly. The HTTP side reproduces the live API's
// behaviour: the api_key header, /v1 paths, 1-based pagination, a per-client
// rate limit of 500 requests a minute, graph granularity, the looser shapes
// of the provider's documented examples, and, at rates you choose, its
// faults. Control endpoints under /_sim/ move the clock, change resources,
// restate past costs and report statistics. The machinery shared with the
// other simulators (faults, rate limit, latency, statistics, controls) is
// package sim's; this package holds the model, the routes and the shapes.
package hyperstacksim

import (
	"errors"
	"net/http"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// Config is a simulator's setup.
type Config struct {
	ModelConfig
	// APIKey is the api_key header value requests must carry; empty accepts
	// any request.
	APIKey string
	// RateLimit is requests per minute per client: 0 means the live API's
	// 500, a negative number means no limit.
	RateLimit int
	// RetryAfter adds a Retry-After header to 429s (the live API sends none).
	RetryAfter bool
	Faults     Faults
	// Latency is how long after it arrives an API request is answered,
	// the simulator's own work included.
	Latency Latency
	// HangFor is how long a hanging response hangs (default 10 minutes, or
	// until the client gives up).
	HangFor time.Duration
	// SlowBodyFor is how long a slow body takes to trickle out (default 2s).
	SlowBodyFor time.Duration
	// Clock is the wall clock the rate limit counts minutes by (default
	// time.Now). The billing clock is the model's.
	Clock func() time.Time
	Shapes
}

// Shapes are the live API's looser answers, each seen in the provider's
// docs, that the simulator gives only when asked: its defaults stay the
// shapes the crawler was first written against.
type Shapes struct {
	// MaxPerPage caps per_page (default 100). Every docs list answers
	// per_page 10, whatever was asked.
	MaxPerPage int
	// NoData answers a list with nothing in the window as the docs'
	// {status: false, message: "No cluster data found for …"}, HTTP 200,
	// with no payload, instead of an empty payload.
	NoData bool
	// OrgGraphNoGranularity leaves granularity out of the organisation's
	// history with graph=true, as neither spec declares it there.
	OrgGraphNoGranularity bool
}

// The shared simulator types, under the names this package has always
// given them.
type (
	Faults  = sim.Faults
	Latency = sim.Latency
	Stats   = sim.Stats
)

// AllFaults returns every fault class at the same rate.
func AllFaults(rate float64) Faults { return sim.AllFaults(rate) }

// Sim is the simulated API, an http.Handler.
type Sim struct {
	Model *Model
	srv   *sim.Server
}

// New builds a simulator and generates its model.
func New(cfg Config) *Sim {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 500
	}
	m := NewModel(cfg.ModelConfig)
	if cfg.MaxPerPage <= 0 {
		cfg.MaxPerPage = MaxPerPage
	}
	m.shapes = cfg.Shapes
	p := sim.Provider{
		Prefix:  "/v1",
		Error:   errorEnvelope,
		Applies: laterPageOnly,
		Spare:   []string{"status", "success", "message"},
		Clock:   m.clock,
		ClockInfo: func() map[string]any {
			return map[string]any{"start": timestamp(m.Start())}
		},
	}
	if key := cfg.APIKey; key != "" {
		p.Authorize = func(r *http.Request) bool { return r.Header.Get("api_key") == key }
	}
	s := &Sim{Model: m, srv: sim.New(sim.Config{
		Seed: cfg.Seed, RateLimit: cfg.RateLimit, RetryAfter: cfg.RetryAfter, Faults: cfg.Faults,
		Latency: cfg.Latency, HangFor: cfg.HangFor, SlowBodyFor: cfg.SlowBodyFor, WallClock: cfg.Clock,
	}, p)}
	s.routes()
	s.controlRoutes()
	return s
}

// ServeHTTP serves the API under /v1 and the control endpoints under /_sim/.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.srv.ServeHTTP(w, r) }

// Stats returns what the simulator has served so far.
func (s *Sim) Stats() Stats { return s.srv.Stats() }

// ResetStats zeroes the statistics.
func (s *Sim) ResetStats() { s.srv.ResetStats() }

// SetFaults changes the fault rates from now on.
func (s *Sim) SetFaults(f Faults) { s.srv.SetFaults(f) }

// SetRateLimit changes the per-minute limit (<= 0: none) and whether 429s
// carry Retry-After.
func (s *Sim) SetRateLimit(perMinute int, retryAfter bool) { s.srv.SetRateLimit(perMinute, retryAfter) }

// apiHandler answers one API request with a body or an error envelope.
type apiHandler func(r *sim.Request) (obj, *apiError)

func (s *Sim) handle(pattern string, h apiHandler) {
	s.srv.Handle(pattern, func(r *sim.Request) (any, error) {
		body, err := h(r)
		if err != nil {
			return nil, err
		}
		return body, nil
	})
}

// errorEnvelope writes every error the API answers in its envelope.
func errorEnvelope(r *http.Request, f sim.Failure) (int, any) {
	var e *apiError
	switch f.Kind {
	case sim.RateLimited:
		e = &apiError{f.Status, "too_many_requests", "Too many requests: the limit is per minute, try again later."}
	case sim.Unauthorized:
		e = &apiError{f.Status, "unauthorized", "Invalid or missing API key."}
	case sim.NoRoute:
		e = notFound("No route for %s %s", r.Method, r.URL.Path)
	case sim.MethodNotAllowed:
		e = &apiError{f.Status, "bad_request", "Method not allowed"}
	case sim.ServerError:
		e = &apiError{f.Status, "server_error", "Internal Server Error"}
	case sim.HandlerError:
		if !errors.As(f.Err, &e) {
			e = &apiError{http.StatusInternalServerError, "server_error", f.Err.Error()}
		}
	default:
		e = &apiError{http.StatusInternalServerError, "server_error", f.Err.Error()}
	}
	return e.status, e.body()
}

// laterPageOnly keeps the unstable-pages fault to pages after the first of
// a list: the first page has nothing before it to shift.
func laterPageOnly(r *http.Request, c sim.Class) bool {
	if c != sim.FaultUnstablePages {
		return true
	}
	page := r.URL.Query().Get("page")
	return page != "" && page != "1"
}
