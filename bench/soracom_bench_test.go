package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	peak := watchPeakRSS(cmd.Process.Pid)
	err := cmd.Wait()
	m := measured{Wall: time.Since(began)}
	m.WallSeconds = m.Wall.Seconds()
	if err != nil {
		b.Fatalf("ingest %v: %v\n%s", args, err, stderr.String())
	}
	m.PeakRSSMiB = float64(peak()) / 1024
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
// soracom-sim and ingest binaries, then empties the Soracom tables and
// rebuilds them with ingest reprocess. Its yardsticks:
//
//   - api_bound_seconds is lowerBound, the pace of the requests alone
//     (INGEST_RATE, the latency over the workers). For Soracom it is not a
//     bound worth the name: a backfill is a handful of requests a month
//     but each month waits for its export and downloads a CSV of tens of
//     megabytes. Kept for comparison with the other sources.
//   - api_walk_seconds is measured: the same requests in the crawl's order
//     and pace, the export polls' waits and the CSV downloads, with
//     nothing parsed or written (apiWalk). No backfill of this request
//     plan can be faster; wall_vs_api_walk is the backfill's efficiency.
//   - raw COPY of the rows the backfill wrote, into empty copies of the
//     tables (indexes included), timed right after the backfill and again
//     right after the reprocess, each run compared to the COPY next to
//     it: the machine's speed drifts while others use it.
//
// csv_parse_write_rows_per_second is the backfill's rows over its whole
// wall time, the API's share included.
//
//	go test -run '^$' -bench SoracomBackfill -benchtime 1x -timeout 40m ./bench
func BenchmarkSoracomBackfill(b *testing.B) {
	type point struct {
		Months          int      `json:"months"`
		Backfill        measured `json:"backfill"`
		APIBoundSeconds float64  `json:"api_bound_seconds"`
		WallVsAPIBound  float64  `json:"wall_vs_api_bound"`
		APIWalkSeconds  float64  `json:"api_walk_seconds"`
		APIWalkRequests int      `json:"api_walk_requests"`
		WallVsAPIWalk   float64  `json:"wall_vs_api_walk"`
		CopyRows        int64    `json:"raw_copy_rows"`
		CopySeconds     float64  `json:"raw_copy_seconds_of_its_rows"`
		WallVsCopy      float64  `json:"wall_vs_raw_copy"`
		RowsS           float64  `json:"csv_parse_write_rows_per_second"`
		CopyRowsS       float64  `json:"raw_copy_rows_per_second"`
		RowsVsCopy      float64  `json:"csv_parse_write_vs_raw_copy"`
		Reprocess       measured `json:"reprocess"`
		ReprocessRowsS  float64  `json:"reprocess_rows_per_second"`
		CopyAfterRowsS  float64  `json:"raw_copy_rows_per_second_after_reprocess"`
		ReprocessVsCopy float64  `json:"reprocess_vs_raw_copy"`
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
			// A simulator of its own: the first request for a month's
			// figures computes them, and the backfill must not find them
			// warm.
			ws := startSoracomSim(b, c.start)
			walk, requests := apiWalk(b, ws, c.start[:7])
			ws.cmd.Process.Kill()
			p.APIWalkSeconds, p.APIWalkRequests = walk.Seconds(), requests
			p.Backfill = soracomIngest(b, s, db, "backfill", "--since", c.start[:7])
			bound := lowerBound(p.Backfill.Requests, 450, latency)
			p.APIBoundSeconds = bound.Seconds()
			p.WallVsAPIBound = p.Backfill.Wall.Seconds() / bound.Seconds()
			p.WallVsAPIWalk = p.Backfill.Wall.Seconds() / walk.Seconds()
			copyTime, rows := rawCopySoracom(b, db)
			p.CopyRows = rows
			p.CopySeconds = copyTime.Seconds()
			p.WallVsCopy = p.Backfill.Wall.Seconds() / copyTime.Seconds()
			p.RowsS = float64(p.Backfill.Rows) / p.Backfill.Wall.Seconds()
			p.CopyRowsS = float64(rows) / copyTime.Seconds()
			p.RowsVsCopy = p.RowsS / p.CopyRowsS

			emptyWarehouse(b, db)
			p.Reprocess = soracomIngest(b, s, db, "reprocess")
			copyTime, rows = rawCopySoracom(b, db)
			p.ReprocessRowsS = float64(p.Reprocess.Rows) / p.Reprocess.Wall.Seconds()
			p.CopyAfterRowsS = float64(rows) / copyTime.Seconds()
			p.ReprocessVsCopy = p.ReprocessRowsS / p.CopyAfterRowsS
			points = append(points, p)
			b.ReportMetric(p.Backfill.PeakRSSMiB, fmt.Sprintf("MiB_%dmonths", c.months))
			b.ReportMetric(p.Backfill.Wall.Seconds(), fmt.Sprintf("s_%dmonths", c.months))
		}
	}
	save(b, "soracom_backfill", points)
}

