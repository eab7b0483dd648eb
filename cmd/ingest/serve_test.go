package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool, procs ...*proc) {
	t.Helper()
	end := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s%s", what, quit(procs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// quit makes each process print its goroutines and exit, and returns what
// each printed: for a failure that waited on them in vain.
func quit(procs []*proc) string {
	var b strings.Builder
	for i, p := range procs {
		if p.cmd.ProcessState != nil {
			continue // waited for already
		}
		p.cmd.Process.Signal(syscall.SIGQUIT)
		waitPatiently(p.cmd)
		fmt.Fprintf(&b, "\nprocess %d printed, its goroutines last:\n%s", i, tail(p.stderr.String(), 128<<10))
	}
	return b.String()
}

// listenAddr reads the address a serve process prints when it is up.
func listenAddr(t *testing.T, p *proc) string {
	t.Helper()
	re := regexp.MustCompile(`serving on (\S+),`)
	var addr string
	waitFor(t, "serve to listen", func() bool {
		if m := re.FindStringSubmatch(p.stdoutText()); m != nil {
			addr = m[1]
			return true
		}
		return false
	}, p)
	return addr
}

func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeReplicasNeverOverlap runs two serve replicas every 2 seconds
// and checks from the ledger that their runs never overlap.
func TestServeReplicasNeverOverlap(t *testing.T) {
	t.Parallel()
	const key = "serve-key"
	a := newAPI(t, key, hyperstacksim.Config{Latency: hyperstacksim.Latency{Min: 2 * time.Millisecond}})
	db := dbtest.New(t)
	env := append(ingestEnv(db, a.url, key), "INGEST_SCHEDULE=@every 2s", "INGEST_LISTEN=127.0.0.1:0")
	replicas := []*proc{start(t, env, "serve"), start(t, env, "serve")}
	conn := dbtest.Conn(t, db)
	finished := func() int {
		var n int
		conn.QueryRow(t.Context(), "SELECT count(*) FROM ingest.runs WHERE status <> 'running'").Scan(&n)
		return n
	}
	waitFor(t, "four runs", func() bool { return finished() >= 4 }, replicas...)
	for _, p := range replicas {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for i, p := range replicas {
		if code := p.wait(t); code != 0 {
			t.Errorf("replica %d: exit %d\n%s", i, code, p.stderr.String())
		}
	}
	rows, err := conn.Query(t.Context(), "SELECT id, started_at, finished_at, status, host || ':' || pid FROM ingest.runs ORDER BY started_at")
	if err != nil {
		t.Fatal(err)
	}
	type span struct {
		id       int64
		from, to time.Time
		status   string
		who      string
	}
	spans, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (span, error) {
		var s span
		err := r.Scan(&s.id, &s.from, &s.to, &s.status, &s.who)
		return s, err
	})
	if err != nil {
		t.Fatal(err)
	}
	who := map[string]bool{}
	for i, s := range spans {
		who[s.who] = true
		if i > 0 && s.from.Before(spans[i-1].to) {
			t.Errorf("run %d started at %s before run %d ended at %s", s.id, s.from, spans[i-1].id, spans[i-1].to)
		}
	}
	t.Logf("%d runs by %d replicas", len(spans), len(who))
}

// TestSigtermMidRun stops a backfill with SIGTERM partway: it ends
// cancelled, and the next backfill leaves the warehouse exactly as an
// uninterrupted one.
func TestSigtermMidRun(t *testing.T) {
	t.Parallel()
	const key = "term-key"
	a := newAPI(t, key, hyperstacksim.Config{Latency: hyperstacksim.Latency{Min: 3 * time.Millisecond}})
	reference := dbtest.New(t)
	if code := start(t, ingestEnv(reference, a.url, key), "backfill", "--since", "2026-09").wait(t); code != 0 {
		t.Fatal("reference backfill failed")
	}
	db := dbtest.New(t)
	reached := a.after(60)
	p := start(t, ingestEnv(db, a.url, key), "backfill", "--since", "2026-09")
	p.await(t, reached, "the 60th request")
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 1 || !strings.Contains(p.stdout.String(), "cancelled") {
		t.Fatalf("after SIGTERM: exit %d, %q\n%s", code, p.stdout.String(), p.stderr.String())
	}
	var status string
	dbtest.Conn(t, db).QueryRow(t.Context(), "SELECT status FROM ingest.runs ORDER BY id LIMIT 1").Scan(&status)
	if status != "cancelled" {
		t.Fatalf("the interrupted run is %q, want cancelled", status)
	}
	if code := start(t, ingestEnv(db, a.url, key), "backfill", "--since", "2026-09").wait(t); code != 0 {
		t.Fatal("the backfill after the cancelled one failed")
	}
	want, got := checksum(t, reference), checksum(t, db)
	for tbl, sum := range want {
		if got[tbl] != sum {
			t.Errorf("%s differs from the uninterrupted backfill", tbl)
		}
	}
}

// metric reads one sample's value from a Prometheus text exposition,
// summing every label combination.
func metric(body, name string) float64 {
	var total float64
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			fields := strings.Fields(line)
			v, _ := strconv.ParseFloat(fields[len(fields)-1], 64)
			total += v
		}
	}
	return total
}

