package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/version"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// defaultRate paces a source that names no rate.
const defaultRate = 450

// ClientConfig configures an API client. The engine fills the common
// settings from the command; a source adds what its API needs.
type ClientConfig struct {
	// Owner is whose client it is, in messages and metrics.
	Owner   store.Owner
	BaseURL string
	// Authorize adds the credentials to a request for the base URL's host.
	// Requests elsewhere (a signed download link) never get them.
	Authorize func(*http.Request)
	// Auth, instead of Authorize, signs requests whose credentials a 401
	// renews (HTTP Digest); see Authenticator.
	Auth Authenticator
	// Renewals is how many times in a row a request is sent again at once
	// with the credentials a 401 renewed, before such a 401 counts as a
	// failed attempt (default 1). A Digest nonce can go stale again while
	// its renewal is on the wire when many requests share a server whose
	// nonces expire often.
	Renewals int
	// ErrorEnvelope reads the API's error body into a reason and message.
	// Default: none, the body's first 200 characters as the message.
	ErrorEnvelope func(body []byte) (reason, message string)
	// RatePerMinute paces every request (default 450).
	RatePerMinute int
	// Pacer, when set, is shared with other clients (and RatePerMinute is
	// its business).
	Pacer *Pacer
	// Timeout bounds one request, body included (default 30s).
	Timeout time.Duration
	// MaxBodyBytes caps a response body (default 32 MiB).
	MaxBodyBytes int64
	// MaxAttempts per request (default 5).
	MaxAttempts int
	// BackoffBase is the first retry's wait; each retry doubles it, with
	// jitter (default 1s).
	BackoffBase time.Duration
	// RateLimitPause is how long every request waits after a 429 without a
	// Retry-After header (default: until the next minute starts, plus 1s).
	RateLimitPause func(now time.Time) time.Time
	// MaxRateLimitPause caps the pause a Retry-After may ask for (default
	// 5m): past it the request fails instead, and the run goes on without
	// it rather than sleep on its lock for a day.
	MaxRateLimitPause time.Duration
	Clock             Clock
	HTTPClient        *http.Client
	Logger            *slog.Logger
	Metrics           Metrics
	// PathLimits, when set, paces limits the API keeps per path by its
	// rate-limit headers, and a 429 with them pauses that path only.
	PathLimits *PathLimits
}

// Client calls an API: paced, retried, size-capped, and never showing or
// forwarding its credentials.
type Client struct {
	cfg    ClientConfig
	base   *url.URL
	http   *http.Client
	pacer  *Pacer
	paths  *pathPacer // nil without PathLimits
	logger *slog.Logger

	requests, retries, rateLimited atomic.Int64
}

// ErrConfig marks a configuration mistake.
var ErrConfig = errors.New("configuration")

// maxRedirects caps the redirects one request follows.
const maxRedirects = 5

