package hyperstacksim

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestTranscript pins what a seeded simulator answers, byte for byte: the
// status, the headers a client reads and the body of 600 requests with
// every fault class on and a rate limit that bites, folded into one digest.
// Benchmarks and system tests rely on a seed giving the same answers, so a
// change of this digest is a change of behaviour, not a refactoring.
func TestTranscript(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)}
	_, base := newTestSim(t, Config{
		ModelConfig: ModelConfig{Seed: 7, Counts: Scales["small"]},
		Faults:      AllFaults(0.06), RateLimit: 45, RetryAfter: true, Clock: clock.now,
		HangFor: time.Millisecond, SlowBodyFor: time.Millisecond,
	})
	paths := []string{
		"/v1/billing/billing/history/virtual-machine?per_page=3&page=%d",
		"/v1/billing/billing/history/volume?per_page=2&page=%d",
		"/v1/billing/billing/history?graph=true&start_date=2026-11-0%dT00:00:00",
		"/v1/billing/billing/last-day-cost?x=%d",
		"/v1/billing/billing/usage?deleted=false&n=%d",
		"/v1/billing/billing/history/contract?n=%d",
		"/v1/billing/user-credit/credit?n=%d",
		"/v1/billing/billing/nowhere/%d",
	}
	// A fresh connection per request: on a reused one, the transport would
	// quietly retry a request the simulator reset, and the retry draws again.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	h := sha256.New()
	for i := range 600 {
		if i%50 == 0 {
			clock.set(clock.now().Add(time.Minute))
		}
		url := base + fmt.Sprintf(paths[i%len(paths)], 1+i/len(paths)%3)
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("api_key", testKey)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Fprintf(h, "%d transport error\n", i)
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(h, "%d %d %q %q %q %v\n%s\n", i, resp.StatusCode, resp.Header.Get("Content-Type"),
			resp.Header.Get("Content-Length"), resp.Header.Get("Retry-After"), err != nil, body)
	}
	const want = "540e9348fc9a0c6db534b1c571a30ba5b76ea0d48181b125ced9c1d4c7b6643a"
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != want {
		t.Errorf("transcript digest %s, want %s", got, want)
	}
}
