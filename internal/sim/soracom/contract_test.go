package soracom

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// specFile is the billing and auth subset of Soracom's spec, copied from
// the reference material so a clone of the project can run the test.
const specFile = "testdata/soracom-billing-openapi.yaml"

func loadSpec(t *testing.T, serverURL string) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(specFile)
	if err != nil {
		t.Fatalf("load %s: %v", specFile, err)
	}
	doc.Servers = openapi3.Servers{{URL: serverURL + "/v1"}}
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return doc, router
}

// validator sends requests and checks every response against the spec. A
// status the operation does not document (Soracom's spec leaves out most
// errors) must be one the API is known to send, in its {code, message}
// envelope.
type validator struct {
	t       *testing.T
	router  routers.Router
	base    string
	covered map[string]bool // "GET /bills/{yyyyMM} 200"
	checked int
}

func (v *validator) call(method, path, body string, h http.Header) (int, []byte) {
	v.t.Helper()
	req, err := http.NewRequest(method, v.base+"/v1"+path, strings.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	for k, vals := range h {
		req.Header[k] = vals
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(resp.Body)

	route, params, err := v.router.FindRoute(req)
	if err != nil {
		v.t.Fatalf("no route in the spec for %s %s: %v", method, path, err)
	}
	key := fmt.Sprintf("%s %s %d", method, route.Path, resp.StatusCode)
	v.covered[key] = true
	if _, documented := route.Operation.Responses.Map()[strconv.Itoa(resp.StatusCode)]; !documented {
		switch resp.StatusCode {
		case 400, 401, 404, 429:
		default:
			v.t.Errorf("%s %s answered %d, which neither the spec nor the README documents", method, path, resp.StatusCode)
		}
		e := decode(v.t, respBody).(map[string]any)
		if code, _ := e["code"].(string); len(e) != 2 || code == "" || e["message"] == "" {
			v.t.Errorf("%s %s (%d): not the {code, message} envelope: %s", method, path, resp.StatusCode, respBody)
		}
		v.checked++
		return resp.StatusCode, respBody
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Body:    io.NopCloser(bytes.NewReader(respBody)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		v.t.Errorf("%s %s (%d) does not match the spec: %v\n%.400s", method, path, resp.StatusCode, err, respBody)
	}
	v.checked++
	return resp.StatusCode, respBody
}

// TestContract walks every operation of the spec subset on both coverages,
// over closed, pending, preliminary, future and missing months, and
// validates every response, errors included.
func TestContract(t *testing.T) {
	t.Parallel()
	var doc *openapi3.T
	covered := map[string]bool{}
	checked := 0
	for _, tc := range []struct {
		cov Coverage
		now time.Time
	}{
		{CoverageJapan, testNow},
		{CoverageGlobal, testNow},
		{CoverageJapan, time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC)}, // May is pending
		{CoverageGlobal, time.Date(2026, 6, 3, 6, 0, 0, 0, time.UTC)},
	} {
		s, base := newTestSim(t, Config{Now: tc.now, Model: ModelConfig{Coverage: tc.cov, SIMs: 150}})
		d, router := loadSpec(t, base)
		doc = d
		v := &validator{t: t, router: router, base: base, covered: covered}
		c := login(t, base)
		h := c.headers()

		v.call("POST", "/auth", `{"authKeyId":"`+testKeyID+`","authKey":"`+testKey+`","tokenTimeoutSeconds":3600}`, nil)
		v.call("GET", "/bills", "", h)
		v.call("GET", "/bills/latest", "", h)
		v.call("GET", "/bills/summaries/bill_items", "", h)
		v.call("GET", "/bills/summaries/sims", "", h)
		cur := s.Model.CurrentMonth()
		for mo := cur - 5; mo <= cur+1; mo++ {
			want := 404
			if st := s.Model.State(mo); st == StateClosed || st == StatePreliminary {
				want = 200
			}
			for _, p := range []string{"/bills/" + mo.String(), "/bills/" + mo.String() + "/daily"} {
				if status, body := v.call("GET", p, "", h); status != want {
					t.Errorf("%s (%s): %d %s, want %d", p, s.Model.State(mo), status, body, want)
				}
			}
			if want == 200 && mo == cur {
				want = 404 // the current month exports through /bills/latest/export
			}
			for _, mode := range []string{"", "?export_mode=sync", "?export_mode=async"} {
				if status, body := v.call("POST", "/bills/"+mo.String()+"/export"+mode, "", h); status != want {
					t.Errorf("export %s%s: %d %s, want %d", mo, mode, status, body, want)
				}
			}
		}
		for _, mode := range []string{"", "?export_mode=sync", "?export_mode=async"} {
			v.call("POST", "/bills/latest/export"+mode, "", h)
		}
		_, body := v.call("POST", "/bills/latest/export?export_mode=async", "", h)
		id := at(t, decode(t, body), "exportedFileId").(string)
		for _, want := range []string{ExportProcessing, ExportExported} {
			_, body := v.call("GET", "/files/exported/"+id, "", h)
			if got := at(t, decode(t, body), "status"); got != want {
				t.Errorf("poll: %v, want %s", got, want)
			}
		}

		// Errors.
		for _, e := range []struct {
			method, path, body string
			h                  http.Header
			want               int
		}{
			{"POST", "/auth", `{"authKeyId":"` + testKeyID + `","authKey":"wrong"}`, nil, 401},
			{"POST", "/auth", `{"authKeyId":"x","authKey":"y","tokenTimeoutSeconds":999999}`, nil, 400},
			{"GET", "/bills", "", nil, 401},
			{"GET", "/bills/latest", "", http.Header{"X-Soracom-Api-Key": {c.apiKey}, "X-Soracom-Token": {"forged"}}, 401},
			{"GET", "/bills/2026-04", "", h, 400},
			{"POST", "/bills/latest/export?export_mode=fast", "", h, 400},
			{"GET", "/files/exported/fe_unknown", "", h, 404},
			{"POST", "/auth/logout", "", nil, 401},
		} {
			if status, body := v.call(e.method, e.path, e.body, e.h); status != e.want {
				t.Errorf("%s %s: %d %s, want %d", e.method, e.path, status, body, e.want)
			}
		}
		v.call("POST", "/auth/logout", "", h)
		if status, _ := v.call("GET", "/bills", "", h); status != 401 {
			t.Errorf("after logout: %d, want 401", status)
		}

		// 429 past the rate limit, in the envelope.
		c = login(t, base)
		s.Server().SetRateLimit(3, false)
		for i := range 4 {
			status, _ := v.call("GET", "/bills/summaries/sims", "", c.headers())
			if want := map[bool]int{true: 429, false: 200}[i == 3]; status != want {
				t.Errorf("request %d under a limit of 3: %d, want %d", i+1, status, want)
			}
		}
		checked += v.checked
	}

	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ok := false
			for _, status := range []string{"200", "204"} {
				ok = ok || covered[fmt.Sprintf("%s %s %s", method, path, status)]
			}
			if !ok {
				t.Errorf("never got a success from %s %s", method, path)
			}
		}
	}
	for _, want := range []string{"GET /bills/{yyyyMM} 404", "GET /bills/{yyyyMM}/daily 404", "POST /bills/{yyyyMM}/export 404",
		"POST /auth 401", "GET /bills/summaries/sims 429", "GET /bills 401"} {
		if !covered[want] {
			t.Errorf("never saw %s", want)
		}
	}
	t.Logf("validated %d responses", checked)
}

// TestContractCatchesDrift proves the validation bites: a number sent as a
// string, as the wrong_type fault does, fails it.
func TestContractCatchesDrift(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})
	_, router := loadSpec(t, base)
	c := login(t, base)
	s.Server().SetFaults(faultsOf("wrong_type", 1))
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/bills/latest", nil)
	req.Header = c.headers()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
	})
	if err == nil || !strings.Contains(err.Error(), "number") {
		t.Fatalf("a number sent as a string passed validation: %v\n%s", err, body)
	}
}
