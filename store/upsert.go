package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Table describes a warehouse table to the bulk writer. Tables are declared
// once, in tables.go; their names and columns are constants, never input.
type Table struct {
	Name   string   // schema-qualified
	Key    []string // the primary key
	Values []string // every other column
	// Tracked columns hold money or usage: a change to a stored value is
	// appended to billing.restatements.
	Tracked []string
	// Keep columns keep their stored value when a write brings NULL: facts
	// only some endpoints know (a resource's creation time, say).
	Keep []string
	// Merge columns are jsonb objects merged key by key with the stored
	// one, so attributes known to different endpoints accumulate.
	Merge []string

	goTypes                                      map[string]reflect.Type
	stage, merge, scopeDelete, unstaged, analyze string
	keep, mergeObjects                           []int // positions in a row
	citus                                        citusStatement
	mergeOwner                                   string // the merge of one account's rows, on the citus path
	mergeProbe                                   string // the merge by key lookups, for a table many times the batch
}

// columns is Key then Values: the order rows are given in.
func (t *Table) columns() []string { return append(slices.Clone(t.Key), t.Values...) }

// Scope makes a write authoritative for a window: rows of the table that
// belong to Owner, match every Equal column, have RangeColumn in [From,
// To), and are not in the batch, are deleted. Columns must belong to the
// table. A scope without an owner is refused: it would delete other
// accounts' rows.
type Scope struct {
	Owner       Owner
	Equal       map[string]any
	RangeColumn string
	From, To    time.Time
}

// equal is every column the scope matches, the owner's included.
func (s *Scope) equal() map[string]any {
	eq := make(map[string]any, len(s.Equal)+2)
	for c, v := range s.Equal {
		eq[c] = v
	}
	eq["provider"], eq["account"] = s.Owner.Provider, s.Owner.Account
	return eq
}

// WriteResult counts what one write did.
type WriteResult struct {
	Inserted, Updated, Unchanged, Deleted, Restated int64
}

func (r *WriteResult) add(o WriteResult) {
	r.Inserted += o.Inserted
	r.Updated += o.Updated
	r.Unchanged += o.Unchanged
	r.Deleted += o.Deleted
	r.Restated += o.Restated
}

func quote(name string) string {
	parts := strings.Split(name, ".")
	return pgx.Identifier(parts).Sanitize()
}

func quoteAll(cols []string, prefix string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = prefix + pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(out, ", ")
}

