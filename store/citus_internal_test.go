package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// golden compares got with testdata/citus/name, or rewrites it when
// UPDATE_GOLDEN is set.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "citus", name)
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (review, then UPDATE_GOLDEN=1 go test ./store -run %s)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from what renders now (review, then UPDATE_GOLDEN=1 go test ./store -run %s):\n%s", path, t.Name(), got)
	}
}

// TestCitusWriteStatementsGolden renders the citus path's deletions of
// stale rows for the tables the crawler scopes, one window and many.
func TestCitusWriteStatementsGolden(t *testing.T) {
	var b strings.Builder
	for _, tbl := range []*Table{CostDatapoints.Table, ResourceMonthCosts.Table, VMSubresourceCosts.Table} {
		eq := map[string]any{}
		var rangeCol string
		switch tbl {
		case CostDatapoints.Table:
			eq["family"], eq["resource_id"], eq["bucket_seconds"], rangeCol = "virtual-machine", "vm-1", 3600, "bucket_start"
		case ResourceMonthCosts.Table:
			eq["billing_month"] = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		case VMSubresourceCosts.Table:
			eq["vm_id"], eq["billing_month"] = "vm-1", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		}
		owner := Owner{Provider: "hyperstack", Account: "acme-prod"}
		scope := &Scope{Owner: owner, Equal: eq, RangeColumn: rangeCol, From: time.Unix(0, 0), To: time.Unix(3600, 0)}
		cond, _, err := tbl.scopeCondition(scope, 2)
		if err != nil {
			t.Fatal(err)
		}
		with, del := tbl.citusDeleteOne(cond)
		b.WriteString("-- " + tbl.Name + ": one window\nWITH " + with + "\n" + del + "\n\n")

		cols := scope.equalColumns()
		var conds []string
		for _, c := range cols {
			conds = append(conds, `t."`+c+`" = sc."`+c+`"`)
		}
		copyCols := cols
		if rangeCol != "" {
			conds = append(conds, `t."`+rangeCol+`" >= sc.range_from AND t."`+rangeCol+`" < sc.range_to`)
			copyCols = append(copyCols, "range_from", "range_to")
		}
		other := &Scope{Owner: Owner{Provider: "hyperstack", Account: "acme-lab"}}
		for _, scopes := range [][]*Scope{{scope, scope}, {scope, other}} {
			with, del, args := tbl.citusDeleteMany(`"scope_x"`, copyCols, conds, scopes, 7)
			b.WriteString("-- " + tbl.Name + ": many windows, parameters " + strings.Repeat("$", len(args)) + "\nWITH " + with + "\n" + del + "\n\n")
		}
	}
	golden(t, "write_path.golden", b.String())
}
