package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

const secret = "the-key-of-the-api"

// seen records every request a server got, with its credential header.
type seen struct {
	mu   sync.Mutex
	reqs []string
}

func (s *seen) add(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, fmt.Sprintf("%s %s key=%q", r.Method, r.URL.Path, r.Header.Get("X-Key")))
}

func (s *seen) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.reqs, "; ")
}

// serveOn serves h on a loopback address of its own (127.0.0.2 is another
// host than 127.0.0.1 to a client).
func serveOn(t *testing.T, ip string, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func newClient(t *testing.T, base string) *ingest.Client {
	t.Helper()
	c, err := ingest.NewClient(ingest.ClientConfig{
		Owner: store.Owner{Provider: "test", Account: "a"}, BaseURL: base, RatePerMinute: 1_000_000, BackoffBase: time.Millisecond,
		Authorize: func(r *http.Request) { r.Header.Set("X-Key", secret) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExportJobAndDownload is the shape of an export: a POST starts a job,
// GETs poll it, and the file comes from a second host by a link that
// carries its own signature: that host never gets the API's credentials.
func TestExportJobAndDownload(t *testing.T) {
	t.Parallel()
	var files seen
	fileHost := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		files.add(r)
		if r.URL.Query().Get("sig") != "s3cr3t" {
			http.Error(w, "<Error>AccessDenied</Error>", http.StatusForbidden)
			return
		}
		io.WriteString(w, "a,b\n1,2\n")
	}))
	var api seen
	polls := 0
	apiHost := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.add(r)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/exports":
			body, _ := io.ReadAll(r.Body)
			if string(body) != `{"mode":"async"}` || r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			io.WriteString(w, `{"id":"job-1","status":"processing"}`)
		case r.URL.Path == "/v1/exports/job-1":
			if polls++; polls < 3 {
				io.WriteString(w, `{"status":"processing"}`)
				return
			}
			fmt.Fprintf(w, `{"status":"exported","url":%q}`, fileHost+"/file.csv?sig=s3cr3t")
		default:
			http.NotFound(w, r)
		}
	}))
	c := newClient(t, apiHost+"/v1")
	ctx := context.Background()
	if _, err := c.Do(ctx, ingest.Request{Method: http.MethodPost, Path: "/exports", Body: []byte(`{"mode":"async"}`)}); err != nil {
		t.Fatal(err)
	}
	var link string
	for link == "" {
		resp, err := c.Get(ctx, "exports", "/exports/job-1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if s := string(resp.Body); strings.Contains(s, `"exported"`) {
			link = s[strings.Index(s, `"url":"`)+7 : len(s)-2]
		}
	}
	resp, err := c.Do(ctx, ingest.Request{URL: link})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "a,b\n1,2\n" {
		t.Errorf("download = %q", resp.Body)
	}
	if want := `POST /v1/exports key="the-key-of-the-api"; GET /v1/exports/job-1 key="the-key-of-the-api"; ` +
		`GET /v1/exports/job-1 key="the-key-of-the-api"; GET /v1/exports/job-1 key="the-key-of-the-api"`; api.all() != want {
		t.Errorf("the API saw %s", api.all())
	}
	if files.all() != `GET /file.csv key=""` {
		t.Errorf("the file host saw %s", files.all())
	}
	// A refused link's error names the host and path, never the signature.
	_, err = c.Do(ctx, ingest.Request{URL: fileHost + "/file.csv?sig=wrong"})
	var apiErr *ingest.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || strings.Contains(err.Error(), "sig=") {
		t.Errorf("expired link: %v", err)
	}
}

// TestRedirectsKeepTheKey: a redirect from the API to another host, or to
// plain http off loopback, is refused, and the other host never sees the
// key; a redirect within the API's host is followed.
func TestRedirectsKeepTheKey(t *testing.T) {
	t.Parallel()
	var other seen
	otherHost := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.add(r)
		io.WriteString(w, `{}`)
	}))
	apiHost := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/away":
			http.Redirect(w, r, otherHost+"/steal", http.StatusFound)
		case "/v1/plain":
			http.Redirect(w, r, "http://billing.example.com/v1/x", http.StatusFound)
		case "/v1/loop":
			http.Redirect(w, r, "/v1/loop", http.StatusFound)
		case "/v1/moved":
			http.Redirect(w, r, "/v1/here", http.StatusMovedPermanently)
		case "/v1/here":
			if r.Header.Get("X-Key") != secret {
				http.Error(w, "no key", http.StatusUnauthorized)
				return
			}
			io.WriteString(w, `{"ok":true}`)
		}
	}))
	c := newClient(t, apiHost+"/v1")
	for _, path := range []string{"/away", "/plain", "/loop"} {
		_, err := c.Get(context.Background(), "t", path, nil)
		var apiErr *ingest.APIError
		if !errors.As(err, &apiErr) || apiErr.Attempts != 1 {
			t.Errorf("%s: %v, want a refusal without retries", path, err)
		}
	}
	if other.all() != "" {
		t.Errorf("the other host got %s", other.all())
	}
	resp, err := c.Get(context.Background(), "t", "/moved", nil)
	if err != nil || string(resp.Body) != `{"ok":true}` {
		t.Errorf("a redirect within the API: %v %s", err, resp.Body)
	}
}

// TestRetryAfterIsCapped: a Retry-After longer than the cap fails the
// request at once, a unit error, instead of pausing every request (and
// the run holding its lock) for a day; a short one is still honoured.
func TestRetryAfterIsCapped(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	host := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch r.URL.Path {
		case "/v1/day":
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			io.WriteString(w, `{}`)
		}
	}))
	c, err := ingest.NewClient(ingest.ClientConfig{
		Owner: store.Owner{Provider: "test", Account: "a"}, BaseURL: host + "/v1", RatePerMinute: 1_000_000,
		BackoffBase: time.Millisecond, MaxRateLimitPause: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	began := time.Now()
	_, err = c.Get(ctx, "t", "/day", nil)
	var apiErr *ingest.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests || apiErr.Attempts != 1 ||
		!strings.Contains(apiErr.Message, "Retry-After 86400s") {
		t.Fatalf("a day's Retry-After: %v, want a 429 after one attempt naming it", err)
	}
	if _, err := c.Get(ctx, "t", "/ok", nil); err != nil {
		t.Fatalf("the next request: %v", err)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Fatalf("took %s: the client paused for the Retry-After", d)
	}
}

// sink is a Sink that counts its resets.
type sink struct {
	bytes.Buffer
	resets int
}

func (s *sink) Reset() { s.Buffer.Reset(); s.resets++ }

// TestSinkStartsOverOnARetry streams a download whose first answer breaks
// off halfway: the retry's body replaces it, whole, and an error's body
// never reaches the sink.
func TestSinkStartsOverOnARetry(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("day,sim,amount\n", 10000)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.Error(w, `{"code":"NOT_FOUND"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if calls.Add(1) == 1 {
			io.WriteString(w, body[:len(body)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL)

	var got sink
	resp, err := c.Do(t.Context(), ingest.Request{Path: "/file", Sink: &got})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Body != nil || resp.Attempts != 2 || got.resets != 2 || got.String() != body {
		t.Fatalf("body %d bytes, attempts %d, resets %d, sink %d bytes of %d", len(resp.Body), resp.Attempts, got.resets, got.Len(), len(body))
	}
	var none sink
	if _, err := c.Do(t.Context(), ingest.Request{Path: "/missing", Sink: &none}); err == nil || none.Len() != 0 {
		t.Fatalf("a 404: %v, sink %q", err, none.String())
	}
}
