package hyperstacksim

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

// specs are the provider's two descriptions of the API: the SDK's schema and
// the docs' (with the looser shapes its examples show). Every simulator
// response must satisfy both.
var specs = []string{"hyperstack-billing-openapi.yaml", "hyperstack-billing-openapi-docs.yaml"}

type spec struct {
	name   string
	doc    *openapi3.T
	router routers.Router
}

func loadSpecs(t *testing.T, serverURL string) []spec {
	t.Helper()
	var out []spec
	for _, name := range specs {
		doc, err := openapi3.NewLoader().LoadFromFile("../../testdata/" + name)
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		doc.Servers = openapi3.Servers{{URL: serverURL + "/v1"}}
		// The SDK's operations also accept an "accessToken" scheme that the
		// billing extract does not define; responses are what is checked
		// here, so define it rather than drop the requirement.
		if doc.Components.SecuritySchemes["accessToken"] == nil {
			doc.Components.SecuritySchemes["accessToken"] = &openapi3.SecuritySchemeRef{
				Value: openapi3.NewSecurityScheme().WithType("apiKey").WithIn("header").WithName("Authorization"),
			}
		}
		dropDuplicateExamples(doc)
		router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
		if err != nil {
			t.Fatalf("router for %s: %v", name, err)
		}
		out = append(out, spec{name: name, doc: doc, router: router})
	}
	return out
}

// dropDuplicateExamples removes the docs spec's "example" where the same
// example is also under "examples": kin-openapi rejects the pair, and the
// copies are identical.
func dropDuplicateExamples(doc *openapi3.T) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.Example != nil && len(p.Value.Examples) > 0 {
					p.Value.Example = nil
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for _, mt := range r.Value.Content {
					if mt.Example != nil && len(mt.Examples) > 0 {
						mt.Example = nil
					}
				}
			}
		}
	}
}

// validator sends requests and checks each response against both specs.
type validator struct {
	t       *testing.T
	specs   []spec
	base    string
	covered map[string]bool // "GET /billing/billing/usage 200"
	checked int
}

