package main

import (
	"strings"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
)

// TestFreshnessCountsOnlyDecodedBodies: a run whose every body is
// undecodable fails, and ingest status and reports.ingest_health_v1 agree
// with the ledger: no family has a last success, and the health view's lag
// is not the few seconds since the failed run.
func TestFreshnessCountsOnlyDecodedBodies(t *testing.T) {
	t.Parallel()
	const key = "fresh-key"
	a := newAPI(t, key, hyperstacksim.Config{Faults: hyperstacksim.Faults{Truncate: 1}})
	db := dbtest.New(t)
	env := ingestEnv(db, a.url, key)
	p := start(t, env, "run")
	if code := p.wait(t); code != 1 || !strings.Contains(p.stdoutText(), " failed: ") {
		t.Fatalf("a run of truncated bodies: exit %d, want 1 (failed)\n%s", code, p.stdoutText())
	}
	conn := dbtest.Conn(t, db)
	var status string
	var rows int64
	if err := conn.QueryRow(t.Context(), `SELECT status, rows_inserted FROM ingest.runs ORDER BY id DESC LIMIT 1`).Scan(&status, &rows); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || rows != 0 {
		t.Fatalf("ledger: %s with %d rows, want failed with none", status, rows)
	}

	p = start(t, env, "status")
	if code := p.wait(t); code != 0 {
		t.Fatalf("status: exit %d\n%s", code, p.stderr.String())
	}
	out := p.stdoutText()
	_, fresh, ok := strings.Cut(out, "ENDPOINT FAMILY")
	if !ok || strings.Count(fresh, "never") < 5 || strings.Contains(fresh, time.Now().UTC().Format("2006-01-02")) {
		t.Fatalf("status shows a last success after a run that decoded nothing:\n%s", out)
	}

	var families, succeeded, shortLag int
	err := conn.QueryRow(t.Context(), `
		SELECT count(*), count(last_success_at), count(*) FILTER (WHERE lag IS NULL OR lag < interval '0')
		FROM reports.ingest_health_v1 WHERE last_run_status = 'failed'`).Scan(&families, &succeeded, &shortLag)
	if err != nil {
		t.Fatal(err)
	}
	if families < 5 || succeeded != 0 || shortLag != 0 {
		t.Fatalf("ingest_health_v1: %d families of the failed run, %d with a last success, %d without a lag", families, succeeded, shortLag)
	}

	// Repaired: the next run decodes, and only then is the family fresh.
	a.sim.SetFaults(hyperstacksim.Faults{})
	if code := start(t, env, "run").wait(t); code != 0 {
		t.Fatalf("repair run: exit %d", code)
	}
	if err := conn.QueryRow(t.Context(), `
		SELECT count(*), count(last_success_at) FROM reports.ingest_health_v1`).Scan(&families, &succeeded); err != nil {
		t.Fatal(err)
	}
	if succeeded != families {
		t.Fatalf("after a clean run: %d of %d families fresh", succeeded, families)
	}
}

// TestReprocessAfterARepairedRun: bodies that never decoded (kept from a
// partial run) are not replayed as errors after the run that repaired
// them: reprocess succeeds, again and again.
func TestReprocessAfterARepairedRun(t *testing.T) {
	t.Parallel()
	const key = "replay-key"
	a := newAPI(t, key, hyperstacksim.Config{Faults: hyperstacksim.Faults{Truncate: 0.3}})
	db := dbtest.New(t)
	env := ingestEnv(db, a.url, key)
	p := start(t, env, "run")
	if code := p.wait(t); code != 2 {
		t.Fatalf("a run with truncated bodies: exit %d, want 2 (partial)\n%s", code, p.stdoutText())
	}
	a.sim.SetFaults(hyperstacksim.Faults{})
	if code := start(t, env, "run").wait(t); code != 0 {
		t.Fatalf("repair run: exit %d", code)
	}
	before := checksum(t, db)
	for i := range 2 {
		p := start(t, env, "reprocess")
		if code := p.wait(t); code != 0 || strings.Contains(p.stdoutText(), "the next run retries") {
			t.Fatalf("reprocess %d after the repair: exit %d\n%s%s", i, code, p.stdoutText(), p.stderr.String())
		}
	}
	if after := checksum(t, db); !equalMaps(before, after) {
		t.Fatalf("reprocess changed the warehouse:\nbefore %v\nafter  %v", before, after)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
