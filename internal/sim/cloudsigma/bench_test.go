package cloudsigma

import (
	"bytes"
	"fmt"
	"net/url"
	"runtime"
	"testing"
	"time"
)

// bigAccount is the benchmark's account: 200 servers and a year of
// five-minute cycles.
func bigAccount() ModelConfig {
	return ModelConfig{Seed: 1, Servers: 200, Now: testNow, Start: testNow.AddDate(-1, 0, 0)}
}

// BenchmarkNewModel measures building the year-long account (the
// simulator's start-up) and reports the heap it keeps.
func BenchmarkNewModel(b *testing.B) {
	var m *Model
	for b.Loop() {
		m = NewModel(bigAccount())
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(m.LedgerLen()), "entries")
	runtime.KeepAlive(m)
}

// BenchmarkLedgerAccessor measures exporting a day of the year-long ledger.
func BenchmarkLedgerAccessor(b *testing.B) {
	m := NewModel(bigAccount())
	for b.Loop() {
		m.Ledger(testNow.Add(-24*time.Hour), testNow)
	}
}

// BenchmarkLedgerWalk serves a crawl of the whole year-long ledger the way
// the crawler walks it: one day window at a time (time__gte/time__lt,
// order_by=time), pages of 500 by offset inside a window.
func BenchmarkLedgerWalk(b *testing.B) {
	s, base := newTestSim(b, Config{ModelConfig: bigAccount()})
	start, end := s.Model.Start(), s.Model.Now()
	var entries, requests int
	for b.Loop() {
		entries, requests = 0, 0
		for day := start; day.Before(end); day = day.Add(24 * time.Hour) {
			win := "time__gte=" + url.QueryEscape(apiTime(day)) + "&time__lt=" + url.QueryEscape(apiTime(day.Add(24*time.Hour)))
			for off := 0; ; off += 500 {
				status, _, body := get(b, base, fmt.Sprintf("/ledger/?order_by=time&limit=500&offset=%d&%s", off, win))
				requests++
				if status != 200 {
					b.Fatalf("%d %s", status, body)
				}
				n := bytes.Count(body, []byte(`"billing_cycle"`))
				entries += n
				if n < 500 {
					break
				}
			}
		}
	}
	if entries != s.Model.LedgerLen() {
		b.Fatalf("walked %d entries of %d", entries, s.Model.LedgerLen())
	}
	b.ReportMetric(float64(entries), "entries")
	b.ReportMetric(float64(requests), "requests")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(entries), "ns/entry")
}