func TestServeMetricsDuringARun(t *testing.T) {
	t.Parallel()
	const key = "metrics-key"
	a := newAPI(t, key, hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Counts: hyperstacksim.Scales["medium"]},
		Latency: hyperstacksim.Latency{Min: 5 * time.Millisecond}})
	db := dbtest.New(t)
	env := append(ingestEnv(db, a.url, key), "INGEST_SCHEDULE=@yearly", "INGEST_LISTEN=127.0.0.1:0", "INGEST_RUN_AT_START=true")
	p := start(t, env, "serve")
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); p.wait(t) }()
	addr := listenAddr(t, p)
	if code, body := get("http://" + addr + "/healthz"); code != 200 {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	conn := dbtest.Conn(t, db)
	var body string
	waitFor(t, "request and row counters during the run", func() bool {
		_, body = get("http://" + addr + "/metrics")
		return metric(body, "billing_warehouse_api_requests_total") > 0 && metric(body, "billing_warehouse_rows_written_total") > 0
	}, p)
	var running int
	conn.QueryRow(t.Context(), "SELECT count(*) FROM ingest.runs WHERE status = 'running'").Scan(&running)
	if running != 1 {
		t.Errorf("the counters were read with %d runs in flight, want 1", running)
	}
	for _, name := range []string{"billing_warehouse_pacer_wait_seconds_total", `billing_warehouse_seconds_since_last_success{account="default",provider="hyperstack"}`,
		`billing_warehouse_api_rate_limited_total{account="default",provider="hyperstack"} 0`, `billing_warehouse_build_info{commit="`} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func TestReadyzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	const key = "ready-key"
	a := newAPI(t, key, hyperstacksim.Config{})
	px, viaProxy := dbtest.NewProxy(t, dbtest.New(t))
	env := append(ingestEnv(viaProxy, a.url, key), "INGEST_SCHEDULE=@yearly", "INGEST_LISTEN=127.0.0.1:0")
	p := start(t, env, "serve")
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); p.wait(t) }()
	addr := listenAddr(t, p)
	ready := func() int { code, _ := get("http://" + addr + "/readyz"); return code }
	if code := ready(); code != 200 {
		t.Fatalf("/readyz with the database up: %d", code)
	}
	px.Cut()
	waitFor(t, "/readyz to fail with the database down", func() bool { return ready() == http.StatusServiceUnavailable }, p)
	// Whoever reaches the port learns the class of the problem, not the
	// database's user, host, port or name.
	_, body := get("http://" + addr + "/readyz")
	u, _ := url.Parse(viaProxy)
	if !strings.HasPrefix(body, "not ready: database unreachable (") ||
		strings.Contains(body, u.User.Username()+"@") || strings.Contains(body, u.Host) || strings.Contains(body, strings.TrimPrefix(u.Path, "/")) {
		t.Errorf("/readyz with the database down says %q", body)
	}
	if code, _ := get("http://" + addr + "/healthz"); code != 200 {
		t.Errorf("/healthz failed while only the database is down: %d", code)
	}
	px.Restore()
	waitFor(t, "/readyz to recover", func() bool { return ready() == 200 }, p)
}
