package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoCitus means the database has no citus extension: it is not a Citus
// coordinator, or the extension was never created in it.
var ErrNoCitus = errors.New("the citus extension is not installed in this database")

// citusAnchor is the table every distributed table is co-located with.
const citusAnchor = "billing.accounts"

// citusLocal are the tables that stay on the coordinator, and why.
var citusLocal = map[string]string{
	"ingest.runs":       "the run ledger: one row per run, updated by every heartbeat, read by id",
	"ingest.run_errors": "a run's errors, keyed by id with a foreign key to ingest.runs",
}

// CitusStep distributes one table on account.
type CitusStep struct {
	Name         string // schema-qualified
	KeyName      string // its primary key constraint
	NewKey       string // the primary key it needs first, if its own lacks account
	ColocateWith string
}

// CitusPlan is what `migrate citus` does to a warehouse: the tables to
// distribute, in order, and what stays where it is.
type CitusPlan struct {
	Steps       []CitusStep
	Distributed []string          // already distributed
	Local       map[string]string // staying on the coordinator, and why
}

// SQL is the plan's statements, for review (the golden file) and for
// `migrate citus --dry-run`.
func (p CitusPlan) SQL() string {
	var b bytes.Buffer
	for _, s := range p.Steps {
		b.WriteString(render("table", s))
	}
	return b.String()
}

// catalogTables lists the tables of the billing and ingest schemas with
// their primary key and any unique index lacking account.
const catalogTables = `
SELECT format('%I.%I', n.nspname, c.relname),
       coalesce(pk.conname, ''),
       coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                 FROM unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum), ''),
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'account' AND a.attnum > 0 AND NOT a.attisdropped),
       coalesce((SELECT string_agg(i.indexrelid::regclass::text, ', ') FROM pg_index i
                 WHERE i.indrelid = c.oid AND i.indisunique AND NOT i.indisprimary
                   AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                   WHERE a.attrelid = c.oid AND a.attname = 'account' AND a.attnum = ANY (i.indkey))), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
WHERE n.nspname IN ('billing', 'ingest') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY 1`

// distributedTables are the tables Citus already distributes.
const distributedTables = `
SELECT format('%I.%I', n.nspname, c.relname) FROM pg_dist_partition p
JOIN pg_class c ON c.oid = p.logicalrelid JOIN pg_namespace n ON n.oid = c.relnamespace`

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// PlanCitus reads the warehouse's tables and plans their distribution.
// citus says whether to ask Citus which tables it already distributes (a
// database without the extension has none).
func PlanCitus(ctx context.Context, db querier, citus bool) (CitusPlan, error) {
	plan := CitusPlan{Local: map[string]string{}}
	done := map[string]bool{}
	if citus {
		names, err := queryStrings(ctx, db, distributedTables)
		if err != nil {
			return plan, fmt.Errorf("read distributed tables: %w", err)
		}
		for _, n := range names {
			done[n] = true
		}
	}
	rows, err := db.QueryContext(ctx, catalogTables)
	if err != nil {
		return plan, fmt.Errorf("read the warehouse's tables: %w", err)
	}
	defer rows.Close()
	var steps []CitusStep
	var problems []string
	for rows.Next() {
		var s CitusStep
		var pkCols, uniqueWithoutAccount string
		var hasAccount bool
		if err := rows.Scan(&s.Name, &s.KeyName, &pkCols, &hasAccount, &uniqueWithoutAccount); err != nil {
			return plan, fmt.Errorf("read the warehouse's tables: %w", err)
		}
		switch {
		case citusLocal[s.Name] != "":
			plan.Local[s.Name] = citusLocal[s.Name]
			continue
		case !hasAccount:
			plan.Local[s.Name] = "no account column"
			continue
		case done[s.Name]:
			plan.Distributed = append(plan.Distributed, s.Name)
			continue
		case uniqueWithoutAccount != "":
			problems = append(problems, fmt.Sprintf("%s: unique index %s lacks account", s.Name, uniqueWithoutAccount))
			continue
		case s.KeyName == "":
			problems = append(problems, s.Name+": no primary key")
			continue
		}
		if !slices.Contains(strings.Split(pkCols, ", "), "account") {
			s.NewKey = "account, " + pkCols
		}
		s.KeyName = quoteAll([]string{s.KeyName}, "")
		s.ColocateWith = citusAnchor
		if s.Name == citusAnchor {
			s.ColocateWith = "none"
		}
		steps = append(steps, s)
	}
	if err := rows.Err(); err != nil {
		return plan, fmt.Errorf("read the warehouse's tables: %w", err)
	}
	if len(problems) > 0 {
		return plan, fmt.Errorf("cannot distribute on account: %s", strings.Join(problems, "; "))
	}
	// The anchor goes first: the others are co-located with it.
	slices.SortStableFunc(steps, func(a, b CitusStep) int {
		if a.Name == citusAnchor {
			return -1
		}
		if b.Name == citusAnchor {
			return 1
		}
		return 0
	})
	if len(steps) > 0 && steps[0].Name != citusAnchor && !done[citusAnchor] {
		return plan, fmt.Errorf("cannot distribute on account: %s is missing; run `migrate up` first", citusAnchor)
	}
	plan.Steps = steps
	return plan, nil
}