// prepare builds the table's SQL once.
//
// A write stages its rows (deduplicated and ordered by key in Go) with COPY
// into a temporary table, then one statement compares them with the stored
// rows: new keys are inserted, rows whose values differ are updated, the
// rest are not touched at all (no new row version), and every change to a
// tracked value is appended to billing.restatements. New keys take a plain
// INSERT rather than ON CONFLICT, which is much cheaper per row; a
// concurrent writer that inserts the same key first makes it fail with a
// unique violation, and WriteBatch retries, finding the row stored.
func (t *Table) prepare() *Table {
	for i, c := range t.columns() {
		if slices.Contains(t.Keep, c) {
			t.keep = append(t.keep, i)
		}
		if slices.Contains(t.Merge, c) {
			t.mergeObjects = append(t.mergeObjects, i)
		}
	}
	stage := pgx.Identifier{"stage_" + strings.ReplaceAll(t.Name, ".", "_")}.Sanitize()
	target := quote(t.Name)
	keys := quoteAll(t.Key, "")
	var joinOn []string
	for _, k := range t.Key {
		q := pgx.Identifier{k}.Sanitize()
		joinOn = append(joinOn, "t."+q+" = s."+q)
	}
	on := strings.Join(joinOn, " AND ")

	// newValue is what a column becomes: the incoming value, or for Keep
	// columns the stored one when the incoming is NULL.
	newValue := func(c, incoming string) string {
		q := pgx.Identifier{c}.Sanitize()
		switch {
		case slices.Contains(t.Keep, c):
			return "coalesce(" + incoming + "." + q + ", t." + q + ")"
		case slices.Contains(t.Merge, c):
			return "coalesce(t." + q + ", '{}') || coalesce(" + incoming + "." + q + ", '{}')"
		}
		return incoming + "." + q
	}
	var merged, updateSet []string
	for _, c := range t.Values {
		merged = append(merged, newValue(c, "s"))
		updateSet = append(updateSet, pgx.Identifier{c}.Sanitize()+" = "+newValue(c, "s"))
	}
	var oldCols, rowKey, measures []string
	for _, c := range t.Tracked {
		q := pgx.Identifier{c}.Sanitize()
		oldCols = append(oldCols, ", t."+q+" AS "+pgx.Identifier{"old_" + c}.Sanitize())
		measures = append(measures, fmt.Sprintf("('%s', c.%s, c.%s)", c, pgx.Identifier{"old_" + c}.Sanitize(), q))
	}
	for _, k := range t.Key {
		rowKey = append(rowKey, fmt.Sprintf("'%s', %%[1]s.%s", k, pgx.Identifier{k}.Sanitize()))
	}
	jsonKey := "jsonb_build_object(" + strings.Join(rowKey, ", ") + ")"

	// The stage has the written columns only (not identity or defaulted
	// ones) and no constraints; types and collations are the target's.
	t.stage = fmt.Sprintf(`CREATE TEMP TABLE IF NOT EXISTS %s ON COMMIT DELETE ROWS AS SELECT %s FROM %s WITH NO DATA`,
		stage, quoteAll(t.columns(), ""), target)

	// With nothing tracked, history still names $1 (the run id) so every
	// statement takes the same parameters.
	history := "SELECT 1 WHERE false AND $1::bigint IS NULL"
	if len(measures) > 0 {
		history = fmt.Sprintf(`INSERT INTO billing.restatements (provider, account, table_name, row_key, measure, old_value, new_value, run_id, kind)
        SELECT c.provider, c.account, '%s', %s, m.measure, m.old_value, m.new_value, $1, %s
        FROM changed c JOIN upd u USING (%s)
        CROSS JOIN LATERAL (VALUES %s) AS m(measure, old_value, new_value)
        WHERE m.old_value IS NOT NULL AND m.old_value IS DISTINCT FROM m.new_value
        RETURNING 1`, t.Name, fmt.Sprintf(jsonKey, "c"), t.restatementKind("c"), keys, strings.Join(measures, ", "))
	}
	// The citus path's merge reads and updates only the batch's account,
	// given as $2 and $3, so that Citus routes it to one shard (see
	// citus.go); the plain merge joins the whole table.
	ownerRows := fmt.Sprintf(`(SELECT * FROM %s WHERE "provider" = $2 AND "account" = $3)`, target)
	ownerCond := `t."provider" = $2 AND t."account" = $3 AND `
	differs, update, updateOwner := "false", "SELECT 1 WHERE false", "SELECT 1 WHERE false"
	if len(t.Values) > 0 {
		differs = fmt.Sprintf("(%s) IS DISTINCT FROM (%s)", quoteAll(t.Values, "t."), strings.Join(merged, ", "))
		updateSQL := `UPDATE %s t SET %s FROM changed s
        WHERE NOT s._new AND %s%s AND %s
        RETURNING %s`
		update = fmt.Sprintf(updateSQL, target, strings.Join(updateSet, ", "), "", on, differs, quoteAll(t.Key, "t."))
		updateOwner = fmt.Sprintf(updateSQL, target, strings.Join(updateSet, ", "), ownerCond, on, differs, quoteAll(t.Key, "t."))
	}
	mergeSQL := func(changedFrom, update string) string {
		return fmt.Sprintf(`
WITH changed AS (
    SELECT s.*, t.%[5]s IS NULL AS _new%[6]s
    FROM %[1]s
    WHERE t.%[5]s IS NULL OR %[8]s
), ins AS (
    INSERT INTO %[2]s (%[4]s)
    SELECT %[4]s FROM changed WHERE _new
    RETURNING 1
), upd AS (
    %[9]s
), history AS (
    %[10]s
)
SELECT (SELECT count(*) FROM %[11]s),
       (SELECT count(*) FROM ins),
       (SELECT count(*) FROM upd),
       (SELECT count(*) FROM history)`,
			changedFrom, target, keys, quoteAll(t.columns(), ""), pgx.Identifier{t.Key[0]}.Sanitize(),
			strings.Join(oldCols, ""), on, differs, update, history, stage)
	}
	join := func(read string) string { return fmt.Sprintf("%s s LEFT JOIN %s t ON %s", stage, read, on) }
	t.merge, t.mergeOwner = mergeSQL(join(target), update), mergeSQL(join(ownerRows), updateOwner)

	// The probing merge finds each staged row's stored one through the
	// primary key: LATERAL with OFFSET 0 is never flattened into a join,
	// and it runs with sequential scans priced out (see WriteMany), so
	// neither the lookup nor the update's join reads the whole table. The
	// plain merge's join hashes the whole table, which is cheaper while the
	// table is small, but costs the table's size for every batch once it
	// is many times the batch: a year of CloudSigma's ledger, a long
	// Hyperstack history.
	var tCols []string
	for _, c := range t.Values {
		tCols = append(tCols, "t."+pgx.Identifier{c}.Sanitize())
	}
	probe := fmt.Sprintf(`%s s LEFT JOIN LATERAL (
        SELECT %s FROM %s t WHERE %s OFFSET 0
    ) t ON true`, stage, strings.Join(append([]string{"t." + pgx.Identifier{t.Key[0]}.Sanitize()}, tCols...), ", "), target, on)
	t.mergeProbe = mergeSQL(probe, update)

	var oldMeasures []string
	for _, c := range t.Tracked {
		oldMeasures = append(oldMeasures, fmt.Sprintf("('%s', g.%s)", c, pgx.Identifier{c}.Sanitize()))
	}
	goneHistory := "SELECT 1 WHERE false AND $1::bigint IS NULL"
	if len(oldMeasures) > 0 {
		goneHistory = fmt.Sprintf(`INSERT INTO billing.restatements (provider, account, table_name, row_key, measure, old_value, new_value, run_id, kind)
        SELECT g.provider, g.account, '%s', %s, m.measure, m.old_value, NULL, $1, %s
        FROM gone g CROSS JOIN LATERAL (VALUES %s) AS m(measure, old_value)
        WHERE m.old_value IS NOT NULL
        RETURNING 1`, t.Name, fmt.Sprintf(jsonKey, "g"), t.restatementKind("g"), strings.Join(oldMeasures, ", "))
	}
	// The two %%s are filled per call: CTEs the DELETE reads (only the
	// citus write path has any, see citus.go), and a DELETE of the stale
	// rows (see deleteOne and deleteMany).
	t.scopeDelete = fmt.Sprintf(`
WITH %%s gone AS (
    %%s
    RETURNING t.*
), history AS (
    %s
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM history)`, goneHistory)
	// The row-value NOT IN (keys are never NULL) plans as one hashed
	// subplan of the stage; NOT EXISTS planned a nested loop over the stage
	// for every candidate row.
	t.unstaged = fmt.Sprintf("(%s) NOT IN (SELECT %s FROM %s s)", quoteAll(t.Key, "t."), quoteAll(t.Key, "s."), stage)
	// The writer's statements find rows by key; measuring the other
	// columns too took most of the time of an ANALYZE (keepStatistics).
	// Autovacuum measures the whole table later, for the reports.
	t.analyze = fmt.Sprintf("ANALYZE %s (%s)", target, keys)
	t.prepareCitus()
	return t
}

