package soracom

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func errorCode(t testing.TB, body []byte) string {
	t.Helper()
	code, _ := at(t, decode(t, body), "code").(string)
	return code
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})

	resp, body := send(t, "GET", base+"/v1/bills", "", nil)
	if resp.StatusCode != 401 || errorCode(t, body) != CodeUnauthorized {
		t.Fatalf("without a token: %d %s", resp.StatusCode, body)
	}
	status, body := post(t, base+"/v1/auth", `{"authKeyId":"`+testKeyID+`","authKey":"nope"}`, nil)
	if status != 401 || errorCode(t, body) != CodeAuthFailed {
		t.Fatalf("wrong key: %d %s", status, body)
	}
	status, body = post(t, base+"/v1/auth", `{"authKeyId":"`+testKeyID+`","authKey":"`+testKey+`"}`, nil)
	if status != 200 || at(t, decode(t, body), "operatorId") != s.Model.OperatorID() {
		t.Fatalf("login: %d %s", status, body)
	}

	// The default token lives 24 hours on the billing clock.
	c := login(t, base)
	if err := s.Clock.Advance(24*time.Hour - time.Second); err != nil {
		t.Fatal(err)
	}
	if resp, body := c.do("GET", "/bills"); resp.StatusCode != 200 {
		t.Fatalf("a second before expiry: %d %s", resp.StatusCode, body)
	}
	s.Clock.Advance(time.Second)
	if resp, body := c.do("GET", "/bills"); resp.StatusCode != 401 || errorCode(t, body) != CodeUnauthorized {
		t.Fatalf("after expiry: %d %s", resp.StatusCode, body)
	}

	// tokenTimeoutSeconds shortens it.
	status, body = post(t, base+"/v1/auth", `{"authKeyId":"`+testKeyID+`","authKey":"`+testKey+`","tokenTimeoutSeconds":600}`, nil)
	if status != 200 {
		t.Fatalf("login: %d %s", status, body)
	}
	short := &client{t: t, base: base, apiKey: at(t, decode(t, body), "apiKey").(string), token: at(t, decode(t, body), "token").(string)}
	s.Clock.Advance(599 * time.Second)
	if resp, _ := short.do("GET", "/bills/latest"); resp.StatusCode != 200 {
		t.Fatalf("before its timeout: %d", resp.StatusCode)
	}
	s.Clock.Advance(time.Second)
	if resp, _ := short.do("GET", "/bills/latest"); resp.StatusCode != 401 {
		t.Fatalf("after its timeout: %d", resp.StatusCode)
	}
}

func TestAuthRateLimit(t *testing.T) {
	t.Parallel()
	_, base := newTestSim(t, Config{AuthRateLimit: 2})
	good := `{"authKeyId":"` + testKeyID + `","authKey":"` + testKey + `"}`
	for i, want := range []int{200, 200, 429} {
		resp, body := send(t, "POST", base+"/v1/auth", good, nil)
		if resp.StatusCode != want {
			t.Fatalf("login %d: %d %s, want %d", i+1, resp.StatusCode, body, want)
		}
		if got := resp.Header.Get("X-Soracom-Ratelimit-Limit"); got != "2" {
			t.Errorf("login %d: limit header %q, want the /auth limit 2", i+1, got)
		}
		if want == 429 && errorCode(t, body) != CodeTooMany {
			t.Errorf("429 body %s", body)
		}
	}
}

