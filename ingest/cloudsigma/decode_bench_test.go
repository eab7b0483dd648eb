package cloudsigma

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	cssim "github.com/billing-warehouse/billing-warehouse/internal/sim/cloudsigma"
)

// BenchmarkDecodeLedger decodes a page of 500 ledger entries.
func BenchmarkDecodeLedger(b *testing.B) {
	now := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
	s, err := cssim.New(cssim.Config{ModelConfig: cssim.ModelConfig{Seed: 1, Now: now, Start: now.AddDate(0, 0, -2), Servers: 50}, Password: "p"})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/2.0/ledger/?order_by=time&limit=500", nil)
	req.SetBasicAuth("user@example.com", "p")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		es, _, err := decodeLedger(body, "EUR")
		if err != nil || len(es) != 500 {
			b.Fatal(err, len(es))
		}
	}
}

// BenchmarkDecodeUsage decodes an hour of /usage/ of 200 servers, the
// page a usage window asks for.
func BenchmarkDecodeUsage(b *testing.B) {
	now := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
	s, err := cssim.New(cssim.Config{ModelConfig: cssim.ModelConfig{Seed: 1, Now: now, Start: now.AddDate(0, 0, -2), Servers: 200}, Password: "p"})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/2.0/usage/?poll_time__gte=2026-03-17T10:00:00&poll_time__lt=2026-03-17T11:00:00&limit=0", nil)
	req.SetBasicAuth("user@example.com", "p")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ss, err := decodeUsage(body)
		if err != nil {
			b.Fatal(err, len(ss))
		}
		b.ReportMetric(float64(len(ss)), "samples")
	}
}
