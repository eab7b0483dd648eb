package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Setenv("BW_TEST_SECRET", "from-env")
	if got, err := Secret("BW_TEST_SECRET"); got != "from-env" || err != nil {
		t.Fatalf("env: %q, %v", got, err)
	}

	t.Setenv("BW_TEST_SECRET_FILE", file)
	if _, err := Secret("BW_TEST_SECRET"); err == nil || !strings.Contains(err.Error(), "use one") {
		t.Fatalf("both set: %v, want an error", err)
	}

	t.Setenv("BW_TEST_SECRET", "")
	if got, err := Secret("BW_TEST_SECRET"); got != "from-file" || err != nil {
		t.Fatalf("file: %q, %v", got, err)
	}

	t.Setenv("BW_TEST_SECRET_FILE", filepath.Join(dir, "missing"))
	if _, err := Secret("BW_TEST_SECRET"); err == nil || !strings.Contains(err.Error(), "BW_TEST_SECRET_FILE") {
		t.Fatalf("missing file: %v, want an error naming the variable", err)
	}
}
