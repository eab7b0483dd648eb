package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/hyperstack"
	"github.com/billing-warehouse/billing-warehouse/internal/config"
)

func init() { ingest.Register(hyperstack.Provider) }

func TestParseSources(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "prod.key")
	os.WriteFile(keyFile, []byte("prod-secret\n"), 0o600)
	t.Setenv("LAB_KEY", "lab-secret")
	good := `sources:
  - provider: hyperstack
    account: acme-prod
    api_key_file: ` + keyFile + `
  - provider: hyperstack
    account: acme-lab
    api_url: http://127.0.0.1:8089/v1
    api_key: ${LAB_KEY}
    rate: 200
    concurrency: 3
    lookback: 48h
`
	got, err := config.ParseSources("sources.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d sources", len(got))
	}
	prod, lab := got[0], got[1]
	if prod.Account != "acme-prod" || prod.Settings["api_key"] != "prod-secret" || prod.Settings["api_url"] != hyperstack.DefaultBaseURL {
		t.Errorf("acme-prod = %+v", prod)
	}
	if lab.Settings["api_key"] != "lab-secret" || lab.Settings["api_url"] != "http://127.0.0.1:8089/v1" ||
		lab.Rate != 200 || lab.Concurrency != 3 || lab.Lookback.Hours() != 48 {
		t.Errorf("acme-lab = %+v", lab)
	}

	for name, c := range map[string]struct{ yaml, want string }{
		"unknown key":       {"sources:\n  - provider: hyperstack\n    account: a\n    api_kye: ${LAB_KEY}\n", `hyperstack/a: unknown key "api_kye"`},
		"duplicate":         {"sources:\n  - {provider: hyperstack, account: a, api_key: '${LAB_KEY}'}\n  - {provider: hyperstack, account: a, api_key: '${LAB_KEY}'}\n", "hyperstack/a is configured twice (first at line 2)"},
		"missing file":      {"sources:\n  - {provider: hyperstack, account: a, api_key_file: /nonexistent/key}\n", "hyperstack/a: api_key_file: open /nonexistent/key"},
		"literal secret":    {"sources:\n  - {provider: hyperstack, account: a, api_key: hunter2}\n", "hyperstack/a: api_key: a secret is never written in the config file"},
		"unset env":         {"sources:\n  - {provider: hyperstack, account: a, api_key: '${NOT_SET_ANYWHERE}'}\n", "the environment variable NOT_SET_ANYWHERE is not set"},
		"no key":            {"sources:\n  - {provider: hyperstack, account: a}\n", "hyperstack/a: api_key is required"},
		"bad account":       {"sources:\n  - {provider: hyperstack, account: Acme Prod, api_key: '${LAB_KEY}'}\n", "account must be"},
		"unknown provider":  {"sources:\n  - {provider: aws, account: a}\n", `unknown provider "aws"`},
		"bad rate":          {"sources:\n  - {provider: hyperstack, account: a, api_key: '${LAB_KEY}', rate: fast}\n", "rate: want requests per minute"},
		"both key and file": {"sources:\n  - {provider: hyperstack, account: a, api_key: '${LAB_KEY}', api_key_file: " + keyFile + "}\n", "both api_key and api_key_file"},
		"top-level typo":    {"source:\n  - {provider: hyperstack, account: a}\n", `unknown key "source"`},
		"empty":             {"", "empty"},
	} {
		_, err := config.ParseSources("sources.yaml", []byte(c.yaml))
		if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") && strings.Contains(err.Error(), "lab-secret") {
			t.Errorf("%s: the error shows a secret: %v", name, err)
		}
	}
}

func TestEnvSources(t *testing.T) {
	t.Setenv("HYPERSTACK_API_KEY", "")
	t.Setenv("HYPERSTACK_API_KEY_FILE", "")
	got, err := config.EnvSources()
	if err != nil || len(got) != 0 {
		t.Fatalf("no key set: %v %v", got, err)
	}
	t.Setenv("HYPERSTACK_API_KEY", "k")
	got, err = config.EnvSources()
	if err != nil || len(got) != 1 || got[0].Account != "default" || got[0].Settings["api_key"] != "k" ||
		got[0].Settings["api_url"] != hyperstack.DefaultBaseURL {
		t.Fatalf("HYPERSTACK_API_KEY set: %+v %v", got, err)
	}
}

// TestFlagsReadAsAPersonTypesThem: a boolean works bare, and --help names
// what each value is.
func TestFlagsReadAsAPersonTypesThem(t *testing.T) {
	fs := flag.NewFlagSet("ingest serve", flag.ContinueOnError)
	var help strings.Builder
	fs.SetOutput(&help)
	flags := config.Register(fs, "run-at-start", "concurrency", "timeout", "listen")
	if err := fs.Parse([]string{"--run-at-start", "--concurrency", "3"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := flags.Load()
	if err != nil || !cfg.RunAtStart || cfg.Concurrency != 3 {
		t.Fatalf("bare --run-at-start: %+v %v", cfg, err)
	}
	fs.Usage()
	for _, want := range []string{"  -run-at-start\n", "  -concurrency N\n", "  -timeout DURATION\n", "  -listen ADDR\n", "(default 30s)"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, help.String())
		}
	}
}
