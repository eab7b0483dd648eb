package sim

import (
	"bufio"
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"time"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	parse := func(args ...string) (*Flags, error) {
		f := &Flags{Addr: "127.0.0.1:8090", RateLimit: 300}
		fs := flag.NewFlagSet("x-sim", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.Register(fs, ClassFlag{Class: "conflict_503", Flag: "503-conflict", Usage: "rate of 503 conflicts"})
		return f, fs.Parse(args)
	}

	f, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.Config()
	if f.Addr != "127.0.0.1:8090" || cfg.Seed != 1 || cfg.RateLimit != 300 || cfg.HangFor != 10*time.Minute ||
		cfg.SlowBodyFor != 2*time.Second || cfg.Faults.Extra != nil || cfg.Latency != (Latency{}) || !f.Now.IsZero() {
		t.Errorf("defaults: %+v, config %+v", f, cfg)
	}

	f, err = parse("--addr", ":0", "--seed", "9", "--now", "2026-11-23T12:00:00+01:00", "--start", "2026-09-01T00:00:00Z",
		"--rate-limit", "0", "--retry-after", "--latency", "10ms-80ms", "--fault-500", "0.1", "--fault-unstable-pages", "0.3",
		"--fault-503-conflict", "0.2", "--hang-for", "1s", "--slow-body-for", "5ms")
	if err != nil {
		t.Fatal(err)
	}
	cfg = f.Config()
	if f.Addr != ":0" || cfg.Seed != 9 || cfg.RateLimit != 0 || !cfg.RetryAfter || cfg.HangFor != time.Second || cfg.SlowBodyFor != 5*time.Millisecond {
		t.Errorf("set: %+v", cfg)
	}
	if !f.Now.Equal(time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)) || f.Now.Location() != time.UTC || !f.Start.Equal(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("--now %s, --start %s", f.Now, f.Start)
	}
	if cfg.Latency != (Latency{Min: 10 * time.Millisecond, Max: 80 * time.Millisecond}) {
		t.Errorf("--latency: %+v", cfg.Latency)
	}
	if cfg.Faults.Error500 != 0.1 || cfg.Faults.UnstablePages != 0.3 || cfg.Faults.Extra["conflict_503"] != 0.2 || cfg.Faults.Hang != 0 {
		t.Errorf("fault flags: %+v", cfg.Faults)
	}

	f, _ = parse("--faults", "0.05", "--fault-500", "0.5")
	want := AllFaults(0.05)
	want.Extra = map[Class]float64{"conflict_503": 0.05}
	if got := f.Config().Faults; got.Error500 != 0.05 || got.Null != 0.05 || got.Extra["conflict_503"] != 0.05 || len(got.Extra) != 1 {
		t.Errorf("--faults 0.05: %+v, want %+v", got, want)
	}

	for _, bad := range [][]string{{"--now", "yesterday"}, {"--latency", "soon"}, {"--fault-503-conflict", "x"}, {"--seed", "one"}} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestListenAndServe starts a server on a free port, reads where from its
// log line as scripts/demo.sh does, asks it something and stops it.
func TestListenAndServe(t *testing.T) {
	t.Parallel()
	logs, logw := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.Path) })
	go func() {
		done <- ListenAndServe(ctx, slog.New(slog.NewTextHandler(logw, nil)), "x-sim", "127.0.0.1:0", "/v1", h, "seed", 3)
		logw.Close()
	}()

	lines := bufio.NewScanner(logs)
	if !lines.Scan() {
		t.Fatalf("no log line: %v", <-done)
	}
	line := lines.Text()
	go io.Copy(io.Discard, logs)
	m := regexp.MustCompile(`msg="x-sim listening" url=(http://127\.0\.0\.1:\d+/v1) seed=3$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("log line %q", line)
	}
	resp, err := http.Get(m[1] + "/things")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "/v1/things" {
		t.Errorf("served %q", b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("after the context ended: %v", err)
	}
	if _, err := http.Get(m[1]); err == nil {
		t.Error("still serving after shutdown")
	}
}
