package cloudsigma

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// TestPaging: default limit 20, limit=0 for all, offsets, newest first,
// order_by=time oldest first, and pricing's and discount's default of all.
func TestPaging(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})
	now := s.Model.Now()
	from := now.Add(-3 * time.Hour)
	win := "time__gte=" + url.QueryEscape(from.Format(time.RFC3339)) + "&time__lt=" + url.QueryEscape(now.Format(time.RFC3339))
	want := s.Model.Ledger(from, now)
	if len(want) < 60 {
		t.Fatalf("only %d entries in three hours", len(want))
	}

	page := objects(t, getJSON(t, base, "/ledger/?"+win))
	if len(page) != 20 || page[0]["id"] != want[len(want)-1].ID {
		t.Errorf("default page: %d objects, first %v, want 20 from %s", len(page), page[0]["id"], want[len(want)-1].ID)
	}
	all := objects(t, getJSON(t, base, "/ledger/?limit=0&order_by=time&"+win))
	if len(all) != len(want) {
		t.Fatalf("limit=0: %d, want %d", len(all), len(want))
	}
	for i, o := range all {
		if o["id"] != want[i].ID || o["amount"] != want[i].Amount.String() || o["end"] != want[i].End.String() {
			t.Fatalf("object %d: %v, want %+v", i, o, want[i])
		}
	}
	var walked []string
	for off := 0; ; off += 25 {
		p := objects(t, getJSON(t, base, fmt.Sprintf("/ledger/?order_by=time&limit=25&offset=%d&%s", off, win)))
		for _, o := range p {
			walked = append(walked, o["id"].(string))
		}
		if len(p) < 25 {
			break
		}
	}
	if len(walked) != len(want) || walked[0] != want[0].ID || walked[len(walked)-1] != want[len(want)-1].ID {
		t.Errorf("walked %d, want %d", len(walked), len(want))
	}
	if n := len(objects(t, getJSON(t, base, "/pricing/"))); n != len(Resources)*len(Currencies)*(maxLevel+1) {
		t.Errorf("pricing without limit: %d objects", n)
	}
	if n := len(objects(t, getJSON(t, base, "/discount/"))); n != 5 {
		t.Errorf("discount: %d objects", n)
	}
}

// TestOffsetsDrift: entries appended while a client pages newest first push
// the next page back, so it repeats what the last one ended with.
func TestOffsetsDrift(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})
	first := objects(t, getJSON(t, base, "/ledger/?limit=10"))
	s.Model.Advance(5 * time.Minute) // one more cycle's bursts
	added := len(s.Model.Ledger(s.Model.Now().Add(-5*time.Minute), s.Model.Now().Add(time.Second)))
	second := objects(t, getJSON(t, base, "/ledger/?limit=10&offset=10"))
	if added == 0 || added >= 10 {
		t.Fatalf("%d entries appended", added)
	}
	// The new page starts `added` entries before where the old one ended.
	if second[added]["id"] != objects(t, getJSON(t, base, "/ledger/?limit=20"))[10+added]["id"] ||
		second[added-1]["id"] != first[9]["id"] {
		t.Errorf("page 2 after %d new entries starts with %v; page 1 ended with %v", added, second[0]["id"], first[9]["id"])
	}
}

// TestTotalCountLags: total_count counts as of the start of the clock's
// hour, so it trails the entries appended since; usage's is always 0.
func TestTotalCountLags(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})
	s.Model.Advance(30 * time.Minute)
	now := s.Model.Now()
	hour := now.Truncate(time.Hour)
	got := getJSON(t, base, "/ledger/?limit=1")["meta"].(map[string]any)["total_count"]
	want := len(s.Model.Ledger(s.Model.Start(), hour.Add(time.Microsecond)))
	if fmt.Sprint(got) != fmt.Sprint(want) || want == s.Model.LedgerLen() {
		t.Errorf("total_count %v, want %d (of %d entries)", got, want, s.Model.LedgerLen())
	}
	meta := getJSON(t, base, "/usage/?limit=3")["meta"].(map[string]any)
	if fmt.Sprint(meta["total_count"]) != "0" || fmt.Sprint(meta["limit"]) != "3" {
		t.Errorf("usage meta %v", meta)
	}
}

