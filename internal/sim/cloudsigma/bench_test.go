package cloudsigma

import (
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
