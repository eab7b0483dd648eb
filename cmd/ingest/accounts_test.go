package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// accountChecksum fingerprints one account's rows of every warehouse
// table, without the account column, so two warehouses holding the same
// organisation under different account names compare equal.
func accountChecksum(t *testing.T, url, account string) map[string]string {
	t.Helper()
	conn := dbtest.Conn(t, url)
	out := map[string]string{}
	for _, tbl := range store.WarehouseTables {
		var sum string
		err := conn.QueryRow(t.Context(), fmt.Sprintf(`SELECT count(*) || '/' || coalesce(md5(string_agg((to_jsonb(t) - 'account')::text, '|'
			ORDER BY (to_jsonb(t) - 'account')::text)), '') FROM %s t WHERE account = $1`, tbl.Name), account).Scan(&sum)
		if err != nil {
			t.Fatal(err)
		}
		out[tbl.Name] = sum
	}
	return out
}

// versions fingerprints every row version of the warehouse tables.
func versions(t *testing.T, url string) string {
	t.Helper()
	conn := dbtest.Conn(t, url)
	var parts []string
	for _, tbl := range store.WarehouseTables {
		var v string
		if err := conn.QueryRow(t.Context(), fmt.Sprintf(`SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM %s`, tbl.Name)).Scan(&v); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, tbl.Name+"="+v)
	}
	return strings.Join(parts, " ")
}

func sameTables(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	for tbl, sum := range want {
		if got[tbl] != sum {
			t.Errorf("%s: %s differs: want %s, got %s", what, tbl, sum, got[tbl])
		}
	}
	if got["billing.cost_datapoints"] == "0/" {
		t.Errorf("%s: no datapoints at all", what)
	}
}

// TestTwoOrganisations backfills two simulated organisations (different
// seeds and keys), configured as two accounts of one config file, into one
// warehouse at once: each equals a warehouse that holds it alone; an
// identical second run writes nothing; killing one account's run leaves
// the other's complete, and the next run repairs the killed one.
func TestTwoOrganisations(t *testing.T) {
	t.Parallel()
	orgA := newAPI(t, "key-a", hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Seed: 5}})
	orgB := newAPI(t, "key-b", hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Seed: 6}})

	// Each organisation alone, the way a single source was configured
	// before the config file: the account "default".
	reference := map[string]string{}
	for name, a := range map[string]*api{"org-a": orgA, "org-b": orgB} {
		db := dbtest.New(t)
		key := "key-a"
		if name == "org-b" {
			key = "key-b"
		}
		p := start(t, ingestEnv(db, a.url, key), "backfill", "--since", "2026-09")
		if code := p.wait(t); code != 0 {
			t.Fatalf("%s alone: exit %d\n%s", name, code, p.stderr.String())
		}
		reference[name] = db
	}

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "org-b.key")
	if err := os.WriteFile(keyFile, []byte("key-b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	configFile := filepath.Join(dir, "sources.yaml")
	config := fmt.Sprintf(`sources:
  - provider: hyperstack
    account: org-a
    api_url: %s
    api_key: ${ORG_A_KEY}
  - provider: hyperstack
    account: org-b
    display_name: Org B (lab)
    api_url: %s
    api_key_file: %s
`, orgA.url, orgB.url, keyFile)
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(db string) []string {
		return []string{"DATABASE_URL=" + db, "INGEST_CONFIG=" + configFile, "ORG_A_KEY=key-a",
			"INGEST_RATE=1000000", "LOG_FORMAT=json", "LOG_LEVEL=info"}
	}

	db := dbtest.New(t)
	p := start(t, env(db), "backfill", "--since", "2026-09")
	if code := p.wait(t); code != 0 {
		t.Fatalf("both accounts: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	for _, account := range []string{"org-a", "org-b"} {
		if !strings.Contains(p.stdout.String(), "hyperstack/"+account+": run ") {
			t.Errorf("the output does not report %s:\n%s", account, p.stdout.String())
		}
		sameTables(t, account+" beside the other", accountChecksum(t, reference[account], "default"), accountChecksum(t, db, account))
	}
	conn := dbtest.Conn(t, db)
	var overlapping bool
	if err := conn.QueryRow(t.Context(), `SELECT a.started_at < b.finished_at AND b.started_at < a.finished_at
		FROM ingest.runs a, ingest.runs b WHERE a.account = 'org-a' AND b.account = 'org-b'`).Scan(&overlapping); err != nil || !overlapping {
		t.Errorf("the two accounts' runs did not run at once (%v)", err)
	}
	var accounts string
	conn.QueryRow(t.Context(), `SELECT string_agg(account || '=' || coalesce(display_name, ''), ',' ORDER BY account) FROM billing.accounts`).Scan(&accounts)
	if accounts != "org-a=,org-b=Org B (lab)" {
		t.Errorf("billing.accounts = %q", accounts)
	}

	before := versions(t, db)
	again := start(t, env(db), "backfill", "--since", "2026-09")
	if code := again.wait(t); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, again.stderr.String())
	}
	if after := versions(t, db); after != before {
		t.Errorf("an identical second run wrote rows:\nbefore %s\nafter  %s", before, after)
	}

	// Kill org-a's run; org-b's, in its own process, completes.
	killed := dbtest.New(t)
	reached := orgA.after(40)
	a := start(t, env(killed), "backfill", "--since", "2026-09", "--source", "org-a")
	b := start(t, env(killed), "backfill", "--since", "2026-09", "--source", "hyperstack/org-b")
	a.await(t, reached, "org-a's 40th request")
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.wait(t)
	if code := b.wait(t); code != 0 {
		t.Fatalf("org-b beside a killed org-a: exit %d\n%s", code, b.stderr.String())
	}
	sameTables(t, "org-b after org-a was killed", accountChecksum(t, reference["org-b"], "default"), accountChecksum(t, killed, "org-b"))
	repair := start(t, env(killed), "backfill", "--since", "2026-09")
	if code := repair.wait(t); code != 0 {
		t.Fatalf("the run after the kill: exit %d\n%s", code, repair.stderr.String())
	}
	sameTables(t, "org-a repaired", accountChecksum(t, reference["org-a"], "default"), accountChecksum(t, killed, "org-a"))
	var status string
	dbtest.Conn(t, killed).QueryRow(t.Context(), "SELECT status FROM ingest.runs WHERE account = 'org-a' ORDER BY id LIMIT 1").Scan(&status)
	if status != "abandoned" {
		t.Errorf("the killed run of org-a is %q, want abandoned", status)
	}
}