// TestRateLimitHeaders: per account, per path, per minute of the wall
// clock, with the numbers on every response.
func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	var wall atomic.Int64
	wall.Store(time.Date(2026, 5, 20, 3, 30, 15, 0, time.UTC).Unix())
	cfg := Config{}
	cfg.RateLimit = 3
	cfg.WallClock = func() time.Time { return time.Unix(wall.Load(), 0) }
	_, base := newTestSim(t, cfg)
	c := login(t, base)
	check := func(path string, status, remaining int) {
		t.Helper()
		resp, body := c.do("GET", path)
		if resp.StatusCode != status {
			t.Fatalf("GET %s: %d %s, want %d", path, resp.StatusCode, body, status)
		}
		h := resp.Header
		if h.Get("X-Soracom-Ratelimit-Limit") != "3" || h.Get("X-Soracom-Ratelimit-Remaining") != strconv.Itoa(remaining) ||
			h.Get("X-Soracom-Ratelimit-Seconds-Before-Refresh") != "45" {
			t.Errorf("GET %s: headers %v, want limit 3, remaining %d, 45s", path, h, remaining)
		}
	}
	check("/bills", 200, 2)
	check("/bills", 200, 1)
	check("/bills/202604", 200, 2) // another path, another count
	check("/bills/202603", 200, 1) // the same path pattern
	check("/bills", 200, 0)
	check("/bills", 429, 0)
	wall.Add(45)
	resp, _ := c.do("GET", "/bills")
	if resp.StatusCode != 200 || resp.Header.Get("X-Soracom-Ratelimit-Remaining") != "2" {
		t.Fatalf("next minute: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = send(t, "GET", base+"/v1/bills", "", nil)
	if resp.StatusCode != 401 || resp.Header.Get("X-Soracom-Ratelimit-Limit") != "3" {
		t.Errorf("a 401 without headers: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestMonthLifeCycle follows April 2026 on the clock: preliminary, pending
// (404, left out of /bills), closed two business days into May (May 1 is
// a Friday: it closes as May 5 begins, JST), then never changing, not even
// when SIMs are added or it is corrected; the correction is booked in the
// month it is issued once that day is evaluated.
func TestMonthLifeCycle(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{Now: time.Date(2026, 4, 28, 12, 0, 0, 0, jst), TokenTTL: 30 * 24 * time.Hour})
	c := login(t, base)
	april := month(t, "202604")
	billOf := func() (int, []byte) {
		resp, body := c.do("GET", "/bills/202604")
		return resp.StatusCode, body
	}
	if status, body := billOf(); status != 200 || at(t, decode(t, body), "state") != "temporary" {
		t.Fatalf("April in April: %d %s", status, body)
	}
	latest := jsonMoney(t, at(t, c.get("/bills/latest"), "amount"))

	setClock(t, s, time.Date(2026, 5, 1, 0, 0, 1, 0, jst))
	if status, _ := billOf(); status != 404 {
		t.Fatalf("April pending: %d, want 404", status)
	}
	if strings.Contains(string(mustJSON(t, c.get("/bills"))), "202604") {
		t.Error("/bills lists pending April")
	}
	if resp, _ := c.do("POST", "/bills/202604/export"); resp.StatusCode != 404 {
		t.Errorf("export of pending April: %d", resp.StatusCode)
	}
	setClock(t, s, time.Date(2026, 5, 4, 23, 59, 59, 0, jst))
	if status, _ := billOf(); status != 404 {
		t.Fatalf("April on the first business day's evening: %d, want 404", status)
	}
	setClock(t, s, time.Date(2026, 5, 5, 0, 0, 0, 0, jst))
	status, closed := billOf()
	if status != 200 || at(t, decode(t, closed), "state") != "closed" {
		t.Fatalf("April closed: %d %s", status, closed)
	}
	if amount := jsonMoney(t, at(t, decode(t, closed), "amount")); amount <= latest {
		t.Errorf("closed April %s not above its preliminary %s of the 28th", amount, latest)
	}
	if at(t, c.get("/bills"), "billList", 0, "yearMonth") != "202604" {
		t.Error("/bills does not start with closed April")
	}
	var csvBefore bytes.Buffer
	s.Model.WriteCSV(&csvBefore, april)
	dailyBefore := mustJSON(t, c.get("/bills/202604/daily"))

	// Months later, with new SIMs and a correction, April is the same.
	mayBefore := s.Model.ExpectedBill(month(t, "202605"))
	if _, err := s.Model.AddSIMs(20); err != nil {
		t.Fatal(err)
	}
	status, body := post(t, base+"/_sim/corrections", `{"month":"202604","amount":"-1500","sim_id":"`+s.Model.SIMs()[3].SimID+`"}`, nil)
	if status != 200 || at(t, decode(t, body), "booked_in") != "202605" {
		t.Fatalf("correction: %d %s", status, body)
	}
	if got := s.Model.ExpectedBill(month(t, "202605")); got.PreTax != mayBefore.PreTax {
		t.Errorf("May changed before the day of the correction was evaluated: %s → %s", mayBefore.PreTax, got.PreTax)
	}
	setClock(t, s, time.Date(2026, 5, 6, 3, 0, 0, 0, jst))
	may := month(t, "202605")
	var adjusted []Row
	s.Model.EachRow(may, func(r *Row) {
		if r.Category == CategoryAdjustment {
			adjusted = append(adjusted, *r)
		}
	})
	if len(adjusted) != 1 || adjusted[0].Amount != -1500*Micro || adjusted[0].BillItemName != "Adjustment for 202604" ||
		!adjusted[0].Monthly || adjusted[0].SimID != s.Model.SIMs()[3].SimID {
		t.Fatalf("May's adjustment rows: %+v", adjusted)
	}
	setClock(t, s, time.Date(2026, 8, 10, 0, 0, 0, 0, jst))
	c = login(t, base)
	if _, again := billOf(); !bytes.Equal(again, closed) {
		t.Errorf("closed April changed:\n%s\n%s", closed, again)
	}
	if got := mustJSON(t, c.get("/bills/202604/daily")); !bytes.Equal(got, dailyBefore) {
		t.Error("closed April's daily figures changed")
	}
	var csvAfter bytes.Buffer
	s.Model.WriteCSV(&csvAfter, april)
	if !bytes.Equal(csvBefore.Bytes(), csvAfter.Bytes()) {
		t.Error("closed April's CSV changed")
	}
	if s.Model.State(may) != StateClosed || s.Model.ExpectedBill(may).PreTax == 0 {
		t.Errorf("May: %s", s.Model.State(may))
	}
}

// TestMonthsKept: /bills goes back 18 months, older months are 404.
func TestMonthsKept(t *testing.T) {
	t.Parallel()
	_, base := newTestSim(t, Config{Model: ModelConfig{Start: time.Date(2024, 1, 1, 0, 0, 0, 0, jst), SIMs: 10}})
	c := login(t, base)
	list := at(t, c.get("/bills"), "billList").([]any)
	if len(list) != MonthsKept || at(t, list[0], "yearMonth") != "202604" || at(t, list[17], "yearMonth") != "202411" {
		t.Fatalf("/bills has %d months, from %v", len(list), at(t, list[0], "yearMonth"))
	}
	for path, want := range map[string]int{"/bills/202411": 200, "/bills/202410": 404, "/bills/202401/daily": 404} {
		if resp, _ := c.do("GET", path); resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestFaultsAsClientSees checks each shared class from the client's side.
func TestFaultsAsClientSees(t *testing.T) {
	t.Parallel()
	cfg := Config{}
	cfg.HangFor = 5 * time.Second
	cfg.SlowBodyFor = 50 * time.Millisecond
	s, base := newTestSim(t, cfg)
	c := login(t, base)
	fresh := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func() (*http.Response, []byte, error) {
		req, _ := http.NewRequest("GET", base+"/v1/bills/202604", nil)
		req.Header = c.headers()
		resp, err := fresh.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, err = buf.ReadFrom(resp.Body)
		return resp, buf.Bytes(), err
	}
	for _, tc := range []struct {
		class string
		check func(resp *http.Response, body []byte, err error) bool
	}{
		{"error_500", func(r *http.Response, b []byte, err error) bool {
			return err == nil && r.StatusCode == 500 && errorCode(t, b) == CodeInternal
		}},
		{"error_502", func(r *http.Response, b []byte, err error) bool {
			return err == nil && (r.StatusCode == 502 || r.StatusCode == 503) && bytes.Contains(b, []byte("<html>"))
		}},
		{"reset", func(_ *http.Response, _ []byte, err error) bool { return err != nil }},
		{"hang", func(_ *http.Response, _ []byte, err error) bool { return err != nil }},
		{"truncate", func(r *http.Response, b []byte, err error) bool {
			return err == nil && r.StatusCode == 200 && !jsonValid(b)
		}},
		{"slow_body", func(r *http.Response, b []byte, err error) bool {
			return err == nil && r.StatusCode == 200 && jsonValid(b)
		}},
		{"wrong_type", func(r *http.Response, b []byte, err error) bool {
			return err == nil && bytes.Contains(b, []byte(`":"`)) && hasString(t, b)
		}},
		{"extra_field", func(r *http.Response, b []byte, err error) bool {
			return err == nil && bytes.Contains(b, []byte("x_undocumented"))
		}},
		{"null", func(r *http.Response, b []byte, err error) bool {
			return err == nil && bytes.Contains(b, []byte(":null"))
		}},
	} {
		s.Server().SetFaults(faultsOf(tc.class, 1))
		s.Server().ResetStats()
		resp, body, err := get()
		if !tc.check(resp, body, err) {
			t.Errorf("%s: the client saw %v %s %v", tc.class, statusOf(resp), body, err)
		}
		if n := s.Stats().Faults[tc.class]; n != 1 {
			t.Errorf("%s: counted %d times", tc.class, n)
		}
	}
}

// hasString reports whether a bill's amount or appliedCouponAmount came as
// a string.
func hasString(t testing.TB, b []byte) bool {
	v := decode(t, b).(map[string]any)
	_, a := v["amount"].(string)
	_, c := v["appliedCouponAmount"].(string)
	return a || c
}

func statusOf(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// TestStats counts requests per endpoint, statuses, 429s and downloads.
func TestStats(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})
	c := login(t, base)
	c.get("/bills/202603")
	c.get("/bills/202604")
	c.do("GET", "/bills/203001")
	s.Server().SetRateLimit(1, false)
	c.get("/bills/latest")
	c.do("GET", "/bills/latest")
	s.Server().SetRateLimit(-1, false)
	url := at(t, decode(t, mustPost(t, c, "/bills/202604/export")), "url").(string)
	send(t, "GET", url, "", nil)
	st := s.Stats()
	if st.ByEndpoint["GET /bills/{yyyyMM}"] != 3 || st.ByEndpointOK["GET /bills/{yyyyMM}"] != 2 ||
		st.ByStatus["404"] != 1 || st.RateLimited != 1 || st.ByEndpoint["POST /auth"] != 1 {
		t.Errorf("stats %+v", st)
	}
	if st.ByResource["GET /bills/{yyyyMM}"]["202604"] != 1 {
		t.Errorf("per month: %v", st.ByResource)
	}
	if d := s.Downloads(); d.Requests != 1 || d.ByStatus["200"] != 1 || d.Bytes < 1000 {
		t.Errorf("downloads %+v", d)
	}
}

// TestDeterminism: two simulators with the same seed answer the same
// requests byte for byte, tokens included; another seed does not.
func TestHTTPDeterminism(t *testing.T) {
	t.Parallel()
	transcript := func(seed int64) []byte {
		cfg := Config{}
		cfg.Seed = seed
		cfg.Faults = faultsOf("wrong_type", 0.3)
		_, base := newTestSim(t, cfg)
		c := login(t, base)
		var out bytes.Buffer
		out.WriteString(c.apiKey + c.token)
		for _, p := range []string{"/bills", "/bills/latest", "/bills/202604/daily", "/bills/summaries/sims", "/bills/summaries/bill_items", "/coupons"} {
			_, body := c.do("GET", p)
			out.Write(body)
		}
		url := at(t, decode(t, mustPost(t, c, "/bills/202603/export")), "url").(string)
		_, csv := send(t, "GET", url, "", nil)
		out.Write(csv)
		return out.Bytes()
	}
	a, b, c := transcript(5), transcript(5), transcript(6)
	if !bytes.Equal(a, b) {
		t.Error("the same seed answered differently")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds answered the same")
	}
}

func TestCoupons(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})
	c := login(t, base)
	list := at(t, c.get("/coupons"), "couponList").([]any)
	want := s.Model.CouponBalances()
	if len(list) != len(want) || len(list) == 0 {
		t.Fatalf("%d coupons, want %d", len(list), len(want))
	}
	for i, w := range want {
		if at(t, list[i], "couponCode") != w.Code || jsonMoney(t, at(t, list[i], "balance")) != w.Balance ||
			jsonMoney(t, at(t, list[i], "amount")) != w.Amount || at(t, list[i], "expiryYearMonth") != w.Expiry.String() {
			t.Errorf("coupon %d: %v, want %+v", i, list[i], w)
		}
	}
}

func setClock(t testing.TB, s *Sim, at time.Time) {
	t.Helper()
	if err := s.Clock.Set(at); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPost(t testing.TB, c *client, path string) []byte {
	t.Helper()
	resp, body := c.do("POST", path)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// TestControls drives the simulator's own /_sim/ endpoints.
func TestControls(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})
	status, body := post(t, base+"/_sim/sims", `{"count": 3}`, nil)
	if status != 200 || len(at(t, decode(t, body), "sim_ids").([]any)) != 3 || len(s.Model.SIMs()) != 53 {
		t.Fatalf("add SIMs: %d %s", status, body)
	}
	for body, want := range map[string]int{
		`{"month":"202605","amount":"-100"}`:                 400, // preliminary
		`{"month":"202604","amount":"-0.5"}`:                 400, // not whole yen
		`{"month":"202604","amount":"-100","sim_id":"nope"}`: 404,
		`{"month":"202604","amount":"250"}`:                  200,
	} {
		if status, got := post(t, base+"/_sim/corrections", body, nil); status != want {
			t.Errorf("correction %s: %d %s, want %d", body, status, got, want)
		}
	}
	resp, body := send(t, "GET", base+"/_sim/months", "", nil)
	months := decode(t, body).([]any)
	if resp.StatusCode != 200 || len(months) != 4 || at(t, months[3], "state") != "preliminary" || at(t, months[2], "state") != "closed" {
		t.Fatalf("months: %s", body)
	}
	if got := jsonMoney(t, at(t, months[2], "amount")); got != s.Model.ExpectedBill(month(t, "202604")).Amount {
		t.Errorf("months: April %s", got)
	}
	resp, body = send(t, "GET", base+"/_sim/clock", "", nil)
	if resp.StatusCode != 200 || at(t, decode(t, body), "current_month") != "202605" {
		t.Errorf("clock: %s", body)
	}
}

// TestConcurrentRequests: cold months asked for at once get one answer.
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{Model: ModelConfig{SIMs: 400}})
	c := login(t, base)
	bodies := make([][]byte, 12)
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Go(func() {
			_, bodies[i] = send(t, "GET", base+"/v1/bills/summaries/bill_items", "", c.headers())
		})
	}
	wg.Wait()
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) || !jsonValid(bodies[i]) {
			t.Fatalf("answer %d differs: %.100s", i, bodies[i])
		}
	}
	if st := s.Stats(); st.ByEndpointOK["GET /bills/summaries/bill_items"] != 12 {
		t.Errorf("stats %+v", st)
	}
}
