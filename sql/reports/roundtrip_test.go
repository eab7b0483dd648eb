package reports_test

import (
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/sql/reports"
)

// reportObjects is every view of the reports schema with its definition,
// comment and grants: what a report file's down must put back.
const reportObjects = `
SELECT format('%s %s %s %s', c.relname, pg_get_viewdef(c.oid), obj_description(c.oid, 'pg_class'), c.relacl)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'reports' AND c.relkind = 'v' ORDER BY c.relname`

// TestReportFilesRoundTrip applies the report files one at a time and
// checks that each file's down restores exactly the views before its up.
// Report files replace v1 views in place (CREATE OR REPLACE), so their
// downs carry the earlier definitions; this holds them to it.
func TestReportFilesRoundTrip(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, reports.FS,
		goose.WithTableName("goose_reports_version"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("all report files down: %v", err)
	}
	conn := dbtest.Conn(t, url)
	objects := func() []string {
		rows, err := conn.Query(ctx, reportObjects)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := objects()
	for _, src := range p.ListSources() {
		if _, err := p.UpByOne(ctx); err != nil {
			t.Fatalf("up %d: %v", src.Version, err)
		}
		after := objects()
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("down %d: %v", src.Version, err)
		}
		if got := objects(); !slices.Equal(got, before) {
			t.Fatalf("down of report file %d does not restore the views before it:\ngot  %q\nwant %q", src.Version, got, before)
		}
		if _, err := p.UpByOne(ctx); err != nil {
			t.Fatalf("up %d again: %v", src.Version, err)
		}
		if got := objects(); !slices.Equal(got, after) {
			t.Fatalf("report file %d applied twice gives other views", src.Version)
		}
		before = after
	}
}