// TestFilters: the documented filters, with and without the trailing
// slash, both spellings of /usage/'s, billing_cycle with commas, and the
// offsets the docs write with an unescaped "+".
func TestFilters(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})
	now := s.Model.Now()
	k := CycleOf(now) - 5
	cs := CycleStart(k)
	var inCycle, inTwo []LedgerEntry
	for _, e := range s.Model.Ledger(cs, CycleStart(k+2)) {
		if e.BillingCycle == k {
			inCycle = append(inCycle, e)
		}
		if e.BillingCycle == k || e.BillingCycle == k+1 {
			inTwo = append(inTwo, e)
		}
	}
	for path, want := range map[string]int{
		fmt.Sprintf("/ledger/?limit=0&billing_cycle=%d", k):                                                                                  len(inCycle),
		fmt.Sprintf("/ledger?limit=0&billing_cycle=%d", k):                                                                                   len(inCycle),
		fmt.Sprintf("/ledger/?limit=0&billing_cycle__in=%d,%d", k, k+1):                                                                      len(inTwo),
		fmt.Sprintf("/ledger/?limit=0&billing_cycle=%d,%d", k, k+1):                                                                          len(inTwo),
		fmt.Sprintf("/ledger/?limit=0&billing_cycle__gte=%d&billing_cycle__lte=%d", k, k+1):                                                  len(inTwo),
		"/ledger/?limit=0&time__gte=" + url.QueryEscape(apiTime(cs)) + "&time__lt=" + url.QueryEscape(apiTime(CycleStart(k+1))):              len(s.Model.Ledger(cs, CycleStart(k+1))),
		"/ledger/?limit=0&time__gte=" + apiTime(cs) + "&time__lt=" + apiTime(CycleStart(k+1)):                                                len(s.Model.Ledger(cs, CycleStart(k+1))),
		"/ledger/?limit=0&time=" + url.QueryEscape(apiTime(inCycle[0].Time)):                                                                 1,
		"/ledger/?limit=0&time__gt=" + url.QueryEscape(apiTime(inCycle[0].Time)) + "&time__lte=" + url.QueryEscape(apiTime(inCycle[1].Time)): 1,
	} {
		if got := len(objects(t, getJSON(t, base, path))); got != want || want == 0 {
			t.Errorf("%s: %d objects, want %d", path, got, want)
		}
	}
	// /usage/: both spellings, with and without the slash, agree.
	rows := s.Model.Usage(cs, CycleStart(k+3))
	day := "&limit=0"
	var bodies [][]byte
	for _, p := range []string{"/usage/?poll_time_gt=%s&poll_time_lt=%s", "/usage?poll_time__gt=%s&poll_time__lt=%s"} {
		_, _, b := get(t, base, fmt.Sprintf(p, url.QueryEscape(apiTime(cs)), url.QueryEscape(apiTime(CycleStart(k+3))))+day)
		bodies = append(bodies, b)
		if n := len(objects(t, decode(t, b).(map[string]any))); n != len(rows) || n == 0 {
			t.Errorf("%s: %d rows, want %d", p, n, len(rows))
		}
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Error("the two spellings of /usage/'s filters answer differently")
	}
	// The docs' example: a whole day by dates.
	d := now.Add(-24 * time.Hour)
	day0 := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	body := getJSON(t, base, "/usage?poll_time_gt="+day0.Format("2006-01-02")+"&poll_time_lt="+day0.AddDate(0, 0, 1).Format("2006-01-02")+"&limit=1500")
	// The cycle that holds midnight polled the day before.
	if got := objects(t, body); len(got) != 1500 || got[0]["poll_time"] != apiTime(time.UnixMicro(s.Model.pollTime(CycleOf(day0)+1)).UTC()) {
		t.Errorf("a day of usage: %d rows from %v", len(got), got[0]["poll_time"])
	}
}

// TestErrors: unknown filters and bad values answer 400 in the error
// array with X-REQUEST-ID; request ids differ.
func TestErrors(t *testing.T) {
	t.Parallel()
	_, base := newTestSim(t, Config{})
	ids := map[string]bool{}
	for _, path := range []string{"/ledger/?foo=1", "/ledger/?time__year=2026", "/ledger?poll_time__gt=2026-01-01",
		"/usage/?time__gt=2026-01-01", "/balance/?uuid=x", "/ledger/?offset=x", "/ledger/?billing_cycle=a"} {
		status, h, body := get(t, base, path)
		if status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", path, status, body)
			continue
		}
		checkErrorArray(t, path, h, body)
		e := decode(t, body).([]any)[0].(map[string]any)
		if e["error_type"] != "validation" || e["error_point"] == nil {
			t.Errorf("%s: %v", path, e)
		}
		ids[h.Get("X-REQUEST-ID")] = true
	}
	if len(ids) != 7 {
		t.Errorf("%d distinct request ids", len(ids))
	}
}

