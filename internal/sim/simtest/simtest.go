// Package simtest runs a simulator's real binary for its main's test.
package simtest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var urlLine = regexp.MustCompile(`url=(http://\S+)`)

// Serve builds the main package in the test's directory, starts it with
// args, waits for the line that says where it listens, and returns that
// URL. The process is interrupted when the test ends.
func Serve(t testing.TB, name string, args ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	lines := bufio.NewScanner(stderr)
	var base string
	for lines.Scan() {
		if m := urlLine.FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatalf("%s never said where it listens", name)
	}
	go io.Copy(io.Discard, stderr)
	t.Logf("%s listening at %s after %s", name, base, time.Since(began).Round(time.Millisecond))
	return base
}
