// Package dbtest gives each test its own migrated PostgreSQL database on a
// real server.
//
// The server is TEST_DATABASE_URL, by default the local one. The migrations
// are applied once, to a template database named after their content hash;
// each test gets a copy of that template and drops it when it ends. Tests
// that need a database fail, never skip, when no server answers: `make test`
// finds or starts one.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billing-warehouse/billing-warehouse/migrations"
	"github.com/billing-warehouse/billing-warehouse/sql/reports"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// DefaultURL is the server tests use when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// templateLockID serialises template builds across test processes.
const templateLockID = 7_126_604_133

// AdminURL is the connection string of the server tests run against.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var (
	adminOnce sync.Once
	admin     *pgxpool.Pool
	adminCfg  *pgxpool.Config
	adminErr  error

	templateOnce sync.Once
	templateName string
	templateErr  error
)

func adminPool() (*pgxpool.Pool, error) {
	adminOnce.Do(func() {
		adminCfg, adminErr = store.ParseURL(AdminURL())
		if adminErr != nil {
			adminErr = fmt.Errorf("TEST_DATABASE_URL: %w", adminErr)
			return
		}
		adminCfg.MaxConns = 4
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		admin, adminErr = pgxpool.NewWithConfig(ctx, adminCfg)
		if adminErr == nil {
			adminErr = admin.Ping(ctx)
		}
		if adminErr != nil {
			adminErr = fmt.Errorf("no PostgreSQL server for tests (%w).\n"+
				"Set TEST_DATABASE_URL to a server where this user may create databases, "+
				"or run `make test`, which finds or starts one",
				store.ConnectError(adminCfg.ConnConfig.Config, adminErr))
		}
	})
	return admin, adminErr
}

// New returns the URL of a fresh database migrated to the latest version. It
// is dropped when the test ends.
func New(t testing.TB) string {
	t.Helper()
	pool := mustAdmin(t)
	templateOnce.Do(func() { templateName, templateErr = buildTemplate(pool) })
	if templateErr != nil {
		t.Fatalf("dbtest: build template database: %v", templateErr)
	}
	return create(t, pool, templateName)
}

// NewEmpty returns the URL of a fresh database with no migrations applied.
func NewEmpty(t testing.TB) string {
	t.Helper()
	return create(t, mustAdmin(t), "template0")
}

// NewStore opens a store on a fresh migrated database, closed when the test
// ends. TEST_WRITE_PATH (plain, citus) forces the writer's statements: CI
// has no Citus server, and runs the system scenarios with the citus path
// forced on plain PostgreSQL.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	path, err := store.ParseWritePath(os.Getenv("TEST_WRITE_PATH"))
	if err != nil {
		t.Fatalf("dbtest: TEST_WRITE_PATH: %v", err)
	}
	s, err := store.Open(t.Context(), New(t), store.Options{WritePath: path})
	if err != nil {
		t.Fatalf("dbtest: open store: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Conn opens a plain connection to url, closed when the test ends.
func Conn(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("dbtest: connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustAdmin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := adminPool()
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return pool
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9]+`)

func create(t testing.TB, pool *pgxpool.Pool, template string) string {
	t.Helper()
	ctx := context.Background()
	name := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(name) > 36 {
		name = name[:36]
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	name = "bwtest_" + name + "_" + hex.EncodeToString(suffix)

	if err := createDatabase(ctx, pool, name, template); err != nil {
		t.Fatalf("dbtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		if err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	return WithDatabase(AdminURL(), name)
}

// createDatabase copies template. Postgres refuses to copy a database that
// another session is connected to; the templates allow no connections, but
// template0/1 can briefly have one, so that case is retried.
func createDatabase(ctx context.Context, pool *pgxpool.Pool, name, template string) error {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	var err error
	for attempt := range 10 {
		if _, err = pool.Exec(ctx, sql); err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return err
}

// buildTemplate migrates a template database named after the migrations'
// content, once per server: test processes of other packages reuse it.
func buildTemplate(pool *pgxpool.Pool) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "bwtest_tpl_" + sum

	conn, err := pool.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockID); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLockID)

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		// Mark it in use: another checkout's build drops templates not
		// built or used within the hour (dropOldTemplates).
		_, err := conn.Exec(ctx, "COMMENT ON DATABASE "+pgx.Identifier{name}.Sanitize()+" IS '"+time.Now().UTC().Format(time.RFC3339)+"'")
		return name, err
	}

	// Build under a temporary name and rename when done, so a build that
	// dies halfway never leaves a half-migrated template behind.
	building := name + "_build"
	quoted := pgx.Identifier{building}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if err := createDatabase(ctx, pool, building, "template0"); err != nil {
		return "", err
	}
	m, err := store.NewMigrator(ctx, WithDatabase(AdminURL(), building), nil)
	if err != nil {
		return "", err
	}
	_, err = m.Up(ctx)
	m.Close()
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	for _, stmt := range []string{
		"COMMENT ON DATABASE " + quoted + " IS '" + time.Now().UTC().Format(time.RFC3339) + "'",
		"ALTER DATABASE " + quoted + " WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
		"ALTER DATABASE " + quoted + " RENAME TO " + pgx.Identifier{name}.Sanitize(),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return "", err
		}
	}
	dropOldTemplates(ctx, conn.Conn(), name)
	return name, nil
}

// dropOldTemplates removes templates built from other migration sets more
// than an hour ago: another checkout (a branch, a worktree) testing against
// the same server at the same time keeps its own.
func dropOldTemplates(ctx context.Context, conn *pgx.Conn, keep string) {
	rows, err := conn.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database
		WHERE datname LIKE 'bwtest\_tpl\_%' AND datname <> $1`, keep)
	if err != nil {
		return
	}
	type template struct{ Name, Built string }
	templates, err := pgx.CollectRows(rows, pgx.RowToStructByPos[template])
	if err != nil {
		return
	}
	for _, tpl := range templates {
		if built, err := time.Parse(time.RFC3339, tpl.Built); err == nil && time.Since(built) < time.Hour {
			continue
		}
		n := tpl.Name
		q := pgx.Identifier{n}.Sanitize()
		conn.Exec(ctx, "ALTER DATABASE "+q+" WITH IS_TEMPLATE false")
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+q+" WITH (FORCE)")
	}
}

// migrationsHash names the schema and report files' content.
func migrationsHash() (string, error) {
	h := sha256.New()
	for _, fsys := range []fs.FS{migrations.FS, reports.FS} {
		err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
			h.Write(b)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// withDatabase returns the connection string pointing at another database on
// the same server. It accepts both URL and keyword/value forms.
func WithDatabase(conn, database string) string {
	u, err := url.Parse(conn)
	if err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + database
		u.RawPath = ""
		return u.String()
	}
	// In keyword/value form a later key wins.
	return conn + " dbname='" + strings.ReplaceAll(database, "'", `\'`) + "'"
}
