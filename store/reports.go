package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReportInfo describes one report view.
type ReportInfo struct {
	Name        string
	Version     string
	Description string
	Columns     []string
}

// Reports lists the views of the reports schema with their descriptions.
func (s *Store) Reports(ctx context.Context) ([]ReportInfo, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), ''),
		       array(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'reports' AND c.relkind = 'v'
		ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReportInfo, error) {
		var info ReportInfo
		err := r.Scan(&info.Name, &info.Description, &info.Columns)
		if i := strings.LastIndex(info.Name, "_v"); i > 0 {
			info.Version = info.Name[i+1:]
		}
		return info, err
	})
}

// ReportQuery selects rows of one report view.
type ReportQuery struct {
	Name         string
	Since, Until time.Time // on the report's date column; zero: unbounded
	Limit        int
}

// dateColumns are, in order of preference, the column a report is filtered on.
var dateColumns = []string{"billing_month", "day", "observed_at", "ChargePeriodStart", "last_success_at"}

// Report runs a query on a report view and returns its columns and rows.
// The name must be one of Reports; values are parameters.
func (s *Store) Report(ctx context.Context, q ReportQuery) ([]string, [][]any, error) {
	all, err := s.Reports(ctx)
	if err != nil {
		return nil, nil, err
	}
	i := slices.IndexFunc(all, func(r ReportInfo) bool { return r.Name == q.Name })
	if i < 0 {
		return nil, nil, fmt.Errorf("no report named %q (see ingest report list; run `migrate up` if none are there)", q.Name)
	}
	info := all[i]
	sql := "SELECT * FROM reports." + pgx.Identifier{info.Name}.Sanitize()
	var args []any
	var dateCol string
	for _, c := range dateColumns {
		if slices.Contains(info.Columns, c) {
			dateCol = pgx.Identifier{c}.Sanitize()
			break
		}
	}
	var where []string
	if dateCol == "" && (!q.Since.IsZero() || !q.Until.IsZero()) {
		return nil, nil, fmt.Errorf("report %s has no date column to filter on", q.Name)
	}
	if !q.Since.IsZero() {
		args = append(args, q.Since)
		where = append(where, fmt.Sprintf("%s >= $%d", dateCol, len(args)))
	}
	if !q.Until.IsZero() {
		args = append(args, q.Until)
		where = append(where, fmt.Sprintf("%s < $%d", dateCol, len(args)))
	}
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	if dateCol != "" {
		sql += " ORDER BY " + dateCol
	} else {
		sql += " ORDER BY 1"
	}
	// A ranked report reads best in its rank order within each account;
	// others by their first columns.
	ranked := slices.Contains(info.Columns, "rank") && slices.Contains(info.Columns, "account")
	if ranked {
		sql += ", 1, account, rank"
	} else {
		for n := 2; n <= min(4, len(info.Columns)); n++ {
			sql += fmt.Sprintf(", %d", n)
		}
	}
	if q.Limit > 0 {
		args = append(args, q.Limit)
		sql += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read report %s: %w", q.Name, err)
	}
	defer rows.Close()
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	var out [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, nil, err
		}
		out = append(out, vals)
	}
	return cols, out, rows.Err()
}
