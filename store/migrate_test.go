package store_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/migrations"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// schemaSnapshot describes every object the migrations can create, so two
// snapshots compare equal exactly when the schemas are the same. goose's own
// version tables are left out.
const schemaSnapshot = `
SELECT 'schema ' || nspname FROM pg_namespace
 WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public', 'pg_toast') AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
UNION ALL
SELECT format('relation %s.%s kind=%s', n.nspname, c.relname, c.relkind)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND c.relname NOT LIKE 'goose\_%'
UNION ALL
SELECT format('column %s.%s.%s %s null=%s default=%s', table_schema, table_name, column_name, data_type, is_nullable, column_default)
  FROM information_schema.columns
 WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_name NOT LIKE 'goose\_%'
UNION ALL
SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
  FROM pg_constraint WHERE connamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema') AND conrelid::regclass::text NOT LIKE 'goose\_%'
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes
 WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename NOT LIKE 'goose\_%'
UNION ALL
SELECT format('view %s.%s %s', schemaname, viewname, definition) FROM pg_views
 WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT format('function %s %s', p.oid::regprocedure, md5(p.prosrc))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT format('trigger %s %s', tgrelid::regclass, tgname) FROM pg_trigger WHERE NOT tgisinternal
UNION ALL
SELECT format('type %s.%s', n.nspname, t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND t.typrelid = 0 AND t.typelem = 0
UNION ALL
SELECT format('comment %s %s', objoid::regnamespace, description) FROM pg_description
 WHERE objoid >= 16384 AND classoid = 'pg_namespace'::regclass
ORDER BY 1`

func snapshot(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), schemaSnapshot)
	if err != nil {
		t.Fatalf("snapshot schema: %v", err)
	}
	objects, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("snapshot schema: %v", err)
	}
	return objects
}

func newMigrator(t *testing.T, url string, logger *slog.Logger) *store.Migrator {
	t.Helper()
	m, err := store.NewMigrator(t.Context(), url, logger)
	if err != nil {
		t.Fatalf("new migrator: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestMigrationsRoundTrip applies every migration one at a time, checks that
// its down restores exactly the schema before its up, then goes down to zero
// and up again.
func TestMigrationsRoundTrip(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmpty(t)
	conn := dbtest.Conn(t, url)
	m := newMigrator(t, url, nil)
	ctx := t.Context()

	versions := m.SchemaVersions()
	if len(versions) == 0 {
		t.Fatal("no migrations found")
	}
	empty := snapshot(t, conn)
	before := empty
	for _, v := range versions {
		if _, err := m.UpTo(ctx, v); err != nil {
			t.Fatalf("up to %d: %v", v, err)
		}
		after := snapshot(t, conn)
		if slices.Equal(before, after) {
			t.Errorf("migration %d changed nothing in the schema", v)
		}
		if _, err := m.Down(ctx); err != nil {
			t.Fatalf("down from %d: %v", v, err)
		}
		if got := snapshot(t, conn); !slices.Equal(got, before) {
			t.Fatalf("down of migration %d does not reverse its up:\n%s", v, diff(before, got))
		}
		if _, err := m.UpTo(ctx, v); err != nil {
			t.Fatalf("re-apply %d: %v", v, err)
		}
		if got := snapshot(t, conn); !slices.Equal(got, after) {
			t.Fatalf("migration %d applied twice gives another schema:\n%s", v, diff(after, got))
		}
		before = after
	}
	// Then the report views over the latest schema.
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("up (report views): %v", err)
	}
	latest := snapshot(t, conn)
	if slices.Equal(latest, before) {
		t.Fatal("up installed no report views")
	}

	if _, err := m.Reset(ctx); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if got := snapshot(t, conn); !slices.Equal(got, empty) {
		t.Fatalf("reset leaves objects behind:\n%s", diff(empty, got))
	}
	if cur, _, _ := m.Version(ctx); cur != 0 {
		t.Fatalf("version after reset = %d, want 0", cur)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	cur, want, err := m.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cur != want || want != store.RequiredSchemaVersion() {
		t.Fatalf("version after up = %d, latest %d, required %d", cur, want, store.RequiredSchemaVersion())
	}
	if got := snapshot(t, conn); !slices.Equal(got, latest) {
		t.Fatalf("up after reset gives another schema:\n%s", diff(latest, got))
	}
}

func diff(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			b.WriteString("- " + w + "\n")
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			b.WriteString("+ " + g + "\n")
		}
	}
	return b.String()
}

// syncBuffer collects log output from several goroutines and signals each
// line to a waiting test.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lines != nil {
		b.lines <- string(p)
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestConcurrentMigrators holds the migration lock while two migrators start
// on the same empty database, waits until both say they are waiting, lets
// go, and checks that both finish cleanly at the latest version.
func TestConcurrentMigrators(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmpty(t)
	ctx := t.Context()

	holder := dbtest.Conn(t, url)
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1)", store.MigrationLockID); err != nil {
		t.Fatal(err)
	}

	logs := &syncBuffer{lines: make(chan string, 16)}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		m := newMigrator(t, url, logger)
		wg.Go(func() { _, errs[i] = m.Up(ctx) })
	}

	for waiting := 0; waiting < 2; {
		line := <-logs.lines
		if strings.Contains(line, "waiting for the migration lock") {
			waiting++
		}
	}
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", store.MigrationLockID); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range logs.lines {
		}
	}()
	wg.Wait()
	close(logs.lines)

	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	if n := strings.Count(logs.String(), "waited for the migration lock"); n != 2 {
		t.Errorf("want both migrators to report they waited, got %d:\n%s", n, logs.String())
	}
	m := newMigrator(t, url, nil)
	cur, latest, err := m.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cur != latest {
		t.Fatalf("version = %d, want %d", cur, latest)
	}
	var applied int
	if err := holder.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	// Versions may have gaps (branches number their migrations ahead), so
	// count the files rather than trust the latest number.
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(files); applied != want {
		t.Fatalf("goose_db_version has %d applied rows, want %d (each migration once)", applied, want)
	}
}