// digestClient answers Digest challenges as RFC 7616 says a client does.
type digestClient struct {
	user, pass string
	alg        string
	nonce      string
	opaque     string
	nc         int
}

func (c *digestClient) learn(h http.Header) bool {
	for _, ch := range h.Values("WWW-Authenticate") {
		scheme, rest, _ := strings.Cut(ch, " ")
		p := parseDigest(rest)
		if scheme == "Digest" && p["algorithm"] == c.alg {
			c.nonce, c.opaque, c.nc = p["nonce"], p["opaque"], 0
			return p["stale"] == "true"
		}
	}
	return false
}

func (c *digestClient) authorize(req *http.Request) {
	c.nc++
	newHash := map[string]func() hash.Hash{"MD5": md5.New, "SHA-256": sha256.New}[c.alg]
	h := func(s string) string { x := newHash(); x.Write([]byte(s)); return hex.EncodeToString(x.Sum(nil)) }
	uri := req.URL.RequestURI()
	nc := fmt.Sprintf("%08x", c.nc)
	resp := h(h(c.user+":users:"+c.pass) + ":" + c.nonce + ":" + nc + ":MDI4Nzcx:auth:" + h(req.Method+":"+uri))
	req.Header.Set("Authorization", fmt.Sprintf(`Digest username=%q, realm="users", nonce=%q, uri=%q, cnonce="MDI4Nzcx", nc=%s, qop=auth, response=%q, opaque=%q, algorithm=%q`,
		c.user, c.nonce, uri, nc, resp, c.opaque, c.alg))
}

func (c *digestClient) get(t *testing.T, url string) (int, http.Header) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	c.authorize(req)
	status, h, _ := send(t, req)
	return status, h
}

// wallClock is a settable wall clock for nonce expiry.
type wallClock struct {
	mu sync.Mutex
	t  time.Time
}

func (w *wallClock) now() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.t }
func (w *wallClock) add(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t = w.t.Add(d)
}

// TestAuth: Basic and Digest (MD5 and SHA-256) per mode, challenges,
// replays, nonces that expire with time and all at once.
func TestAuth(t *testing.T) {
	t.Parallel()
	wall := &wallClock{t: time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)}
	s, base := newTestSim(t, Config{Config: sim.Config{WallClock: wall.now}, NonceTTL: time.Minute})
	url := base + Prefix + "/balance/"

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	status, h, body := send(t, req)
	if status != 401 || len(h.Values("WWW-Authenticate")) != 3 {
		t.Fatalf("no credentials: %d %v", status, h)
	}
	checkErrorArray(t, "401", h, body)
	req.SetBasicAuth(testUser, "wrong")
	if status, _, _ := send(t, req); status != 401 {
		t.Errorf("a wrong password: %d", status)
	}
	req.SetBasicAuth(testUser, testPass)
	if status, _, _ := send(t, req); status != 200 {
		t.Errorf("basic: %d", status)
	}

	for _, alg := range []string{"MD5", "SHA-256"} {
		c := &digestClient{user: testUser, pass: testPass, alg: alg}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		_, h, _ := send(t, req)
		c.learn(h)
		for i := range 3 {
			if status, _ := c.get(t, url+"?format=json"); status != 200 {
				t.Fatalf("%s request %d: %d", alg, i, status)
			}
		}
		c.nc-- // a replayed nonce count
		if status, _ := c.get(t, url); status != 401 {
			t.Errorf("%s replay: %d", alg, status)
		}
		wall.add(2 * time.Minute)
		status, h2 := c.get(t, url)
		if status != 401 || !c.learn(h2) {
			t.Errorf("%s with an expired nonce: %d, stale %v", alg, status, h2.Values("WWW-Authenticate"))
		}
		if status, _ := c.get(t, url); status != 200 {
			t.Errorf("%s with the new nonce: %d", alg, status)
		}
		s.ExpireNonces()
		status, h2 = c.get(t, url)
		if status != 401 || !c.learn(h2) {
			t.Errorf("%s after expiring nonces: %d", alg, status)
		}
		if status, _ := c.get(t, url); status != 200 {
			t.Errorf("%s after a new challenge: %d", alg, status)
		}
	}
	// /_sim/nonces/expire does the same.
	c := &digestClient{user: testUser, pass: testPass, alg: "MD5"}
	req, _ = http.NewRequest(http.MethodGet, url, nil)
	_, h, _ = send(t, req)
	c.learn(h)
	if status, _ := c.get(t, url); status != 200 {
		t.Fatalf("a fresh nonce: %d", status)
	}
	post(t, base, "/_sim/nonces/expire", "{}")
	if status, h2 := c.get(t, url); status != 401 || !c.learn(h2) {
		t.Errorf("after /_sim/nonces/expire: %d", status)
	}

	// The modes.
	_, basicOnly := newTestSim(t, Config{Auth: AuthBasic})
	req, _ = http.NewRequest(http.MethodGet, basicOnly+Prefix+"/balance/", nil)
	if _, h, _ := send(t, req); len(h.Values("WWW-Authenticate")) != 1 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("basic mode challenges %v", h.Values("WWW-Authenticate"))
	}
	_, digestOnly := newTestSim(t, Config{Auth: AuthDigest})
	req, _ = http.NewRequest(http.MethodGet, digestOnly+Prefix+"/balance/", nil)
	req.SetBasicAuth(testUser, testPass)
	if status, h, _ := send(t, req); status != 401 || len(h.Values("WWW-Authenticate")) != 2 {
		t.Errorf("basic credentials in digest mode: %d %v", status, h.Values("WWW-Authenticate"))
	}
}

