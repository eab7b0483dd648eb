package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// loginRole creates a login role of the server (in billing_reader when
// reader), dropped when the test ends, after its databases.
func loginRole(t *testing.T, reader bool) string {
	t.Helper()
	admin := dbtest.Conn(t, dbtest.AdminURL())
	name := fmt.Sprintf("bw_test_%d", rand.Int64())
	in := ""
	if reader {
		in = " IN ROLE billing_reader"
	}
	if _, err := admin.Exec(t.Context(), "CREATE ROLE "+name+" LOGIN"+in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dbtest.AdminURL())
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP ROLE "+name)
	})
	return name
}

func asUser(t *testing.T, dbURL, user string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(user)
	return u.String()
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// TestReaderCannotWriteOrLock logs in as a real member of billing_reader
// and tries what the README says it cannot do: take the run lock's or the
// migration lock's advisory lock, store a large object, create a temporary
// table or a pg_temp function, read the ledger. It can read the reports.
func TestReaderCannotWriteOrLock(t *testing.T) {
	t.Parallel()
	user := loginRole(t, true)
	// Migrated here: a copy of dbtest's template would not carry the
	// database's own privileges (CREATE DATABASE does not copy them).
	db := dbtest.NewEmpty(t)
	ctx := t.Context()
	if _, err := newMigrator(t, db, nil).Up(ctx); err != nil {
		t.Fatal(err)
	}
	reader := dbtest.Conn(t, asUser(t, db, user))
	runKey := store.RunLockKey(store.Owner{Provider: "hyperstack", Account: "default"})
	for _, c := range []struct {
		what, sql string
		args      []any
	}{
		{"the run lock", "SELECT pg_advisory_lock($1)", []any{runKey}},
		{"the run lock, tried", "SELECT pg_try_advisory_lock($1)", []any{runKey}},
		{"the run lock, shared", "SELECT pg_advisory_lock_shared($1)", []any{runKey}},
		{"the migration lock", "SELECT pg_advisory_lock($1)", []any{store.MigrationLockID}},
		{"a transaction lock", "SELECT pg_advisory_xact_lock($1)", []any{runKey}},
		{"a two-key lock", "SELECT pg_advisory_lock(1, 2)", nil},
		{"a large object", "SELECT lo_from_bytea(0, 'kept forever')", nil},
		{"an empty large object", "SELECT lo_create(0)", nil},
		{"a temporary table", "CREATE TEMP TABLE scratch (a int)", nil},
		{"a pg_temp function", "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'", nil},
		{"the ledger", "SELECT count(*) FROM ingest.runs", nil},
		{"a table in public", "CREATE TABLE public.scratch (a int)", nil},
	} {
		_, err := reader.Exec(ctx, c.sql, c.args...)
		if sqlState(err) != "42501" { // insufficient_privilege
			t.Errorf("a reader took %s: %v, want permission denied", c.what, err)
		}
	}
	var n int
	if err := reader.QueryRow(ctx, "SELECT count(*) FROM reports.ingest_health_v1").Scan(&n); err != nil {
		t.Errorf("a reader cannot read a report: %v", err)
	}
}

// TestForeignLockHolderIsAFailure: when the run lock is held by a session
// that is not an ingest run, the worker says who holds it, a failure and
// not a quiet skip: a reader's session (where the server's administrator
// left PUBLIC the advisory-lock functions), or a session of a role that
// may record runs but records none.
func TestForeignLockHolderIsAFailure(t *testing.T) {
	t.Parallel()
	user := loginRole(t, true)
	db := dbtest.New(t)
	admin := dbtest.Conn(t, db)
	ctx := t.Context()
	if _, err := admin.Exec(ctx, "GRANT EXECUTE ON FUNCTION pg_advisory_lock(bigint) TO "+user); err != nil {
		t.Fatal(err)
	}
	owner := store.Owner{Provider: "hyperstack", Account: "default"}
	reader := dbtest.Conn(t, asUser(t, db, user))
	if _, err := reader.Exec(ctx, "SELECT pg_advisory_lock($1)", store.RunLockKey(owner)); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.TryRunLock(ctx, owner)
	var foreign *store.ForeignLockError
	if !errors.As(err, &foreign) || errors.Is(err, store.ErrBusy) || foreign.User != user ||
		!strings.HasPrefix(foreign.Address, "127.0.0.1:") || !strings.Contains(err.Error(), "may not record runs") {
		t.Fatalf("lock held by a reader: %v, want a ForeignLockError naming %s and its address", err, user)
	}
	reader.Close(ctx)

	// A superuser's psql holding the key, with no run recorded.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", store.RunLockKey(owner)); err != nil {
		t.Fatal(err)
	}
	_, err = s.TryRunLock(ctx, owner)
	if !errors.As(err, &foreign) || !strings.Contains(err.Error(), "recorded no run") {
		t.Fatalf("lock held by a session that records no run: %v", err)
	}
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", store.RunLockKey(owner)); err != nil {
		t.Fatal(err)
	}

	// An ingest run holding it is still just busy.
	lock, err := s.TryRunLock(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	if _, err := s.BeginRun(ctx, store.BeginRunParams{Owner: owner, Trigger: store.TriggerManual, HoldsLock: true}); err != nil {
		t.Fatal(err)
	}
	var busy *store.BusyError
	if _, err := s.TryRunLock(ctx, owner); !errors.As(err, &busy) || busy.RunID == 0 {
		t.Fatalf("lock held by a run: %v, want a BusyError naming it", err)
	}
}

