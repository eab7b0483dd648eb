package ingest

import (
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
)

// Version names this build in the User-Agent.
var Version = "dev"

// DefaultBaseURL is the live API.
const DefaultBaseURL = "https://infrahub-api.nexgencloud.com/v1"

// ClientConfig configures the API client.
type ClientConfig struct {
	BaseURL string // default DefaultBaseURL
	APIKey  string
	// RatePerMinute paces every request (default 450, under the live 500).
	RatePerMinute int
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
	Clock          Clock
	HTTPClient     *http.Client
	Logger         *slog.Logger
	Metrics        Metrics
}

// Client calls the billing API: paced, retried, size-capped, and never
// showing its key.
type Client struct {
	cfg    ClientConfig
	base   *url.URL
	http   *http.Client
	pacer  *pacer
	logger *slog.Logger

	requests, retries, rateLimited atomic.Int64
}

// ErrConfig marks a configuration mistake.
var ErrConfig = errors.New("configuration")

// NewClient validates the configuration and builds a client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("%w: HYPERSTACK_API_URL %q is not a URL", ErrConfig, cfg.BaseURL)
	}
	switch {
	case base.Scheme == "https":
	case base.Scheme == "http" && isLoopback(base.Hostname()):
	default:
		return nil, fmt.Errorf("%w: HYPERSTACK_API_URL must be https (plain http only for a loopback address), got %s://%s",
			ErrConfig, base.Scheme, base.Host)
	}
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("%w: no API key: set HYPERSTACK_API_KEY or HYPERSTACK_API_KEY_FILE", ErrConfig)
	}
	if cfg.RatePerMinute == 0 {
		cfg.RatePerMinute = 450
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 32 << 20
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
	return &Client{cfg: cfg, base: base, http: httpClient, pacer: newPacer(cfg.Clock, cfg.RatePerMinute), logger: cfg.Logger}, nil
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
	Attempts int
}

// APIError is a failed request after its retries, in words fit for the run
// ledger: no key, no full URL with credentials.
type APIError struct {
	Path     string
	Status   int    // 0 when no HTTP response came
	Reason   string // error_reason of the API's error envelope, if any
	Message  string
	Attempts int
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("GET %s", e.Path)
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

// NotFound reports whether the API said the resource does not exist.
func (e *APIError) NotFound() bool {
	return e.Status == http.StatusNotFound || e.Reason == "not_found"
}

// Counters reports the client's requests, retries and 429s so far.
func (c *Client) Counters() (requests, retries, rateLimited int64) {
	return c.requests.Load(), c.retries.Load(), c.rateLimited.Load()
}

// Get fetches path (relative to the base URL) with query, retrying what is
// worth retrying: 429, 5xx, timeouts, broken connections and bodies. A 404
// or other 4xx is returned at once as an *APIError. family labels the
// request in metrics.
func (c *Client) Get(ctx context.Context, family, path string, query url.Values) (*Response, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	shown := path
	if u.RawQuery != "" {
		shown += "?" + u.RawQuery
	}
	var last *APIError
	for attempt := 1; attempt <= c.cfg.MaxAttempts; attempt++ {
		if attempt > 1 {
			c.retries.Add(1)
			c.cfg.Metrics.Retry(family)
			wait := c.cfg.BackoffBase << (attempt - 2)
			wait += time.Duration(rand.Int64N(int64(wait)/2 + 1))
			c.logger.DebugContext(ctx, "retrying", "path", shown, "attempt", attempt, "wait", wait, "err", last)
			if !c.cfg.Clock.SleepUntil(ctx, c.cfg.Clock.Now().Add(wait)) {
				return nil, ctx.Err()
			}
		}
		waited, werr := c.pacer.wait(ctx)
		c.cfg.Metrics.PacerWait(waited)
		if werr != nil {
			return nil, werr
		}
		resp, retry, apiErr := c.once(ctx, u.String(), shown, attempt)
		if apiErr == nil {
			c.cfg.Metrics.Request(family, resp.Status)
			return resp, nil
		}
		c.cfg.Metrics.Request(family, apiErr.Status)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		last = apiErr
		if !retry {
			return nil, apiErr
		}
	}
	return nil, last
}

// once sends one request. It reports whether a failure is worth retrying.
func (c *Client) once(ctx context.Context, rawURL, shown string, attempt int) (*Response, bool, *APIError) {
	// Count requests as they reach the wire: Go's transport re-sends an
	// idempotent request by itself when a reused connection breaks, and
	// the API counts (and rate-limits) every one.
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			c.requests.Add(1)
		}
	}})
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, false, &APIError{Path: shown, Message: err.Error(), Attempts: attempt}
	}
	req.Header.Set("api_key", c.cfg.APIKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "billing-warehouse/"+Version+" (+https://github.com/billing-warehouse/billing-warehouse)")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, true, &APIError{Path: shown, Message: transportMessage(err), Attempts: attempt}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, true, &APIError{Path: shown, Status: resp.StatusCode, Message: "reading body: " + transportMessage(err), Attempts: attempt}
	}
	if int64(len(body)) > c.cfg.MaxBodyBytes {
		return nil, false, &APIError{Path: shown, Status: resp.StatusCode, Message: fmt.Sprintf("body larger than %d bytes", c.cfg.MaxBodyBytes), Attempts: attempt}
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return &Response{Status: resp.StatusCode, Body: body, Attempts: attempt}, false, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		c.rateLimited.Add(1)
		c.cfg.Metrics.RateLimited()
		until := c.cfg.RateLimitPause(c.cfg.Clock.Now())
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			until = c.cfg.Clock.Now().Add(time.Duration(s) * time.Second)
		}
		c.pacer.pause(until)
		c.logger.WarnContext(ctx, "rate limited: pausing every request", "until", until.UTC().Format(time.RFC3339))
		return nil, true, &APIError{Path: shown, Status: resp.StatusCode, Reason: "rate_limited", Attempts: attempt}
	}
	e := &APIError{Path: shown, Status: resp.StatusCode, Attempts: attempt}
	e.Reason, e.Message = errorEnvelope(body)
	return nil, resp.StatusCode >= 500, e
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