// NewClient validates the configuration and builds a client.
func NewClient(cfg ClientConfig) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("%w: %s: the API URL %q is not a URL", ErrConfig, cfg.Owner, cfg.BaseURL)
	}
	if !secureScheme(base) {
		return nil, fmt.Errorf("%w: %s: the API URL must be https (plain http only for a loopback address), got %s://%s",
			ErrConfig, cfg.Owner, base.Scheme, base.Host)
	}
	if cfg.RatePerMinute == 0 {
		cfg.RatePerMinute = defaultRate
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.Renewals <= 0 {
		cfg.Renewals = 1
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = time.Second
	}
	if cfg.RateLimitPause == nil {
		cfg.RateLimitPause = func(now time.Time) time.Time { return now.Truncate(time.Minute).Add(time.Minute + time.Second) }
	}
	if cfg.MaxRateLimitPause <= 0 {
		cfg.MaxRateLimitPause = 5 * time.Minute
	}
	if cfg.ErrorEnvelope == nil {
		cfg.ErrorEnvelope = func(body []byte) (string, string) { return "", strings.TrimSpace(store.Clip(string(body), 200)) }
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NopMetrics{}
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.MaxIdleConnsPerHost = 32
		httpClient = &http.Client{Transport: transport}
	}
	// Credentials are added to the first request only, and Go copies a
	// request's headers onto its redirects: a redirect may not leave the
	// host that got them, nor drop to plain http off loopback.
	hc := *httpClient
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: stopped after %d", errRedirect, maxRedirects)
		}
		if !secureScheme(req.URL) {
			return fmt.Errorf("%w: to plain http on %s", errRedirect, req.URL.Host)
		}
		if via[0].Context().Value(credentialed{}) != nil && req.URL.Host != via[0].URL.Host {
			return fmt.Errorf("%w: from %s to another host, %s, with credentials", errRedirect, via[0].URL.Host, req.URL.Host)
		}
		return nil
	}
	pacer := cfg.Pacer
	if pacer == nil {
		pacer = NewPacer(cfg.Clock, cfg.RatePerMinute)
	}
	c := &Client{cfg: cfg, base: base, http: &hc, pacer: pacer, logger: cfg.Logger}
	if cfg.PathLimits != nil {
		c.paths = newPathPacer(*cfg.PathLimits, cfg.Clock)
	}
	return c, nil
}

// errRedirect is a redirect the client will not follow; retrying cannot
// change that.
var errRedirect = errors.New("refused a redirect")

// credentialed marks the context of a request that carries credentials.
type credentialed struct{}

