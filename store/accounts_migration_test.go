package store_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// loadDump replays a pg_dump --data-only file: its statements as they are,
// its COPY blocks through the COPY protocol.
func loadDump(t *testing.T, conn *pgx.Conn, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var stmt strings.Builder
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "COPY ") {
			var data bytes.Buffer
			for sc.Scan() && sc.Text() != `\.` {
				data.WriteString(sc.Text())
				data.WriteByte('\n')
			}
			if _, err := conn.PgConn().CopyFrom(t.Context(), &data, line); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			continue
		}
		if strings.HasPrefix(line, "--") || strings.HasPrefix(line, `\`) || strings.TrimSpace(line) == "" { // comments, psql meta-commands
			continue
		}
		stmt.WriteString(line)
		if strings.HasSuffix(line, ";") {
			if _, err := conn.Exec(t.Context(), stmt.String()); err != nil {
				t.Fatalf("%s: %v", stmt.String(), err)
			}
			stmt.Reset()
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// contents fingerprints every table of the billing and ingest schemas by
// the columns it had at schema version 2, so the same data under a new
// column compares equal.
func contents(t *testing.T, conn *pgx.Conn, columns map[string][]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for table, cols := range columns {
		var fp string
		q := "SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM (SELECT " +
			strings.Join(cols, ", ") + " FROM " + table + ") r"
		if err := conn.QueryRow(t.Context(), q).Scan(&fp); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		out[table] = fp
	}
	return out
}

// TestAccountsMigration converts a warehouse filled by a backfill (a dump
// of one, made with the binary of schema version 2) in place: every row
// keeps its values under the account "default"; down restores it exactly.
func TestAccountsMigration(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmpty(t)
	m := newMigrator(t, url, nil)
	ctx := context.Background()
	if _, err := m.UpTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	conn := dbtest.Conn(t, url)
	loadDump(t, conn, "testdata/warehouse-v2.sql.gz")

	rows, err := conn.Query(ctx, `
		SELECT table_schema || '.' || table_name, array_agg(quote_ident(column_name::text) ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_schema IN ('billing', 'ingest') GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	columns := map[string][]string{}
	var table string
	var cols []string
	if _, err := pgx.ForEachRow(rows, []any{&table, &cols}, func() error { columns[table] = cols; return nil }); err != nil {
		t.Fatal(err)
	}
	before := contents(t, conn, columns)
	if before["billing.cost_datapoints"] == "0:" || before["ingest.raw_payloads"] == "0:" {
		t.Fatalf("the dump loaded no data: %v", before)
	}

	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if after := contents(t, conn, columns); !equalMaps(before, after) {
		t.Errorf("migrate up changed the data:\nbefore %v\nafter  %v", before, after)
	}
	for table := range columns {
		var other int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE account IS DISTINCT FROM 'default'").Scan(&other); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if other != 0 {
			t.Errorf("%s: %d rows are not the account default", table, other)
		}
	}
	var accounts []string
	r, _ := conn.Query(ctx, "SELECT provider || '/' || account FROM billing.accounts ORDER BY 1")
	accounts, err = pgx.CollectRows(r, pgx.RowTo[string])
	if err != nil || strings.Join(accounts, ",") != "hyperstack/default" {
		t.Errorf("billing.accounts = %v (%v), want hyperstack/default", accounts, err)
	}

	if _, err := m.DownTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if after := contents(t, conn, columns); !equalMaps(before, after) {
		t.Errorf("migrate down changed the data:\nbefore %v\nafter  %v", before, after)
	}

	// With a second account stored, going down would merge accounts: refused.
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO billing.accounts (provider, account) VALUES ('hyperstack', 'acme-lab')"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.DownTo(ctx, 2); err == nil || !strings.Contains(err.Error(), "accounts other than") {
		t.Errorf("down with two accounts: %v, want a refusal", err)
	}
}

func equalMaps(a, b map[string]string) bool {
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
