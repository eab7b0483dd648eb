package dashboard_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/dashboard"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// readerLogin creates a login role in billing_reader, dropped when the
// test ends, and returns dbURL as that login.
func readerLogin(t *testing.T, dbURL string) string {
	t.Helper()
	admin := dbtest.Conn(t, dbtest.AdminURL())
	name := fmt.Sprintf("bw_dash_%d", rand.Int64())
	if _, err := admin.Exec(t.Context(), "CREATE ROLE "+name+" LOGIN IN ROLE billing_reader"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, dbtest.AdminURL()); err == nil {
			defer c.Close(ctx)
			c.Exec(ctx, "DROP ROLE "+name)
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(name)
	return u.String()
}

// writeState is what a write would change: every table's row count and
// the newest transaction id among its rows (xmin; an update or insert
// sets it, and transaction ids are the server's, not the database's, so
// the next one to be assigned would move with other tests).
func writeState(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var state string
	for _, tbl := range tables {
		var n, xmin int64
		if err := conn.QueryRow(t.Context(), "SELECT count(*), coalesce(max(xmin::text::bigint), 0) FROM "+tbl).Scan(&n, &xmin); err != nil {
			t.Fatal(err)
		}
		state += fmt.Sprintf("%s %d rows, xmin %d; ", tbl, n, xmin)
	}
	return state
}

// TestPageReadsOnly renders the fixture's page as the warehouse owner and
// as a login in billing_reader: the same figures, and nothing written (no
// transaction id taken, no row count changed).
func TestPageReadsOnly(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.New(t)
	conn := dbtest.Conn(t, dbURL)
	if _, err := conn.Exec(t.Context(), fixture); err != nil {
		t.Fatal(err)
	}
	reader := readerLogin(t, dbURL)
	before := writeState(t, conn)
	var pages []map[string]string
	for _, u := range []string{dbURL, reader} {
		d, err := dashboard.Load(t.Context(), pool(t, u), dashboard.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, figures(t, render(t, d)))
	}
	if after := writeState(t, conn); after != before {
		t.Errorf("rendering wrote:\nbefore %s\nafter  %s", before, after)
	}
	if fmt.Sprint(pages[0]) != fmt.Sprint(pages[1]) || len(pages[1]) < 10 {
		t.Errorf("billing_reader sees %v, the owner %v", pages[1], pages[0])
	}
}
