package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// The Soracom benchmark's account: 10,000 SIMs, its clock on the 20th of
// May 2026 (so every earlier month is closed and May is preliminary), the
// API answering after 20 ms. Soracom's limit is per API path (100 a
// minute by default), and a backfill makes a handful of requests per
// month, so it is never what bounds a Soracom backfill: the CSV is.
const (
	soracomNow  = "2026-05-20T03:30:00Z"
	soracomSIMs = 10000
)

func startSoracomSim(b *testing.B, start string) *sim {
	b.Helper()
	addr := freePort(b)
	cmd := exec.Command(filepath.Join(binDir, "soracom-sim"), "--addr", addr, "--auth-key-id", "keyId-bench", "--auth-key", "secret-bench",
		"--sims", fmt.Sprint(soracomSIMs), "--now", soracomNow, "--start", start, "--latency", latency.String())
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
		if i > 400 {
			b.Fatal("the simulator did not start")
		}
		time.Sleep(25 * time.Millisecond)
	}
	return &sim{cmd: cmd, base: base}
}

func soracomIngest(b *testing.B, s *sim, db string, args ...string) measured {
	b.Helper()
	cmd := exec.Command(filepath.Join(binDir, "ingest"), args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db, "SORACOM_API_URL="+s.base+"/v1", "SORACOM_AUTH_KEY_ID=keyId-bench",
		"SORACOM_AUTH_KEY=secret-bench", "INGEST_RATE=450", fmt.Sprintf("INGEST_CONCURRENCY=%d", concurrency), "LOG_LEVEL=warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	began := time.Now()
	err := cmd.Run()
	m := measured{Wall: time.Since(began)}
	m.WallSeconds = m.Wall.Seconds()
	if err != nil {
		b.Fatalf("ingest %v: %v\n%s", args, err, stderr.String())
	}
	m.PeakRSSMiB = float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
	conn, err := pgx.Connect(b.Context(), db)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	conn.QueryRow(b.Context(), `SELECT requests, rate_limited, rows_inserted + rows_updated + rows_deleted, status FROM ingest.runs ORDER BY id DESC LIMIT 1`).
		Scan(&m.Requests, &m.RateLimited, &m.Rows, &m.Status)
	return m
}

// BenchmarkSoracomBackfill backfills a 10,000-SIM account, three months
// (two closed, the current one preliminary) and six, from the real
// soracom-sim and ingest binaries: wall time against the API bound and
// against raw COPY of the rows it wrote, peak RSS, and its rows a second
// (download, parse and write of the CSVs, the API included) against raw
// COPY of the same rows. (Reprocess is not measured: it decodes a whole
// month's CSV per payload, on every core at once, and needs gigabytes.)
//
//	go test -run '^$' -bench SoracomBackfill -benchtime 1x -timeout 30m ./bench
func BenchmarkSoracomBackfill(b *testing.B) {
	type point struct {
		Months          int      `json:"months"`
		Backfill        measured `json:"backfill"`
		APIBoundSeconds float64  `json:"api_bound_seconds"`
		WallVsAPIBound  float64  `json:"wall_vs_api_bound"`
		CopySeconds     float64  `json:"raw_copy_seconds_of_its_rows"`
		WallVsCopy      float64  `json:"wall_vs_raw_copy"`
		RowsS           float64  `json:"csv_parse_write_rows_per_second"`
		CopyRowsS       float64  `json:"raw_copy_rows_per_second"`
		RowsVsCopy      float64  `json:"csv_parse_write_vs_raw_copy"`
	}
	var points []point
	for b.Loop() {
		points = nil
		for _, c := range []struct {
			months int
			start  string
		}{{3, "2026-03-01T00:00:00+09:00"}, {6, "2025-12-01T00:00:00+09:00"}} {
			s := startSoracomSim(b, c.start)
			db := dbtest.New(b)
			p := point{Months: c.months}
			p.Backfill = soracomIngest(b, s, db, "backfill", "--since", c.start[:7])
			bound := lowerBound(p.Backfill.Requests, 450, latency)
			p.APIBoundSeconds = bound.Seconds()
			p.WallVsAPIBound = p.Backfill.Wall.Seconds() / bound.Seconds()
			copyTime, rows := rawCopySoracom(b, db)
			p.CopySeconds = copyTime.Seconds()
			p.WallVsCopy = p.Backfill.Wall.Seconds() / copyTime.Seconds()
			p.RowsS = float64(p.Backfill.Rows) / p.Backfill.Wall.Seconds()
			p.CopyRowsS = float64(rows) / copyTime.Seconds()
			p.RowsVsCopy = p.RowsS / p.CopyRowsS
			points = append(points, p)
			b.ReportMetric(p.Backfill.PeakRSSMiB, fmt.Sprintf("MiB_%dmonths", c.months))
			b.ReportMetric(p.Backfill.Wall.Seconds(), fmt.Sprintf("s_%dmonths", c.months))
		}
	}
	save(b, "soracom_backfill", points)
}

// rawCopySoracom is rawCopy of the tables a Soracom backfill writes.
func rawCopySoracom(b *testing.B, db string) (time.Duration, int64) {
	conn, err := pgx.Connect(b.Context(), db)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	var total time.Duration
	var rows int64
	for _, t := range []*store.Table{store.Resources.Table, store.SoracomBills.Table, store.SoracomDailyBills.Table,
		store.SoracomBillItems.Table, store.SoracomSummaries.Table, store.SoracomCoupons.Table} {
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
