package cloudsigma_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/sim"
	cssim "github.com/billing-warehouse/billing-warehouse/internal/sim/cloudsigma"
)

// lockedBuffer is a log destination for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSecretsStayHidden crawls with Basic and with Digest auth, through
// faults (so errors are logged and recorded) and a wrong password: the
// password, the Basic header's base64 and the Digest HA1 appear in no log
// line, run error, warehouse row or raw payload.
func TestSecretsStayHidden(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"basic", "digest"} {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			logs := &lockedBuffer{}
			logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			e := newEnv(t, options{
				sim:      cssim.Config{ModelConfig: cssim.ModelConfig{Start: simNow.AddDate(0, 0, -5)}, Config: sim.Config{Faults: sim.AllFaults(0.05)}},
				settings: map[string]string{"auth": auth},
				client:   ingest.ClientConfig{Logger: logger},
				crawl:    ingest.Config{Logger: logger},
			})
			e.run(t, backfill(e))
			// A wrong password: every request fails, and says so.
			wrong, err := newWrong(e, auth, logger)
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.crawler.Run(t.Context(), wrong, "manual", ingest.Mode{})
			if err != nil || res.Status != "failed" {
				t.Fatalf("a run with a wrong password: %v %s", err, res.Status)
			}
			secrets := []string{password, basic(user, password), basic(user, "nope-"+password)}
			for _, realm := range []string{"users"} {
				secrets = append(secrets, md5hex(user+":"+realm+":"+password), sha256hex(user+":"+realm+":"+password))
			}
			var dump strings.Builder
			dump.WriteString(logs.String())
			for _, q := range []string{
				`SELECT message FROM ingest.run_errors`, `SELECT coalesce(error_summary, '') FROM ingest.runs`,
				`SELECT params FROM ingest.raw_payloads`,
				`SELECT reason || coalesce(reference, '') FROM billing.cloudsigma_ledger_entries`,
				`SELECT row_to_json(a)::text FROM billing.accounts a`,
			} {
				r, err := e.store.Pool().Query(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				for r.Next() {
					var s string
					if err := r.Scan(&s); err != nil {
						t.Fatal(err)
					}
					dump.WriteString(s + "\n")
				}
			}
			r, err := e.store.Pool().Query(t.Context(), `SELECT body_gzip FROM ingest.raw_payloads`)
			if err != nil {
				t.Fatal(err)
			}
			bodies := 0
			for r.Next() {
				var gz []byte
				if err := r.Scan(&gz); err != nil {
					t.Fatal(err)
				}
				zr, err := gzip.NewReader(bytes.NewReader(gz))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(zr)
				dump.Write(b)
				bodies++
			}
			if bodies == 0 || !strings.Contains(logs.String(), "401") {
				t.Fatalf("%d raw payloads, and no 401 logged: the test proved nothing", bodies)
			}
			for _, s := range secrets {
				if strings.Contains(dump.String(), s) {
					t.Errorf("a secret (%d characters) shows in the logs, errors, rows or payloads", len(s))
				}
			}
		})
	}
}
