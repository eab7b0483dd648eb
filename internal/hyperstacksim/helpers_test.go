package hyperstacksim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// testNow is the fixed clock of most tests: late in a month, so the current
// billing cycle has history.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const testKey = "test-key-9f1c"

// newTestSim starts a simulator on a loopback HTTP server.
func newTestSim(t testing.TB, cfg Config) (*Sim, string) {
	t.Helper()
	if cfg.Now.IsZero() {
		cfg.Now = testNow
	}
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	sim := New(cfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

// get fetches url with the test key and returns the status and body.
func get(t testing.TB, url string) (int, []byte) {
	t.Helper()
	return do(t, http.MethodGet, url, "")
}

func do(t testing.TB, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("api_key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, b
}

// getJSON fetches url, requires a 200 and decodes numbers exactly.
func getJSON(t testing.TB, url string) map[string]any {
	t.Helper()
	status, body := get(t, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, status, body)
	}
	return decode(t, body)
}

func decode(t testing.TB, body []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %.200s: %v", body, err)
	}
	return v
}

// at walks a decoded body: at(v, "billing_history_vm", "billing_history", 0, "metrics").
func at(t testing.TB, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: %T is not an object", path, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at %v: not an array with index %d: %v", path, k, v)
			}
			v = a[k]
		}
	}
	return v
}

func number(t testing.TB, v any) json.Number {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	return n
}

// money reads an exact decimal amount.
func money(t testing.TB, v any) Nano {
	t.Helper()
	n := number(t, v)
	m, ok := ParseNano(n.String())
	if !ok {
		t.Fatalf("%s is not an exact decimal", n)
	}
	return m
}

func integer(t testing.TB, v any) int64 {
	t.Helper()
	n := number(t, v)
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%s is not an integer", n)
	}
	return i
}

func q(w Window) string {
	return "start_date=" + w.Start.Format(DateLayout) + "&end_date=" + w.End.Format(DateLayout)
}