func TestSchemaChecks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	t.Run("outdated", func(t *testing.T) {
		t.Parallel()
		url := dbtest.NewEmpty(t)
		s, err := store.Open(ctx, url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		err = s.CheckSchema(ctx)
		if !errors.Is(err, store.ErrSchemaOutdated) || !strings.Contains(err.Error(), "run `migrate up`") {
			t.Fatalf("CheckSchema on an empty database = %v, want ErrSchemaOutdated telling to run migrate up", err)
		}
	})

	t.Run("current", func(t *testing.T) {
		t.Parallel()
		s := dbtest.NewStore(t)
		if err := s.CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema on a migrated database: %v", err)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != store.RequiredSchemaVersion() {
			t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, store.RequiredSchemaVersion())
		}
	})

	t.Run("too new", func(t *testing.T) {
		t.Parallel()
		url := dbtest.New(t)
		conn := dbtest.Conn(t, url)
		future := store.RequiredSchemaVersion() + 1
		if _, err := conn.Exec(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)", future); err != nil {
			t.Fatal(err)
		}
		s, err := store.Open(ctx, url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("CheckSchema = %v, want ErrSchemaTooNew", err)
		}
		m := newMigrator(t, url, nil)
		if _, err := m.Up(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("migrate up on a newer schema = %v, want ErrSchemaTooNew", err)
		}
		if _, err := m.Down(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("migrate down on a newer schema = %v, want ErrSchemaTooNew", err)
		}
	})
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const secret = "s3cr3t-Pa55word"
	for _, url := range []string{
		"postgres://bob:" + secret + "@127.0.0.1:1/db?sslmode=disable",
		"postgres://bob:" + secret + "@127.0.0.1:1/db?sslmode=bogus",
		"host=127.0.0.1 port=1 user=bob password=" + secret + " sslmode=disable",
		"postgres://bob:" + secret + "@[::1",
	} {
		_, err := store.Open(ctx, url, store.Options{})
		if err == nil {
			t.Fatalf("Open(%q) succeeded", url)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line without the password: %q", err)
		}
		_, err = store.NewMigrator(ctx, url, nil)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("NewMigrator error shows the password: %v", err)
		}
	}
}