func queryStrings(ctx context.Context, db querier, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CitusResult is what DistributeCitus did.
type CitusResult struct {
	Version     string   // of the citus extension
	Distributed []string // by this call
	Already     []string // before it
	Local       map[string]string
}

// DistributeCitus distributes the warehouse's tables on account, on a
// Citus coordinator, under the migration lock. It is idempotent: a table
// already distributed is left alone, so running it again after a
// migration that added a table distributes that table only. Without the
// citus extension it returns ErrNoCitus and changes nothing.
func (m *Migrator) DistributeCitus(ctx context.Context) (CitusResult, error) {
	var res CitusResult
	if err := m.db.QueryRowContext(ctx, `SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = 'citus'), '')`).Scan(&res.Version); err != nil {
		return res, fmt.Errorf("look for the citus extension: %w", err)
	}
	if res.Version == "" {
		return res, fmt.Errorf("%w: connect to the Citus coordinator's database, run CREATE EXTENSION citus there and add the workers (SELECT citus_add_node(host, port)) first", ErrNoCitus)
	}
	current, latest, err := m.Version(ctx)
	if err != nil {
		return res, err
	}
	if current != latest {
		return res, fmt.Errorf("%w: the database is at version %d, this binary knows %d; run `migrate up` first", ErrSchemaOutdated, current, latest)
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", MigrationLockID); err != nil {
		return res, fmt.Errorf("acquire migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", MigrationLockID)
	plan, err := PlanCitus(ctx, conn, true)
	if err != nil {
		return res, err
	}
	res.Already, res.Local = plan.Distributed, plan.Local
	for _, step := range plan.Steps {
		if err := distributeTable(ctx, conn, step); err != nil {
			return res, err
		}
		res.Distributed = append(res.Distributed, step.Name)
	}
	return res, nil
}

// distributeTable runs one step in one transaction: a table whose key
// had to change is never left with the new key and undistributed.
func distributeTable(ctx context.Context, conn *sql.Conn, step CitusStep) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range strings.Split(strings.TrimSpace(render("table", step)), ";\n") {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("distribute %s: %w", step.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("distribute %s: %w", step.Name, err)
	}
	return nil
}

// distributedOnCitus says whether the database is a Citus coordinator whose
// warehouse has been distributed: then `migrate up` distributes the tables
// its migrations add.
func (m *Migrator) distributedOnCitus(ctx context.Context) (bool, error) {
	var yes bool
	err := m.db.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')
		   AND to_regclass($1) IS NOT NULL
		   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE oid = to_regclass('pg_catalog.pg_dist_partition'))`, citusAnchor).Scan(&yes)
	if err != nil || !yes {
		return false, err
	}
	err = m.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1::regclass)`, citusAnchor).Scan(&yes)
	return yes, err
}

// PlanCitus is the plan DistributeCitus would carry out now. It needs no
// citus extension: without one, every table is still to be distributed.
func (m *Migrator) PlanCitus(ctx context.Context) (CitusPlan, error) {
	var citus bool
	if err := m.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')`).Scan(&citus); err != nil {
		return CitusPlan{}, fmt.Errorf("look for the citus extension: %w", err)
	}
	return PlanCitus(ctx, m.db, citus)
}
