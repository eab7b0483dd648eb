package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/sim"
	"github.com/billing-warehouse/billing-warehouse/internal/sim/soracom"
)

// soracomAPI is a Soracom simulator on loopback, billing up to the real
// clock (the ingest binary's), that remembers every token and link
// signature it saw and can tell the test when it has served n requests.
type soracomAPI struct {
	sim    *soracom.Sim
	url    string
	served atomic.Int64

	mu       sync.Mutex
	secrets  map[string]bool
	notifyAt int64
	notify   chan struct{}
}

func newSoracomAPI(t *testing.T, keyID, key string, cfg soracom.Config) *soracomAPI {
	t.Helper()
	cfg.Now, cfg.Seed, cfg.AuthKeyID, cfg.AuthKey = time.Now().UTC(), 3, keyID, key
	cfg.AuthRateLimit, cfg.ExportPolls = -1, -1 // eleven processes log in; polls would wait real seconds
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	s, err := soracom.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &soracomAPI{sim: s, secrets: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := a.served.Add(1)
		a.mu.Lock()
		for _, v := range []string{r.Header.Get("X-Soracom-Token"), r.Header.Get("X-Soracom-API-Key"), r.URL.Query().Get("Signature")} {
			if v != "" {
				a.secrets[v] = true
			}
		}
		if a.notify != nil && n == a.notifyAt {
			close(a.notify)
			a.notify = nil
		}
		a.mu.Unlock()
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.url = srv.URL + "/v1"
	return a
}

func (a *soracomAPI) after(n int64) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notifyAt = a.served.Load() + n
	a.notify = make(chan struct{})
	return a.notify
}

func soracomEnv(db, apiURL, keyID, key string) []string {
	return []string{"DATABASE_URL=" + db, "SORACOM_API_URL=" + apiURL, "SORACOM_AUTH_KEY_ID=" + keyID, "SORACOM_AUTH_KEY=" + key,
		"SORACOM_COVERAGE=jp", "INGEST_RATE=1000000", "LOG_FORMAT=json", "LOG_LEVEL=debug"}
}

// since is the first month the simulated account has.
func since(a *soracomAPI) string {
	return a.sim.Model.StartDay().Start(time.UTC).Format("2006-01")
}

// TestSoracomKilledBackfill kills a Soracom backfill at a random request
// (an API call or a CSV download), five times over: the next run
// completes, the killed one is abandoned, and the warehouse equals an
// uninterrupted backfill's.
func TestSoracomKilledBackfill(t *testing.T) {
	t.Parallel()
	a := newSoracomAPI(t, "keyId-kill", "secret-kill", soracom.Config{Model: soracom.ModelConfig{SIMs: 300}})
	reference := dbtest.New(t)
	p := start(t, soracomEnv(reference, a.url, "keyId-kill", "secret-kill"), "backfill", "--since", since(a))
	if code := p.wait(t); code != 0 {
		t.Fatalf("reference backfill: exit %d\n%s", code, p.stderr.String())
	}
	want := checksum(t, reference)
	total := a.served.Load()
	for trial := range 5 {
		seed := time.Now().UnixNano() + int64(trial)
		killAt := 3 + rand.New(rand.NewPCG(uint64(seed), 1)).Int64N(total-4)
		t.Logf("trial %d: seed %d, kill after %d of ~%d requests", trial, seed, killAt, total)
		db := dbtest.New(t)
		reached := a.after(killAt)
		p := start(t, soracomEnv(db, a.url, "keyId-kill", "secret-kill"), "backfill", "--since", since(a))
		p.await(t, reached, fmt.Sprintf("request %d", killAt))
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.wait(t)
		next := start(t, soracomEnv(db, a.url, "keyId-kill", "secret-kill"), "backfill", "--since", since(a))
		if code := next.wait(t); code != 0 {
			t.Fatalf("trial %d (seed %d): the run after the kill: exit %d\n%s", trial, seed, code, next.stderr.String())
		}
		got := checksum(t, db)
		for tbl, sum := range want {
			if got[tbl] != sum {
				t.Errorf("trial %d (seed %d): %s differs from the uninterrupted backfill: %s vs %s", trial, seed, tbl, got[tbl], sum)
			}
		}
		var killed string
		dbtest.Conn(t, db).QueryRow(context.Background(), "SELECT status FROM ingest.runs ORDER BY id LIMIT 1").Scan(&killed)
		if killed != "abandoned" {
			t.Errorf("trial %d: the killed run is %q, want abandoned", trial, killed)
		}
	}
}