// TestFaultsAsClientsSeeThem: a 500 and the 503 conflict in the API's error
// array, an unstable page that repeats an item, all counted in the stats;
// and the same seed faults the same requests.
func TestFaultsAsClientsSeeThem(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{Config: sim.Config{Faults: sim.Faults{Extra: map[sim.Class]float64{FaultConflict: 1}}}})
	status, h, body := get(t, base, "/ledger/")
	if status != 503 {
		t.Fatalf("conflict: %d", status)
	}
	checkErrorArray(t, "503", h, body)
	if e := decode(t, body).([]any)[0].(map[string]any); e["error_type"] != "concurrency" {
		t.Errorf("conflict error %v", e)
	}
	s.Server.SetFaults(sim.Faults{Error500: 1})
	status, h, body = get(t, base, "/balance/")
	if status != 500 {
		t.Fatalf("error_500: %d", status)
	}
	checkErrorArray(t, "500", h, body)
	s.Server.SetFaults(sim.Faults{UnstablePages: 1})
	clean := objects(t, getJSON(t, base, "/ledger/?limit=0&order_by=time&time__lt="+url.QueryEscape(apiTime(s.Model.Start().Add(time.Hour)))))
	page := objects(t, getJSON(t, base, "/ledger/?limit=5&offset=5&order_by=time"))
	if page[0]["id"] != clean[4]["id"] && page[0]["id"] != clean[6]["id"] {
		t.Errorf("an unstable page starts with %v; the stable one with %v", page[0]["id"], clean[5]["id"])
	}
	st := s.Server.Stats()
	if st.Faults[string(FaultConflict)] != 1 || st.Faults["error_500"] != 1 || st.Faults["unstable_pages"] != 1 {
		t.Errorf("fault stats %v", st.Faults)
	}

	// Determinism: two simulators with the same seed fault the same requests.
	var runs [2][]int
	for i := range runs {
		_, b := newTestSim(t, Config{Config: sim.Config{Faults: sim.Faults{Error500: 0.3, Extra: map[sim.Class]float64{FaultConflict: 0.2}}}})
		for j := range 30 {
			status, _, _ := get(t, b, fmt.Sprintf("/ledger/?limit=%d", j+1))
			runs[i] = append(runs[i], status)
		}
	}
	if fmt.Sprint(runs[0]) != fmt.Sprint(runs[1]) || !strings.Contains(fmt.Sprint(runs[0]), "503") {
		t.Errorf("two runs: %v and %v", runs[0], runs[1])
	}
}

// TestSameSeedSameBodies: the same seed answers byte for byte the same.
func TestSameSeedSameBodies(t *testing.T) {
	t.Parallel()
	_, a := newTestSim(t, Config{})
	_, b := newTestSim(t, Config{})
	for _, p := range []string{"/ledger/?limit=50", "/usage/?limit=50&offset=100", "/currentusage/", "/subscriptions/", "/pricing/"} {
		_, _, x := get(t, a, p)
		_, _, y := get(t, b, p)
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs", p)
		}
	}
}

