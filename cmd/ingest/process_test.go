package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/store"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ingest-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ingest")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var simNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// api is a simulator on loopback that can tell the test when it has
// served n requests.
type api struct {
	sim      *hyperstacksim.Sim
	url      string
	served   atomic.Int64
	mu       sync.Mutex
	notifyAt int64
	notify   chan struct{}
}

func newAPI(t *testing.T, key string, cfg hyperstacksim.Config) *api {
	t.Helper()
	cfg.Now, cfg.APIKey = simNow, key
	if cfg.Seed == 0 {
		cfg.Seed = 5
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	a := &api{sim: hyperstacksim.New(cfg)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := a.served.Add(1)
		a.mu.Lock()
		if a.notify != nil && n == a.notifyAt {
			close(a.notify)
			a.notify = nil
		}
		a.mu.Unlock()
		a.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.url = srv.URL + "/v1"
	return a
}

// after returns a channel closed once n more requests were served.
func (a *api) after(n int64) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notifyAt = a.served.Load() + n
	a.notify = make(chan struct{})
	return a.notify
}

type proc struct {
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
}

// lockedBuffer is a buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (p *proc) stdoutText() string { return p.stdout.String() }

func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary, args...)}
	p.cmd.Env = append(append(os.Environ(), "GOTRACEBACK=all"), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A test that stops early (a failed check, a Fatal) leaves no process
	// behind; one it waited for is gone already.
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// await waits until ch is closed while p runs. If that takes longer than
// patience, p is made to print its goroutines and the test fails with them.
func (p *proc) await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("%s did not happen within %s%s", what, patience, quit([]*proc{p}))
	}
}

func (p *proc) wait(t *testing.T) int {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return p.cmd.ProcessState.ExitCode() // waited for already
	}
	err, hung := waitPatiently(p.cmd)
	if hung {
		t.Fatalf("the process did not exit within %s; what it printed, its goroutines last:\n%s", patience, tail(p.stderr.String(), 256<<10))
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("wait: %v", err)
	}
	return p.cmd.ProcessState.ExitCode()
}

// patience is how long a test waits for a process of the binary to exit:
// far longer than any of them runs (seconds), far shorter than the
// package's timeout, so that a process that hangs fails its own test with
// its goroutines printed instead of stalling the package until it times
// out with only the test's.
const patience = 4 * time.Minute

