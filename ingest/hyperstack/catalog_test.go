package hyperstack

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestCatalogCoversSpec fails when a GET path of the billing spec is
// neither in the catalog nor excluded with a reason.
func TestCatalogCoversSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../../testdata/hyperstack-billing-openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	paths := doc.Paths.Map()
	covered := map[string]bool{}
	for _, ep := range Catalog {
		covered[ep.Path] = true
		if ep.Decode == nil || len(ep.Targets) == 0 || ep.Name == "" {
			t.Errorf("catalog entry %q lacks a decoder, a target or a name", ep.Path)
		}
		if _, inSpec := paths[ep.Path]; !inSpec {
			t.Errorf("catalog entry %s is not a path of the spec", ep.Path)
		}
	}
	gets := 0
	for path, item := range paths {
		if item.Get == nil {
			continue
		}
		if !strings.HasPrefix(path, "/billing/billing/") && !strings.HasPrefix(path, "/billing/user-credit/") && path != "/billing/billing/history" {
			continue
		}
		gets++
		if !covered[path] && Excluded[path] == "" {
			t.Errorf("GET %s is neither in the catalog nor excluded with a reason", path)
		}
	}
	if gets < 40 {
		t.Fatalf("found only %d GET paths in the spec", gets)
	}
	names := map[string]bool{}
	for _, ep := range Catalog {
		if names[ep.Name] {
			t.Errorf("two catalog entries are named %q", ep.Name)
		}
		names[ep.Name] = true
	}
}
