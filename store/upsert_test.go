package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

var testOwner = store.Owner{Provider: "hyperstack", Account: "default"}

var day0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// point is one cost datapoint row: resource vm-1, hourly bucket h, cost v.
func point(resource string, h int, v string) []any {
	return []any{"hyperstack", "default", "virtual-machine", resource, 3600, day0.Add(time.Duration(h) * time.Hour), decimal.MustParse(v), nil, nil, nil}
}

func points(resource string, n int, value func(h int) string) [][]any {
	var rows [][]any
	for h := range n {
		rows = append(rows, point(resource, h, value(h)))
	}
	return rows
}

func write(t *testing.T, s *store.Store, runID int64, table *store.Table, rows [][]any, scope *store.Scope) store.WriteResult {
	t.Helper()
	res, err := s.WriteBatch(t.Context(), runID, func(ctx context.Context, b *store.Batch) error {
		return b.Write(ctx, table, rows, scope)
	})
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	return res
}

// rowVersions maps each datapoint's key to its value and xmin, the id of
// the transaction that wrote its current version.
func rowVersions(t *testing.T, s *store.Store) map[string][2]string {
	t.Helper()
	rows, err := s.Pool().Query(t.Context(), `SELECT resource_id || '@' || bucket_start::text, incurred_bill::text, xmin::text FROM billing.cost_datapoints`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]string{}
	for rows.Next() {
		var k, v, x string
		if err := rows.Scan(&k, &v, &x); err != nil {
			t.Fatal(err)
		}
		out[k] = [2]string{v, x}
	}
	return out
}

