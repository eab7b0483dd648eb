package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// The simulated organisation and API of the benchmarks. The large scale
// is the simulator's --scale large (3,765 resources); sizes are multiples
// of a quarter of it. The API answers after 20 ms and allows 30,000
// requests a minute; the crawler is paced at 27,000 (the same 90% margin as
// the default 450 against the live 500).
const (
	latency      = 20 * time.Millisecond
	simLimit     = 30000
	crawlerRate  = 27000
	concurrency  = 8
	now          = "2026-11-23T12:00:00Z"
	activeShare  = "0.1"
	quarterLarge = 0.25
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bench")
	if err != nil {
		panic(err)
	}
	binDir = dir
	out, err := exec.Command("go", "build", "-o", dir+"/", "../cmd/...").CombinedOutput()
	if err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// counts are the resources per family at a multiple of the large scale.
func counts(multiple float64) []string {
	large := map[string]int{"virtual-machine": 1500, "volume": 1200, "snapshot": 600, "bucket": 150, "cluster": 40, "contract": 15,
		"fine_tuning": 100, "serverless_inference": 60, "model_evaluation": 40, "data_synthesis": 30, "image_generation": 30}
	var args []string
	for f, n := range large {
		args = append(args, "--count", fmt.Sprintf("%s=%d", f, int(float64(n)*multiple)))
	}
	return args
}

type sim struct {
	cmd  *exec.Cmd
	base string
}

func freePort(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startSim(b *testing.B, multiple float64, start string, lat time.Duration, limit int) *sim {
	b.Helper()
	addr := freePort(b)
	args := append([]string{"--addr", addr, "--api-key", "bench", "--now", now, "--start", start,
		"--active-fraction", activeShare, "--rate-limit", fmt.Sprint(limit), "--latency", lat.String()}, counts(multiple)...)
	cmd := exec.Command(filepath.Join(binDir, "hyperstack-sim"), args...)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/_sim/clock"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			b.Fatal("the simulator did not start")
		}
		time.Sleep(25 * time.Millisecond)
	}
	return &sim{cmd: cmd, base: base}
}

func (s *sim) stats(b *testing.B) (requests, limited int64) {
	resp, err := http.Get(s.base + "/_sim/stats")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Requests    int64 `json:"requests"`
		RateLimited int64 `json:"rate_limited"`
	}
	json.NewDecoder(resp.Body).Decode(&st)
	return st.Requests, st.RateLimited
}