// TestSoracomSecretsStayHidden runs with a recognisable auth key, faults
// (expired links among them) and debug logging, and looks for the key,
// every token and every link signature the simulator saw, everywhere
// they could leak.
func TestSoracomSecretsStayHidden(t *testing.T) {
	t.Parallel()
	keyID := fmt.Sprintf("keyId-%d-hidden", time.Now().UnixNano())
	key := fmt.Sprintf("secret-%d-do-not-leak", time.Now().UnixNano())
	faults := sim.AllFaults(0.05)
	faults.Extra = map[sim.Class]float64{soracom.FaultLinkExpired: 0.3, soracom.FaultExportFailed: 0.3}
	a := newSoracomAPI(t, keyID, key, soracom.Config{Config: sim.Config{Faults: faults, HangFor: time.Second, SlowBodyFor: 10 * time.Millisecond}})
	db := dbtest.New(t)
	env := append(soracomEnv(db, a.url, keyID, key), "INGEST_TIMEOUT=300ms")
	p := start(t, env, "backfill", "--since", since(a))
	p.wait(t)
	outputs := map[string]string{"backfill": p.stdout.String() + p.stderr.String()}
	wrong := start(t, soracomEnv(db, a.url, keyID, "wrong-"+key), "run")
	wrong.wait(t)
	outputs["401 run"] = wrong.stdout.String() + wrong.stderr.String()
	for _, args := range [][]string{{"sources"}, {"status"}, {"reprocess"}, {"report", "show", "ingest_health_v1"}} {
		other := start(t, env, args...)
		other.wait(t)
		outputs[strings.Join(args, " ")] = other.stdout.String() + other.stderr.String()
	}
	if !strings.Contains(outputs["sources"], "auth_key=(set)") || !strings.Contains(outputs["sources"], "auth_key_id=(set)") {
		t.Errorf("ingest sources does not show that the keys are set:\n%s", outputs["sources"])
	}

	a.mu.Lock()
	secrets := []string{key, keyID}
	for s := range a.secrets {
		secrets = append(secrets, s)
	}
	a.mu.Unlock()
	if len(secrets) < 5 {
		t.Fatalf("the simulator saw %d secrets: the test would prove nothing", len(secrets))
	}
	conn := dbtest.Conn(t, db)
	var ledger strings.Builder
	rows, err := conn.Query(t.Context(), `SELECT r::text || coalesce(e::text, '') FROM ingest.runs r LEFT JOIN ingest.run_errors e ON e.run_id = r.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		ledger.WriteString(s)
	}
	outputs["ledger"] = ledger.String()
	var payloads strings.Builder
	rows, err = conn.Query(t.Context(), `SELECT endpoint, params, body_gzip FROM ingest.raw_payloads`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var endpoint, params string
		var gz []byte
		rows.Scan(&endpoint, &params, &gz)
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		payloads.WriteString(endpoint + " " + params + " " + string(body))
		n++
	}
	outputs["raw payloads"] = payloads.String()
	if n == 0 || !strings.Contains(outputs["backfill"], `"level":"DEBUG"`) {
		t.Fatal("no raw payloads or no debug logs: the test would prove nothing")
	}
	for name, text := range outputs {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a secret (%.12s…) appears in %s", s, name)
			}
		}
		if strings.Contains(text, "Signature=") || strings.Contains(text, "AWSAccessKeyId=") {
			t.Errorf("a signed link appears in %s", name)
		}
	}
}