func restatements(t *testing.T, s *store.Store) []string {
	t.Helper()
	rows, err := s.Pool().Query(t.Context(), `
		SELECT format('%s %s %s %s->%s run %s', table_name, row_key->>'resource_id', measure,
		              old_value, coalesce(new_value::text, 'gone'), run_id)
		FROM billing.restatements ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteIsIdempotentAndTracksRestatements(t *testing.T) {
	forEachMerge(t, testWriteIsIdempotentAndTracksRestatements)
}

func testWriteIsIdempotentAndTracksRestatements(t *testing.T, s *store.Store) {
	ctx := t.Context()
	run, _ := s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerManual})
	value := func(h int) string { return fmt.Sprintf("1.%03d", h) }
	window := &store.Scope{
		Owner: testOwner, Equal: map[string]any{"family": "virtual-machine", "resource_id": "vm-1"},
		RangeColumn: "bucket_start", From: day0, To: day0.Add(48 * time.Hour),
	}

	// A fresh load of two resources, the second outside the window's scope.
	got := write(t, s, run, store.CostDatapoints.Table, append(points("vm-1", 48, value), points("vm-2", 5, value)...), window)
	if got != (store.WriteResult{Inserted: 53}) {
		t.Fatalf("fresh load: %+v", got)
	}
	before := rowVersions(t, s)

	// The same batch again changes nothing, not even row versions.
	got = write(t, s, run, store.CostDatapoints.Table, append(points("vm-1", 48, value), points("vm-2", 5, value)...), window)
	if got != (store.WriteResult{Unchanged: 53}) {
		t.Fatalf("identical re-load: %+v", got)
	}
	if after := rowVersions(t, s); !mapsEqual(before, after) {
		t.Fatal("an identical re-load rewrote rows (xmin changed)")
	}

	// A re-fetch of vm-1's window: hour 7 restated, hour 40 gone, and a
	// duplicate of hour 3 in the batch (the last one wins).
	run2, _ := s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerManual})
	refetch := points("vm-1", 48, func(h int) string {
		if h == 7 {
			return "9.5"
		}
		return value(h)
	})
	refetch = slices.Delete(refetch, 40, 41)
	refetch = append(refetch, point("vm-1", 3, "0.25"), point("vm-1", 3, "1.003"))
	got = write(t, s, run2, store.CostDatapoints.Table, refetch, window)
	if got != (store.WriteResult{Updated: 1, Unchanged: 46, Deleted: 1, Restated: 2}) {
		t.Fatalf("re-fetch: %+v", got)
	}
	after := rowVersions(t, s)
	for k, v := range before {
		switch k {
		case "vm-1@2026-10-01 07:00:00+00":
			if after[k][0] != "9.5" || after[k][1] == v[1] {
				t.Errorf("restated row %s = %v", k, after[k])
			}
		case "vm-1@2026-10-02 16:00:00+00":
			if _, ok := after[k]; ok {
				t.Errorf("row %s missing from the re-fetched window was kept", k)
			}
		default:
			if after[k] != v {
				t.Errorf("row %s changed from %v to %v", k, v, after[k])
			}
		}
	}
	// In the order they were recorded: a batch deletes stale rows first.
	want := []string{
		fmt.Sprintf("billing.cost_datapoints vm-1 incurred_bill 1.04->gone run %d", run2),
		fmt.Sprintf("billing.cost_datapoints vm-1 incurred_bill 1.007->9.5 run %d", run2),
	}
	if got := restatements(t, s); !slices.Equal(got, want) {
		t.Errorf("restatements:\n%q\nwant\n%q", got, want)
	}
}

func mapsEqual(a, b map[string][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestWriteKeepsKnownAttributes(t *testing.T) { forEachMerge(t, testWriteKeepsKnownAttributes) }

func testWriteKeepsKnownAttributes(t *testing.T, s *store.Store) {
	created := time.Date(2026, 9, 3, 10, 0, 0, 0, time.UTC)
	write(t, s, 0, store.Resources.Table, [][]any{{"hyperstack", "default", "volume", "7", "data-1", "IN-USE", nil, nil, nil, created, nil, map[string]any{"size": 50}}}, nil)
	// A later fetch knows neither status nor creation time: both are kept.
	got := write(t, s, 0, store.Resources.Table, [][]any{{"hyperstack", "default", "volume", "7", "data-1", nil, nil, nil, nil, nil, nil, map[string]any{"size": 50}}}, nil)
	if got != (store.WriteResult{Unchanged: 1}) {
		t.Fatalf("write with unknowns: %+v", got)
	}
	var status string
	var at time.Time
	if err := s.Pool().QueryRow(t.Context(), `SELECT status, created_at FROM billing.resources`).Scan(&status, &at); err != nil {
		t.Fatal(err)
	}
	if status != "IN-USE" || !at.Equal(created) {
		t.Fatalf("kept attributes: %s %s", status, at)
	}
	got = write(t, s, 0, store.Resources.Table, [][]any{{"hyperstack", "default", "volume", "7", "data-1", "DELETED", nil, nil, nil, nil, nil, map[string]any{"size": 50}}}, nil)
	if got != (store.WriteResult{Updated: 1}) {
		t.Fatalf("status change: %+v", got)
	}
}

// TestWriteFoldsDuplicateKeys writes, in one batch, rows of one resource
// from endpoints that each know part of it: the stored row has every part,
// as if they had been written one after the other.
func TestWriteFoldsDuplicateKeys(t *testing.T) { forEachMerge(t, testWriteFoldsDuplicateKeys) }

func testWriteFoldsDuplicateKeys(t *testing.T, s *store.Store) {
	created := time.Date(2026, 9, 3, 10, 0, 0, 0, time.UTC)
	got := write(t, s, 0, store.Resources.Table, [][]any{
		{"hyperstack", "default", "volume", "7", "data-1", "IN-USE", nil, nil, nil, created, nil, map[string]any{"uuid": "u-7", "size": 50}},
		{"hyperstack", "default", "volume", "7", nil, "DELETED", nil, nil, nil, nil, nil, map[string]any{"size": 60}},
		{"hyperstack", "default", "volume", "7", nil, nil, nil, nil, nil, nil, nil, map[string]any{"type": "ssd"}},
	}, nil)
	if got != (store.WriteResult{Inserted: 1}) {
		t.Fatalf("write: %+v", got)
	}
	var name, status, attrs string
	var at time.Time
	err := s.Pool().QueryRow(t.Context(), `SELECT name, status, created_at, attributes::text FROM billing.resources`).Scan(&name, &status, &at, &attrs)
	if err != nil {
		t.Fatal(err)
	}
	if name != "data-1" || status != "DELETED" || !at.Equal(created) || attrs != `{"size": 60, "type": "ssd", "uuid": "u-7"}` {
		t.Fatalf("folded row: %s %s %s %s", name, status, at, attrs)
	}
}

// TestWriteKeepsTheLastOfRepeatedKeys: in a large batch with keys
// repeated in random order, each key stores its last row.
func TestWriteKeepsTheLastOfRepeatedKeys(t *testing.T) {
	forEachMerge(t, testWriteKeepsTheLastOfRepeatedKeys)
}

func testWriteKeepsTheLastOfRepeatedKeys(t *testing.T, s *store.Store) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string][2]string{}
	var rows [][]any
	for i := range 5000 {
		resource, h := fmt.Sprintf("vm-%d", rng.IntN(20)), rng.IntN(50)
		v := fmt.Sprintf("%d.5", i)
		rows = append(rows, point(resource, h, v))
		want[resource+"@"+day0.Add(time.Duration(h)*time.Hour).Format("2006-01-02 15:04:05-07")] = [2]string{v}
	}
	write(t, s, 0, store.CostDatapoints.Table, rows, nil)
	got := rowVersions(t, s)
	for k, v := range got {
		got[k] = [2]string{v[0]} // values only
	}
	if !mapsEqual(got, want) {
		t.Fatalf("stored %d rows, want %d; differences: %v", len(got), len(want), diffKeys(got, want))
	}
}

func diffKeys(got, want map[string][2]string) []string {
	var out []string
	for k, v := range want {
		if got[k] != v && len(out) < 5 {
			out = append(out, fmt.Sprintf("%s: %v, want %v", k, got[k], v))
		}
	}
	return out
}

// TestNumericsAreExact: amounts reach numeric columns digit for digit, by
// COPY and as query parameters, whatever their size or sign.
func TestNumericsAreExact(t *testing.T) { forEachMerge(t, testNumericsAreExact) }

func testNumericsAreExact(t *testing.T, s *store.Store) {
	values := []string{"0", "1", "-1", "12.345", "0.000000000014799118041992184", "10000", "-0.0001",
		"123456789012345678", "-9223372036854775808", "98765432109876543210.0123456789", "1e30", "5e-40"}
	var rows [][]any
	for h, v := range values {
		rows = append(rows, point("vm-1", h, v))
	}
	write(t, s, 0, store.CostDatapoints.Table, rows, nil)
	got := rowVersions(t, s)
	for h, v := range values {
		want := decimal.MustParse(v).String()
		if text := got["vm-1@"+day0.Add(time.Duration(h)*time.Hour).Format("2006-01-02 15:04:05-07")][0]; text != want {
			t.Errorf("COPY of %s stored %q, want %q", v, text, want)
		}
		var param string
		if err := s.Pool().QueryRow(t.Context(), "SELECT $1::numeric::text", decimal.MustParse(v)).Scan(&param); err != nil || param != want {
			t.Errorf("parameter %s came back %q (%v), want %q", v, param, err, want)
		}
	}
}

// TestBulkWritesKeepStatistics: a write that doubles a table has the
// planner measure it at once; a small one leaves that to autovacuum.
func TestBulkWritesKeepStatistics(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	reltuples := func(table string) float64 {
		var n float64
		if err := s.Pool().QueryRow(t.Context(), `SELECT reltuples FROM pg_class WHERE oid = $1::regclass`, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Only the writer may measure the table here.
	if _, err := s.Pool().Exec(t.Context(), "ALTER TABLE billing.cost_datapoints SET (autovacuum_enabled = false)"); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	var rows [][]any
	for i := range 12000 {
		rows = append(rows, []any{"hyperstack", "default", "volume", fmt.Sprint(i % 10), 3600, start.Add(time.Duration(i/10) * time.Hour), "0.5", nil, nil, nil})
	}
	write(t, s, 0, store.CostDatapoints.Table, rows, nil)
	write(t, s, 0, store.VMSubresourceCosts.Table, [][]any{{"hyperstack", "default", "1", start, "gpu", "1.5", "2"}}, nil)
	if n := reltuples("billing.cost_datapoints"); n != 12000 {
		t.Errorf("after 12,000 rows the planner believes cost_datapoints has %v", n)
	}
	if n := reltuples("billing.vm_subresource_costs"); n > 0 {
		t.Errorf("one row had vm_subresource_costs analyzed (reltuples %v)", n)
	}
	// The key columns, which the writer's statements use.
	var measured []string
	if err := s.Pool().QueryRow(t.Context(), `SELECT array_agg(attname::text ORDER BY attname) FROM pg_stats
		WHERE schemaname = 'billing' AND tablename = 'cost_datapoints'`).Scan(&measured); err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(slices.Values(store.CostDatapoints.Key)); !slices.Equal(measured, want) {
		t.Errorf("columns measured: %v, want the key %v", measured, want)
	}
}

func TestScopeRejectsUnknownColumns(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	_, err := s.WriteBatch(t.Context(), 0, func(ctx context.Context, b *store.Batch) error {
		return b.Write(ctx, store.CostDatapoints.Table, points("vm-1", 1, func(int) string { return "1" }), &store.Scope{Equal: map[string]any{"1=1; --": 1}})
	})
	if err == nil {
		t.Fatal("a scope naming a column the table lacks was accepted")
	}
	_, err = s.WriteBatch(t.Context(), 0, func(ctx context.Context, b *store.Batch) error {
		return b.Write(ctx, store.CostDatapoints.Table, nil, &store.Scope{})
	})
	if err == nil {
		t.Fatal("an empty scope, which would delete the whole table, was accepted")
	}
}

// TestConcurrentWriters runs two writers with overlapping batches at the
// same time, many rounds, and checks the result equals writing them one
// after the other, with no deadlock reaching the caller.
func TestConcurrentWriters(t *testing.T) { forEachMerge(t, testConcurrentWriters) }

func testConcurrentWriters(t *testing.T, concurrent *store.Store) {
	concurrentWriters(t, concurrent, nil)
}

// TestConcurrentFills has both writers fill the same empty window at once:
// one's COPY meets the other's keys and falls back to the merge.
func TestConcurrentFills(t *testing.T) { forEachMerge(t, testConcurrentFills) }

func testConcurrentFills(t *testing.T, concurrent *store.Store) {
	concurrentWriters(t, concurrent, &store.Scope{Owner: testOwner, Equal: map[string]any{"family": "virtual-machine"},
		RangeColumn: "bucket_start", From: day0, To: day0.Add(60 * time.Hour)})
}

func concurrentWriters(t *testing.T, concurrent *store.Store, scope *store.Scope) {
	sequential := dbtest.NewStore(t)

	batch := func(writer, round int) [][]any {
		// Both writers cover hours 0-59 of vm-1 and vm-2, in opposite orders.
		var rows [][]any
		for h := range 60 {
			v := fmt.Sprintf("%d.%d", round, h)
			rows = append(rows, point("vm-1", h, v), point("vm-2", h, v))
		}
		if writer == 1 {
			slices.Reverse(rows)
		}
		return rows
	}
	for round := range 10 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for w := range 2 {
			wg.Go(func() {
				_, errs[w] = concurrent.WriteBatch(t.Context(), 0, func(ctx context.Context, b *store.Batch) error {
					return b.Write(ctx, store.CostDatapoints.Table, batch(w, round), scope)
				})
			})
		}
		wg.Wait()
		for w, err := range errs {
			if err != nil {
				t.Fatalf("round %d writer %d: %v", round, w, err)
			}
		}
		for w := range 2 {
			write(t, sequential, 0, store.CostDatapoints.Table, batch(w, round), scope)
		}
	}
	a, b := rowVersions(t, concurrent), rowVersions(t, sequential)
	if len(a) != 120 || len(a) != len(b) {
		t.Fatalf("%d rows concurrently, %d sequentially", len(a), len(b))
	}
	for k, v := range b {
		if a[k][0] != v[0] {
			t.Errorf("%s: %s concurrently, %s sequentially", k, a[k][0], v[0])
		}
	}
}

// TestWriteManyScopes re-fetches the windows of three resources in one
// write: each loses the rows its own window no longer has, and nothing else.
func TestWriteManyScopes(t *testing.T) { forEachMerge(t, testWriteManyScopes) }

func testWriteManyScopes(t *testing.T, s *store.Store) {
	one := func(h int) string { return "1" }
	var all [][]any
	for _, vm := range []string{"vm-a", "vm-b", "vm-c", "vm-d"} {
		all = append(all, points(vm, 10, one)...)
	}
	write(t, s, 0, store.CostDatapoints.Table, all, nil)

	scope := func(vm string) *store.Scope {
		return &store.Scope{Owner: testOwner, Equal: map[string]any{"family": "virtual-machine", "resource_id": vm},
			RangeColumn: "bucket_start", From: day0, To: day0.Add(10 * time.Hour)}
	}
	// vm-a loses hours 8-9, vm-b hour 0, vm-c nothing; vm-d is not re-fetched.
	refetch := append(append(points("vm-a", 8, one), points("vm-b", 10, one)[1:]...), points("vm-c", 10, one)...)
	res, err := s.WriteBatch(t.Context(), 0, func(ctx context.Context, b *store.Batch) error {
		return b.WriteMany(ctx, store.CostDatapoints.Table, refetch, []*store.Scope{scope("vm-a"), scope("vm-b"), scope("vm-c")})
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 3 || res.Unchanged != 27 {
		t.Fatalf("write: %+v, want 3 deleted and 27 unchanged", res)
	}
	var counts string
	s.Pool().QueryRow(t.Context(), `SELECT string_agg(resource_id || '=' || n, ',' ORDER BY resource_id) FROM
		(SELECT resource_id, count(*) AS n FROM billing.cost_datapoints GROUP BY 1) x`).Scan(&counts)
	if counts != "vm-a=8,vm-b=9,vm-c=10,vm-d=10" {
		t.Errorf("rows per resource: %s", counts)
	}
}

// forEachMerge runs a writer test under both merges, each with a store of
// its own: the join of the whole table, and the key lookups of a table
// many times the batch.
func forEachMerge(t *testing.T, test func(*testing.T, *store.Store)) {
	t.Parallel()
	for _, merge := range []string{"join", "probe"} {
		t.Run(merge, func(t *testing.T) {
			t.Parallel()
			s := dbtest.NewStore(t)
			store.UseMerge(s, merge)
			test(t, s)
		})
	}
}

// TestFillEmptyScopes writes into windows that hold nothing yet: the rows
// are copied straight into the table, unless a key is stored outside the
// windows, when the write falls back to the merge with the same outcome;
// and writes without windows, which fill until one meets a stored key.
func TestFillEmptyScopes(t *testing.T) { forEachMerge(t, testFillEmptyScopes) }

func testFillEmptyScopes(t *testing.T, s *store.Store) {
	ctx := t.Context()
	one := func(h int) string { return "1" }
	scope := func(vm string, hours int) *store.Scope {
		return &store.Scope{Owner: testOwner, Equal: map[string]any{"family": "virtual-machine", "resource_id": vm},
			RangeColumn: "bucket_start", From: day0, To: day0.Add(time.Duration(hours) * time.Hour)}
	}
	run, _ := s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerManual})
	writeStaged := func(rows [][]any, scopes ...*store.Scope) (store.WriteResult, bool) {
		t.Helper()
		var staged bool
		res, err := s.WriteBatch(ctx, run, func(ctx context.Context, b *store.Batch) error {
			before, err := b.StagedRows(ctx, store.CostDatapoints.Table)
			if err != nil {
				return err
			}
			if err := b.WriteMany(ctx, store.CostDatapoints.Table, rows, scopes); err != nil {
				return err
			}
			after, err := b.StagedRows(ctx, store.CostDatapoints.Table)
			staged = after > before
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return res, staged
	}

	// Two empty windows, one statement's worth of scopes: filled.
	res, staged := writeStaged(append(points("vm-a", 10, one), points("vm-b", 10, one)...), scope("vm-a", 10), scope("vm-b", 10))
	if res != (store.WriteResult{Inserted: 20}) || staged {
		t.Fatalf("fill of two empty windows: %+v, staged %v", res, staged)
	}
	// vm-c's window is empty, but hour 3 of vm-a (outside it) is stored
	// and differs: the fill's COPY fails on its key, and the merge inserts
	// vm-c's hours and restates vm-a's hour 3.
	res, staged = writeStaged(append(points("vm-c", 4, one), point("vm-a", 3, "2.5")), scope("vm-c", 4))
	if res != (store.WriteResult{Inserted: 4, Updated: 1, Restated: 1}) || !staged {
		t.Fatalf("fill over a stored key: %+v, staged %v", res, staged)
	}
	// A write without windows fills too, until one meets a stored key;
	// the table's writes without windows merge from then on.
	res, staged = writeStaged(points("vm-d", 3, one))
	if res != (store.WriteResult{Inserted: 3}) || staged {
		t.Fatalf("fill without windows: %+v, staged %v", res, staged)
	}
	res, staged = writeStaged(append(points("vm-e", 2, one), point("vm-d", 1, "7")))
	if res != (store.WriteResult{Inserted: 2, Updated: 1, Restated: 1}) || !staged {
		t.Fatalf("fill without windows over a stored key: %+v, staged %v", res, staged)
	}
	res, staged = writeStaged(points("vm-f", 2, one))
	if res != (store.WriteResult{Inserted: 2}) || !staged {
		t.Fatalf("a write without windows after one met a stored key: %+v, staged %v", res, staged)
	}
	// A window with rows takes the merge: vm-b loses hours 5-9.
	res, staged = writeStaged(points("vm-b", 5, one), scope("vm-b", 10))
	if res != (store.WriteResult{Unchanged: 5, Deleted: 5, Restated: 5}) || !staged {
		t.Fatalf("write over a full window: %+v, staged %v", res, staged)
	}
	// A window with rows, re-fetched with new keys only (no COPY could
	// fail), or with none: its stored rows are stale all the same.
	res, staged = writeStaged(points("vm-b", 8, one)[5:], scope("vm-b", 10))
	if res != (store.WriteResult{Inserted: 3, Deleted: 5, Restated: 5}) || !staged {
		t.Fatalf("a full window re-fetched with new keys: %+v, staged %v", res, staged)
	}
	res, _ = writeStaged(nil, scope("vm-c", 4))
	if res != (store.WriteResult{Deleted: 4, Restated: 4}) {
		t.Fatalf("a full window re-fetched empty: %+v", res)
	}
	var counts string
	s.Pool().QueryRow(ctx, `SELECT string_agg(resource_id || '=' || n || '/' || total, ',' ORDER BY resource_id) FROM
		(SELECT resource_id, count(*) AS n, sum(incurred_bill) AS total FROM billing.cost_datapoints GROUP BY 1) x`).Scan(&counts)
	if counts != "vm-a=10/11.5,vm-b=3/3,vm-d=3/9,vm-e=2/2,vm-f=2/2" {
		t.Errorf("rows per resource: %s", counts)
	}
	want := []string{fmt.Sprintf("billing.cost_datapoints vm-a incurred_bill 1->2.5 run %d", run),
		fmt.Sprintf("billing.cost_datapoints vm-d incurred_bill 1->7 run %d", run)}
	for range 10 {
		want = append(want, fmt.Sprintf("billing.cost_datapoints vm-b incurred_bill 1->gone run %d", run))
	}
	for range 4 {
		want = append(want, fmt.Sprintf("billing.cost_datapoints vm-c incurred_bill 1->gone run %d", run))
	}
	if got := restatements(t, s); !slices.Equal(got, want) {
		t.Errorf("restatements:\n%q\nwant\n%q", got, want)
	}
}