func (s *sim) post(b *testing.B, path, body string) {
	resp, err := http.Post(s.base+path, "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// measured is one run of the ingest binary.
type measured struct {
	Wall        time.Duration `json:"wall_ns"`
	WallSeconds float64       `json:"wall_seconds"`
	PeakRSSMiB  float64       `json:"peak_rss_mib"`
	Requests    int64         `json:"requests"`
	RateLimited int64         `json:"rate_limited"`
	Rows        int64         `json:"rows_written"`
	Status      string        `json:"status"`
	stderr      string        // what the process logged
}

func ingest(b *testing.B, s *sim, db string, rate int, args ...string) measured {
	b.Helper()
	return ingestWith(b, s, db, rate, nil, args...)
}

// ingestWith is ingest with more environment (INGEST_WRITE_PATH, say).
func ingestWith(b *testing.B, s *sim, db string, rate int, env []string, args ...string) measured {
	b.Helper()
	cmd := exec.Command(filepath.Join(binDir, "ingest"), args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db, "HYPERSTACK_API_URL="+s.base+"/v1", "HYPERSTACK_API_KEY=bench",
		fmt.Sprintf("INGEST_RATE=%d", rate), fmt.Sprintf("INGEST_CONCURRENCY=%d", concurrency), "LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	peak := watchPeakRSS(cmd.Process.Pid) // not rusage: see watchPeakRSS
	err := cmd.Wait()
	m := measured{Wall: time.Since(began), PeakRSSMiB: float64(peak()) / 1024, stderr: stderr.String()}
	m.WallSeconds = m.Wall.Seconds()
	if err != nil && cmd.ProcessState.ExitCode() != 2 {
		b.Fatalf("ingest %v: %v\n%s", args, err, stderr.String())
	}
	conn, err := pgx.Connect(b.Context(), db)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	conn.QueryRow(b.Context(), `SELECT requests, rate_limited, rows_inserted + rows_updated + rows_deleted, status FROM ingest.runs ORDER BY id DESC LIMIT 1`).
		Scan(&m.Requests, &m.RateLimited, &m.Rows, &m.Status)
	return m
}

// watchPeakRSS follows a child's VmHWM, the high-water RSS of its own
// address space, until it exits; the function it returns gives the last
// figure read, in KiB. The rusage of a child (ProcessState.SysUsage's
// Maxrss) is not the child's: os/exec starts it with vfork, and exec
// carries the parent's high-water RSS over into the child's figure. The
// benchmark holds a whole table's COPY in memory, so every run after the
// first copy reported the benchmark's size, not its own (the 6-month
// runs of this file's earlier figures: 1,499 and 1,053 MiB).
func watchPeakRSS(pid int) func() int64 {
	var peak atomic.Int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	path := fmt.Sprintf("/proc/%d/status", pid)
	go func() {
		defer close(stopped)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if status, err := os.ReadFile(path); err == nil {
				for line := range strings.Lines(string(status)) {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						kib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
						peak.Store(max(peak.Load(), kib))
					}
				}
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}

func save(b *testing.B, name string, v any) {
	out, _ := json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(filepath.Join("results", name+".json"), append(out, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %s", name, out)
}

// lowerBound is the least time the requests can take: the rate limit, or
// the latency spread over the workers.
func lowerBound(requests int64, rate int, lat time.Duration) time.Duration {
	byRate := time.Duration(float64(requests) / float64(rate) * float64(time.Minute))
	byLatency := time.Duration(requests) * lat / concurrency
	return max(byRate, byLatency)
}

// replayFloor is the least time the API needs for a run's requests on
// this machine: the same requests (the run's raw payloads keep every
// path and query), sent again by concurrency bare clients at the same
// rate, reading each answer and doing nothing else. The simulator answers
// latency after a request arrives, but the machine adds to that (timers,
// the loopback, scheduling, the simulator's own CPU): on the 2-core VM of
// these figures a bare Go server that sleeps 20 ms answered in 21.2 ms. The
// nominal bound is out of reach by that much before the crawler does
// anything, so efficiency is also given against this floor.
func replayFloor(b *testing.B, s *sim, db, apiPrefix string, header http.Header, rate int) time.Duration {
	b.Helper()
	conn, err := pgx.Connect(b.Context(), db)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	rows, err := conn.Query(b.Context(), `SELECT params FROM ingest.raw_payloads WHERE run_id = (SELECT max(id) FROM ingest.runs) ORDER BY id`)
	if err != nil {
		b.Fatal(err)
	}
	paths, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	work := make(chan string)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	next := time.Now()
	interval := time.Minute / time.Duration(rate)
	began := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for path := range work {
				mu.Lock()
				slot := next
				if now := time.Now(); now.After(slot) {
					slot = now
				}
				next = slot.Add(interval)
				mu.Unlock()
				time.Sleep(time.Until(slot))
				req, _ := http.NewRequest(http.MethodGet, s.base+apiPrefix+path, nil)
				req.Header = header.Clone()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	for _, p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
	return time.Since(began)
}

// BenchmarkBackfillScaling backfills three months at 1x, 2x and 4x a
// quarter of the large scale, with latency and a rate limit: API-bound
// efficiency, 429s, peak memory, and an hourly incremental run after it.
func BenchmarkBackfillScaling(b *testing.B) {
	type point struct {
		Resources        int      `json:"resources_multiple_of_large"`
		Backfill         measured `json:"backfill"`
		LowerBoundSecond float64  `json:"lower_bound_seconds"`
		Efficiency       float64  `json:"api_bound_efficiency"`
		ReplaySeconds    float64  `json:"replay_floor_seconds"`
		ReplayEff        float64  `json:"replay_floor_efficiency"`
		Incremental      measured `json:"incremental_hourly_run"`
		IncrementalShare float64  `json:"incremental_requests_share"`
		MinimumRequests  int64    `json:"incremental_minimum_requests"`
	}
	var points []point
	for _, multiple := range []float64{1, 2, 4} {
		b.Run(fmt.Sprintf("%gx", multiple), func(b *testing.B) {
			for b.Loop() {
				s := startSim(b, multiple*quarterLarge, "2026-09-01T00:00:00Z", latency, simLimit)
				db := dbtest.New(b)
				full := ingest(b, s, db, crawlerRate, "backfill", "--since", "2026-09")
				bound := lowerBound(full.Requests, crawlerRate, latency)
				floor := replayFloor(b, s, db, "/v1", http.Header{"api_key": {"bench"}}, crawlerRate)
				s.post(b, "/_sim/clock", `{"advance": "1h"}`)
				inc := ingest(b, s, db, crawlerRate, "run")
				minimum := minimumIncremental(b, db)
				p := point{Resources: int(multiple), Backfill: full, LowerBoundSecond: bound.Seconds(),
					Efficiency: full.Wall.Seconds() / bound.Seconds(), Incremental: inc,
					ReplaySeconds: floor.Seconds(), ReplayEff: full.Wall.Seconds() / floor.Seconds(),
					IncrementalShare: float64(inc.Requests) / float64(full.Requests), MinimumRequests: minimum}
				points = append(points, p)
				b.ReportMetric(p.Efficiency, "wall/bound")
				b.ReportMetric(p.ReplayEff, "wall/replay")
				b.ReportMetric(float64(full.RateLimited), "429s")
				b.ReportMetric(full.PeakRSSMiB, "peak_MiB")
				b.ReportMetric(p.IncrementalShare, "incremental/full")
			}
		})
	}
	save(b, "backfill_scaling", points)
}

// minimumIncremental is the fewest requests the hourly run could make:
// every list page of the current month, the point-in-time and organisation
// endpoints, and the per-resource calls of the resources that changed.
func minimumIncremental(b *testing.B, db string) int64 {
	conn, err := pgx.Connect(b.Context(), db)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	var changedVMs, changedVolumes, changedOthers, pages int64
	conn.QueryRow(b.Context(), `
		WITH last AS (SELECT max(id) AS id FROM ingest.runs)
		SELECT count(*) FILTER (WHERE unit LIKE 'virtual-machine/%'), count(*) FILTER (WHERE unit LIKE 'volume/%'),
		       count(*) FILTER (WHERE unit NOT LIKE 'virtual-machine/%' AND unit NOT LIKE 'volume/%')
		FROM ingest.fetch_state, last WHERE run_id = last.id`).Scan(&changedVMs, &changedVolumes, &changedOthers)
	conn.QueryRow(b.Context(), `
		SELECT count(*) FROM ingest.raw_payloads WHERE endpoint LIKE '%/list' AND run_id = (SELECT max(id) FROM ingest.runs)`).Scan(&pages)
	// 5 per VM, 3 per volume, 2 per other resource; 5 point-in-time, 2 organisation.
	return pages + 5*changedVMs + 3*changedVolumes + 2*changedOthers + 5 + 2
}

// BenchmarkMemoryByMonths backfills the same organisation over 3 and over 6
// months: peak memory must not grow with the months.
func BenchmarkMemoryByMonths(b *testing.B) {
	results := map[string]measured{}
	for _, months := range []int{3, 6} {
		start := time.Date(2026, time.Month(12-months), 1, 0, 0, 0, 0, time.UTC)
		b.Run(fmt.Sprintf("%dmonths", months), func(b *testing.B) {
			for b.Loop() {
				s := startSim(b, quarterLarge, start.Format(time.RFC3339), 0, -1)
				m := ingest(b, s, dbtest.New(b), 10_000_000, "backfill", "--since", start.Format("2006-01"))
				results[fmt.Sprintf("%d_months", months)] = m
				b.ReportMetric(m.PeakRSSMiB, "peak_MiB")
			}
		})
	}
	save(b, "memory_by_months", results)
}

// writeRounds is how many times BenchmarkWriteThroughput rebuilds the
// warehouse and copies it: the machine's speed drifts by a quarter from
// minute to minute, so each round measures both sides back to back and the
// figures are the rounds' medians.
const writeRounds = 5

// BenchmarkWriteThroughput backfills with no latency and no limit, then, in
// each round, rebuilds the emptied warehouse from the stored responses
// (decode, normalize and upsert, no network) and loads the same rows with
// raw COPY into identical tables.
func BenchmarkWriteThroughput(b *testing.B) {
	var result struct {
		Rows            int64     `json:"rows"`
		Rounds          int       `json:"rounds"`
		BackfillRowsS   float64   `json:"backfill_rows_per_second"`
		ReprocessRowsS  float64   `json:"reprocess_rows_per_second"`
		CopyRowsS       float64   `json:"raw_copy_rows_per_second"`
		BackfillVsCopy  float64   `json:"backfill_vs_copy"`
		ReprocessVsCopy float64   `json:"reprocess_vs_copy"`
		RoundsVsCopy    []float64 `json:"reprocess_vs_copy_by_round"`
		PeakRSSMiB      float64   `json:"reprocess_peak_rss_mib"`
		// The reprocess above includes rebuilding billing.resource_day_costs
		// from the computed view at its end; these leave that out.
		RefreshSeconds float64 `json:"day_cost_refresh_seconds"`
		WriterRowsS    float64 `json:"reprocess_without_refresh_rows_per_second"`
		WriterVsCopy   float64 `json:"reprocess_without_refresh_vs_copy"`
	}
	for b.Loop() {
		s := startSim(b, quarterLarge*4, "2026-09-01T00:00:00Z", 0, -1)
		db := dbtest.New(b)
		m := ingest(b, s, db, 10_000_000, "backfill", "--since", "2026-09")
		var reprocess, copies, ratios, rss, refreshes, writer, writerRatios []float64
		for range writeRounds {
			emptyWarehouse(b, db)
			re := ingestWith(b, s, db, 10_000_000, []string{"LOG_FORMAT=json", "LOG_LEVEL=info"}, "reprocess")
			copyTime, rows := rawCopy(b, db)
			refresh := refreshTook(b, re.stderr)
			result.Rows = rows
			reprocess = append(reprocess, float64(re.Rows)/re.Wall.Seconds())
			copies = append(copies, float64(rows)/copyTime.Seconds())
			ratios = append(ratios, reprocess[len(reprocess)-1]/copies[len(copies)-1])
			rss = append(rss, re.PeakRSSMiB)
			refreshes = append(refreshes, refresh.Seconds())
			writer = append(writer, float64(re.Rows)/(re.Wall-refresh).Seconds())
			writerRatios = append(writerRatios, writer[len(writer)-1]/copies[len(copies)-1])
		}
		result.RefreshSeconds = median(refreshes)
		result.WriterRowsS = median(writer)
		result.WriterVsCopy = median(writerRatios)
		result.Rounds = writeRounds
		result.RoundsVsCopy = ratios
		result.ReprocessRowsS = median(reprocess)
		result.CopyRowsS = median(copies)
		result.ReprocessVsCopy = median(ratios)
		result.PeakRSSMiB = slices.Max(rss)
		result.BackfillRowsS = float64(m.Rows) / m.Wall.Seconds()
		result.BackfillVsCopy = result.BackfillRowsS / result.CopyRowsS
		b.ReportMetric(result.BackfillRowsS, "backfill_rows/s")
		b.ReportMetric(result.ReprocessRowsS, "reprocess_rows/s")
		b.ReportMetric(result.CopyRowsS, "copy_rows/s")
		b.ReportMetric(result.ReprocessVsCopy, "reprocess/copy")
	}
	save(b, "write_throughput", result)
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

// emptyWarehouse truncates every warehouse table and the restatements.
func emptyWarehouse(b *testing.B, db string) {
	conn, err := pgx.Connect(b.Context(), db)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	names := []string{"billing.restatements"}
	for _, t := range store.WarehouseTables {
		names = append(names, t.Name)
	}
	if _, err := conn.Exec(b.Context(), "TRUNCATE "+strings.Join(names, ", ")); err != nil {
		b.Fatal(err)
	}
}

// rawCopy copies every warehouse table's rows out and back into identical
// new tables with COPY, timing the loading side.
func rawCopy(b *testing.B, db string) (time.Duration, int64) {
	conn, err := pgx.Connect(b.Context(), db)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	var total time.Duration
	var rows int64
	for _, t := range store.WarehouseTables {
		copyName := "copy_" + strings.ReplaceAll(t.Name, ".", "_")
		if _, err := conn.Exec(b.Context(), fmt.Sprintf("DROP TABLE IF EXISTS public.%[1]s; CREATE TABLE public.%[1]s (LIKE %[2]s INCLUDING ALL)", copyName, t.Name)); err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := conn.PgConn().CopyTo(b.Context(), &buf, fmt.Sprintf("COPY %s TO STDOUT (FORMAT binary)", t.Name)); err != nil {
			b.Fatal(err)
		}
		began := time.Now()
		tag, err := conn.PgConn().CopyFrom(b.Context(), &buf, fmt.Sprintf("COPY public.%s FROM STDIN (FORMAT binary)", copyName))
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(began)
		rows += tag.RowsAffected()
	}
	return total, rows
}

// refreshTook is how long a run's closing day-cost refresh took, from its
// JSON log.
func refreshTook(b *testing.B, log string) time.Duration {
	b.Helper()
	for line := range strings.Lines(log) {
		var l struct {
			Msg  string        `json:"msg"`
			Took time.Duration `json:"took"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "refreshed day costs" {
			return l.Took
		}
	}
	b.Fatalf("no day-cost refresh in the log:\n%s", log)
	return 0
}
