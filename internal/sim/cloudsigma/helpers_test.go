package cloudsigma

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

const (
	testUser = "user@example.com"
	testPass = "pass123"
)

// newTestSim starts a simulator on a loopback HTTP server.
func newTestSim(t testing.TB, cfg Config) (*Sim, string) {
	t.Helper()
	if cfg.Now.IsZero() && cfg.Clock == nil {
		cfg.Now = testNow
	}
	if cfg.ModelConfig.Seed == 0 {
		cfg.ModelConfig.Seed = 42
	}
	if cfg.Config.Seed == 0 {
		cfg.Config.Seed = 42
	}
	cfg.User = testUser
	if cfg.Password == "" {
		cfg.Password = testPass
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// get fetches an API path with Basic auth and returns status, headers and body.
func get(t testing.TB, base, path string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+Prefix+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testUser, testPass)
	return send(t, req)
}

func send(t testing.TB, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, resp.Header, b
}

// getJSON fetches a path that must answer 200 and decodes it.
func getJSON(t testing.TB, base, path string) map[string]any {
	t.Helper()
	status, _, body := get(t, base, path)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	return decode(t, body).(map[string]any)
}

func decode(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %.300s: %v", b, err)
	}
	return v
}

func objects(t testing.TB, body map[string]any) []map[string]any {
	t.Helper()
	raw, ok := body["objects"].([]any)
	if !ok {
		t.Fatalf("no objects in %v", body)
	}
	out := make([]map[string]any, len(raw))
	for i, o := range raw {
		out[i] = o.(map[string]any)
	}
	return out
}

func post(t testing.TB, base, path, body string) []byte {
	t.Helper()
	resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s %s: %d %s", path, body, resp.StatusCode, b)
	}
	return b
}

var _ = sim.OK
