package sim

import (
	"testing"
)

func TestStats(t *testing.T) {
	t.Parallel()
	r := newStatsRecorder()
	r.begin("GET /a")
	r.begin("GET /a/{id}")
	r.resource("GET /a/{id}", "7")
	r.begin("GET /a/{id}")
	r.resource("GET /a/{id}", "7")
	r.fault(Fault500)
	r.end("GET /a/{id}", 500)
	r.end("GET /a/{id}", 200)
	r.begin("GET /a")
	r.end("GET /a", 429)
	r.end("GET /a", 0) // a reset: no status

	s := r.snapshot()
	if s.Requests != 4 || s.MaxConcurrent != 3 || s.RateLimited != 1 {
		t.Errorf("requests %d, max concurrent %d, rate limited %d; want 4, 3, 1", s.Requests, s.MaxConcurrent, s.RateLimited)
	}
	if s.ByEndpoint["GET /a"] != 2 || s.ByEndpoint["GET /a/{id}"] != 2 || s.ByEndpointOK["GET /a/{id}"] != 1 || s.ByEndpointOK["GET /a"] != 0 {
		t.Errorf("by endpoint %v, ok %v", s.ByEndpoint, s.ByEndpointOK)
	}
	if len(s.ByStatus) != 3 || s.ByStatus["200"] != 1 || s.ByStatus["500"] != 1 || s.ByStatus["429"] != 1 {
		t.Errorf("by status %v", s.ByStatus)
	}
	if s.Faults["error_500"] != 1 || s.ByResource["GET /a/{id}"]["7"] != 2 {
		t.Errorf("faults %v, by resource %v", s.Faults, s.ByResource)
	}

	s.ByEndpoint["GET /a"] = 99
	s.ByResource["GET /a/{id}"]["7"] = 99
	r.begin("GET /b")
	if again := r.snapshot(); again.ByEndpoint["GET /a"] != 2 || again.ByResource["GET /a/{id}"]["7"] != 2 || again.MaxConcurrent != 3 {
		t.Errorf("a snapshot shares its maps with the recorder: %v", again.ByEndpoint)
	}
	r.end("GET /b", 200)
	r.reset()
	if z := r.snapshot(); z.Requests != 0 || len(z.ByEndpoint) != 0 || len(z.Faults) != 0 || len(z.ByResource) != 0 || z.MaxConcurrent != 0 {
		t.Errorf("after reset: %+v", z)
	}
}
