// Package hyperstacksim simulates the Hyperstack billing API for tests,
// benchmarks and demos.
//
// One seeded cost model (Model) stands behind every endpoint, so the numbers
// of all endpoints agree exactly. The HTTP side reproduces the live API's
// behaviour: the api_key header, /v1 paths, 1-based pagination, a per-client
// rate limit of 500 requests a minute, graph granularity, the looser shapes
// of the provider's documented examples, and, at rates you choose, its
// faults. Control endpoints under /_sim/ move the clock, change resources,
// restate past costs and report statistics.
package hyperstacksim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
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
}

// Sim is the simulated API, an http.Handler.
type Sim struct {
	Model *Model

	api     *http.ServeMux
	control *http.ServeMux
	limiter *rateLimiter
	stats   *statsRecorder

	mu         sync.Mutex
	faults     Faults
	latency    Latency
	retryAfter bool
	seen       map[string]int // requests per method+URL, for fault draws
	hangFor    time.Duration
	slowFor    time.Duration
	seed       uint64
	apiKey     string
}

// New builds a simulator and generates its model.
func New(cfg Config) *Sim {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 500
	}
	if cfg.HangFor == 0 {
		cfg.HangFor = 10 * time.Minute
	}
	if cfg.SlowBodyFor == 0 {
		cfg.SlowBodyFor = 2 * time.Second
	}
	s := &Sim{
		Model:      NewModel(cfg.ModelConfig),
		api:        http.NewServeMux(),
		control:    http.NewServeMux(),
		limiter:    &rateLimiter{perMinute: cfg.RateLimit, clock: cfg.Clock},
		stats:      newStatsRecorder(),
		faults:     cfg.Faults,
		latency:    cfg.Latency,
		retryAfter: cfg.RetryAfter,
		seen:       map[string]int{},
		hangFor:    cfg.HangFor,
		slowFor:    cfg.SlowBodyFor,
		seed:       uint64(cfg.Seed),
		apiKey:     cfg.APIKey,
	}
	s.routes()
	s.controlRoutes()
	return s
}

// Stats returns what the simulator has served so far.
func (s *Sim) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the statistics.
func (s *Sim) ResetStats() { s.stats.reset() }

// SetFaults changes the fault rates from now on.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// SetRateLimit changes the per-minute limit (<= 0: none) and whether 429s
// carry Retry-After.
func (s *Sim) SetRateLimit(perMinute int, retryAfter bool) {
	s.limiter.set(perMinute)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = retryAfter
}

// result carries an API handler's answer back to ServeHTTP.
type result struct {
	endpoint string
	body     obj
	err      *apiError
	shift    int
	done     bool
	stats    *statsRecorder
}

type resultKey struct{}

type apiHandler func(r *http.Request, res *result) (obj, *apiError)

func (s *Sim) handle(pattern string, h apiHandler) {
	s.api.HandleFunc(pattern, func(_ http.ResponseWriter, r *http.Request) {
		res := r.Context().Value(resultKey{}).(*result)
		res.body, res.err = h(r, res)
		res.done = true
	})
}

