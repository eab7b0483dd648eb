package dbtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Cluster is a PostgreSQL server a test owns: its own data directory and
// port, created with the installed server binaries, so the test can stop
// and start it. `make test` installs the binaries where they are missing.
type Cluster struct {
	t     testing.TB
	bin   string // initdb, pg_ctl
	dir   string
	port  int
	owner string // who runs it: the current user, or postgres when root
	// URL is the cluster's migrated database.
	URL string
}

// NewCluster creates, starts and migrates a throwaway cluster; it is
// stopped and removed when the test ends. It fails the test when no server
// binaries are installed.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bin, err := serverBinaries()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, bin: bin, port: freePort(t)}
	// initdb refuses to run as root: a root test runs the server as postgres,
	// in a directory postgres may enter.
	if os.Geteuid() == 0 {
		c.owner = "postgres"
		if _, err := user.Lookup(c.owner); err != nil {
			c.owner = "nobody"
		}
	}
	c.dir, err = os.MkdirTemp("", "bwtest-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.pgctl("stop", "-m", "immediate")
		os.RemoveAll(c.dir)
	})
	if c.owner != "" {
		if out, err := exec.Command("chown", c.owner, c.dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v: %s", c.dir, err, out)
		}
	}
	if out, err := c.command(filepath.Join(bin, "initdb"), "-D", c.data(), "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.Start()
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := store.NewMigrator(ctx, c.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("migrate the throwaway cluster: %v", err)
	}
	return c
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c full_page_writes=off", c.port, c.dir)
	if out, err := c.pgctl("start", "-w", "-t", "60", "-l", filepath.Join(c.dir, "postgres.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
		c.t.Fatalf("start the throwaway cluster: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the server the way a crash or a kill does: at once, without
// a shutdown checkpoint, dropping every connection.
func (c *Cluster) Stop() {
	c.t.Helper()
	if out, err := c.pgctl("stop", "-w", "-m", "immediate"); err != nil {
		c.t.Fatalf("stop the throwaway cluster: %v\n%s", err, out)
	}
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) pgctl(args ...string) ([]byte, error) {
	return c.command(filepath.Join(c.bin, "pg_ctl"), append([]string{"-D", c.data()}, args...)...).CombinedOutput()
}

// command runs a server binary as the cluster's owner.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	if c.owner == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("runuser", append([]string{"-u", c.owner, "--", name}, args...)...)
}

// serverBinaries finds the newest installed initdb and pg_ctl.
func serverBinaries() (string, error) {
	candidates, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(candidates, func(a, b string) int { return version(b) - version(a) })
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, string(out[:len(out)-1]))
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	candidates = append(candidates, "/usr/local/pgsql/bin")
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb, pg_ctl) for a throwaway cluster: " +
		"`make test` installs them (scripts/pg.sh), or install the server package")
}

// version reads the major version of /usr/lib/postgresql/N/bin.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode()&0o111 != 0
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
