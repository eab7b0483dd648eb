package soracom

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestCatalogCoversSpec fails when a path of the spec subset is neither in
// the catalog nor excluded with a reason, or a catalog path is neither in
// the spec nor explained.
func TestCatalogCoversSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../../internal/sim/soracom/testdata/soracom-billing-openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	paths := doc.Paths.Map()
	covered := map[string]bool{}
	for _, ep := range Catalog {
		covered[ep.Path] = true
		if ep.Name == "" || !ep.Secret && (ep.Decode == nil || len(ep.Targets) == 0) {
			t.Errorf("catalog entry %q lacks a name, a decoder or a target", ep.Path)
		}
		item, inSpec := paths[ep.Path]
		if !inSpec {
			if NotInSpec[ep.Path] == "" {
				t.Errorf("catalog entry %s is not a path of the spec, and not explained", ep.Path)
			}
			continue
		}
		if item.GetOperation(ep.Method) == nil {
			t.Errorf("the spec has no %s %s", ep.Method, ep.Path)
		}
	}
	for path := range paths {
		if !covered[path] && Excluded[path] == "" {
			t.Errorf("%s is neither in the catalog nor excluded with a reason", path)
		}
	}
	if len(paths) < 10 {
		t.Fatalf("found only %d paths in the spec", len(paths))
	}
}

func TestRateKey(t *testing.T) {
	for in, want := range map[string]string{
		"/bills/202604":           "GET /bills/{yyyyMM}",
		"/bills/202604/daily":     "GET /bills/{yyyyMM}/daily",
		"/files/exported/fe_1234": "GET /files/exported/{exported_file_id}",
		"/bills/summaries/sims":   "GET /bills/summaries/sims",
		"/bills/latest":           "GET /bills/latest",
	} {
		if got := rateKey("GET", in); got != want {
			t.Errorf("rateKey(%s) = %s, want %s", in, got, want)
		}
	}
	if strings.Contains(rateKey("POST", "/bills/202604/export"), "202604") {
		t.Error("the month is part of the export's rate key")
	}
}