// apiWalk is the API side of a Soracom backfill since the month since
// (yyyy-MM), alone: the requests the source makes, one after another, in
// its order (the login, the point-in-time endpoints, then each month's
// bill, daily totals, export, polls and download), paced at the crawl's
// INGEST_RATE, its export polls waiting as the source's do (a second,
// doubling), each CSV read to its end and dropped. It returns how long
// that took and how many requests it made.
func apiWalk(b *testing.B, s *sim, since string) (time.Duration, int) {
	b.Helper()
	began := time.Now()
	interval := time.Minute / 450
	next := time.Now()
	requests := 0
	var apiKey, token string
	call := func(method, url, body string, out any) {
		if wait := time.Until(next); wait > 0 {
			time.Sleep(wait)
		}
		next = time.Now().Add(interval)
		requests++
		req, err := http.NewRequestWithContext(b.Context(), method, url, strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if strings.HasPrefix(url, s.base+"/v1/") { // not the download link
			req.Header.Set("X-Soracom-API-Key", apiKey)
			req.Header.Set("X-Soracom-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s %s: %s", method, url, resp.Status)
		}
		if out == nil {
			io.Copy(io.Discard, resp.Body)
		} else if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			b.Fatal(err)
		}
	}
	var login struct{ APIKey, Token string }
	call(http.MethodPost, s.base+"/v1/auth", `{"authKeyId":"keyId-bench","authKey":"secret-bench"}`, &login)
	apiKey, token = login.APIKey, login.Token
	api := s.base + "/v1"
	for _, path := range []string{"/bills", "/bills/latest", "/bills/summaries/bill_items", "/bills/summaries/sims", "/coupons"} {
		call(http.MethodGet, api+path, "", nil)
	}
	now, _ := time.Parse(time.RFC3339, soracomNow)
	current := now.Format("200601")
	first, _ := time.Parse("2006-01", since)
	for m := first; m.Format("200601") <= current; m = m.AddDate(0, 1, 0) {
		label := m.Format("200601")
		call(http.MethodGet, api+"/bills/"+label, "", nil)
		call(http.MethodGet, api+"/bills/"+label+"/daily", "", nil)
		export := api + "/bills/" + label + "/export?export_mode=async"
		if label == current {
			export = api + "/bills/latest/export?export_mode=async"
		}
		var job struct{ ExportedFileID string }
		call(http.MethodPost, export, "", &job)
		wait := time.Second
		for {
			var st struct{ Status, URL string }
			call(http.MethodGet, api+"/files/exported/"+job.ExportedFileID, "", &st)
			if st.Status == "exported" {
				call(http.MethodGet, st.URL, "", nil)
				break
			}
			time.Sleep(wait)
			wait *= 2
		}
	}
	return time.Since(began), requests
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
