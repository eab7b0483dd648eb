package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// errThing is the fake provider's handler error.
type errThing struct{ status int }

func (e *errThing) Error() string { return "thing " + strconv.Itoa(e.status) }

// fakeAPI is a provider with one list of things, its own error envelope,
// rate headers, a key header, a class of its own and a clock.
func fakeAPI(t *testing.T, cfg Config) (*Server, *Clock, string) {
	t.Helper()
	clock := NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), time.Second)
	s := New(cfg, Provider{
		Prefix: "/api",
		Error: func(r *http.Request, f Failure) (int, any) {
			if e, ok := errors.AsType[*errThing](f.Err); ok {
				return e.status, []any{map[string]any{"error_type": "thing", "status": e.status}}
			}
			return f.Status, []any{map[string]any{"error_type": fmt.Sprint(f.Kind), "status": f.Status}}
		},
		Authorize: func(r *http.Request) bool { return r.Header.Get("X-Key") == "k" },
		RateKey:   func(r *http.Request) string { return ClientIP(r) + " " + r.URL.Path },
		RateHeaders: func(h http.Header, q Quota) {
			h.Set("X-Limit", strconv.Itoa(q.Limit))
			h.Set("X-Remaining", strconv.Itoa(q.Remaining))
			h.Set("X-Refresh", strconv.Itoa(int(q.Reset.Seconds())))
		},
		Applies: func(r *http.Request, c Class) bool { return c != "conflict_503" || r.Method == http.MethodPost },
		Spare:   []string{"kind"},
		Classes: []Class{"conflict_503"},
		Clock:   clock,
		ClockInfo: func() map[string]any {
			return map[string]any{"zone": "UTC"}
		},
	})
	s.Handle("GET /api/things", func(r *Request) (any, error) {
		if r.Header.Get("X-Key") != "k" {
			t.Errorf("the handler reads request header X-Key %q", r.Header.Get("X-Key"))
		}
		r.ResponseHeader.Set("X-Next-Key", "t2")
		return map[string]any{"kind": "list", "things": []any{
			map[string]any{"id": "t1", "price": json.Number("0.25")},
		}}, nil
	})
	s.Handle("GET /api/things/{id}", func(r *Request) (any, error) {
		r.CountResource(r.PathValue("id"))
		if r.PathValue("id") != "t1" {
			return nil, &errThing{http.StatusNotFound}
		}
		return map[string]any{"id": "t1"}, nil
	})
	s.Handle("POST /api/things", func(r *Request) (any, error) {
		if r.Fault == "conflict_503" {
			return nil, &errThing{http.StatusServiceUnavailable}
		}
		r.Status = http.StatusCreated
		return map[string]any{"id": "t2"}, nil
	})
	s.Handle("GET /api/export.csv", func(r *Request) (any, error) {
		return Raw{ContentType: "text/csv", Body: []byte("id,price\nt1,0.25\n")}, nil
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, clock, srv.URL
}

type answer struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, url, key, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, url, err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func TestServerAnswers(t *testing.T) {
	t.Parallel()
	s, _, base := fakeAPI(t, Config{Seed: 1})
	cases := []struct {
		method, path, key string
		status            int
		body, ctype       string
	}{
		{"GET", "/api/things", "k", 200, `{"kind":"list","things":[{"id":"t1","price":0.25}]}`, "application/json"},
		{"GET", "/api/things/t1", "k", 200, `{"id":"t1"}`, "application/json"},
		{"GET", "/api/things/t9", "k", 404, `[{"error_type":"thing","status":404}]`, "application/json"},
		{"POST", "/api/things", "k", 201, `{"id":"t2"}`, "application/json"},
		{"GET", "/api/export.csv", "k", 200, "id,price\nt1,0.25\n", "text/csv"},
		{"GET", "/api/things", "", 401, `[{"error_type":"2","status":401}]`, "application/json"},
		{"GET", "/api/nowhere", "k", 404, `[{"error_type":"3","status":404}]`, "application/json"},
		{"DELETE", "/api/things", "k", 404, `[{"error_type":"3","status":404}]`, "application/json"},
	}
	for _, c := range cases {
		got := call(t, c.method, base+c.path, c.key, "")
		if got.status != c.status || got.body != c.body || got.header.Get("Content-Type") != c.ctype {
			t.Errorf("%s %s: %d %s %q; want %d %s %q", c.method, c.path, got.status, got.header.Get("Content-Type"), got.body, c.status, c.ctype, c.body)
		}
		if got.header.Get("Content-Length") != strconv.Itoa(len(c.body)) {
			t.Errorf("%s %s: Content-Length %s for %d bytes", c.method, c.path, got.header.Get("Content-Length"), len(c.body))
		}
	}
	if got := call(t, "GET", base+"/api/things", "k", ""); got.header.Get("X-Next-Key") != "t2" {
		t.Errorf("the handler's header is missing: %v", got.header)
	}

	st := s.Stats()
	if st.Requests != 9 || st.ByEndpoint["GET /things"] != 3 || st.ByEndpoint["GET /things/{id}"] != 2 ||
		st.ByEndpoint["unmatched GET"] != 1 || st.ByEndpoint["unmatched DELETE"] != 1 || st.ByEndpointOK["GET /things"] != 2 {
		t.Errorf("by endpoint %v, ok %v", st.ByEndpoint, st.ByEndpointOK)
	}
	if st.ByResource["GET /things/{id}"]["t1"] != 1 || st.ByResource["GET /things/{id}"]["t9"] != 1 {
		t.Errorf("by resource %v", st.ByResource)
	}
	if st.ByStatus["200"] != 4 || st.ByStatus["201"] != 1 || st.ByStatus["401"] != 1 || st.ByStatus["404"] != 3 {
		t.Errorf("by status %v", st.ByStatus)
	}
}

func TestServerRateLimit(t *testing.T) {
	t.Parallel()
	wall := &fakeWall{t: time.Date(2026, 11, 23, 9, 30, 20, 0, time.UTC)}
	s, _, base := fakeAPI(t, Config{RateLimit: 2, RetryAfter: true, WallClock: wall.now})
	var remaining []string
	for range 3 {
		got := call(t, "GET", base+"/api/things", "k", "")
		remaining = append(remaining, got.header.Get("X-Remaining"))
		if got.header.Get("X-Limit") != "2" || got.header.Get("X-Refresh") != "40" {
			t.Errorf("rate headers %v", got.header)
		}
		if got.status == 429 && (got.header.Get("Retry-After") != "40" || got.body != `[{"error_type":"1","status":429}]`) {
			t.Errorf("429: Retry-After %q, body %s", got.header.Get("Retry-After"), got.body)
		}
	}
	if strings.Join(remaining, ",") != "1,0,0" {
		t.Errorf("X-Remaining over three requests: %v, want 1,0,0", remaining)
	}
	// The fake provider's key is IP and path: another path has its own count.
	if got := call(t, "GET", base+"/api/things/t1", "k", ""); got.status != 200 || got.header.Get("X-Remaining") != "1" {
		t.Errorf("another path: %d, remaining %s", got.status, got.header.Get("X-Remaining"))
	}
	if st := s.Stats(); st.RateLimited != 1 || st.ByStatus["429"] != 1 {
		t.Errorf("stats: %d rate limited, by status %v", st.RateLimited, st.ByStatus)
	}
	s.SetRateLimit(2, false)
	if got := call(t, "GET", base+"/api/things", "k", ""); got.status != 429 || got.header.Get("Retry-After") != "" {
		t.Errorf("without Retry-After: %d %v", got.status, got.header)
	}
	wall.set(time.Date(2026, 11, 23, 9, 31, 0, 0, time.UTC))
	if got := call(t, "GET", base+"/api/things", "k", ""); got.status != 200 {
		t.Errorf("a new minute: %d", got.status)
	}
}

func TestServerFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		faults Faults
		method string
		check  func(a answer) bool
	}{
		{Faults{Error500: 1}, "GET", func(a answer) bool {
			return a.status == 500 && a.body == `[{"error_type":"5","status":500}]`
		}},
		{Faults{Error502: 1}, "GET", func(a answer) bool {
			return (a.status == 502 || a.status == 503) && strings.HasPrefix(a.body, "<html>") && a.header.Get("Content-Type") == "text/html"
		}},
		{Faults{Truncate: 1}, "GET", func(a answer) bool {
			const full = `{"kind":"list","things":[{"id":"t1","price":0.25}]}`
			return a.status == 200 && a.body == full[:len(full)/2] && a.header.Get("Content-Length") == strconv.Itoa(len(full)/2)
		}},
		{Faults{WrongType: 1}, "GET", func(a answer) bool {
			return a.body == `{"kind":"list","things":[{"id":"t1","price":"0.25"}]}`
		}},
		{Faults{Null: 1}, "GET", func(a answer) bool { // "kind" is spared
			return a.body == `{"kind":"list","things":[{"id":null,"price":0.25}]}` ||
				a.body == `{"kind":"list","things":[{"id":"t1","price":null}]}`
		}},
		{Faults{SlowBody: 1}, "GET", func(a answer) bool {
			return a.body == `{"kind":"list","things":[{"id":"t1","price":0.25}]}`
		}},
		{Faults{Extra: map[Class]float64{"conflict_503": 1}}, "POST", func(a answer) bool {
			return a.status == 503 && a.body == `[{"error_type":"thing","status":503}]`
		}},
	}
	for _, c := range cases {
		s, _, base := fakeAPI(t, Config{Faults: c.faults, SlowBodyFor: time.Millisecond})
		got := call(t, c.method, base+"/api/things", "k", "")
		if !c.check(got) {
			t.Errorf("%+v: got %d %q", c.faults, got.status, got.body)
		}
		if f := s.Stats().Faults; len(f) != 1 {
			t.Errorf("%+v: stats count faults %v, want one", c.faults, f)
		}
	}

	// Applies keeps the provider's class off GETs; the GET is untouched.
	s, _, base := fakeAPI(t, Config{Faults: Faults{Extra: map[Class]float64{"conflict_503": 1}}})
	if got := call(t, "GET", base+"/api/things", "k", ""); got.status != 200 || len(s.Stats().Faults) != 0 {
		t.Errorf("a class that does not apply: %d, faults %v", got.status, s.Stats().Faults)
	}

	// A body fault that finds nothing to edit is not counted.
	s, _, base = fakeAPI(t, Config{Faults: Faults{WrongType: 1}})
	if got := call(t, "GET", base+"/api/things/t1", "k", ""); got.body != `{"id":"t1"}` || len(s.Stats().Faults) != 0 {
		t.Errorf("wrong type without a number: %q, faults %v", got.body, s.Stats().Faults)
	}

	_, _, base = fakeAPI(t, Config{Faults: Faults{Reset: 1}})
	req, _ := http.NewRequest(http.MethodGet, base+"/api/things", nil)
	req.Header.Set("X-Key", "k")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("reset: got %d", resp.StatusCode)
	}
}