// ServeHTTP serves the API under /v1 and the control endpoints under /_sim/.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.control.ServeHTTP(w, r)
		return
	}
	_, pattern := s.api.Handler(r)
	endpoint := "unmatched " + r.Method
	if pattern != "" {
		endpoint = strings.Replace(pattern, " /v1/", " /", 1)
	}
	arrived := time.Now()
	s.stats.begin(endpoint, "")
	status, fault := 0, faultNone
	defer func() { s.stats.end(endpoint, status) }()

	s.mu.Lock()
	faults, latency, retryAfter, apiKey := s.faults, s.latency, s.retryAfter, s.apiKey
	s.mu.Unlock()

	if ok, wait := s.limiter.allow(clientIP(r)); !ok {
		if retryAfter {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		}
		status = http.StatusTooManyRequests
		writeJSON(w, status, apiError{status, "too_many_requests", "Too many requests: the limit is per minute, try again later."}.body())
		return
	}
	if apiKey != "" && r.Header.Get("api_key") != apiKey {
		status = http.StatusUnauthorized
		writeJSON(w, status, apiError{status, "unauthorized", "Invalid or missing API key."}.body())
		return
	}
	if pattern == "" {
		status = http.StatusNotFound
		writeJSON(w, status, notFound("No route for %s %s", r.Method, r.URL.Path).body())
		return
	}

	// The API answers Latency after a request arrives: the simulator's own
	// work is part of that time, as a real API's is. (When the work takes
	// longer, it answers when the work is done.)
	d := s.drawFor(r)
	answerAt := arrived.Add(latency.duration(d))
	answer := func() bool { return sleep(r.Context(), time.Until(answerAt)) }
	page := r.URL.Query().Get("page")
	fault = faults.choose(d, page != "" && page != "1")
	if fault != faultNone && !isBodyFault(fault) {
		s.stats.fault(fault)
	}

	switch fault {
	case faultReset:
		if answer() {
			resetConnection(w)
		}
		return
	case faultHang:
		sleep(r.Context(), s.hangFor)
		panic(http.ErrAbortHandler) // close the connection without a response
	case fault500:
		if !answer() {
			return
		}
		status = http.StatusInternalServerError
		writeJSON(w, status, apiError{status, "server_error", "Internal Server Error"}.body())
		return
	case fault502:
		if !answer() {
			return
		}
		status = []int{http.StatusBadGateway, http.StatusServiceUnavailable}[d.pick(104, 2)]
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>\n", status, http.StatusText(status))
		return
	}

	res := &result{endpoint: endpoint, stats: s.stats}
	if fault == faultUnstable {
		res.shift = []int{1, -1}[d.pick(105, 2)]
	}
	s.api.ServeHTTP(discard{}, r.WithContext(context.WithValue(r.Context(), resultKey{}, res)))
	if !res.done {
		answer()
		status = http.StatusMethodNotAllowed
		writeJSON(w, status, apiError{status, "bad_request", "Method not allowed"}.body())
		return
	}
	if res.err != nil {
		answer()
		status = res.err.status
		writeJSON(w, status, res.err.body())
		return
	}
	if isBodyFault(fault) && mutate(res.body, fault, d) != "" {
		s.stats.fault(fault)
	}
	body, err := json.Marshal(res.body)
	if !answer() {
		return
	}
	if err != nil {
		status = http.StatusInternalServerError
		writeJSON(w, status, apiError{status, "server_error", err.Error()}.body())
		return
	}
	status = http.StatusOK
	if fault == faultTruncate {
		body = body[:len(body)/2]
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if fault == faultSlow {
		trickle(r.Context(), w, body, s.slowFor)
		return
	}
	w.Write(body)
}

// isBodyFault reports whether a fault edits the response's JSON, which
// only happens, and only counts, when there is a body to edit.
func isBodyFault(f faultClass) bool {
	return f == faultWrongType || f == faultNull || f == faultExtra
}

// drawFor returns the fault draw of a request and counts it.
func (s *Sim) drawFor(r *http.Request) draw {
	key := r.Method + " " + r.URL.Path + "?" + r.URL.Query().Encode()
	s.mu.Lock()
	n := s.seen[key]
	s.seen[key]++
	s.mu.Unlock()
	return newDraw(s.seed, key, n)
}

// discard is the ResponseWriter the API handlers get: they return values
// and never write.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sleep waits for d unless ctx ends first; it reports whether it slept fully.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// resetConnection drops the connection with a TCP reset.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

// trickle writes body in small pieces spread over d.
func trickle(ctx context.Context, w http.ResponseWriter, body []byte, d time.Duration) {
	const pieces = 20
	flusher, _ := w.(http.Flusher)
	size := max(1, (len(body)+pieces-1)/pieces)
	for len(body) > 0 {
		n := min(size, len(body))
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		body = body[n:]
		if flusher != nil {
			flusher.Flush()
		}
		if len(body) > 0 && !sleep(ctx, d/pieces) {
			return
		}
	}
}

// Latency is a per-request delay: Min when Max is zero, otherwise uniform
// between Min and Max.
type Latency struct {
	Min, Max time.Duration
}

// ParseLatency reads "50ms" or "10ms-80ms".
func ParseLatency(s string) (Latency, error) {
	if s == "" {
		return Latency{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	min, err := time.ParseDuration(lo)
	if err != nil {
		return Latency{}, fmt.Errorf("latency %q: %w", s, err)
	}
	if !isRange {
		return Latency{Min: min}, nil
	}
	max, err := time.ParseDuration(hi)
	if err != nil || max < min {
		return Latency{}, errors.New("latency range must be MIN-MAX with MIN <= MAX, e.g. 10ms-80ms")
	}
	return Latency{Min: min, Max: max}, nil
}

func (l Latency) duration(d draw) time.Duration {
	if l.Max <= l.Min {
		return l.Min
	}
	return l.Min + time.Duration(d.float(200)*float64(l.Max-l.Min))
}
