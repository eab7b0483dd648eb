package soracom

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// testNow is the fixed clock of most tests: the 20th, so February to April
// are closed and May is preliminary.
var testNow = time.Date(2026, 5, 20, 3, 30, 0, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func newTestModel(t testing.TB, cfg ModelConfig) *Model {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = fixedClock(testNow)
	}
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	m, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func month(t testing.TB, s string) Month {
	t.Helper()
	mo, err := ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return mo
}

// csvFile is a parsed detailed billing CSV.
type csvFile struct {
	header []string
	col    map[string]int
	rows   [][]string
}

// parseCSV reads a CSV as a client would, with encoding/csv, after checking
// and dropping the byte-order mark.
func parseCSV(t testing.TB, b []byte) csvFile {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		t.Fatalf("no byte-order mark: %.40q", b)
	}
	recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v", err)
	}
	f := csvFile{header: recs[0], col: map[string]int{}, rows: recs[1:]}
	for i, h := range f.header {
		f.col[h] = i
	}
	return f
}

func (f csvFile) get(row []string, col string) string {
	i, ok := f.col[col]
	if !ok {
		return ""
	}
	return row[i]
}

func mustMoney(t testing.TB, s string) Money {
	t.Helper()
	m, err := ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustInt(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const (
	testKeyID = "keyId-test"
	testKey   = "secret-test"
)

// newTestSim starts a simulator on a loopback HTTP server, with no rate
// limit unless the config sets one.
func newTestSim(t testing.TB, cfg Config) (*Sim, string) {
	t.Helper()
	if cfg.Now.IsZero() {
		cfg.Now = testNow
	}
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	if cfg.AuthKeyID == "" {
		cfg.AuthKeyID, cfg.AuthKey = testKeyID, testKey
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	if cfg.AuthRateLimit == 0 {
		cfg.AuthRateLimit = -1
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// client is a test's Soracom client: it logs in once and sends the pair.
type client struct {
	t             testing.TB
	base          string
	apiKey, token string
}

func login(t testing.TB, base string) *client {
	t.Helper()
	status, body := post(t, base+"/v1/auth", `{"authKeyId":"`+testKeyID+`","authKey":"`+testKey+`"}`, nil)
	if status != 200 {
		t.Fatalf("auth: %d %s", status, body)
	}
	var out struct{ APIKey, Token string }
	if err := json.Unmarshal(body, &out); err != nil || out.APIKey == "" || out.Token == "" {
		t.Fatalf("auth: %s %v", body, err)
	}
	return &client{t: t, base: base, apiKey: out.APIKey, token: out.Token}
}

func (c *client) headers() http.Header {
	return http.Header{"X-Soracom-Api-Key": {c.apiKey}, "X-Soracom-Token": {c.token}}
}

func (c *client) do(method, path string) (*http.Response, []byte) {
	c.t.Helper()
	return send(c.t, method, c.base+"/v1"+path, "", c.headers())
}

// get fetches a path, requires a 200 and decodes it with exact numbers.
func (c *client) get(path string) any {
	c.t.Helper()
	resp, body := c.do(http.MethodGet, path)
	if resp.StatusCode != 200 {
		c.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return decode(c.t, body)
}

func post(t testing.TB, url, body string, h http.Header) (int, []byte) {
	t.Helper()
	resp, b := send(t, http.MethodPost, url, body, h)
	return resp.StatusCode, b
}

func send(t testing.TB, method, url, body string, h http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp, b
}

func decode(t testing.TB, body []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %.200s: %v", body, err)
	}
	return v
}

// at walks a decoded body: at(v, "billList", 0, "amount").
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

func jsonMoney(t testing.TB, v any) Money {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	return mustMoney(t, n.String())
}

// faultsOf sets one class, shared or the simulator's own, at a rate.
func faultsOf(class string, rate float64) sim.Faults {
	var f sim.Faults
	if err := json.Unmarshal([]byte(`{"`+class+`":`+strconv.FormatFloat(rate, 'g', -1, 64)+`}`), &f); err != nil {
		panic(err)
	}
	return f
}

func jsonValid(b []byte) bool { return json.Valid(b) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
