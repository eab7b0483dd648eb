package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// TestCitusPlanGolden plans the distribution of a freshly migrated
// warehouse (no citus extension: every table is still to be distributed)
// and holds the statements to testdata/citus/distribute.golden.
func TestCitusPlanGolden(t *testing.T) {
	t.Parallel()
	m, err := store.NewMigrator(t.Context(), dbtest.New(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	plan, err := m.PlanCitus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if plan.Steps[0].Name != "billing.accounts" || plan.Steps[0].ColocateWith != "none" {
		t.Errorf("the anchor of the co-location group is not first: %+v", plan.Steps[0])
	}
	for _, local := range []string{"ingest.runs", "ingest.run_errors"} {
		if plan.Local[local] == "" {
			t.Errorf("%s is not left on the coordinator: %v", local, plan.Local)
		}
	}
	want, err := os.ReadFile(filepath.Join("testdata", "citus", "distribute.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.SQL(); got != string(want) {
		if os.Getenv("UPDATE_GOLDEN") != "" {
			os.WriteFile(filepath.Join("testdata", "citus", "distribute.golden"), []byte(got), 0o644)
			return
		}
		t.Errorf("the plan differs from testdata/citus/distribute.golden (review it, then rerun with UPDATE_GOLDEN=1):\n%s", got)
	}
}

// TestDistributeCitusRefusesWithoutTheExtension: on plain PostgreSQL,
// `migrate citus` says what to do and changes nothing.
func TestDistributeCitusRefusesWithoutTheExtension(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	m, err := store.NewMigrator(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.DistributeCitus(t.Context())
	if !errors.Is(err, store.ErrNoCitus) {
		t.Fatalf("DistributeCitus without citus: %v, want ErrNoCitus", err)
	}
	var key string
	dbtest.Conn(t, url).QueryRow(t.Context(), `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'restatements_pkey'`).Scan(&key)
	if key != "PRIMARY KEY (id)" {
		t.Errorf("the refused command changed a key: %s", key)
	}
}

// TestWritePathsAgree runs the same writes through both write paths: one
// window, many windows of one account, and windows of two accounts in one
// batch (the citus path then names no account). Both must leave the same
// rows and count the same.
func TestWritePathsAgree(t *testing.T) {
	t.Parallel()
	lab := store.Owner{Provider: "hyperstack", Account: "lab"}
	one := func(int) string { return "1" }
	relabel := func(rows [][]any, account string) [][]any {
		for _, r := range rows {
			r[1] = account
		}
		return rows
	}
	scope := func(o store.Owner, vm string) *store.Scope {
		return &store.Scope{Owner: o, Equal: map[string]any{"family": "virtual-machine", "resource_id": vm},
			RangeColumn: "bucket_start", From: day0, To: day0.Add(10 * time.Hour)}
	}
	results := map[store.WritePath][]store.WriteResult{}
	contents := map[store.WritePath]string{}
	for _, path := range []store.WritePath{store.WritePathPlain, store.WritePathCitus} {
		s, err := store.Open(t.Context(), dbtest.New(t), store.Options{WritePath: path})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.WritePath() != path {
			t.Fatalf("asked for %s, got %s", path, s.WritePath())
		}
		var all [][]any
		for _, vm := range []string{"vm-a", "vm-b", "vm-c"} {
			all = append(all, points(vm, 10, one)...)
			all = append(all, relabel(points(vm, 10, one), "lab")...)
		}
		write(t, s, 0, store.CostDatapoints.Table, all, nil)
		var got []store.WriteResult
		// One window: vm-a loses hour 9.
		got = append(got, write(t, s, 0, store.CostDatapoints.Table, points("vm-a", 9, one), scope(testOwner, "vm-a")))
		// Many windows of one account: vm-b loses 0, vm-c 8 and 9.
		for _, batch := range []struct {
			rows   [][]any
			scopes []*store.Scope
		}{
			{append(points("vm-b", 10, one)[1:], points("vm-c", 8, one)...), []*store.Scope{scope(testOwner, "vm-b"), scope(testOwner, "vm-c")}},
			// Two accounts: lab's vm-a loses 5-9, default's vm-b is unchanged.
			{append(relabel(points("vm-a", 5, one), "lab"), points("vm-b", 10, one)[1:]...), []*store.Scope{scope(lab, "vm-a"), scope(testOwner, "vm-b")}},
		} {
			res, err := s.WriteBatch(t.Context(), 0, func(ctx context.Context, b *store.Batch) error {
				return b.WriteMany(ctx, store.CostDatapoints.Table, batch.rows, batch.scopes)
			})
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			got = append(got, res)
		}
		results[path] = got
		var rows string
		s.Pool().QueryRow(t.Context(), `SELECT string_agg(account || '/' || resource_id || '=' || n, ',' ORDER BY account, resource_id) FROM
			(SELECT account, resource_id, count(*) AS n FROM billing.cost_datapoints GROUP BY 1, 2) x`).Scan(&rows)
		contents[path] = rows
	}
	if want := "default/vm-a=9,default/vm-b=9,default/vm-c=8,lab/vm-a=5,lab/vm-b=10,lab/vm-c=10"; contents[store.WritePathPlain] != want {
		t.Errorf("plain path: %s, want %s", contents[store.WritePathPlain], want)
	}
	if contents[store.WritePathCitus] != contents[store.WritePathPlain] {
		t.Errorf("the paths leave different rows:\nplain %s\ncitus %s", contents[store.WritePathPlain], contents[store.WritePathCitus])
	}
	for i := range results[store.WritePathPlain] {
		if p, c := results[store.WritePathPlain][i], results[store.WritePathCitus][i]; p != c {
			t.Errorf("write %d: plain %+v, citus %+v", i, p, c)
		}
	}
}

// TestAutoWritePathOnPlainPostgreSQL: without the extension, auto is plain.
func TestAutoWritePathOnPlainPostgreSQL(t *testing.T) {
	t.Parallel()
	s, err := store.Open(t.Context(), dbtest.New(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.WritePath() != store.WritePathPlain {
		t.Errorf("auto chose %s without the citus extension", s.WritePath())
	}
}
