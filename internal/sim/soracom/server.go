// Package soracom simulates the Soracom billing API (the billing and auth
// subset of its spec) for tests, benchmarks and demos.
//
// One seeded account model (Model) stands behind every endpoint and the
// detailed billing CSV, so their numbers agree exactly. The HTTP side runs
// on internal/sim's Server (rate limit, latency, faults, statistics,
// /_sim/ controls) and adds what is Soracom's own: POST /auth with an auth
// key pair and expiring tokens, the X-Soracom-Ratelimit-* headers on every
// response, months that close business days after they end, CSV exports
// in sync and async mode whose files are served, under signed expiring
// links, by a storage handler that wants no Soracom headers. See README.md
// for what the simulator had to guess.
package soracom

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// Config is a simulator's setup.
type Config struct {
	sim.Config
	// Model is the account; its Seed defaults to the server's, its Clock
	// is the simulator's.
	Model ModelConfig
	// Now fixes the billing clock at its start; zero follows real time.
	Now time.Time
	// AuthKeyID and AuthKey are the key pair POST /auth accepts; empty
	// accepts any pair.
	AuthKeyID, AuthKey string
	// TokenTTL is how long a token lives when /auth does not say (default
	// 24h, Soracom's tokenTimeoutSeconds default), on the billing clock.
	TokenTTL time.Duration
	// AuthRateLimit is POST /auth requests per minute per client IP
	// (default 10; negative: none).
	AuthRateLimit int
	// LinkTTL is how long a download link stays valid, on the billing
	// clock (default 1h).
	LinkTTL time.Duration
	// ExportPolls is how many polls of an async export answer processing
	// before it is exported (default 1; negative: none).
	ExportPolls int
	// StuckFor is how long, on the billing clock, an export hit by the
	// export_stuck fault stays processing (default 6h).
	StuckFor time.Duration
	// StorageURL is where download links point: the base URL of the
	// listener serving Storage(). Empty: the API's own host, on which
	// ServeHTTP serves the storage paths too.
	StorageURL string
}

// The simulator's own fault classes, drawn like the shared ones.
const (
	// FaultExportFailed makes an async export end failed.
	FaultExportFailed sim.Class = "export_failed"
	// FaultExportStuck makes an async export stay processing for StuckFor.
	FaultExportStuck sim.Class = "export_stuck"
	// FaultLinkExpired hands out a download link that has already expired.
	FaultLinkExpired sim.Class = "link_expired"
)

// ClassFlags are the simulator's fault classes for sim.Flags.Register.
var ClassFlags = []sim.ClassFlag{
	{Class: FaultExportFailed, Flag: "export-failed", Usage: "rate of async exports that end failed"},
	{Class: FaultExportStuck, Flag: "export-stuck", Usage: "rate of async exports that stay processing for --stuck-for"},
	{Class: FaultLinkExpired, Flag: "link-expired", Usage: "rate of download links that have already expired"},
}

// StoragePrefix is the path under which the storage handler serves files.
const StoragePrefix = "/soracom-exports/"

// Sim is the simulated API, an http.Handler.
type Sim struct {
	Model *Model
	Clock *sim.Clock

	cfg       Config
	server    *sim.Server
	endpoints *http.ServeMux // the API's patterns, to name a request before routing
	auth      *authenticator
	exports   *exports
}

// New builds a simulator and generates its model.
func New(cfg Config) (*Sim, error) {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	if cfg.AuthRateLimit == 0 {
		cfg.AuthRateLimit = 10
	}
	if cfg.LinkTTL == 0 {
		cfg.LinkTTL = time.Hour
	}
	switch {
	case cfg.ExportPolls == 0:
		cfg.ExportPolls = 1
	case cfg.ExportPolls < 0:
		cfg.ExportPolls = 0
	}
	if cfg.StuckFor == 0 {
		cfg.StuckFor = 6 * time.Hour
	}
	clock := sim.NewClock(cfg.Now, time.Second)
	cfg.Model.Clock = clock.Now
	if cfg.Model.Seed == 0 {
		cfg.Model.Seed = cfg.Seed
	}
	model, err := NewModel(cfg.Model)
	if err != nil {
		return nil, err
	}
	s := &Sim{Model: model, Clock: clock, cfg: cfg, endpoints: http.NewServeMux()}
	s.auth = newAuthenticator(cfg, model, clock)
	s.exports = newExports(cfg, model, clock)
	s.server = sim.New(cfg.Config, sim.Provider{
		Prefix:      "/v1",
		Error:       s.errorBody,
		Authorize:   s.auth.authorize,
		RateKey:     s.rateKey,
		RateHeaders: writeRateHeaders,
		Applies:     applies,
		Classes:     []sim.Class{FaultExportFailed, FaultExportStuck, FaultLinkExpired},
		Clock:       clock,
		ClockInfo:   s.clockInfo,
	})
	s.routes()
	s.controlRoutes()
	return s, nil
}