// restatementKind is the SQL of a restatement's kind, for a row named
// alias: 'correction' when the row's period had ended by the end of the
// window of the account's previous run (the value was settled when last
// observed), else 'accrual' (a period still running grew). Without an
// earlier run, the observation itself stands in. A table whose key has no
// period known here records corrections only; a table with another period
// column adds its case.
func (t *Table) restatementKind(alias string) string {
	has := func(c string) bool { return slices.Contains(t.columns(), c) }
	col := func(c string) string { return alias + "." + pgx.Identifier{c}.Sanitize() }
	var end string
	switch {
	case has("bucket_start") && has("bucket_seconds"):
		end = col("bucket_start") + " + make_interval(secs => " + col("bucket_seconds") + ")"
	case has("billing_month"):
		end = "(" + col("billing_month") + " + interval '1 month')::timestamp AT TIME ZONE 'UTC'"
	case has("day"):
		end = "(" + col("day") + " + 1)::timestamp AT TIME ZONE 'UTC'"
	case has("observed_hour"):
		end = col("observed_hour") + " + interval '1 hour'"
	case has("observed_on"):
		end = "(" + col("observed_on") + " + 1)::timestamp AT TIME ZONE 'UTC'"
	case has("event_start") && has("duration_hours"):
		end = col("event_start") + " + coalesce(" + col("duration_hours") + ", 0) * interval '1 hour'"
	default:
		return "'correction'"
	}
	return fmt.Sprintf(`CASE WHEN %s <= coalesce((SELECT max(r.window_end) FROM ingest.runs r
            WHERE r.provider = %s.provider AND r.account = %s.account AND r.id < $1), now())
        THEN 'correction' ELSE 'accrual' END`, end, alias, alias)
}

