package bench

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// The CloudSigma account of the benchmark: 200 servers, a history of
// BENCH_CLOUDSIGMA_DAYS days (default 365) of five-minute ledger entries,
// the API answering after 20 ms with a limit of 30,000 requests a minute.
const (
	csServers  = 200
	csPassword = "bench-Pw-9"
)

// startCloudSigma starts the simulator with its clock fixed at now: the
// ingest binary runs on the real clock, and the ledger's windows end a few
// minutes before it.
func startCloudSigma(b *testing.B, start, now string) *sim {
	b.Helper()
	addr := freePort(b)
	cmd := exec.Command(filepath.Join(binDir, "cloudsigma-sim"), "--addr", addr, "--now", now, "--start", start,
		"--servers", strconv.Itoa(csServers), "--password", csPassword, "--auth", "basic", "--currency", "EUR",
		"--rate-limit", strconv.Itoa(simLimit), "--latency", latency.String())
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
		if i > 1200 {
			b.Fatal("the simulator did not start")
		}
		time.Sleep(25 * time.Millisecond)
	}
	return &sim{cmd: cmd, base: base}
}

func ingestCloudSigma(b *testing.B, s *sim, db string, rate int, args ...string) measured {
	b.Helper()
	cmd := exec.Command(filepath.Join(binDir, "ingest"), args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db, "CLOUDSIGMA_API_URL="+s.base+"/api/2.0/",
		"CLOUDSIGMA_USERNAME=user@example.com", "CLOUDSIGMA_PASSWORD="+csPassword, "CLOUDSIGMA_LOCATION=zrh",
		fmt.Sprintf("INGEST_RATE=%d", rate), fmt.Sprintf("INGEST_CONCURRENCY=%d", concurrency), "LOG_LEVEL=warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	peak := watchPeakRSS(cmd.Process.Pid) // not rusage: see watchPeakRSS
	err := cmd.Wait()
	m := measured{Wall: time.Since(began), PeakRSSMiB: float64(peak()) / 1024}
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

// BenchmarkCloudSigmaBackfill backfills the account's whole history (the
// ledger, and /usage/ for the default 7 days): wall time against the API's
// bound, peak memory, then the write rate of a reprocess of what it
// stored against raw COPY of the same rows.
//
//	go test -run '^$' -bench CloudSigma -benchtime 1x -v ./bench
func BenchmarkCloudSigmaBackfill(b *testing.B) {
	days := 365
	if v := os.Getenv("BENCH_CLOUDSIGMA_DAYS"); v != "" {
		days, _ = strconv.Atoi(v)
	}
	nowT := time.Now().UTC().Truncate(time.Second)
	start := nowT.AddDate(0, 0, -days)
	var result struct {
		Command         string   `json:"command"`
		Servers         int      `json:"servers"`
		Days            int      `json:"days"`
		UsageDays       string   `json:"usage_days"`
		LedgerEntries   int64    `json:"ledger_entries"`
		Backfill        measured `json:"backfill"`
		LowerBoundS     float64  `json:"lower_bound_seconds"`
		APIBound        float64  `json:"api_bound_efficiency"`
		WriteBoundS     float64  `json:"write_bound_seconds"`
		Bound           float64  `json:"wall_vs_api_and_write_bound"`
		Incremental     measured `json:"incremental_hourly_run"`
		ReprocessRowsS  float64  `json:"reprocess_rows_per_second"`
		CopyRowsS       float64  `json:"raw_copy_rows_per_second"`
		ReprocessVsCopy float64  `json:"reprocess_vs_copy"`
		BackfillRowsS   float64  `json:"backfill_rows_per_second"`
		ReprocessRSSMiB float64  `json:"reprocess_peak_rss_mib"`
	}
	for b.Loop() {
		s := startCloudSigma(b, start.Format(time.RFC3339), nowT.Format(time.RFC3339))
		db := dbtest.New(b)
		m := ingestCloudSigma(b, s, db, crawlerRate, "backfill", "--since", start.Format("2006-01"))
		if m.Status != "succeeded" {
			b.Fatalf("the backfill ended %s", m.Status)
		}
		conn, err := pgx.Connect(b.Context(), db)
		if err != nil {
			b.Fatal(err)
		}
		conn.QueryRow(b.Context(), `SELECT count(*) FROM billing.cloudsigma_ledger_entries`).Scan(&result.LedgerEntries)
		conn.Close(b.Context())
		result.Backfill = m
		bound := lowerBound(m.Requests, crawlerRate, latency)
		result.LowerBoundS = bound.Seconds()
		result.APIBound = m.Wall.Seconds() / bound.Seconds()
		result.BackfillRowsS = float64(m.Rows) / m.Wall.Seconds()

		s.post(b, "/_sim/clock", `{"advance": "1h"}`)
		result.Incremental = ingestCloudSigma(b, s, db, crawlerRate, "run")

		emptyWarehouse(b, db)
		re := ingestCloudSigma(b, s, db, 10_000_000, "reprocess")
		copyTime, rows := rawCopy(b, db)
		result.ReprocessRowsS = float64(re.Rows) / re.Wall.Seconds()
		result.CopyRowsS = float64(rows) / copyTime.Seconds()
		result.ReprocessVsCopy = result.ReprocessRowsS / result.CopyRowsS
		result.ReprocessRSSMiB = re.PeakRSSMiB
		// Writing the rows at raw COPY's rate is a bound too: a year's
		// ledger is a million rows from a few thousand requests.
		result.WriteBoundS = float64(m.Rows) / result.CopyRowsS
		result.Bound = m.Wall.Seconds() / max(result.LowerBoundS, result.WriteBoundS)
		b.ReportMetric(result.APIBound, "wall/bound")
		b.ReportMetric(m.PeakRSSMiB, "peak_MiB")
		b.ReportMetric(result.ReprocessVsCopy, "reprocess/copy")
	}
	// /usage/ is the source's default 7 days unless the environment says.
	result.UsageDays = cmp.Or(os.Getenv("CLOUDSIGMA_USAGE_DAYS"), "7")
	result.Command = fmt.Sprintf("CLOUDSIGMA_USAGE_DAYS=%s BENCH_CLOUDSIGMA_DAYS=%d go test -run '^$' -bench CloudSigma -benchtime 1x -v ./bench", result.UsageDays, days)
	result.Servers, result.Days = csServers, days
	save(b, fmt.Sprintf("cloudsigma_%ddays", days), result)
}