// ServeHTTP serves the API under /v1, the control endpoints under /_sim/
// and, unless StorageURL points elsewhere, the exported files.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, StoragePrefix) {
		s.exports.ServeHTTP(w, r)
		return
	}
	s.server.ServeHTTP(w, r)
}

// Storage is the file host's handler, for a second listener (StorageURL).
func (s *Sim) Storage() http.Handler { return s.exports }

// Server is the shared machinery serving the API: statistics, faults and
// rate limit are set through it.
func (s *Sim) Server() *sim.Server { return s.server }

// Stats returns what the API has answered so far.
func (s *Sim) Stats() sim.Stats { return s.server.Stats() }

// Downloads returns what the storage host has answered so far.
func (s *Sim) Downloads() DownloadStats { return s.exports.stats() }

// handle registers an API route on the server and its pattern for naming.
func (s *Sim) handle(pattern string, h sim.Handler) {
	s.server.Handle(pattern, h)
	s.endpoints.HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
}

// rateKey is what Soracom limits by: the account (the client's IP before it
// has a token) and the API path, as the endpoint's pattern.
func (s *Sim) rateKey(r *http.Request) string {
	_, pattern := s.endpoints.Handler(r)
	if pattern == "" {
		pattern = r.Method + " " + r.URL.Path
	}
	who := "ip:" + sim.ClientIP(r)
	if s.auth.valid(r) {
		who = s.Model.OperatorID()
	}
	return who + " " + pattern
}

func writeRateHeaders(h http.Header, q sim.Quota) {
	if q.Limit <= 0 {
		return
	}
	h.Set("X-Soracom-Ratelimit-Limit", strconv.Itoa(q.Limit))
	h.Set("X-Soracom-Ratelimit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("X-Soracom-Ratelimit-Seconds-Before-Refresh", strconv.Itoa(int((q.Reset+time.Second-1)/time.Second)))
}

// applies keeps the export classes to the requests they concern: a failed
// or stuck job only on an async export, an expired link only where a link
// is handed out. No endpoint pages, so no page shifts.
func applies(r *http.Request, c sim.Class) bool {
	async := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/export") && r.URL.Query().Get("export_mode") == "async"
	switch c {
	case sim.FaultUnstablePages:
		return false
	case FaultExportFailed, FaultExportStuck:
		return async
	case FaultLinkExpired:
		sync := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/export") && !async
		return sync || strings.HasPrefix(r.URL.Path, "/v1/files/exported/")
	}
	return true
}

func (s *Sim) clockInfo() map[string]any {
	m := s.Model
	return map[string]any{
		"start":          m.StartDay().Start(m.Location()).Format(time.RFC3339),
		"current_month":  m.CurrentMonth().String(),
		"evaluated_at":   m.EvaluatedAt().Format(time.RFC3339),
		"time_zone":      m.Location().String(),
		"close_delay":    m.closeDelay,
		"latest_lag":     m.latestLag.String(),
		"operator_id":    m.OperatorID(),
		"coverage":       string(m.Coverage()),
		"currency":       m.Currency(),
		"months_kept":    MonthsKept,
		"current_closes": m.ClosesAt(m.CurrentMonth()).Format(time.RFC3339),
	}
}

// apiError is an error answer in Soracom's envelope, {code, message}. The
// codes are the simulator's (see README.md).
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// The error codes the simulator answers with.
const (
	CodeAuthFailed   = "AUM0001" // POST /auth with a wrong key pair
	CodeUnauthorized = "AUM0002" // no, an unknown or an expired API key and token
	CodeBadRequest   = "COM0002"
	CodeNotFound     = "COM0004" // no such path
	CodeMethod       = "COM0005"
	CodeTooMany      = "COM0009" // the rate limit
	CodeInternal     = "COM0001"
	CodeNoBill       = "BIL0001" // a month not closed yet, out of range or without charges
	CodeNoFile       = "FIL0001" // an unknown exported file id
)

func (s *Sim) errorBody(r *http.Request, f sim.Failure) (int, any) {
	var e *apiError
	switch f.Kind {
	case sim.RateLimited:
		e = errorf(f.Status, CodeTooMany, "Too many requests. Please wait up to a minute and retry.")
	case sim.Unauthorized:
		e = errorf(f.Status, CodeUnauthorized, "Invalid or expired API key and token.")
	case sim.NoRoute:
		e = errorf(f.Status, CodeNotFound, "No such API: %s %s", r.Method, r.URL.Path)
	case sim.MethodNotAllowed:
		e = errorf(f.Status, CodeMethod, "Method %s is not allowed.", r.Method)
	case sim.HandlerError:
		if !errors.As(f.Err, &e) {
			e = errorf(http.StatusInternalServerError, CodeInternal, "Internal server error.")
		}
	default:
		e = errorf(http.StatusInternalServerError, CodeInternal, "Internal server error.")
	}
	return e.status, map[string]any{"code": e.code, "message": e.message}
}