// compareKeys orders rows by their key columns.
func (t *Table) compareKeys(a, b []any) int {
	for i := range t.Key {
		if c := compareValues(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// compareValues orders two key values: by value when both have the same
// common type (times by instant), else by type and printed form.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	case int:
		if y, ok := b.(int); ok {
			return cmp.Compare(x, y)
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	}
	if c := strings.Compare(fmt.Sprintf("%T", a), fmt.Sprintf("%T", b)); c != 0 {
		return c
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// dedupe folds rows of the same key into one, as the merge folds a row into
// the stored one (the later row wins, but Keep columns keep an earlier
// value where the later row has none, and Merge objects accumulate), and
// orders rows by key, so that concurrent writers touch shared rows in the
// same order.
func (t *Table) dedupe(rows [][]any) [][]any {
	// Rows of a key stay in the order given: their position breaks ties.
	// (slices.SortStableFunc is an insertion-and-merge sort, several times
	// slower on a batch.)
	type numbered struct {
		row []any
		seq int
	}
	all := make([]numbered, len(rows))
	for i, row := range rows {
		all[i] = numbered{row, i}
	}
	slices.SortFunc(all, func(a, b numbered) int {
		if c := t.compareKeys(a.row, b.row); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([][]any, 0, len(all))
	for _, n := range all {
		if len(out) > 0 && t.compareKeys(out[len(out)-1], n.row) == 0 {
			out[len(out)-1] = t.fold(out[len(out)-1], n.row)
			continue
		}
		out = append(out, n.row)
	}
	return out
}

// fold is a later row of a key written over an earlier one.
func (t *Table) fold(earlier, later []any) []any {
	if len(t.keep) == 0 && len(t.mergeObjects) == 0 {
		return later
	}
	row := slices.Clone(later)
	for _, i := range t.keep {
		if row[i] == nil {
			row[i] = earlier[i]
		}
	}
	for _, i := range t.mergeObjects {
		old, _ := earlier[i].(map[string]any)
		if len(old) == 0 {
			continue
		}
		merged := maps.Clone(old)
		if m, ok := row[i].(map[string]any); ok {
			maps.Copy(merged, m)
		}
		row[i] = merged
	}
	return row
}

// Batch writes rows of several tables in one transaction: a unit of work
// (one resource's month, say) commits whole or not at all.
type Batch struct {
	tx    pgx.Tx
	runID int64
	citus bool // the citus write path (see WritePath)
	// probe says whether a merge of rows into table looks rows up by key
	// (see mergeProbe); nil: never.
	probe  func(ctx context.Context, q rowQuerier, table string, rows int) bool
	merged *sync.Map // the store's tables that writes without windows merge (see fill); nil: all
	Result map[string]*WriteResult
	tables map[string]*Table // by name, the tables written
}

// Write stages rows (each in Key then Values order) and merges them into t.
// Duplicate keys in rows are fine: the last one wins. With a scope, rows of
// the scope's window that rows do not contain are deleted.
func (b *Batch) Write(ctx context.Context, t *Table, rows [][]any, scope *Scope) error {
	var scopes []*Scope
	if scope != nil {
		scopes = []*Scope{scope}
	}
	return b.WriteMany(ctx, t, rows, scopes)
}

// WriteMany is Write for the rows of many units at once: one COPY into the
// stage, the deletion of the rows of every scope's window that the stage
// lacks, and one merge of the stage.
func (b *Batch) WriteMany(ctx context.Context, t *Table, rows [][]any, scopes []*Scope) error {
	rows = t.dedupe(rows)
	// Scopes of one shape (as one decoder makes them) are staged once, for
	// the fill's look into them and the merge's deletion of their stale
	// rows: a statement for the batch instead of one per unit.
	var staged *stagedScopes
	if len(scopes) > 1 && sameShape(scopes) {
		var err error
		if staged, err = b.stageScopes(ctx, t, scopes); err != nil {
			return err
		}
	}
	r, filled, err := b.fill(ctx, t, rows, scopes, staged)
	if err != nil {
		return err
	}
	if !filled {
		if r, err = b.merge(ctx, t, rows, scopes, staged); err != nil {
			return err
		}
	}
	if staged != nil {
		// Emptied at commit; now too, for a second write of the table in
		// this batch.
		if _, err := b.tx.Exec(ctx, "DELETE FROM "+staged.name); err != nil {
			return fmt.Errorf("clear scopes of %s: %w", t.Name, err)
		}
	}
	if b.Result[t.Name] == nil {
		b.Result[t.Name] = &WriteResult{}
		b.tables[t.Name] = t
	}
	b.Result[t.Name].add(r)
	return nil
}

// fill writes rows that are all new (a first backfill, a reprocess into
// emptied tables) with one COPY straight into the table, which costs a
// third of the stage, deletion and merge. A write with windows fills when
// the windows hold nothing yet: no row is stale, and every row is new
// unless its key is stored outside them. A write without windows fills
// until one of the table's meets a stored key; from then on the store
// merges that table's writes, so that a run over stored rows pays for one
// failed COPY per table, not one per batch. A stored key makes the COPY
// fail with a unique violation (every table's key is unique), which is
// rolled back to a savepoint and leaves the write to the merge; so does a
// key that a concurrent writer inserted meanwhile. It reports whether it
// wrote the rows. The citus path always merges, one account's rows to one
// shard.
func (b *Batch) fill(ctx context.Context, t *Table, rows [][]any, scopes []*Scope, staged *stagedScopes) (WriteResult, bool, error) {
	if b.citus {
		return WriteResult{}, false, nil
	}
	if len(scopes) > 0 {
		empty, err := b.scopesEmpty(ctx, t, scopes, staged)
		if err != nil || !empty {
			return WriteResult{}, false, err
		}
	} else if b.merged == nil {
		return WriteResult{}, false, nil
	} else if _, merged := b.merged.Load(mergedKey(t, rows)); merged {
		return WriteResult{}, false, nil
	}
	if len(rows) == 0 {
		return WriteResult{}, true, nil
	}
	sp, err := b.tx.Begin(ctx)
	if err != nil {
		return WriteResult{}, false, fmt.Errorf("copy into %s: %w", t.Name, err)
	}
	n, err := sp.CopyFrom(ctx, pgx.Identifier(strings.Split(t.Name, ".")), t.columns(), pgx.CopyFromRows(rows))
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		if err := sp.Rollback(ctx); err != nil {
			return WriteResult{}, false, fmt.Errorf("copy into %s: %w", t.Name, err)
		}
		if len(scopes) == 0 {
			b.merged.Store(mergedKey(t, rows), true)
		}
		return WriteResult{}, false, nil
	}
	if err == nil {
		err = sp.Commit(ctx)
	}
	if err != nil {
		return WriteResult{}, false, fmt.Errorf("copy into %s: %w", t.Name, err)
	}
	return WriteResult{Inserted: n}, true, nil
}

// mergedKey names what Store.merged remembers of a write without windows:
// its table, and its account when the rows have one, so that one
// account's stored rows do not make another's first backfill merge in a
// long-running worker.
func mergedKey(t *Table, rows [][]any) string {
	if owner, one := singleOwner(rows); one {
		return t.Name + " " + owner.String()
	}
	return t.Name
}

// scopesEmpty says whether no stored row of t lies in any scope's window:
// one statement over the staged scopes, when they are, else one a scope.
func (b *Batch) scopesEmpty(ctx context.Context, t *Table, scopes []*Scope, staged *stagedScopes) (bool, error) {
	var found bool
	if staged != nil {
		q := fmt.Sprintf(`SELECT EXISTS (SELECT FROM %s sc CROSS JOIN LATERAL (SELECT FROM %s t WHERE %s LIMIT 1) x)`,
			staged.name, quote(t.Name), strings.Join(staged.conds, " AND "))
		if err := b.tx.QueryRow(ctx, q).Scan(&found); err != nil {
			return false, fmt.Errorf("look for rows of %s in the scopes: %w", t.Name, err)
		}
		return !found, nil
	}
	for _, scope := range scopes {
		cond, args, err := t.scopeCondition(scope, 1)
		if err != nil {
			return false, err
		}
		q := fmt.Sprintf(`SELECT EXISTS (SELECT FROM %s t WHERE %s)`, quote(t.Name), cond)
		if err := b.tx.QueryRow(ctx, q, args...).Scan(&found); err != nil {
			return false, fmt.Errorf("look for rows of %s in a scope: %w", t.Name, err)
		}
		if found {
			return false, nil
		}
	}
	return true, nil
}

// merge writes rows through the stage: the deletion of the scopes' stale
// rows, then one merge of the stage into the table.
func (b *Batch) merge(ctx context.Context, t *Table, rows [][]any, scopes []*Scope, staged *stagedScopes) (WriteResult, error) {
	var r WriteResult
	if _, err := b.tx.Exec(ctx, t.stage); err != nil {
		return r, fmt.Errorf("stage %s: %w", t.Name, err)
	}
	stage := pgx.Identifier{"stage_" + strings.ReplaceAll(t.Name, ".", "_")}
	if _, err := b.tx.CopyFrom(ctx, stage, t.columns(), pgx.CopyFromRows(rows)); err != nil {
		return r, fmt.Errorf("copy into stage of %s: %w", t.Name, err)
	}
	// Stale rows go first: the merge never touches a key the stage lacks,
	// so the order changes nothing, except that while a load fills empty
	// windows the deletion finds them empty instead of reading back every
	// row the merge just inserted.
	if len(scopes) > 0 {
		deleted, restated, err := b.deleteStale(ctx, t, scopes, staged)
		if err != nil {
			return r, err
		}
		r.Deleted, r.Restated = deleted, restated
	}
	var stagedRows, restated int64
	merge, args, probing := t.merge, []any{b.runID}, false
	if owner, one := singleOwner(rows); b.citus && one {
		merge, args = t.mergeOwner, append(args, owner.Provider, owner.Account)
	} else if !b.citus && b.probe != nil && b.probe(ctx, b.tx, t.Name, len(rows)) {
		merge, probing = t.mergeProbe, true
	}
	if probing {
		// A plan that scans the table for every staged row would be
		// quadratic: while a load grows the table, statistics lag behind.
		if _, err := b.tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return r, fmt.Errorf("merge into %s: %w", t.Name, err)
		}
	}
	if err := b.tx.QueryRow(ctx, merge, args...).Scan(&stagedRows, &r.Inserted, &r.Updated, &restated); err != nil {
		return r, fmt.Errorf("merge into %s: %w", t.Name, err)
	}
	if probing {
		if _, err := b.tx.Exec(ctx, "SET LOCAL enable_seqscan = on"); err != nil {
			return r, fmt.Errorf("merge into %s: %w", t.Name, err)
		}
	}
	r.Unchanged = stagedRows - r.Inserted - r.Updated
	r.Restated += restated
	// The stage is emptied at commit; empty it now too, for a second write
	// of the same table in this batch.
	if _, err := b.tx.Exec(ctx, "DELETE FROM "+stage.Sanitize()); err != nil {
		return r, fmt.Errorf("clear stage of %s: %w", t.Name, err)
	}
	return r, nil
}

// deleteStale deletes, for every scope, the rows of its window that the
// stage lacks: with one statement when the scopes are staged (see
// WriteMany), else with one a scope.
func (b *Batch) deleteStale(ctx context.Context, t *Table, scopes []*Scope, staged *stagedScopes) (deleted, restated int64, err error) {
	if staged != nil {
		return b.deleteMany(ctx, t, scopes, staged)
	}
	for _, scope := range scopes {
		d, r, err := b.deleteOne(ctx, t, scope)
		if err != nil {
			return 0, 0, err
		}
		deleted, restated = deleted+d, restated+r
	}
	return deleted, restated, nil
}

// sameShape says whether scopes have one shape.
func sameShape(scopes []*Scope) bool {
	for _, s := range scopes[1:] {
		if s.shape() != scopes[0].shape() {
			return false
		}
	}
	return true
}

// deleteOne applies one scope, its values as parameters.
func (b *Batch) deleteOne(ctx context.Context, t *Table, scope *Scope) (deleted, restated int64, err error) {
	cond, args, err := t.scopeCondition(scope, 2)
	if err != nil {
		return 0, 0, err
	}
	with, del := "", fmt.Sprintf("DELETE FROM %s t WHERE %s AND %s", quote(t.Name), cond, t.unstaged)
	if b.citus {
		with, del = t.citusDeleteOne(cond)
	}
	if err := b.tx.QueryRow(ctx, fmt.Sprintf(t.scopeDelete, with, del), append([]any{b.runID}, args...)...).Scan(&deleted, &restated); err != nil {
		return 0, 0, fmt.Errorf("delete stale rows of %s: %w", t.Name, err)
	}
	return deleted, restated, nil
}

// deleteMany applies scopes of one shape with one statement over the
// temporary table they are staged in.
func (b *Batch) deleteMany(ctx context.Context, t *Table, scopes []*Scope, staged *stagedScopes) (deleted, restated int64, err error) {
	name, conds := staged.name, staged.conds
	// Each scope is one range of the primary key. The planner, asked to
	// join the scopes with the table, hashes or sorts the whole table (it
	// cannot estimate the ranges, and while a load grows a table its
	// statistics lag far behind), which costs the table's size on every
	// batch. The LATERAL subquery (OFFSET 0 keeps it from being flattened
	// into a join) makes it one index range scan per scope; rows found are
	// deleted by their ctid.
	del := fmt.Sprintf(`DELETE FROM %[1]s t USING (
        SELECT x.row_id FROM %[2]s sc CROSS JOIN LATERAL (
            SELECT t.ctid AS row_id FROM %[1]s t WHERE %[3]s AND %[4]s OFFSET 0
        ) x
    ) stale WHERE t.ctid = stale.row_id`, quote(t.Name), name, strings.Join(conds, " AND "), t.unstaged)
	with, args := "", []any{b.runID}
	if b.citus {
		with, del, args = t.citusDeleteMany(name, scopeColumns(scopes[0]), conds, scopes, b.runID)
	}
	if err := b.tx.QueryRow(ctx, fmt.Sprintf(t.scopeDelete, with, del), args...).Scan(&deleted, &restated); err != nil {
		return 0, 0, fmt.Errorf("delete stale rows of %s: %w", t.Name, err)
	}
	return deleted, restated, nil
}

// stagedScopes are a write's scopes in a temporary table (see
// stageScopes): its name, and the condition, over alias sc, that a row t
// of the table lies in scope sc.
type stagedScopes struct {
	name  string
	conds []string
}

// stageScopes copies scopes of one shape into a temporary table of them
// (emptied at commit).
func (b *Batch) stageScopes(ctx context.Context, t *Table, scopes []*Scope) (*stagedScopes, error) {
	// The scopes share one shape: checking the first checks them all.
	first := scopes[0]
	if _, _, err := t.scopeCondition(first, 2); err != nil {
		return nil, err
	}
	cols := first.equalColumns()
	ident := pgx.Identifier{"scope_" + strings.ReplaceAll(t.Name, ".", "_")}
	staged := &stagedScopes{name: ident.Sanitize()}
	var selectCols []string
	for _, c := range cols {
		q := pgx.Identifier{c}.Sanitize()
		selectCols = append(selectCols, q)
		staged.conds = append(staged.conds, "t."+q+" = sc."+q)
	}
	if first.RangeColumn != "" {
		q := pgx.Identifier{first.RangeColumn}.Sanitize()
		selectCols = append(selectCols, q+" AS range_from", q+" AS range_to")
		staged.conds = append(staged.conds, "t."+q+" >= sc.range_from AND t."+q+" < sc.range_to")
	}
	create := fmt.Sprintf("CREATE TEMP TABLE IF NOT EXISTS %s ON COMMIT DELETE ROWS AS SELECT %s FROM %s WITH NO DATA",
		staged.name, strings.Join(selectCols, ", "), quote(t.Name))
	if _, err := b.tx.Exec(ctx, create); err != nil {
		return nil, fmt.Errorf("stage scopes of %s: %w", t.Name, err)
	}
	rows := make([][]any, len(scopes))
	for i, s := range scopes {
		eq := s.equal()
		for _, c := range cols {
			rows[i] = append(rows[i], eq[c])
		}
		if first.RangeColumn != "" {
			rows[i] = append(rows[i], s.From, s.To)
		}
	}
	if _, err := b.tx.CopyFrom(ctx, ident, scopeColumns(first), pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("copy scopes of %s: %w", t.Name, err)
	}
	return staged, nil
}

// scopeColumns are the columns of a temporary table of scopes shaped as s.
func scopeColumns(s *Scope) []string {
	cols := s.equalColumns()
	if s.RangeColumn != "" {
		cols = append(cols, "range_from", "range_to")
	}
	return cols
}

func (s *Scope) equalColumns() []string {
	cols := []string{"provider", "account"}
	for c := range s.Equal {
		if c != "provider" && c != "account" {
			cols = append(cols, c)
		}
	}
	slices.Sort(cols)
	return cols
}

// shape identifies scopes that can share one statement.
func (s *Scope) shape() string {
	return strings.Join(s.equalColumns(), ",") + "|" + s.RangeColumn
}

// scopeCondition turns a scope into SQL over the table's own columns, with
// values as parameters $first onwards.
func (t *Table) scopeCondition(s *Scope, first int) (string, []any, error) {
	cols := t.columns()
	if s.Owner.Provider == "" || s.Owner.Account == "" {
		return "", nil, fmt.Errorf("scope of %s names no owner: it would delete every account's rows", t.Name)
	}
	var conds []string
	var args []any
	eq := s.equal()
	for _, c := range s.equalColumns() {
		if !slices.Contains(cols, c) {
			return "", nil, fmt.Errorf("scope of %s: no column %q", t.Name, c)
		}
		args = append(args, eq[c])
		conds = append(conds, fmt.Sprintf("t.%s = $%d", pgx.Identifier{c}.Sanitize(), first+len(args)-1))
	}
	if s.RangeColumn != "" {
		if !slices.Contains(cols, s.RangeColumn) {
			return "", nil, fmt.Errorf("scope of %s: no column %q", t.Name, s.RangeColumn)
		}
		q := pgx.Identifier{s.RangeColumn}.Sanitize()
		args = append(args, s.From, s.To)
		conds = append(conds, fmt.Sprintf("t.%s >= $%d AND t.%s < $%d", q, first+len(args)-2, q, first+len(args)-1))
	}
	if len(conds) == 0 {
		return "", nil, fmt.Errorf("scope of %s is empty: it would delete the whole table", t.Name)
	}
	return strings.Join(conds, " AND "), args, nil
}

// writeSettings are the settings of a write transaction: the merge sorts
// and joins the whole batch, so keep that in memory; JIT compiling costs
// more than these statements run.
const writeSettings = "SET LOCAL work_mem = '256MB'; SET LOCAL jit = off"

// WriteBatch runs fn in one transaction and commits what it wrote. A
// deadlock, serialization failure or a key inserted meanwhile by another
// writer retries the whole batch (up to three attempts), so fn must only
// write what it is given.
func (s *Store) WriteBatch(ctx context.Context, runID int64, fn func(context.Context, *Batch) error) (WriteResult, error) {
	tables, err := s.WriteBatchTables(ctx, runID, fn)
	var total WriteResult
	for _, r := range tables {
		total.add(r)
	}
	return total, err
}

// WriteBatchTables is WriteBatch with the counts of each table.
func (s *Store) WriteBatchTables(ctx context.Context, runID int64, fn func(context.Context, *Batch) error) (map[string]WriteResult, error) {
	var b *Batch
	attempt := func() error {
		return withTx(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, writeSettings); err != nil {
				return err
			}
			b = &Batch{tx: tx, runID: runID, citus: s.writePath == WritePathCitus, probe: s.probe, merged: &s.merged,
				Result: map[string]*WriteResult{}, tables: map[string]*Table{}}
			return fn(ctx, b)
		})
	}
	err := attempt()
	for try := 2; try <= 3 && isRetryable(err); try++ {
		s.logger.WarnContext(ctx, "retrying a batch after a conflict with another writer", "attempt", try, "err", err)
		err = attempt()
	}
	if err != nil && ctx.Err() == nil && connectionLost(err) {
		return nil, fmt.Errorf("%w: %w", ErrConnectionLost, err)
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]WriteResult, len(b.Result))
	for name, r := range b.Result {
		out[name] = *r
	}
	s.keepStatistics(ctx, b)
	return out, nil
}

func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001" || pgErr.Code == uniqueViolation)
}

// uniqueViolation is PostgreSQL's error code for a key stored twice.
const uniqueViolation = "23505"

// probeRatio is how many times the batch a table must hold for the merge
// to look rows up by key rather than join the whole table. Measured on a
// ledger table of 300,000 rows and a batch of 20,000: the two cost the
// same there, and the join grows with the table while lookups do not.
const probeRatio = 8

// mergeChoice is which merge a store's writes take.
type mergeChoice int

const (
	mergeBySize mergeChoice = iota // probing when the table is probeRatio times the batch
	mergeJoin
	mergeProbing
)

// probe chooses the merge of rows into table (see mergeProbe).
func (s *Store) probe(ctx context.Context, q rowQuerier, table string, rows int) bool {
	switch s.merge {
	case mergeJoin:
		return false
	case mergeProbing:
		return true
	}
	// The planner's own belief, not the rows written since: a lookup
	// planned for a table believed tiny may take another index that
	// matches only the account, and read all its rows for every staged
	// one.
	return s.plannedRows(ctx, q, table) >= probeRatio*int64(rows)
}