// TestServeReplicasShareAccounts runs two serve replicas over four
// accounts every 2 seconds: no account ever has two runs at once, and no
// account runs twice within one tick (half a period).
func TestServeReplicasShareAccounts(t *testing.T) {
	t.Parallel()
	a := newAPI(t, "share-key", hyperstacksim.Config{Latency: hyperstacksim.Latency{Min: 2 * time.Millisecond}})
	var b strings.Builder
	b.WriteString("sources:\n")
	for _, acct := range []string{"one", "two", "three", "four"} {
		fmt.Fprintf(&b, "  - provider: hyperstack\n    account: %s\n    api_url: %s\n    api_key: ${SHARE_KEY}\n", acct, a.url)
	}
	configFile := filepath.Join(t.TempDir(), "sources.yaml")
	if err := os.WriteFile(configFile, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	db := dbtest.New(t)
	env := []string{"DATABASE_URL=" + db, "INGEST_CONFIG=" + configFile, "SHARE_KEY=share-key", "INGEST_RATE=1000000",
		"INGEST_PARALLEL=2", "INGEST_SCHEDULE=@every 2s", "INGEST_LISTEN=127.0.0.1:0", "LOG_FORMAT=json"}
	conn := dbtest.Conn(t, db)
	// The second replica starts once the first has finished a tick, so
	// their ticks are apart by a fraction of the period: without the
	// per-tick check, the second would run every account again within it.
	replicas := []*proc{start(t, env, "serve")}
	waitFor(t, "the first replica's first tick", func() bool {
		var n int
		conn.QueryRow(t.Context(), `SELECT count(DISTINCT account) FROM ingest.runs WHERE status = 'succeeded'`).Scan(&n)
		return n == 4
	}, replicas...)
	replicas = append(replicas, start(t, env, "serve"))
	waitFor(t, "five finished runs of every account", func() bool {
		var least int
		conn.QueryRow(t.Context(), `SELECT coalesce(min(n), 0) FROM (SELECT count(*) FILTER (WHERE status <> 'running') AS n
			FROM billing.accounts a LEFT JOIN ingest.runs r USING (provider, account) GROUP BY a.account) c`).Scan(&least)
		var accounts int
		conn.QueryRow(t.Context(), `SELECT count(*) FROM billing.accounts`).Scan(&accounts)
		return accounts == 4 && least >= 5
	}, replicas...)
	for _, p := range replicas {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for i, p := range replicas {
		if code := p.wait(t); code != 0 {
			t.Errorf("replica %d: exit %d\n%s", i, code, p.stderr.String())
		}
	}
	var overlaps, twice, failed int
	conn.QueryRow(t.Context(), `SELECT count(*) FROM ingest.runs a JOIN ingest.runs b ON a.account = b.account AND a.id < b.id
		WHERE b.started_at < coalesce(a.finished_at, 'infinity')`).Scan(&overlaps)
	conn.QueryRow(t.Context(), `SELECT count(*) FROM ingest.runs a JOIN ingest.runs b ON a.account = b.account AND a.id < b.id
		WHERE b.started_at - a.started_at < interval '1 second'`).Scan(&twice)
	conn.QueryRow(t.Context(), `SELECT count(*) FROM ingest.runs WHERE status NOT IN ('succeeded', 'cancelled')`).Scan(&failed)
	if overlaps != 0 || twice != 0 || failed != 0 {
		t.Errorf("%d overlapping runs of one account, %d runs of one account within one tick, %d runs neither succeeded nor cancelled",
			overlaps, twice, failed)
	}
}
