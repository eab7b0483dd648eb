// Package cloudsigma simulates the CloudSigma billing API (/api/2.0/) of
// one account at one location, for tests, benchmarks and demos.
//
// One seeded Model stands behind every endpoint: servers and drives using
// CPU, RAM, dssd, IPs and a Windows licence; subscriptions covering part of
// that; the rest bursting every five-minute billing cycle at the cycle's
// burst-level price; payments and promotions. The ledger is the chain of
// all of it, exact to 20 digits, and /balance/, /usage/, /currentusage/,
// /burstusage/ and /dailyburstusage/ agree with it. The HTTP side keeps the
// API's manners: Basic and Digest auth with expiring nonces, limit/offset
// paging with default limit 20 and an unreliable total_count, newest first,
// Django-style filters (unknown ones answer 400 with the error array and
// X-REQUEST-ID), and, at rates you choose, faults including the 503 a
// concurrent update gets. /_sim/ controls move the clock, add and remove
// servers, buy subscriptions, add payments and promotions, and expire
// nonces. The README in this directory lists every choice the docs left open.
package cloudsigma

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// Prefix is the API's path prefix.
const Prefix = "/api/2.0"

// FaultConflict is CloudSigma's own fault class: 503 with a "concurrency"
// error, what the API answers a request that collides with another update.
const FaultConflict sim.Class = "conflict_503"

// Config is a simulator's setup.
type Config struct {
	ModelConfig
	sim.Config
	// Password is the account's password (default "secret").
	Password string
	// Auth is which schemes are accepted: AuthBasic, AuthDigest or AuthBoth
	// (default).
	Auth string
	// NonceTTL is how long a Digest nonce stays good (default 5 minutes),
	// by the wall clock (sim.Config.WallClock).
	NonceTTL time.Duration
}

// Sim is the simulated API, an http.Handler.
type Sim struct {
	Model  *Model
	Server *sim.Server

	auth     *authenticator
	requests atomic.Uint64
	seed     uint64
}

// New builds a simulator and generates its model.
func New(cfg Config) (*Sim, error) {
	if cfg.Password == "" {
		cfg.Password = "secret"
	}
	switch cfg.Auth {
	case "":
		cfg.Auth = AuthBoth
	case AuthBasic, AuthDigest, AuthBoth:
	default:
		return nil, fmt.Errorf("auth must be basic, digest or both, not %q", cfg.Auth)
	}
	if _, ok := currencyFactor(cfg.Currency); cfg.Currency != "" && !ok {
		return nil, fmt.Errorf("currency must be one of USD, EUR, GBP, CHF, not %q", cfg.Currency)
	}
	if cfg.NonceTTL == 0 {
		cfg.NonceTTL = 5 * time.Minute
	}
	wall := cfg.Config.WallClock
	if wall == nil {
		wall = time.Now
	}
	if cfg.ModelConfig.Seed == 0 {
		cfg.ModelConfig.Seed = cfg.Config.Seed
	}
	m := NewModel(cfg.ModelConfig)
	s := &Sim{
		Model: m,
		auth:  newAuthenticator(cfg.Auth, m.cfg.User, cfg.Password, cfg.NonceTTL, wall, uint64(cfg.Config.Seed)),
		seed:  uint64(cfg.Config.Seed),
	}
	s.Server = sim.New(cfg.Config, sim.Provider{
		Prefix:    Prefix,
		Error:     s.errorBody,
		Authorize: s.authorize,
		Applies:   applies,
		Spare:     []string{"meta", "objects"},
		Classes:   []sim.Class{FaultConflict},
		Clock:     m.clock,
		ClockInfo: func() map[string]any {
			now := m.Now()
			return map[string]any{"start": m.Start().Format(time.RFC3339), "billing_cycle": CycleOf(now)}
		},
	})
	s.routes()
	s.controlRoutes()
	return s, nil
}

// authState carries Authorize's verdict to the 401's challenge headers.
type authState struct{ v verdict }

type authKey struct{}

func (s *Sim) authorize(r *http.Request) bool {
	v := s.auth.authorize(r)
	if st, ok := r.Context().Value(authKey{}).(*authState); ok {
		st.v = v
	}
	return v.ok
}

// ServeHTTP serves the API under /api/2.0/ and the controls under /_sim/.
// Every API answer carries an X-REQUEST-ID; a 401 carries the challenges.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Path) >= 6 && r.URL.Path[:6] == "/_sim/" {
		s.Server.ServeHTTP(w, r)
		return
	}
	w.Header().Set("X-REQUEST-ID", uuidFrom(s.seed, 0x5e9, s.requests.Add(1)))
	st := &authState{}
	s.Server.ServeHTTP(&challengeWriter{ResponseWriter: w, s: s, st: st}, r.WithContext(context.WithValue(r.Context(), authKey{}, st)))
}

// challengeWriter adds WWW-Authenticate to a 401 as it is written; it
// passes Flush and Hijack through for the slow-body and reset faults.
type challengeWriter struct {
	http.ResponseWriter
	s  *Sim
	st *authState
}

func (c *challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized {
		for _, ch := range c.s.auth.challenges(c.st.v.stale) {
			c.Header().Add("WWW-Authenticate", ch)
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *challengeWriter) Flush() { http.NewResponseController(c.ResponseWriter).Flush() }

func (c *challengeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(c.ResponseWriter).Hijack()
}

// errorBody writes a failure in the API's envelope.
func (s *Sim) errorBody(r *http.Request, f sim.Failure) (int, any) {
	var e *apiError
	switch {
	case errors.As(f.Err, &e):
	case f.Kind == sim.RateLimited:
		e = &apiError{f.Status, "permission", "Request was throttled: the limit is 10000 GET requests a minute.", ""}
	case f.Kind == sim.Unauthorized:
		e = &apiError{f.Status, "permission", "Authentication credentials were not provided or are invalid.", ""}
	case f.Kind == sim.NoRoute:
		e = &apiError{f.Status, "notexist", "No resource at " + r.URL.Path, ""}
	case f.Kind == sim.MethodNotAllowed:
		e = &apiError{f.Status, "permission", "Method " + r.Method + " is not allowed here", ""}
	default:
		e = &apiError{http.StatusInternalServerError, "backend", "Internal server error", ""}
	}
	return e.status, e.body()
}

// applies says which faults can happen to a request: unstable pages only
// to a list page after the first.
func applies(r *http.Request, c sim.Class) bool {
	if c == sim.FaultUnstablePages {
		off := r.URL.Query().Get("offset")
		return off != "" && off != "0"
	}
	return true
}

// ExpireNonces makes every Digest nonce issued so far stale.
func (s *Sim) ExpireNonces() { s.auth.expireNonces() }
