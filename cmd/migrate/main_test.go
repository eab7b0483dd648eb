package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "migrate-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "migrate")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// migrate runs the real binary and returns its stdout, stderr and exit code.
func migrate(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run migrate: %v", err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

func TestCommands(t *testing.T) {
	t.Parallel()
	env := []string{"DATABASE_URL=" + dbtest.NewEmpty(t)}
	latest := store.RequiredSchemaVersion()

	out, _, code := migrate(t, env, "status")
	if code != 0 || !regexp.MustCompile(`00001_foundation.sql +pending`).MatchString(out) || !regexp.MustCompile(`00014_focus_v1.sql +pending`).MatchString(out) {
		t.Fatalf("status before up: exit %d\n%s", code, out)
	}
	out, _, code = migrate(t, env, "up")
	if code != 0 || !strings.Contains(out, "applied     00001_foundation.sql") {
		t.Fatalf("up: exit %d\n%s", code, out)
	}
	out, _, code = migrate(t, env, "up")
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second up: exit %d\n%s", code, out)
	}
	out, _, code = migrate(t, env, "version")
	if want := "version " + itoa(latest) + " (newest known: " + itoa(latest) + ")"; code != 0 || !strings.HasPrefix(out, want+"\nreports ") {
		t.Fatalf("version: exit %d %q, want %q", code, out, want)
	}
	out, _, code = migrate(t, env, "redo")
	if code != 0 || !strings.Contains(out, "rolled back") || !strings.Contains(out, "schema is at version "+itoa(latest)) {
		t.Fatalf("redo: exit %d\n%s", code, out)
	}
	out, _, code = migrate(t, env, "reset")
	if code != 0 || !strings.Contains(out, "schema is at version 0") {
		t.Fatalf("reset: exit %d\n%s", code, out)
	}
	_, errOut, code := migrate(t, env, "down")
	if code != 1 || strings.TrimSpace(errOut) != "migrate: no migration to roll back" {
		t.Fatalf("down at 0: exit %d %q", code, errOut)
	}
}

func TestCreateDatabase(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmpty(t)
	conn := dbtest.Conn(t, dbtest.AdminURL())
	fresh := strings.TrimPrefix(t.Name(), "Test") + "_fresh_bw"
	t.Cleanup(func() { conn.Exec(context.Background(), `DROP DATABASE IF EXISTS "`+fresh+`" WITH (FORCE)`) })

	out, errOut, code := migrate(t, []string{"DATABASE_URL=" + dbtest.WithDatabase(url, fresh)}, "--create-database", "up")
	if code != 0 || !strings.Contains(out, "created the database") || !strings.Contains(out, "schema is at version") {
		t.Fatalf("up --create-database: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = migrate(t, []string{"DATABASE_URL=" + dbtest.WithDatabase(url, fresh)}, "--create-database", "up")
	if code != 0 || strings.Contains(out, "created the database") {
		t.Fatalf("second up --create-database: exit %d\n%s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"sideways"}, {"up-to"}, {"up-to", "x"}, {"up", "extra"}, {"--no-such-flag", "up"}} {
		_, errOut, code := migrate(t, nil, args...)
		if code != 2 || !strings.Contains(errOut, "migrate: usage:") {
			t.Errorf("migrate %q: exit %d, stderr %q; want exit 2 and a usage line", args, code, errOut)
		}
	}
}

// TestConnectionErrors checks that a bad target gives exactly one clear
// line on stderr, exit 1, no stack trace and no password.
func TestConnectionErrors(t *testing.T) {
	t.Parallel()
	const secret = "Hunter2-secret"
	cases := []struct {
		name, url, want string
	}{
		{"unreachable", "postgres://bob:" + secret + "@127.0.0.1:1/warehouse?sslmode=disable", "connection refused"},
		{"no such database", dbtest.WithDatabase(dbtest.AdminURL(), "no_such_database_bw"), `database "no_such_database_bw" does not exist`},
		{"bad url", "postgres://bob:" + secret + "@127.0.0.1:5432/x?sslmode=sometimes", "invalid database URL"},
		{"empty", "", "set DATABASE_URL or --database-url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := migrate(t, []string{"DATABASE_URL=" + tc.url}, "up")
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "migrate: ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("stderr = %q, want one line mentioning %q", errOut, tc.want)
			}
			if strings.Contains(out+errOut, secret) || strings.Contains(errOut, "goroutine") {
				t.Errorf("output shows the password or a stack trace: %q", errOut)
			}
		})
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// TestCitusCommands: on plain PostgreSQL, `citus` refuses with what to do
// and changes nothing; `citus-plan` prints the statements it would run.
func TestCitusCommands(t *testing.T) {
	t.Parallel()
	env := []string{"DATABASE_URL=" + dbtest.New(t)}
	out, stderr, code := migrate(t, env, "citus")
	if code != 1 || !strings.Contains(stderr, "citus extension is not installed") || !strings.Contains(stderr, "CREATE EXTENSION citus") || out != "" {
		t.Fatalf("citus without the extension: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	out, _, code = migrate(t, env, "citus-plan")
	if code != 0 || !strings.Contains(out, "SELECT create_distributed_table('billing.accounts', 'account', colocate_with => 'none');") ||
		!strings.Contains(out, "-- left on the coordinator: ingest.runs") {
		t.Fatalf("citus-plan: exit %d\n%s", code, out)
	}
	if _, stderr, code := migrate(t, env, "citus", "now"); code != 2 || !strings.Contains(stderr, "takes no arguments") {
		t.Errorf("citus with an argument: exit %d, %s", code, stderr)
	}
}