// waitPatiently waits for cmd to exit; if it has not after patience, it
// sends it SIGQUIT, on which a Go program prints every goroutine's stack
// and exits, and says it hung.
func waitPatiently(cmd *exec.Cmd) (err error, hung bool) {
	var quit atomic.Bool
	timer := time.AfterFunc(patience, func() {
		quit.Store(true)
		cmd.Process.Signal(syscall.SIGQUIT)
	})
	err = cmd.Wait()
	timer.Stop()
	return err, quit.Load()
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func ingestEnv(db, apiURL, key string) []string {
	return []string{"DATABASE_URL=" + db, "HYPERSTACK_API_URL=" + apiURL, "HYPERSTACK_API_KEY=" + key,
		"INGEST_RATE=1000000", "LOG_FORMAT=json", "LOG_LEVEL=debug"}
}

// checksum fingerprints every warehouse table's content.
func checksum(t *testing.T, url string) map[string]string {
	t.Helper()
	conn := dbtest.Conn(t, url)
	out := map[string]string{}
	for _, tbl := range store.WarehouseTables {
		var sum string
		err := conn.QueryRow(t.Context(), fmt.Sprintf(`SELECT count(*) || '/' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t`, tbl.Name)).Scan(&sum)
		if err != nil {
			t.Fatal(err)
		}
		out[tbl.Name] = sum
	}
	return out
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	const key = "exit-key"
	clean := newAPI(t, key, hyperstacksim.Config{})
	p := start(t, ingestEnv(dbtest.New(t), clean.url, key), "backfill", "--since", "2026-10")
	if code := p.wait(t); code != 0 || !strings.Contains(p.stdout.String(), "succeeded") {
		t.Fatalf("clean backfill: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}

	faulty := newAPI(t, key, hyperstacksim.Config{Faults: hyperstacksim.Faults{WrongType: 0.2}})
	p = start(t, ingestEnv(dbtest.New(t), faulty.url, key), "run")
	if code := p.wait(t); code != 2 || !strings.Contains(p.stdout.String(), "partial") {
		t.Fatalf("run with malformed bodies: exit %d, want 2\n%s", code, p.stdout.String())
	}

	// Configuration mistakes exit 1; command-line mistakes 64, never 2
	// (a partial run), so a typo in a CronJob does not pass for one.
	for name, c := range map[string]struct {
		args []string
		want int
	}{
		"no key":              {[]string{"run"}, 1},
		"bad url":             {[]string{"run"}, 1},
		"bad rate":            {[]string{"run", "--rate", "-3"}, 1},
		"plain http":          {[]string{"run"}, 1},
		"old schema":          {[]string{"run"}, 1},
		"bad log level":       {[]string{"run", "--log-level", "loud"}, 1},
		"key with CRLF":       {[]string{"run"}, 1},
		"no since":            {[]string{"backfill"}, 64},
		"bad since":           {[]string{"backfill", "--since", "last year"}, 64},
		"month 13":            {[]string{"backfill", "--since", "2026-13"}, 64},
		"year 1":              {[]string{"backfill", "--since", "0001-01"}, 64},
		"before history":      {[]string{"backfill", "--since", "2019-12"}, 64},
		"future since":        {[]string{"backfill", "--since", time.Now().AddDate(0, 2, 0).Format("2006-01")}, 64},
		"until before since":  {[]string{"backfill", "--since", "2026-10", "--until", "2026-09"}, 64},
		"unknown flag":        {[]string{"run", "--turbo"}, 64},
		"unknown cmd":         {[]string{"fly"}, 64},
		"negative runs":       {[]string{"status", "--runs", "-5"}, 64},
		"zero runs":           {[]string{"status", "--runs", "0"}, 64},
		"month garbage":       {[]string{"report", "show", "daily_cost_v1", "--month", "garbage"}, 64},
		"month and since":     {[]string{"report", "show", "daily_cost_v1", "--month", "2026-10", "--since", "2026-10-01"}, 64},
		"zero limit":          {[]string{"report", "show", "daily_cost_v1", "--limit", "0"}, 64},
		"report needs a name": {[]string{"report", "show"}, 64},
	} {
		env := ingestEnv(dbtest.New(t), clean.url, key)
		switch name {
		case "no key":
			env = append(env, "HYPERSTACK_API_KEY=")
		case "old schema":
			env = append(env, "DATABASE_URL="+dbtest.NewEmpty(t))
		case "bad url":
			env = append(env, "HYPERSTACK_API_URL=ftp://example")
		case "plain http":
			env = append(env, "HYPERSTACK_API_URL=http://billing.example.com/v1")
		case "key with CRLF":
			env = append(env, "HYPERSTACK_API_KEY="+key+"\r\nX-Injected: 1")
		}
		served := clean.served.Load()
		p := start(t, env, c.args...)
		code := p.wait(t)
		lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
		last := lines[len(lines)-1]
		if code != c.want || !strings.HasPrefix(last, "ingest: ") {
			t.Errorf("%s: exit %d, want %d, last line %q", name, code, c.want, last)
		}
		if name == "old schema" && !strings.Contains(last, "migrate up") {
			t.Errorf("old schema: %q does not say to run migrate up", last)
		}
		if name == "key with CRLF" && (!strings.Contains(last, "api_key") || clean.served.Load() != served) {
			t.Errorf("a key with CR/LF: %q, %d requests made", last, clean.served.Load()-served)
		}
	}
}

func TestReportExitCodes(t *testing.T) {
	for status, want := range map[store.RunStatus]int{store.RunSucceeded: 0, store.RunPartial: 2, store.RunFailed: 1, store.RunCancelled: 1} {
		err := report(io.Discard, []ingest.Outcome{{Result: resultWith(status)}})
		var exit *exitError
		got := 0
		if errors.As(err, &exit) {
			got = exit.code
		}
		if got != want {
			t.Errorf("%s: exit %d, want %d", status, got, want)
		}
	}
	// Over several sources: any failure is 1, else any partial is 2; a
	// source another process runs counts as nothing to do.
	busy := ingest.Outcome{Err: &store.BusyError{RunID: 7}}
	for _, c := range []struct {
		statuses []store.RunStatus
		busy     bool
		want     int
	}{
		{[]store.RunStatus{store.RunSucceeded, store.RunSucceeded}, true, 0},
		{[]store.RunStatus{store.RunSucceeded, store.RunPartial}, true, 2},
		{[]store.RunStatus{store.RunPartial, store.RunFailed, store.RunSucceeded}, false, 1},
		{[]store.RunStatus{store.RunFailed, store.RunPartial}, false, 1},
	} {
		var outcomes []ingest.Outcome
		for _, st := range c.statuses {
			outcomes = append(outcomes, ingest.Outcome{Result: resultWith(st)})
		}
		if c.busy {
			outcomes = append(outcomes, busy)
		}
		got := 0
		var exit *exitError
		if err := report(io.Discard, outcomes); errors.As(err, &exit) {
			got = exit.code
		}
		if got != c.want {
			t.Errorf("%v (busy %v): exit %d, want %d", c.statuses, c.busy, got, c.want)
		}
	}
}

// TestSingleFlight starts one run, and two more once it is under way: one
// runs, the others exit 0 naming the run that holds the lock.
func TestSingleFlight(t *testing.T) {
	t.Parallel()
	const key = "flight-key"
	a := newAPI(t, key, hyperstacksim.Config{Latency: hyperstacksim.Latency{Min: 5 * time.Millisecond}})
	env := ingestEnv(dbtest.New(t), a.url, key)
	busy := a.after(1)
	first := start(t, env, "backfill", "--since", "2026-09")
	first.await(t, busy, "the first run's first request")
	others := []*proc{start(t, env, "run"), start(t, env, "run")}
	for i, p := range others {
		if code := p.wait(t); code != 0 || !strings.Contains(p.stdout.String(), "not running: run 1 holds the lock since") {
			t.Errorf("second run %d: exit %d, %q %s", i, code, p.stdout.String(), p.stderr.String())
		}
	}
	if code := first.wait(t); code != 0 {
		t.Fatalf("the first run: exit %d\n%s", code, first.stderr.String())
	}
	var runs int
	dbtest.Conn(t, strings.TrimPrefix(env[0], "DATABASE_URL=")).QueryRow(t.Context(), "SELECT count(*) FROM ingest.runs").Scan(&runs)
	if runs != 1 {
		t.Errorf("%d runs in the ledger, want 1", runs)
	}
}

// TestKilledBackfill kills a backfill at a random request, several times
// over, and checks the next run completes, marks the killed run abandoned,
// and leaves the warehouse exactly as an uninterrupted backfill does.
func TestKilledBackfill(t *testing.T) {
	t.Parallel()
	const key = "kill-key"
	a := newAPI(t, key, hyperstacksim.Config{})
	reference := dbtest.New(t)
	p := start(t, ingestEnv(reference, a.url, key), "backfill", "--since", "2026-09")
	if code := p.wait(t); code != 0 {
		t.Fatalf("reference backfill: exit %d\n%s", code, p.stderr.String())
	}
	want := checksum(t, reference)
	total := a.served.Load()

	for trial := range 5 {
		seed := time.Now().UnixNano() + int64(trial)
		killAt := 5 + rand.New(rand.NewPCG(uint64(seed), 1)).Int64N(total-10)
		t.Logf("trial %d: seed %d, kill after %d of ~%d requests", trial, seed, killAt, total)
		db := dbtest.New(t)
		reached := a.after(killAt)
		p := start(t, ingestEnv(db, a.url, key), "backfill", "--since", "2026-09")
		p.await(t, reached, fmt.Sprintf("request %d", killAt))
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.wait(t)

		next := start(t, ingestEnv(db, a.url, key), "backfill", "--since", "2026-09")
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

// TestSecretsStayHidden runs with a recognisable key, some failures and
// debug logging, and looks for the key everywhere it could leak.
func TestSecretsStayHidden(t *testing.T) {
	t.Parallel()
	key := fmt.Sprintf("SECRET-%d-do-not-leak", time.Now().UnixNano())
	a := newAPI(t, key, hyperstacksim.Config{Faults: hyperstacksim.AllFaults(0.05), HangFor: time.Second, SlowBodyFor: 10 * time.Millisecond})
	db := dbtest.New(t)
	env := append(ingestEnv(db, a.url, key), "INGEST_TIMEOUT=300ms")
	p := start(t, env, "backfill", "--since", "2026-10")
	p.wait(t)
	help := start(t, env, "sources")
	help.wait(t)
	wrong := start(t, ingestEnv(db, a.url, "wrong-"+key), "run")
	wrong.wait(t)
	outputs := map[string]string{
		"stdout": p.stdout.String(), "logs": p.stderr.String(), "sources": help.stdout.String() + help.stderr.String(),
		"401 run": wrong.stdout.String() + wrong.stderr.String(),
	}
	for _, args := range [][]string{{"status"}, {"reprocess"}, {"report", "list"}, {"report", "show", "ingest_health_v1"}} {
		other := start(t, env, args...)
		other.wait(t)
		outputs[strings.Join(args, " ")] = other.stdout.String() + other.stderr.String()
	}
	serve := start(t, append(env, "INGEST_SCHEDULE=@yearly", "INGEST_LISTEN=127.0.0.1:0", "INGEST_RUN_AT_START=true"), "serve")
	conn0 := dbtest.Conn(t, db)
	waitFor(t, "serve's run", func() bool {
		var n int
		conn0.QueryRow(t.Context(), "SELECT count(*) FROM ingest.runs WHERE trigger = 'schedule' AND status <> 'running'").Scan(&n)
		return n > 0
	}, serve)
	serve.cmd.Process.Signal(syscall.SIGTERM)
	serve.wait(t)
	outputs["serve"] = serve.stdout.String() + serve.stderr.String()

	for name, text := range outputs {
		if strings.Contains(text, key) {
			t.Errorf("the key appears in %s", name)
		}
	}
	if !strings.Contains(help.stdout.String(), "api_key=(set)") {
		t.Errorf("ingest sources does not show that the key is set:\n%s", help.stdout.String())
	}
	if !strings.Contains(p.stderr.String(), `"level":"DEBUG"`) {
		t.Error("no debug logs were written: the test would prove nothing")
	}
	conn := dbtest.Conn(t, db)
	var n int
	conn.QueryRow(t.Context(), `SELECT count(*) FROM ingest.runs r LEFT JOIN ingest.run_errors e ON e.run_id = r.id
		WHERE r::text LIKE '%' || $1 || '%' OR e::text LIKE '%' || $1 || '%'`, key).Scan(&n)
	if n != 0 {
		t.Errorf("the key appears in %d ledger rows", n)
	}
	var errs int
	conn.QueryRow(t.Context(), `SELECT count(*) FROM ingest.run_errors`).Scan(&errs)
	if errs == 0 {
		t.Error("no errors were recorded: the test would prove nothing")
	}
	rows, err := conn.Query(t.Context(), `SELECT params, body_gzip FROM ingest.raw_payloads`)
	if err != nil {
		t.Fatal(err)
	}
	payloads := 0
	for rows.Next() {
		var params string
		var gz []byte
		rows.Scan(&params, &gz)
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		if strings.Contains(params, key) || strings.Contains(string(body), key) {
			t.Errorf("the key appears in the raw payload of %s", params)
		}
		payloads++
	}
	if payloads == 0 {
		t.Error("no raw payloads were stored")
	}
}
