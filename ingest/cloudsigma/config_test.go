package cloudsigma_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/cloudsigma"
	"github.com/billing-warehouse/billing-warehouse/internal/config"
)

func init() { ingest.Register(cloudsigma.Provider) }

// TestConfigEntry reads CloudSigma entries of a config file: the username
// from a file, the password from the environment, a location or a URL,
// and refuses what is wrong, without showing the password.
func TestConfigEntry(t *testing.T) {
	dir := t.TempDir()
	userFile := filepath.Join(dir, "user")
	os.WriteFile(userFile, []byte("ops@example.com\n"), 0o600)
	t.Setenv("CS_TEST_PASSWORD", "cfg-"+password)
	for _, c := range []struct {
		entry, region, err string
	}{
		{"location: zrh\n    auth: digest", "zrh", ""},
		{"api_url: https://fra.cloudsigma.com/api/2.0/", "fra", ""},
		{"location: sjc\n    auth: kerberos", "", "auth must be basic or digest"},
		{"auth: basic", "", "set location"},
		{"location: zrh\n    usage_days: many", "", "usage_days"},
	} {
		yaml := "sources:\n  - provider: cloudsigma\n    account: acme\n    username_file: " + userFile + "\n    password: ${CS_TEST_PASSWORD}\n    " + c.entry + "\n"
		cfgs, err := config.ParseSources("test.yaml", []byte(yaml))
		if err != nil {
			t.Fatalf("%s: %v", c.entry, err)
		}
		if cfgs[0].Settings["username"] != "ops@example.com" || cfgs[0].Settings["password"] != "cfg-"+password {
			t.Fatalf("%s: settings %v", c.entry, cfgs[0].Settings["username"])
		}
		src, err := ingest.OpenSources(cfgs, ingest.ClientConfig{})
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.entry, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.entry, err)
		case c.err == "" && src[0].Info().Region != c.region:
			t.Errorf("%s: region %q, want %q", c.entry, src[0].Info().Region, c.region)
		}
		if err != nil && strings.Contains(err.Error(), password) {
			t.Errorf("an error shows the password: %v", err)
		}
	}
	if _, err := config.ParseSources("test.yaml", []byte("sources:\n  - provider: cloudsigma\n    account: acme\n    location: zrh\n    username_file: "+userFile+"\n    password: hunter2\n")); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a password written in the file: %v", err)
	}
}