func (v *validator) call(method, path, body string, withKey bool) (int, []byte) {
	v.t.Helper()
	req, err := http.NewRequest(method, v.base+"/v1"+path, strings.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	if withKey {
		req.Header.Set("api_key", testKey)
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

	for _, s := range v.specs {
		route, params, err := s.router.FindRoute(req)
		if err != nil {
			v.t.Errorf("%s: no route for %s %s: %v", s.name, method, path, err)
			continue
		}
		if _, documented := route.Operation.Responses.Map()[strconv.Itoa(resp.StatusCode)]; !documented {
			// Neither spec documents the contract history's 200: it has no
			// declared schema.
			if !(resp.StatusCode == 200 && strings.HasSuffix(route.Path, "/history/contract")) {
				v.t.Errorf("%s: %s %s answered %d, which the spec does not document", s.name, method, path, resp.StatusCode)
			}
			v.covered[fmt.Sprintf("%s %s %d", method, route.Path, resp.StatusCode)] = true
			continue
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
			v.t.Errorf("%s: %s %s (%d) does not match the spec: %v\n%.400s", s.name, method, path, resp.StatusCode, err, respBody)
		}
		v.checked++
		v.covered[fmt.Sprintf("%s %s %d", method, route.Path, resp.StatusCode)] = true
	}
	return resp.StatusCode, respBody
}

func (v *validator) get(path string) map[string]any {
	v.t.Helper()
	status, body := v.call(http.MethodGet, path, "", true)
	if status != http.StatusOK {
		v.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	return decode(v.t, body)
}

// listIDs walks every page of a list endpoint and returns the ids it names.
func (v *validator) listIDs(f Family, window string) []int64 {
	v.t.Helper()
	var ids []int64
	for page := 1; ; page++ {
		path := fmt.Sprintf("/billing/billing/history/%s?%s", f, window)
		if f != FamilyContract {
			path += fmt.Sprintf("&per_page=10&page=%d", page)
		}
		body := v.get(path)
		payload := at(v.t, body, shapes[f].listKey).(map[string]any)
		for _, item := range payload["billing_history"].([]any) {
			ids = append(ids, integer(v.t, at(v.t, item, "attributes", "infrahub_id")))
		}
		if f == FamilyContract || page >= int(integer(v.t, at(v.t, payload, "pagination", "pages"))) {
			return ids
		}
	}
}

type errorCase struct {
	method, path, body string
	key                bool
	want               int
}

// TestContract walks every path of the spec for several windows, with ids
// from the list endpoints, and validates every response, errors included,
// against both spec files.
func TestContract(t *testing.T) {
	t.Parallel()
	sim, base := newTestSim(t, Config{})
	v := &validator{t: t, specs: loadSpecs(t, base), base: base, covered: map[string]bool{}}

	now := sim.Model.Now()
	month := MonthStart(now)
	windows := map[string]string{
		"current cycle":  "",
		"two days":       q(Window{Start: now.Add(-48 * time.Hour).Truncate(time.Hour), End: now}),
		"previous month": q(Window{Start: month.AddDate(0, -1, 0), End: month}),
		"three months":   q(Window{Start: month.AddDate(0, -2, 0), End: now}),
		"before history": q(Window{Start: month.AddDate(-2, 0, 0), End: month.AddDate(-2, 0, 1)}),
	}
	for name, w := range windows {
		t.Run(name, func(t *testing.T) {
			v.t = t
			v.get("/billing/billing/history?" + w)
			v.get("/billing/billing/history?graph=true&" + w)
			for _, f := range Families {
				ids := v.listIDs(f, w)
				if name == "three months" && len(ids) == 0 {
					t.Errorf("%s: no resources in three months of history", f)
				}
				if f == FamilyContract {
					continue
				}
				for _, id := range ids {
					one := fmt.Sprintf("/billing/billing/history/%s/%d", f, id)
					v.get(one + "?" + w)
					v.get(one + "/graph?" + w)
					switch f {
					case FamilyVM:
						v.get(fmt.Sprintf("/billing/billing/virtual-machine/%d/billing-events?%s", id, w))
						v.get(fmt.Sprintf("/billing/billing/virtual-machine/%d/sub-resource?%s", id, w))
						v.get(fmt.Sprintf("/billing/billing/virtual-machine/%d/sub-resource/graph?%s", id, w))
					case FamilyVolume:
						v.get(fmt.Sprintf("/billing/billing/volume/%d/billing-events?%s", id, w))
					}
				}
			}
		})
	}
	v.t = t

	for _, p := range []string{"/billing/billing/usage", "/billing/billing/usage?deleted=true",
		"/billing/billing/usage?deleted=false&environment=default-CANADA-1", "/billing/billing/last-day-cost",
		"/billing/billing/threshold", "/billing/user-credit/credit"} {
		v.get(p)
	}
	thresholds := at(t, v.get("/billing/billing/threshold"), "thresholds").([]any)
	tid := integer(t, at(t, thresholds[0], "id"))
	if status, body := v.call(http.MethodPut, fmt.Sprintf("/billing/billing/threshold/%d", tid), `{"subscribe": false}`, true); status != 200 {
		t.Fatalf("PUT threshold: %d %s", status, body)
	}
	if status, body := v.call(http.MethodPost, "/billing/billing/vouchers/redeem", `{"voucher_code": "WELCOME50"}`, true); status != 200 {
		t.Fatalf("redeem: %d %s", status, body)
	}

	// Errors, in the API's error envelope.
	errorCases := []errorCase{
		{"GET", "/billing/billing/history/virtual-machine", "", false, 401},
		{"GET", "/billing/billing/history/volume?start_date=yesterday", "", true, 400},
		{"GET", "/billing/billing/history?end_date=2026-13-01T00:00:00", "", true, 400},
		{"GET", "/billing/billing/history/snapshot?page=0", "", true, 400},
		{"GET", "/billing/billing/usage?deleted=maybe", "", true, 400},
		{"PUT", "/billing/billing/threshold/1", `{"subscribe": true}`, true, 404},
		{"PUT", fmt.Sprintf("/billing/billing/threshold/%d", tid), `{"subscribe": "yes"}`, true, 400},
		{"POST", "/billing/billing/vouchers/redeem", `{"voucher_code": "NOPE"}`, true, 404},
		{"POST", "/billing/billing/vouchers/redeem", `{"voucher_code": "WELCOME50"}`, true, 400},
	}
	for _, f := range Families {
		if f == FamilyContract {
			continue
		}
		errorCases = append(errorCases,
			errorCase{"GET", fmt.Sprintf("/billing/billing/history/%s/1", f), "", true, 404},
			errorCase{"GET", fmt.Sprintf("/billing/billing/history/%s/1/graph?start_date=2026-01-01T00:00", f), "", true, 400},
		)
	}
	errorCases = append(errorCases,
		errorCase{"GET", "/billing/billing/virtual-machine/1/billing-events", "", true, 400},
		errorCase{"GET", "/billing/billing/volume/1/billing-events", "", true, 400},
		errorCase{"GET", "/billing/billing/virtual-machine/1/sub-resource", "", true, 404},
		errorCase{"GET", "/billing/billing/virtual-machine/1/sub-resource/graph", "", true, 404},
	)
	for _, c := range errorCases {
		status, body := v.call(c.method, c.path, c.body, c.key)
		if status != c.want {
			t.Errorf("%s %s = %d %s, want %d", c.method, c.path, status, body, c.want)
			continue
		}
		e := decode(t, body)
		if e["status"] != false || e["message"] == "" || e["error_reason"] == "" {
			t.Errorf("%s %s: not the error envelope: %s", c.method, c.path, body)
		}
	}

	// Every operation of the SDK spec answered 200 at least once.
	for path, item := range v.specs[0].doc.Paths.Map() {
		for method := range item.Operations() {
			if !v.covered[fmt.Sprintf("%s %s 200", method, path)] {
				t.Errorf("never got a 200 from %s %s", method, path)
			}
		}
	}
	if v.checked < 800 {
		t.Errorf("only %d responses validated", v.checked)
	}
	t.Logf("validated %d responses against %d spec files", v.checked, len(v.specs))
}

// TestContractCatchesDrift proves the validation is not vacuous: a response
// with a field of the wrong type fails it.
func TestContractCatchesDrift(t *testing.T) {
	t.Parallel()
	_, base := newTestSim(t, Config{Faults: Faults{WrongType: 1}})
	s := loadSpecs(t, base)[0]
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/billing/billing/last-day-cost", nil)
	req.Header.Set("api_key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
	})
	if err == nil || !strings.Contains(err.Error(), "number") {
		t.Fatalf("a number sent as a string passed validation: %v\n%s", err, body)
	}
}