// TestNonSuperuserOwner: a database migrated by a superuser keeps the
// advisory locks for its owner (the worker may run as that role), and a
// migration by the owner without superuser does what an owner may and
// says what it left.
func TestNonSuperuserOwner(t *testing.T) {
	t.Parallel()
	ownerRole := loginRole(t, false)
	reader := loginRole(t, true)
	admin := dbtest.Conn(t, dbtest.AdminURL())
	ctx := t.Context()
	if _, err := admin.Exec(ctx, "ALTER ROLE "+ownerRole+" CREATEROLE"); err != nil {
		t.Fatal(err)
	}

	// Migrated by the superuser, then the worker as the owner.
	db := dbtest.NewEmpty(t)
	name := strings.TrimPrefix(must(url.Parse(db)).Path, "/")
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+" OWNER TO "+ownerRole); err != nil {
		t.Fatal(err)
	}
	if _, err := newMigrator(t, db, nil).Up(ctx); err != nil {
		t.Fatal(err)
	}
	asOwner := dbtest.Conn(t, asUser(t, db, ownerRole))
	var got bool
	if err := asOwner.QueryRow(ctx, "SELECT pg_try_advisory_lock(1) AND pg_advisory_unlock(1)").Scan(&got); err != nil || !got {
		t.Fatalf("the owner lost the advisory locks: %v", err)
	}
	if _, err := asOwner.Exec(ctx, "CREATE TEMP TABLE stage (a int)"); err != nil {
		t.Fatalf("the owner lost TEMP (the writer stages in temporary tables): %v", err)
	}

	// Migrated by the owner, no superuser: TEMP is revoked, the functions
	// are left, and a NOTICE says so.
	db2 := dbtest.NewEmpty(t)
	name2 := strings.TrimPrefix(must(url.Parse(db2)).Path, "/")
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+name2+" OWNER TO "+ownerRole); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if _, err := newMigrator(t, asUser(t, db2, ownerRole), slog.New(slog.NewTextHandler(&logs, nil))).Up(ctx); err != nil {
		t.Fatalf("migrate up as a non-superuser owner: %v", err)
	}
	r := dbtest.Conn(t, asUser(t, db2, reader))
	if _, err := r.Exec(ctx, "CREATE TEMP TABLE scratch (a int)"); sqlState(err) != "42501" {
		t.Errorf("a reader created a temporary table after a non-superuser migration: %v", err)
	}
	if err := r.QueryRow(ctx, "SELECT pg_try_advisory_lock(1)").Scan(&got); err != nil {
		t.Errorf("without superuser the functions stay PUBLIC's, as documented; got %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
