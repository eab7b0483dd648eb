package sim

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config is the behaviour every simulator shares, as its flags set it.
type Config struct {
	// Seed makes fault and latency draws repeatable.
	Seed int64
	// RateLimit is requests per window per rate key; <= 0 means no limit.
	RateLimit int
	// RateWindow is the limit's calendar window (default a minute).
	RateWindow time.Duration
	// RetryAfter adds a Retry-After header to 429s.
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
	// WallClock is the clock the rate limit counts windows by (default
	// time.Now). A model's billing time is its Clock, not this.
	WallClock func() time.Time
}

// Provider is what a simulator tells the Server about its API. Every field
// may be left out; without Error, failures answer {"error": status text}.
type Provider struct {
	// Prefix is the API's path prefix ("/v1"); endpoint names in the
	// statistics leave it out.
	Prefix string
	// Error gives the status and body, in the API's own error envelope, of
	// a failure. The body is encoded as JSON unless it is a Raw.
	Error func(r *http.Request, f Failure) (status int, body any)
	// Authorize reports whether a request's credentials are good (nil:
	// every request is); a request it refuses gets an Unauthorized failure.
	// It runs after the rate limit, so refused requests count toward it.
	Authorize func(r *http.Request) bool
	// RateKey is what the rate limit counts by (nil: ClientIP).
	RateKey func(r *http.Request) string
	// RateHeaders, if set, writes the quota into headers of every API
	// response, 429s included (X-RateLimit-Remaining and the like).
	RateHeaders func(h http.Header, q Quota)
	// Applies reports whether a fault class can happen to a request (nil:
	// every class can). FaultUnstablePages needs it: only a list page after
	// the first can shift, and only the provider knows its paging.
	Applies func(r *http.Request, c Class) bool
	// Spare names the object members the null fault never touches: the
	// envelope's ("status", "success"), which a client reads first.
	Spare []string
	// Classes lists the provider's own fault classes; /_sim/faults refuses
	// any other name. Its handlers carry them out through Request.Fault.
	Classes []Class
	// Clock, if set, gets the /_sim/clock control endpoints; ClockInfo adds
	// members to what GET /_sim/clock answers (the history's start, say).
	Clock     *Clock
	ClockInfo func() map[string]any
}

// FailureKind is why the Server answers with an error.
type FailureKind int

const (
	RateLimited      FailureKind = iota + 1 // 429: over the rate limit
	Unauthorized                            // 401: Authorize said no
	NoRoute                                 // 404: no pattern matches the path
	MethodNotAllowed                        // 405: the path exists, not for this method
	ServerError                             // 500: the error_500 fault
	HandlerError                            // the handler returned Err
	EncodeError                             // 500: the handler's body would not encode
)

// Failure is an error answer the provider writes in its envelope.
type Failure struct {
	Kind   FailureKind
	Status int   // the status the Server suggests (HandlerError: 0)
	Err    error // HandlerError and EncodeError: what went wrong
}

// Raw is a response body sent as it is, not encoded as JSON (a CSV export,
// an HTML page). Body faults leave it alone; truncate and slow body do not.
type Raw struct {
	ContentType string
	Body        []byte
}

// Handler answers one API request with a body (a JSON tree of maps,
// slices, json.Number and scalars, which body faults can edit; anything
// else encoding/json takes; or a Raw) or an error that Provider.Error
// writes. It never writes to the client itself.
type Handler func(r *Request) (any, error)

// Request is an API request as a Handler sees it.
type Request struct {
	*http.Request
	// Endpoint names the request in the statistics: its pattern without
	// the prefix, "GET /billing/history/{id}".
	Endpoint string
	// Fault is the fault drawn for this request that the handler carries
	// out: FaultUnstablePages or a provider class; "" otherwise.
	Fault Class
	// Draw is the request's deterministic draw, for the handler's own
	// decisions (salts from 1000 up).
	Draw Draw
	// ResponseHeader is added to the answer, an error's too (r.Header is
	// the request's, as in net/http); Status is a successful answer's
	// status (0: 200).
	ResponseHeader http.Header
	Status         int

	srv  *Server
	body any
	err  error
	done bool
}