// TestServerLatency checks that the latency is the whole response time.
func TestServerLatency(t *testing.T) {
	t.Parallel()
	_, _, base := fakeAPI(t, Config{Latency: Latency{Min: 120 * time.Millisecond}})
	began := time.Now()
	call(t, "GET", base+"/api/things", "k", "")
	if took := time.Since(began); took < 120*time.Millisecond {
		t.Errorf("answered after %s with 120ms latency", took)
	}
}

func TestServerControls(t *testing.T) {
	t.Parallel()
	s, clock, base := fakeAPI(t, Config{})
	HandleControl(s.Control(), "POST /_sim/things/{id}/close", func(r *http.Request, _ struct{}) (any, error) {
		if r.PathValue("id") != "t1" {
			return nil, fmt.Errorf("thing %s: %w", r.PathValue("id"), ErrNotFound)
		}
		return OK, nil
	})
	HandleControl(s.Control(), "POST /_sim/echo", func(_ *http.Request, in struct{ N int }) (any, error) {
		return map[string]int{"n": in.N * 2}, nil
	})
	cases := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/_sim/clock", "", 200, `{"now":"2026-11-23T12:00:00Z","zone":"UTC"}`},
		{"POST", "/_sim/clock", `{"advance": "90m"}`, 200, `{"now":"2026-11-23T13:30:00Z"}`},
		{"POST", "/_sim/clock", `{"set": "2026-12-01T00:00:00Z"}`, 200, `{"now":"2026-12-01T00:00:00Z"}`},
		{"POST", "/_sim/clock", `{"set": "2026-01-01T00:00:00Z"}`, 400, `{"error":"the clock only moves forward"}`},
		{"POST", "/_sim/clock", `{}`, 400, `{"error":"want {\"advance\": \"1h\"} or {\"set\": \"2026-11-01T00:00:00Z\"}"}`},
		{"POST", "/_sim/clock", `not json`, 400, `{"error":"invalid JSON body: invalid character 'o' in literal null (expecting 'u')"}`},
		{"POST", "/_sim/faults", `{"error_500": 1, "conflict_503": 0.5}`, 200,
			`{"error_500":1,"error_502":0,"reset":0,"hang":0,"slow_body":0,"truncate":0,"wrong_type":0,"extra_field":0,"null":0,"unstable_pages":0,"conflict_503":0.5}`},
		{"POST", "/_sim/faults", `{"teapot": 1}`, 400, `{"error":"unknown fault class \"teapot\""}`},
		{"POST", "/_sim/rate-limit", `{"per_minute": 7, "retry_after": true}`, 200, `{"per_minute":7,"retry_after":true}`},
		{"POST", "/_sim/things/t1/close", "", 200, `{"ok":true}`},
		{"POST", "/_sim/things/t2/close", "", 404, `{"error":"thing t2: not found"}`},
		{"POST", "/_sim/echo", `{"N": 21}`, 200, `{"n":42}`},
	}
	for _, c := range cases {
		got := call(t, c.method, base+c.path, "", c.body)
		if got.status != c.status || got.body != c.want {
			t.Errorf("%s %s %s: %d %s; want %d %s", c.method, c.path, c.body, got.status, got.body, c.status, c.want)
		}
	}
	if f := s.Faults(); f.Error500 != 1 || f.Extra["conflict_503"] != 0.5 {
		t.Errorf("faults after POST: %+v", f)
	}
	if s.limiter.Limit() != 7 || !s.retryAfter {
		t.Errorf("rate limit after POST: %d, Retry-After %v", s.limiter.Limit(), s.retryAfter)
	}
	if !clock.Now().Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("clock %s", clock.Now())
	}
	if got := call(t, "GET", base+"/_sim/faults", "", ""); !strings.Contains(got.body, `"error_500":1`) {
		t.Errorf("GET /_sim/faults: %s", got.body)
	}

	s.SetFaults(Faults{})
	call(t, "GET", base+"/api/things/t1", "k", "")
	var st struct {
		Requests   int64                       `json:"requests"`
		ByResource map[string]map[string]int64 `json:"by_resource"`
		Faults     map[string]int64            `json:"faults"`
	}
	if err := json.Unmarshal([]byte(call(t, "GET", base+"/_sim/stats", "", "").body), &st); err != nil {
		t.Fatal(err)
	}
	if st.Requests != 1 || st.ByResource["GET /things/{id}"]["t1"] != 1 || len(st.Faults) != 0 {
		t.Errorf("GET /_sim/stats: %+v (control requests must not count)", st)
	}
	if got := call(t, "POST", base+"/_sim/stats/reset", "", ""); got.body != `{"ok":true}` || s.Stats().Requests != 0 {
		t.Errorf("reset: %s, %d requests left", got.body, s.Stats().Requests)
	}
}

func TestServerWithoutClock(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New(Config{}, Provider{}))
	t.Cleanup(srv.Close)
	if got := call(t, "GET", srv.URL+"/_sim/clock", "", ""); got.status != 404 {
		t.Errorf("GET /_sim/clock without a clock: %d", got.status)
	}
	if got := call(t, "GET", srv.URL+"/x", "", ""); got.status != 404 || got.body != `{"error":"Not Found"}` {
		t.Errorf("default envelope: %d %s", got.status, got.body)
	}
}
