package hyperstacksim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// walk pages through a list, returning each page's ids and its reported
// total_count.
func walk(t *testing.T, base string, f Family, perPage int) (pages [][]int64, totals []int64) {
	t.Helper()
	for page := 1; ; page++ {
		body := getJSON(t, fmt.Sprintf("%s/v1/billing/billing/history/%s?per_page=%d&page=%d&start_date=2026-01-01T00:00:00", base, f, perPage, page))
		payload := at(t, body, shapes[f].listKey)
		var ids []int64
		for _, item := range at(t, payload, "billing_history").([]any) {
			ids = append(ids, integer(t, at(t, item, "attributes", "infrahub_id")))
		}
		pages = append(pages, ids)
		totals = append(totals, integer(t, at(t, payload, "pagination", "total_count")))
		if page >= int(integer(t, at(t, payload, "pagination", "pages"))) {
			return pages, totals
		}
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	sim, base := newTestSim(t, Config{ModelConfig: ModelConfig{Counts: Scales["medium"]}})
	var want []int64
	for _, r := range sim.Model.Resources(FamilyVM) {
		want = append(want, r.ID)
	}
	slices.Sort(want)

	for _, perPage := range []int{1, 3, 7, 10, 100, 500} {
		pages, _ := walk(t, base, FamilyVM, perPage)
		var got []int64
		for i, p := range pages {
			if len(p) > min(perPage, MaxPerPage) || i < len(pages)-1 && len(p) != min(perPage, MaxPerPage) {
				t.Errorf("per_page %d: page %d has %d items", perPage, i+1, len(p))
			}
			got = append(got, p...)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("per_page %d: walking the pages gave %d ids, want each of %d exactly once", perPage, len(got), len(want))
		}
	}
}

// TestUnstablePagination turns the fault on for every later page: each
// such page is computed as if one item had appeared before it (the page
// starts one item early, repeating one, and total_count is one higher) or
// vanished (it starts one item late, skipping one, total_count one lower).
func TestUnstablePagination(t *testing.T) {
	t.Parallel()
	sim, base := newTestSim(t, Config{ModelConfig: ModelConfig{Counts: Scales["medium"]}, Faults: Faults{UnstablePages: 1}})
	var stable []int64 // newest first, as the list orders them
	for _, r := range sim.Model.Resources(FamilyVM) {
		stable = append([]int64{r.ID}, stable...)
	}
	const perPage = 10
	pages, totals := walk(t, base, FamilyVM, perPage)
	seen := map[int64]int{}
	appeared, vanished := 0, 0
	for i, p := range pages {
		for _, id := range p {
			seen[id]++
		}
		delta := totals[i] - int64(len(stable))
		if i == 0 && delta != 0 || i > 0 && delta != 1 && delta != -1 {
			t.Fatalf("page %d: total_count %d of %d", i+1, totals[i], len(stable))
		}
		from := max(0, i*perPage-int(delta))
		if want := stable[from:min(from+perPage, len(stable))]; !slices.Equal(p, want) {
			t.Errorf("page %d (shift %+d): got %v, want %v", i+1, delta, p, want)
		}
		if delta > 0 {
			appeared++
		} else if delta < 0 {
			vanished++
		}
	}
	duplicated, skipped := 0, 0
	for _, id := range stable {
		switch seen[id] {
		case 0:
			skipped++
		case 1:
		default:
			duplicated++
		}
	}
	if appeared == 0 || vanished == 0 || duplicated == 0 || skipped == 0 {
		t.Errorf("over %d pages: %d with an item appeared, %d vanished, %d ids duplicated, %d skipped; want some of each",
			len(pages), appeared, vanished, duplicated, skipped)
	}
	if got := sim.Stats().Faults["unstable_pages"]; got != int64(len(pages)-1) {
		t.Errorf("stats count %d unstable pages, want %d", got, len(pages)-1)
	}
}

// fakeClock is a wall clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 11, 23, 9, 30, 15, 0, time.UTC)}
	sim, base := newTestSim(t, Config{RateLimit: 500, Clock: clock.now})

	count := func(n int) (ok, limited int, retryAfter []string) {
		for range n {
			req, _ := http.NewRequest(http.MethodGet, base+"/v1/billing/billing/last-day-cost", nil)
			req.Header.Set("api_key", testKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				ok++
			case 429:
				limited++
				retryAfter = append(retryAfter, resp.Header.Get("Retry-After"))
			default:
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
		return ok, limited, retryAfter
	}

	ok, limited, ra := count(600)
	if ok != 500 || limited != 100 {
		t.Fatalf("600 requests in one minute: %d ok, %d limited; want 500 and 100", ok, limited)
	}
	if ra[0] != "" {
		t.Errorf("Retry-After %q sent by default; the live API sends none", ra[0])
	}
	if got := sim.Stats().RateLimited; got != 100 {
		t.Errorf("stats count %d 429s, want 100", got)
	}

	// Still the same minute: still limited. The next minute: a fresh allowance.
	clock.set(time.Date(2026, 11, 23, 9, 30, 59, 0, time.UTC))
	if ok, _, _ := count(1); ok != 0 {
		t.Error("the limit lifted before the minute ended")
	}
	clock.set(time.Date(2026, 11, 23, 9, 31, 0, 0, time.UTC))
	if ok, limited, _ := count(500); ok != 500 || limited != 0 {
		t.Errorf("next minute: %d ok, %d limited; want 500 and 0", ok, limited)
	}

	sim.SetRateLimit(10, true)
	clock.set(time.Date(2026, 11, 23, 9, 32, 45, 0, time.UTC))
	if ok, limited, ra := count(11); ok != 10 || limited != 1 || ra[0] != "15" {
		t.Errorf("limit 10 with Retry-After: %d ok, %d limited, Retry-After %v; want 10, 1, [15]", ok, limited, ra)
	}
}

// fetch returns a response's status and body or the transport error.
func fetch(client *http.Client, url string) (int, []byte, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("api_key", testKey)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestFaults switches each fault class on alone and checks what a client sees.
func TestFaults(t *testing.T) {
	t.Parallel()
	const path = "/v1/billing/billing/history/virtual-machine?per_page=5"
	_, clean := newTestSim(t, Config{})
	_, want := get(t, clean+path)

	cases := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, status int, body []byte, err error, took time.Duration)
	}{
		{"500", Faults{Error500: 1}, func(t *testing.T, status int, body []byte, err error, _ time.Duration) {
			if status != 500 || decode(t, body)["error_reason"] != "server_error" {
				t.Errorf("got %d %s", status, body)
			}
		}},
		{"502", Faults{Error502: 1}, func(t *testing.T, status int, body []byte, err error, _ time.Duration) {
			if status != 502 && status != 503 || !strings.Contains(string(body), "<html>") {
				t.Errorf("got %d %s", status, body)
			}
		}},
		{"reset", Faults{Reset: 1}, func(t *testing.T, status int, body []byte, err error, _ time.Duration) {
			if err == nil {
				t.Errorf("got %d, want a transport error", status)
			}
		}},
		{"hang", Faults{Hang: 1}, func(t *testing.T, status int, body []byte, err error, _ time.Duration) {
			var timeout interface{ Timeout() bool }
			if err == nil || !errors.As(err, &timeout) || !timeout.Timeout() {
				t.Errorf("got %d %v, want the client's timeout", status, err)
			}
		}},
		{"slow body", Faults{SlowBody: 1}, func(t *testing.T, status int, body []byte, err error, took time.Duration) {
			if err != nil || status != 200 || string(body) != string(want) || took < 300*time.Millisecond {
				t.Errorf("got %d after %s, err %v; want the full body after at least 300ms", status, took, err)
			}
		}},
		{"truncate", Faults{Truncate: 1}, func(t *testing.T, status int, body []byte, err error, _ time.Duration) {
			if err != nil || status != 200 || json.Valid(body) || !strings.HasPrefix(string(want), string(body)) {
				t.Errorf("got %d, err %v, body %.80s; want a 200 whose JSON stops short", status, err, body)
			}
		}},
		{"wrong type", Faults{WrongType: 1}, func(t *testing.T, status int, body []byte, err error, _ time.Duration) {
			diffs := leafDiff(t, want, body)
			if len(diffs) != 1 || !strings.Contains(diffs[0], "string") {
				t.Errorf("want one number turned into a string, got %v", diffs)
			}
		}},
		{"null", Faults{Null: 1}, func(t *testing.T, status int, body []byte, err error, _ time.Duration) {
			diffs := leafDiff(t, want, body)
			if len(diffs) != 1 || !strings.Contains(diffs[0], "<nil>") {
				t.Errorf("want one value turned into null, got %v", diffs)
			}
		}},
		{"extra field", Faults{ExtraField: 1}, func(t *testing.T, status int, body []byte, err error, _ time.Duration) {
			diffs := leafDiff(t, want, body)
			if len(diffs) == 0 || !strings.Contains(string(body), "x_undocumented") {
				t.Errorf("want an undocumented field, got %v", diffs)
			}
			for _, d := range diffs {
				if !strings.Contains(d, "x_undocumented") {
					t.Errorf("the extra field changed something else: %s", d)
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sim, base := newTestSim(t, Config{Faults: c.faults, SlowBodyFor: 400 * time.Millisecond, HangFor: time.Minute})
			client := &http.Client{Timeout: 2 * time.Second}
			if c.name == "hang" {
				client.Timeout = 200 * time.Millisecond
			}
			began := time.Now()
			status, body, err := fetch(client, base+path)
			c.check(t, status, body, err, time.Since(began))
			if n := sumValues(sim.Stats().Faults); n != 1 {
				t.Errorf("stats count %d faults, want 1: %v", n, sim.Stats().Faults)
			}
		})
	}
}

func sumValues(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// leafDiff lists the scalar values that differ between two JSON bodies.
func leafDiff(t *testing.T, a, b []byte) []string {
	t.Helper()
	byPath := map[string]string{}
	for _, l := range sim.Leaves(decode(t, a)) {
		byPath[l.Path] = fmt.Sprintf("%T %v", l.Value, l.Value)
	}
	var out []string
	for _, l := range sim.Leaves(decode(t, b)) {
		if got := fmt.Sprintf("%T %v", l.Value, l.Value); byPath[l.Path] != got {
			out = append(out, l.Path+": "+got)
		}
	}
	return out
}

// TestFaultDraws checks that faults are deterministic per request: the same
// requests meet the same faults in another simulator with the same seed,
// and asking again draws again, so a retry can succeed.
func TestFaultDraws(t *testing.T) {
	t.Parallel()
	cfg := Config{Faults: Faults{Error500: 0.3}}
	_, a := newTestSim(t, cfg)
	_, b := newTestSim(t, cfg)
	var seqA, seqB []int
	for i := range 40 {
		path := fmt.Sprintf("/v1/billing/billing/history/volume?per_page=%d", 1+i%8)
		sa, _ := get(t, a+path)
		sb, _ := get(t, b+path)
		seqA, seqB = append(seqA, sa), append(seqB, sb)
	}
	if !slices.Equal(seqA, seqB) {
		t.Fatalf("same seed, different faults:\n%v\n%v", seqA, seqB)
	}
	if n := strings.Count(fmt.Sprint(seqA), "500"); n < 4 || n > 24 {
		t.Errorf("%d of 40 requests failed at rate 0.3", n)
	}
	if !slices.Contains(seqA[8:], 200) || !slices.Contains(seqA[8:], 500) {
		t.Errorf("repeating the same 8 requests never changed their outcome: %v", seqA)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	_, base := newTestSim(t, Config{Latency: Latency{Min: 150 * time.Millisecond}})
	began := time.Now()
	get(t, base+"/v1/billing/billing/last-day-cost")
	if took := time.Since(began); took < 150*time.Millisecond {
		t.Errorf("request took %s with 150ms latency", took)
	}
}

// control posts to a /_sim/ endpoint and decodes the answer.
func control(t *testing.T, base, path, body string) map[string]any {
	t.Helper()
	resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s %s: %d %s", path, body, resp.StatusCode, b)
	}
	return decode(t, b)
}

// TestControl drives the model through the /_sim/ endpoints: the clock,
// new and terminated resources, VM states and restatements, and checks the
// API reflects each change.
func TestControl(t *testing.T) {
	t.Parallel()
	sim, base := newTestSim(t, Config{})
	now := sim.Model.Now()

	got := control(t, base, "/_sim/clock", `{"advance": "90m"}`)
	if got["now"] != timestamp(now.Add(90*time.Minute)) {
		t.Fatalf("clock after advancing 90m: %v", got["now"])
	}
	now = sim.Model.Now()

	id := integer(t, control(t, base, "/_sim/resources", `{"family": "virtual-machine", "name": "new-vm"}`)["id"])
	control(t, base, "/_sim/clock", `{"advance": "2h"}`)
	vm := func(w Window) map[string]any {
		return at(t, getJSON(t, fmt.Sprintf("%s/v1/billing/billing/history/virtual-machine/%d?%s", base, id, q(w))), "billing_history_vm_details", "billing_history", 0).(map[string]any)
	}
	first := Window{Start: now, End: now.Add(2 * time.Hour)}
	m := vm(first)
	if at(t, m, "attributes", "resource_name") != "new-vm" || integer(t, at(t, m, "metrics", "usage_time")) != 7200 {
		t.Fatalf("new VM after 2h: %v", m)
	}
	before := money(t, at(t, m, "metrics", "incurred_bill"))
	if before <= 0 {
		t.Fatalf("new VM cost nothing in 2h")
	}

	control(t, base, fmt.Sprintf("/_sim/vms/%d/state", id), `{"state": "HIBERNATED"}`)
	control(t, base, "/_sim/clock", `{"advance": "1h"}`)
	m = vm(Window{Start: now.Add(2 * time.Hour), End: now.Add(3 * time.Hour)})
	if integer(t, at(t, m, "metrics", "usage_time_HIBERNATED")) != 3600 || at(t, m, "attributes", "status") != StateHibernated {
		t.Errorf("hibernated VM: %v", m)
	}
	if hib := money(t, at(t, m, "metrics", "incurred_bill")); hib <= 0 || hib >= before/2 {
		t.Errorf("an hour hibernated cost %s; an active hour cost %s: hibernation bills storage only", hib, before/2)
	}

	body, _ := json.Marshal(map[string]any{"family": "virtual-machine", "id": id, "from": now, "to": now.Add(time.Hour), "percent": 50})
	control(t, base, "/_sim/restate", string(body))
	if after := money(t, at(t, vm(first), "metrics", "incurred_bill")); after != before-before/4 {
		t.Errorf("after halving the first of two hours: %s, want %s", after, before-before/4)
	}

	control(t, base, fmt.Sprintf("/_sim/resources/virtual-machine/%d/terminate", id), `{}`)
	if status := at(t, vm(Window{Start: now, End: sim.Model.Now()}), "attributes", "status"); status != "DELETED" {
		t.Errorf("terminated VM has status %v", status)
	}

	resp, err := http.Post(base+"/_sim/resources/volume/1/terminate", "application/json", nil)
	if err != nil || resp.StatusCode != 404 {
		t.Errorf("terminating an unknown volume: %v %v", resp.StatusCode, err)
	}

	control(t, base, "/_sim/faults", `{"error_500": 1}`)
	if status, _ := get(t, base+"/v1/billing/billing/last-day-cost"); status != 500 {
		t.Errorf("faults set through /_sim/faults: got %d", status)
	}
	control(t, base, "/_sim/faults", `{}`)

	stats := sim.Stats()
	if stats.ByEndpoint["GET /billing/billing/history/virtual-machine/{vm_id}"] == 0 ||
		stats.ByResource["GET /billing/billing/history/virtual-machine/{vm_id}"][strconv.FormatInt(id, 10)] == 0 {
		t.Errorf("stats miss the per-resource requests: %v", stats.ByEndpoint)
	}
	control(t, base, "/_sim/stats/reset", `{}`)
	if sim.Stats().Requests != 0 {
		t.Error("stats not reset")
	}
}

// TestThresholdsAndVouchers checks that subscribing persists and that a
// voucher adds credit once.
func TestThresholdsAndVouchers(t *testing.T) {
	t.Parallel()
	_, base := newTestSim(t, Config{})
	list := at(t, getJSON(t, base+"/v1/billing/billing/threshold"), "thresholds").([]any)
	id := integer(t, at(t, list[0], "id"))
	was := at(t, list[0], "subscribed").(bool)
	status, body := do(t, http.MethodPut, fmt.Sprintf("%s/v1/billing/billing/threshold/%d", base, id), fmt.Sprintf(`{"subscribe": %t}`, !was))
	if status != 200 || at(t, decode(t, body), "threshold", "subscribed") != !was {
		t.Fatalf("PUT threshold: %d %s", status, body)
	}
	list = at(t, getJSON(t, base+"/v1/billing/billing/threshold"), "thresholds").([]any)
	if at(t, list[0], "subscribed") != !was {
		t.Error("the subscription change did not persist")
	}

	credit := func() Nano {
		return money(t, at(t, getJSON(t, base+"/v1/billing/user-credit/credit"), "data", "credit"))
	}
	c0 := credit()
	if status, body := do(t, http.MethodPost, base+"/v1/billing/billing/vouchers/redeem", `{"voucher_code": "WELCOME50"}`); status != 200 {
		t.Fatalf("redeem: %d %s", status, body)
	}
	if c1 := credit(); c1 != c0+50*NanoPerDollar {
		t.Errorf("credit %s after redeeming $50 on %s", c1, c0)
	}
	if status, _ := do(t, http.MethodPost, base+"/v1/billing/billing/vouchers/redeem", `{"voucher_code": "WELCOME50"}`); status != 400 {
		t.Errorf("second redemption: %d, want 400", status)
	}
}

func TestNano(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n Nano
		s string
	}{{0, "0"}, {1, "0.000000001"}, {3483871, "0.003483871"}, {1_500_000_000, "1.5"}, {-25, "-0.000000025"}, {12 * NanoPerDollar, "12"}} {
		if got := c.n.String(); got != c.s {
			t.Errorf("Nano(%d) = %q, want %q", c.n, got, c.s)
		}
		if back, ok := ParseNano(c.s); !ok || back != c.n {
			t.Errorf("ParseNano(%q) = %d, %v", c.s, back, ok)
		}
	}
	for _, bad := range []string{"", ".", "1.0000000001", "abc", "1e-9"} {
		if _, ok := ParseNano(bad); ok {
			t.Errorf("ParseNano(%q) accepted", bad)
		}
	}
}