// CountResource counts the request in the statistics' per-resource
// requests of its endpoint.
func (r *Request) CountResource(id string) { r.srv.stats.resource(r.Endpoint, id) }

// Server is a simulated API: an http.Handler that answers the provider's
// routes through rate limit, latency, faults and statistics, and serves
// the /_sim/ control endpoints.
type Server struct {
	p       Provider
	api     *http.ServeMux
	control *http.ServeMux
	limiter *Limiter
	stats   *statsRecorder
	seed    uint64
	hangFor time.Duration
	slowFor time.Duration

	mu         sync.Mutex
	faults     Faults
	latency    Latency
	retryAfter bool
	seen       map[string]int // requests per draw key, for fault draws
}

// New returns a server with the common control endpoints registered; the
// provider adds its routes with Handle and its controls with HandleControl
// on Control().
func New(cfg Config, p Provider) *Server {
	if cfg.RateWindow == 0 {
		cfg.RateWindow = time.Minute
	}
	if cfg.HangFor == 0 {
		cfg.HangFor = 10 * time.Minute
	}
	if cfg.SlowBodyFor == 0 {
		cfg.SlowBodyFor = 2 * time.Second
	}
	if p.RateKey == nil {
		p.RateKey = ClientIP
	}
	s := &Server{
		p:          p,
		api:        http.NewServeMux(),
		control:    http.NewServeMux(),
		limiter:    NewLimiter(cfg.RateLimit, cfg.RateWindow, cfg.WallClock),
		stats:      newStatsRecorder(),
		seed:       uint64(cfg.Seed),
		hangFor:    cfg.HangFor,
		slowFor:    cfg.SlowBodyFor,
		faults:     cfg.Faults,
		latency:    cfg.Latency,
		retryAfter: cfg.RetryAfter,
		seen:       map[string]int{},
	}
	s.commonControls()
	return s
}

// Handle registers an API route; the pattern is an http.ServeMux pattern
// with a method, "GET /v1/things/{id}".
func (s *Server) Handle(pattern string, h Handler) {
	s.api.HandleFunc(pattern, func(_ http.ResponseWriter, r *http.Request) {
		req := r.Context().Value(requestKey{}).(*Request)
		req.Request = r
		req.body, req.err = h(req)
		req.done = true
	})
}

type requestKey struct{}

// Control is the mux of the /_sim/ endpoints, for HandleControl.
func (s *Server) Control() *http.ServeMux { return s.control }

// Stats returns what the server has answered so far.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the statistics.
func (s *Server) ResetStats() { s.stats.reset() }

// Faults returns the fault rates in force.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetFaults changes the fault rates from now on.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// SetRateLimit changes the limit per window (<= 0: none) and whether 429s
// carry Retry-After.
func (s *Server) SetRateLimit(limit int, retryAfter bool) {
	s.limiter.SetLimit(limit)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = retryAfter
}

