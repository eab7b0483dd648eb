package sim

import (
	"maps"
	"strconv"
	"sync"
)

// Stats counts what a simulator was asked and how it answered. Tests and
// benchmarks use it to count the crawler's requests.
type Stats struct {
	Requests      int64                       `json:"requests"`
	ByEndpoint    map[string]int64            `json:"by_endpoint"` // "GET /billing/billing/history/virtual-machine/{vm_id}"
	ByStatus      map[string]int64            `json:"by_status"`   // "200", "429", …
	ByEndpointOK  map[string]int64            `json:"by_endpoint_ok"`
	RateLimited   int64                       `json:"rate_limited"`
	Faults        map[string]int64            `json:"faults"`
	MaxConcurrent int64                       `json:"max_concurrent"`
	ByResource    map[string]map[string]int64 `json:"-"` // endpoint → resource id → requests
}

// statsRecorder keeps Stats up to date under concurrent requests.
type statsRecorder struct {
	mu       sync.Mutex
	s        Stats
	inFlight int64
}

func newStatsRecorder() *statsRecorder {
	r := &statsRecorder{}
	r.reset()
	return r
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s = Stats{
		ByEndpoint: map[string]int64{}, ByStatus: map[string]int64{}, ByEndpointOK: map[string]int64{},
		Faults: map[string]int64{}, ByResource: map[string]map[string]int64{},
	}
}

// begin counts a request as it arrives.
func (r *statsRecorder) begin(endpoint string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight++
	r.s.MaxConcurrent = max(r.s.MaxConcurrent, r.inFlight)
	r.s.Requests++
	r.s.ByEndpoint[endpoint]++
}

// resource counts a request for one resource of a per-resource endpoint.
func (r *statsRecorder) resource(endpoint, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s.ByResource[endpoint] == nil {
		r.s.ByResource[endpoint] = map[string]int64{}
	}
	r.s.ByResource[endpoint][id]++
}

// fault counts a fault as it takes effect, before the client sees it.
func (r *statsRecorder) fault(c Class) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.Faults[string(c)]++
}

// end counts a request's answer; status 0 is none (a reset or a hang).
func (r *statsRecorder) end(endpoint string, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight--
	if status != 0 {
		r.s.ByStatus[strconv.Itoa(status)]++
	}
	if status == 200 {
		r.s.ByEndpointOK[endpoint]++
	}
	if status == 429 {
		r.s.RateLimited++
	}
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.s
	s.ByEndpoint = maps.Clone(s.ByEndpoint)
	s.ByStatus = maps.Clone(s.ByStatus)
	s.ByEndpointOK = maps.Clone(s.ByEndpointOK)
	s.Faults = maps.Clone(s.Faults)
	s.ByResource = map[string]map[string]int64{}
	for k, v := range r.s.ByResource {
		s.ByResource[k] = maps.Clone(v)
	}
	return s
}