// TestControls: servers, subscriptions, payments and promotions through
// /_sim/ change what the API answers.
func TestControls(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})
	before := s.Model.Balance()
	post(t, base, "/_sim/payments", `{"amount": 55.45}`)
	page := objects(t, getJSON(t, base, "/ledger/?limit=1"))
	if page[0]["amount"] != "-55.45000000000000284217" || !strings.HasPrefix(page[0]["reason"].(string), "Payment through card - ") {
		t.Errorf("payment entry %v", page[0])
	}
	post(t, base, "/_sim/promotions", `{"code": "SPRING", "amount": "10"}`)
	want := before.Add(MustMoney("55.45000000000000284217")).Add(MustMoney("10")) // credits raise the balance
	if got := getJSON(t, base, "/balance/")["balance"]; got != want.String() {
		t.Errorf("balance %v, want %s", got, want)
	}

	uuids := decode(t, post(t, base, "/_sim/servers", `{"count": 2}`)).(map[string]any)["uuids"].([]any)
	post(t, base, "/_sim/subscriptions", `{"resource": "ip", "amount": 50, "period": "1 year"}`)
	post(t, base, "/_sim/clock", `{"advance": "10m"}`)
	cur := getJSON(t, base, "/currentusage/")["usage"].(map[string]any)["ip"].(map[string]any)
	if fmt.Sprint(cur["subscribed"]) != "50" || fmt.Sprint(cur["burst"]) != "0" {
		t.Errorf("ip after buying 50: %v", cur)
	}
	rows := s.Model.Usage(s.Model.Now().Add(-5*time.Minute), s.Model.Now())
	seen := 0
	for _, r := range rows {
		if r.UUID == uuids[0] {
			seen++
		}
	}
	if seen < 2 {
		t.Errorf("the added server has %d usage rows", seen)
	}
	req, _ := http.NewRequest(http.MethodDelete, base+"/_sim/servers/"+uuids[0].(string), nil)
	if status, _, body := send(t, req); status != 200 {
		t.Fatalf("remove: %d %s", status, body)
	}
	s.Model.Advance(10 * time.Minute)
	for _, r := range s.Model.Usage(s.Model.Now().Add(-5*time.Minute), s.Model.Now()) {
		if r.UUID == uuids[0] {
			t.Errorf("a removed server still uses %s", r.Resource)
		}
	}
	req, _ = http.NewRequest(http.MethodDelete, base+"/_sim/servers/nope", nil)
	if status, _, _ := send(t, req); status != 404 {
		t.Errorf("removing a server that is not there: %d", status)
	}
	subs := objects(t, getJSON(t, base, "/subscriptions/?resource=ip"))
	if len(subs) != 1 || subs[0]["period"] != "1 year" || subs[0]["discount_percent"] != "25.00" {
		t.Errorf("the bought subscription: %v", subs)
	}
}

// TestPricingLevels: /pricing/'s current level is the one the cycle's
// bursts are billed at, next becomes current five minutes on, and the
// price list's price at that level reproduces each burst's amount.
func TestPricingLevels(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{ModelConfig: ModelConfig{Currency: "GBP", Servers: 8}})
	prices := map[string]string{}
	for _, o := range objects(t, getJSON(t, base, "/pricing/?limit=0")) {
		if o["currency"] == "GBP" {
			prices[fmt.Sprint(o["resource"], "/", o["level"])] = o["price"].(string)
		}
	}
	changed := 0
	var next map[string]any
	for range 24 {
		body := getJSON(t, base, "/pricing/?level=1")
		cur := body["current"].(map[string]any)
		if next != nil && fmt.Sprint(next) != fmt.Sprint(cur) {
			t.Fatalf("next %v, then current %v", next, cur)
		}
		next = body["next"].(map[string]any)
		if fmt.Sprint(next) != fmt.Sprint(cur) {
			changed++
		}
		// Let the cycle's bursts in, then compare.
		k := CycleOf(s.Model.Now())
		s.Model.SetNow(CycleStart(k).Add(299 * time.Second))
		for _, e := range s.Model.Ledger(CycleStart(k), CycleStart(k+1)) {
			if e.Kind != "burst" {
				continue
			}
			if fmt.Sprint(cur[e.Resource]) != fmt.Sprint(e.Level) {
				t.Fatalf("cycle %d %s: current %v, billed at %d", k, e.Resource, cur[e.Resource], e.Level)
			}
			res := Resources[ResourceIndex(e.Resource)]
			n, _ := new(big.Int).SetString(e.ResourceAmount, 10)
			price, _ := new(big.Rat).SetString(prices[fmt.Sprint(e.Resource, "/", e.Level)])
			cost := price.Mul(price, new(big.Rat).SetFrac(n.Mul(n, big.NewInt(int64(e.Interval))), big.NewInt(res.Multiplier)))
			if roundRat(cost) != e.Amount {
				t.Fatalf("%s: %s, the price list gives %s", e.Reason, e.Amount, cost.FloatString(20))
			}
		}
		s.Model.SetNow(CycleStart(k + 1).Add(10 * time.Second))
	}
	if changed == 0 {
		t.Error("the burst levels never changed in two hours")
	}
}