// ServeHTTP serves the control endpoints under /_sim/ and the API
// everywhere else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.control.ServeHTTP(w, r)
		return
	}
	_, pattern := s.api.Handler(r)
	endpoint := "unmatched " + r.Method
	if pattern != "" {
		endpoint = strings.Replace(pattern, " "+s.p.Prefix+"/", " /", 1)
	}
	arrived := time.Now()
	s.stats.begin(endpoint)
	status := 0
	defer func() { s.stats.end(endpoint, status) }()

	s.mu.Lock()
	faults, latency, retryAfter := s.faults, s.latency, s.retryAfter
	s.mu.Unlock()

	q := s.limiter.Take(s.p.RateKey(r))
	if s.p.RateHeaders != nil {
		s.p.RateHeaders(w.Header(), q)
	}
	if !q.Allowed {
		if retryAfter {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(q.Reset.Seconds()))))
		}
		status = s.fail(w, r, Failure{Kind: RateLimited, Status: http.StatusTooManyRequests})
		return
	}
	if s.p.Authorize != nil && !s.p.Authorize(r) {
		status = s.fail(w, r, Failure{Kind: Unauthorized, Status: http.StatusUnauthorized})
		return
	}
	if pattern == "" {
		status = s.fail(w, r, Failure{Kind: NoRoute, Status: http.StatusNotFound})
		return
	}

	// The API answers Latency after a request arrives: the simulator's own
	// work is part of that time, as a real API's is. (When the work takes
	// longer, it answers when the work is done.)
	d := s.drawFor(r)
	answerAt := arrived.Add(latency.Duration(d))
	answer := func() bool { return sleep(r.Context(), time.Until(answerAt)) }
	var applies func(Class) bool
	if s.p.Applies != nil {
		applies = func(c Class) bool { return s.p.Applies(r, c) }
	}
	fault := faults.Choose(d, applies)
	if fault != "" && !isBodyFault(fault) {
		s.stats.fault(fault)
	}

	switch fault {
	case FaultReset:
		if answer() {
			resetConnection(w)
		}
		return
	case FaultHang:
		sleep(r.Context(), s.hangFor)
		panic(http.ErrAbortHandler) // close the connection without a response
	case Fault500:
		if answer() {
			status = s.fail(w, r, Failure{Kind: ServerError, Status: http.StatusInternalServerError})
		}
		return
	case Fault502:
		if !answer() {
			return
		}
		status = []int{http.StatusBadGateway, http.StatusServiceUnavailable}[d.Pick(104, 2)]
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>\n", status, http.StatusText(status))
		return
	}

	req := &Request{Endpoint: endpoint, Draw: d, ResponseHeader: http.Header{}, srv: s}
	if fault != "" && !isBodyFault(fault) {
		req.Fault = fault // the ones left to the handler
	}
	s.api.ServeHTTP(discard{}, r.WithContext(context.WithValue(r.Context(), requestKey{}, req)))
	if !req.done {
		answer()
		status = s.fail(w, r, Failure{Kind: MethodNotAllowed, Status: http.StatusMethodNotAllowed})
		return
	}
	for k, v := range req.ResponseHeader {
		w.Header()[k] = v
	}
	if req.err != nil {
		answer()
		status = s.fail(w, r, Failure{Kind: HandlerError, Err: req.err})
		return
	}
	body, ctype, err := s.encode(req.body, fault, d)
	if !answer() {
		return
	}
	if err != nil {
		status = s.fail(w, r, Failure{Kind: EncodeError, Status: http.StatusInternalServerError, Err: err})
		return
	}
	status = cmp.Or(req.Status, http.StatusOK)
	if fault == FaultTruncate {
		body = body[:len(body)/2]
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if fault == FaultSlowBody {
		trickle(r.Context(), w, body, s.slowFor)
		return
	}
	w.Write(body)
}

// encode turns a handler's body into bytes, applying a body fault first.
func (s *Server) encode(v any, fault Class, d Draw) ([]byte, string, error) {
	if raw, ok := v.(Raw); ok {
		return raw.Body, raw.ContentType, nil
	}
	if isBodyFault(fault) && mutate(v, fault, d, s.p.Spare) != "" {
		s.stats.fault(fault)
	}
	b, err := json.Marshal(v)
	return b, "application/json", err
}

// fail writes a failure in the provider's envelope and returns its status.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, f Failure) int {
	status, body := f.Status, any(map[string]any{"error": http.StatusText(f.Status)})
	if s.p.Error != nil {
		status, body = s.p.Error(r, f)
	}
	if raw, ok := body.(Raw); ok {
		w.Header().Set("Content-Type", raw.ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(raw.Body)))
		w.WriteHeader(status)
		w.Write(raw.Body)
		return status
	}
	WriteJSON(w, status, body)
	return status
}

// drawFor returns the fault draw of a request and counts it. The key is
// the method, path and query, so a crawl meets the same faults whatever
// its order, and a retry draws again.
func (s *Server) drawFor(r *http.Request) Draw {
	key := r.Method + " " + r.URL.Path + "?" + r.URL.Query().Encode()
	s.mu.Lock()
	n := s.seen[key]
	s.seen[key]++
	s.mu.Unlock()
	return NewDraw(s.seed, key, n)
}

// discard is the ResponseWriter the API handlers get: they return values
// and never write.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// WriteJSON writes body as a JSON response with its length.
func WriteJSON(w http.ResponseWriter, status int, body any) {
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// ClientIP is the request's client address without its port.
func ClientIP(r *http.Request) string {
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
