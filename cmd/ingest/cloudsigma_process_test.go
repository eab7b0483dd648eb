package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	cssim "github.com/billing-warehouse/billing-warehouse/internal/sim/cloudsigma"
)

// TestKilledCloudSigmaBackfill kills a CloudSigma backfill with SIGKILL at
// a random request, five times: the next run completes and the warehouse
// equals an uninterrupted backfill's. The simulator's clock stands ten
// minutes behind the process's, so every run's windows (which end five
// minutes before the process's clock) hold the same ledger; the burst
// levels and the balance are observations of the hour, left out.
func TestKilledCloudSigmaBackfill(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	s, err := cssim.New(cssim.Config{ModelConfig: cssim.ModelConfig{Seed: 9, Now: now, Start: now.AddDate(0, 0, -9), Servers: 4,
		User: "kill@example.com"}, Password: "kill-pw"})
	if err != nil {
		t.Fatal(err)
	}
	var served, notifyAt atomic.Int64
	notify := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := served.Add(1); n == notifyAt.Load() {
			notify <- struct{}{}
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	env := func(db string) []string {
		return []string{"DATABASE_URL=" + db, "CLOUDSIGMA_API_URL=" + srv.URL + "/api/2.0/", "CLOUDSIGMA_USERNAME=kill@example.com",
			"CLOUDSIGMA_PASSWORD=kill-pw", "CLOUDSIGMA_USAGE_DAYS=3", "HYPERSTACK_API_KEY=", "INGEST_RATE=1000000", "LOG_FORMAT=json"}
	}
	since := now.AddDate(0, 0, -9).Format("2006-01")
	reference := dbtest.New(t)
	p := start(t, env(reference), "backfill", "--since", since)
	if code := p.wait(t); code != 0 {
		t.Fatalf("reference backfill: exit %d\n%s", code, p.stderr.String())
	}
	want := checksum(t, reference)
	total := served.Load()
	for trial := range 5 {
		seed := time.Now().UnixNano() + int64(trial)
		killAt := 3 + rand.New(rand.NewPCG(uint64(seed), 1)).Int64N(total-6)
		t.Logf("trial %d: seed %d, kill after %d of ~%d requests", trial, seed, killAt, total)
		db := dbtest.New(t)
		notifyAt.Store(served.Load() + killAt)
		p := start(t, env(db), "backfill", "--since", since)
		<-notify
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.wait(t)
		next := start(t, env(db), "backfill", "--since", since)
		if code := next.wait(t); code != 0 {
			t.Fatalf("trial %d (seed %d): the run after the kill: exit %d\n%s", trial, seed, code, next.stderr.String())
		}
		got := checksum(t, db)
		for tbl, sum := range want {
			if tbl == "billing.cloudsigma_burst_levels" || tbl == "billing.credit_observations" {
				continue
			}
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
