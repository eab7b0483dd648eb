package soracom

import (
	"io"
	"testing"
)

// The crawler's benchmark bills 10,000 SIMs over three closed months and
// the current one.
const benchSIMs = 10_000

func BenchmarkNewModel(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newTestModel(b, ModelConfig{SIMs: benchSIMs})
	}
}

// BenchmarkMonthFigures is the first request for a closed month's bill,
// daily figures or summaries: one pass over its rows (cached after).
func BenchmarkMonthFigures(b *testing.B) {
	m := newTestModel(b, ModelConfig{SIMs: benchSIMs})
	v := m.viewOf(month(b, "202604"))
	b.ReportAllocs()
	var rows int64
	for b.Loop() {
		rows = m.computeAggregate(v).rows
	}
	b.ReportMetric(float64(rows), "rows")
}

// BenchmarkExportCSV writes a closed month's CSV, as a download does.
func BenchmarkExportCSV(b *testing.B) {
	m := newTestModel(b, ModelConfig{SIMs: benchSIMs})
	a := m.aggregate(m.viewOf(month(b, "202604")))
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		cw := &countingWriter{w: io.Discard}
		if err := m.writeCSV(cw, a); err != nil {
			b.Fatal(err)
		}
		n = cw.n
	}
	b.SetBytes(n)
	b.ReportMetric(float64(a.rows), "rows")
}

// BenchmarkExportDownload is what a crawler waits for: POST a sync export
// of a closed month and download the file, over loopback HTTP.
func BenchmarkExportDownload(b *testing.B) {
	_, base := newTestSim(b, Config{Model: ModelConfig{SIMs: benchSIMs}})
	c := login(b, base)
	mustPost(b, c, "/bills/202604/export") // the month's figures, once
	b.ReportAllocs()
	var n int
	for b.Loop() {
		url := at(b, decode(b, mustPost(b, c, "/bills/202604/export")), "url").(string)
		resp, body := send(b, "GET", url, "", nil)
		if resp.StatusCode != 200 {
			b.Fatalf("download: %d", resp.StatusCode)
		}
		n = len(body)
	}
	b.SetBytes(int64(n))
}