func secureScheme(u *url.URL) bool {
	return u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Response is one answer of the API.
type Response struct {
	Status   int
	Body     []byte
	Header   http.Header
	Attempts int
}

// APIError is a failed request after its retries, in words fit for the run
// ledger: no key, no full URL with credentials.
type APIError struct {
	// Credentialed: the request carried the source's credentials (a
	// download link does not).
	Credentialed bool
	Method       string
	Path         string
	Status       int    // 0 when no HTTP response came
	Reason       string // error_reason of the API's error envelope, if any
	Message      string
	Attempts     int
	renewed      bool // a 401 whose challenge gave new credentials
	// refused: the last answer was a 401 or 403 to credentials the source
	// cannot renew (not a Digest nonce gone stale in a race).
	refused       bool
	challengeAuth bool
}

func (e *APIError) Error() string {
	m := e.Method
	if m == "" {
		m = http.MethodGet
	}
	s := fmt.Sprintf("%s %s", m, e.Path)
	if e.Status != 0 {
		s += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Reason != "" {
		s += " " + e.Reason
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return fmt.Sprintf("%s (after %d attempts)", s, e.Attempts)
}

// Rejected reports whether the API refused the source's credentials: no
// other request of the source can succeed.
func (e *APIError) Rejected() bool { return e.refused }

// challenged reports whether the credentials answer challenges (Digest):
// a refusal of those can also be a race of nonces, so one alone is not
// proof that the credentials are wrong.
func (e *APIError) challenged() bool { return e.challengeAuth }

// NotFound reports whether the API said the resource does not exist.
func (e *APIError) NotFound() bool {
	return e.Status == http.StatusNotFound || e.Reason == "not_found"
}

// Rate is the pace the client was configured with, requests a minute.
func (c *Client) Rate() int { return c.cfg.RatePerMinute }

// Counters reports the client's requests, retries and 429s so far.
func (c *Client) Counters() (requests, retries, rateLimited int64) {
	return c.requests.Load(), c.retries.Load(), c.rateLimited.Load()
}

// Request is one call of an API.
type Request struct {
	Method string     // default GET
	Path   string     // under the base URL
	Query  url.Values //
	Body   []byte     // sent as application/json
	// URL, instead of Path, is an absolute address elsewhere (an export's
	// signed download link): it is fetched without credentials.
	URL string
	// Label names the request in metrics (an endpoint family).
	Label string
	// Timeout, when set, bounds this request instead of the client's
	// (a large download).
	Timeout time.Duration
	// Sink, when set, takes a successful response's body as it arrives,
	// and Response.Body is nil: a download of tens of megabytes is never
	// held whole. A retry resets it first.
	Sink Sink
}

// Sink is where a streamed body goes (see Request.Sink).
type Sink interface {
	io.Writer
	Reset() // forget what was written: the body starts over
}

// Get fetches path (relative to the base URL) with query.
func (c *Client) Get(ctx context.Context, label, path string, query url.Values) (*Response, error) {
	return c.Do(ctx, Request{Path: path, Query: query, Label: label})
}

// Do sends a request, retrying what is worth retrying: 429, 5xx, timeouts,
// broken connections and bodies. A 404 or other 4xx is returned at once as
// an *APIError.
func (c *Client) Do(ctx context.Context, q Request) (*Response, error) {
	if q.Method == "" {
		q.Method = http.MethodGet
	}
	var u url.URL
	var shown string
	withCredentials := q.URL == ""
	if withCredentials {
		u = *c.base
		u.Path += q.Path
		u.RawQuery = q.Query.Encode()
		shown = q.Path
		if u.RawQuery != "" {
			shown += "?" + u.RawQuery
		}
	} else {
		p, err := url.Parse(q.URL)
		if err != nil || p.Host == "" || !secureScheme(p) {
			return nil, &APIError{Method: q.Method, Path: "(a link)", Message: "not an https URL"}
		}
		u = *p
		shown = p.Host + p.Path // never the query: it may hold a signature
	}
	var last *APIError
	renewals := 0 // a 401's new credentials are tried at once, cfg.Renewals times in a row
	for attempt := 1; attempt <= c.cfg.MaxAttempts; attempt++ {
		if attempt > 1 && !(last != nil && last.renewed) {
			c.retries.Add(1)
			c.cfg.Metrics.Retry(c.cfg.Owner, q.Label)
			wait := c.cfg.BackoffBase << (attempt - 2)
			wait += time.Duration(rand.Int64N(int64(wait)/2 + 1))
			c.logger.DebugContext(ctx, "retrying", "path", shown, "attempt", attempt, "wait", wait, "err", last)
			if !c.cfg.Clock.SleepUntil(ctx, c.cfg.Clock.Now().Add(wait)) {
				return nil, ctx.Err()
			}
		}
		if c.paths != nil && withCredentials {
			if err := c.paths.wait(ctx, c.cfg.PathLimits.Key(q)); err != nil {
				return nil, err
			}
		}
		waited, werr := c.pacer.wait(ctx)
		c.cfg.Metrics.PacerWait(waited)
		if werr != nil {
			return nil, werr
		}
		resp, retry, apiErr := c.once(ctx, q, u.String(), shown, withCredentials, attempt)
		if apiErr == nil {
			c.cfg.Metrics.Request(c.cfg.Owner, q.Label, resp.Status)
			return resp, nil
		}
		c.cfg.Metrics.Request(c.cfg.Owner, q.Label, apiErr.Status)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		last = apiErr
		if apiErr.renewed && renewals < c.cfg.Renewals {
			renewals++
			attempt--
			continue
		}
		apiErr.renewed = false
		if !retry {
			return nil, apiErr
		}
	}
	return nil, last
}

// once sends one request. It reports whether a failure is worth retrying.
func (c *Client) once(ctx context.Context, q Request, rawURL, shown string, withCredentials bool, attempt int) (*Response, bool, *APIError) {
	fail := func(status int, msg string) *APIError {
		return &APIError{Credentialed: withCredentials, Method: q.Method, Path: shown, Status: status, Message: msg, Attempts: attempt}
	}
	// Count requests as they reach the wire: Go's transport re-sends an
	// idempotent request by itself when a reused connection breaks, and
	// the API counts (and rate-limits) every one.
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			c.requests.Add(1)
		}
	}})
	if withCredentials {
		ctx = context.WithValue(ctx, credentialed{}, true)
	}
	timeout := c.cfg.Timeout
	if q.Timeout > 0 {
		timeout = q.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if q.Body != nil {
		body = bytes.NewReader(q.Body)
	}
	req, err := http.NewRequestWithContext(ctx, q.Method, rawURL, body)
	if err != nil {
		return nil, false, fail(0, err.Error())
	}
	if q.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if withCredentials {
		req.Header.Set("Accept", "application/json")
		if c.cfg.Authorize != nil {
			c.cfg.Authorize(req)
		}
	}
	var answered func(int, http.Header) bool
	if withCredentials && c.cfg.Auth != nil {
		answered = c.cfg.Auth.Sign(req)
	}
	if answered == nil {
		answered = func(int, http.Header) bool { return false }
	}
	req.Header.Set("User-Agent", "billing-warehouse/"+version.Get().Version+" (+https://github.com/billing-warehouse/billing-warehouse)")
	resp, err := c.http.Do(req)
	if err != nil {
		answered(0, nil)
		return nil, !errors.Is(err, errRedirect), fail(0, transportMessage(err))
	}
	defer resp.Body.Close()
	renewed := answered(resp.StatusCode, resp.Header) && resp.StatusCode == http.StatusUnauthorized
	pathLimited := c.paths != nil && withCredentials &&
		c.paths.observe(c.cfg.PathLimits.Key(q), resp.Header, resp.StatusCode == http.StatusTooManyRequests)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	var data []byte
	var size int64
	if ok && q.Sink != nil {
		q.Sink.Reset()
		size, err = io.Copy(q.Sink, io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
	} else {
		data, err = io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
		size = int64(len(data))
	}
	if err != nil {
		return nil, true, fail(resp.StatusCode, "reading body: "+transportMessage(err))
	}
	if size > c.cfg.MaxBodyBytes {
		return nil, false, fail(resp.StatusCode, fmt.Sprintf("body larger than %d bytes", c.cfg.MaxBodyBytes))
	}
	switch {
	case ok:
		return &Response{Status: resp.StatusCode, Body: data, Header: resp.Header, Attempts: attempt}, false, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		c.rateLimited.Add(1)
		c.cfg.Metrics.RateLimited(c.cfg.Owner)
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			if wait := time.Duration(s) * time.Second; wait > c.cfg.MaxRateLimitPause || s > 1<<30 {
				e := fail(resp.StatusCode, fmt.Sprintf("Retry-After %ds is longer than the %s the client waits (max-rate-limit-pause)", s, c.cfg.MaxRateLimitPause))
				e.Reason = "rate_limited"
				return nil, false, e
			}
		}
		if pathLimited {
			c.logger.WarnContext(ctx, "rate limited: pausing this path's requests", "path", q.Path)
		} else {
			until := c.cfg.RateLimitPause(c.cfg.Clock.Now())
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
				until = c.cfg.Clock.Now().Add(time.Duration(s) * time.Second)
			}
			c.pacer.pause(until)
			c.logger.WarnContext(ctx, "rate limited: pausing every request", "until", until.UTC().Format(time.RFC3339))
		}
		e := fail(resp.StatusCode, "")
		e.Reason = "rate_limited"
		return nil, true, e
	}
	e := fail(resp.StatusCode, "")
	e.renewed = renewed
	e.refused = withCredentials && !renewed && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden)
	e.challengeAuth = c.cfg.Auth != nil
	if withCredentials {
		e.Reason, e.Message = c.cfg.ErrorEnvelope(data)
	} else {
		e.Message = strings.TrimSpace(store.Clip(string(data), 200))
	}
	// New credentials are tried at once; should they go stale before they
	// arrive, they are retried like a 5xx.
	return nil, resp.StatusCode >= 500 || renewed, e
}

// transportMessage describes a transport error without the URL, which Go's
// errors repeat (the key is a header, but the URL is noise in the ledger).
func transportMessage(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}
