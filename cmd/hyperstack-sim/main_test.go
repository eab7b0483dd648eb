package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestServes runs the real binary, waits for its "listening" line and asks
// it for the VM billing history with and without the key.
func TestServes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hyperstack-sim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--scale", "small", "--addr", "127.0.0.1:0", "--api-key", "k-123", "--now", "2026-11-23T12:00:00Z")
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
	urlRe := regexp.MustCompile(`url=(http://\S+)`)
	var base string
	for lines.Scan() {
		if m := urlRe.FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatal("the simulator never said where it listens")
	}
	go io.Copy(io.Discard, stderr)
	t.Logf("listening after %s", time.Since(began).Round(time.Millisecond))

	req, _ := http.NewRequest(http.MethodGet, base+"/billing/billing/history/virtual-machine", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the key: %d, want 401", resp.StatusCode)
	}

	req.Header.Set("api_key", "k-123")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Success bool `json:"success"`
		VM      struct {
			History []json.RawMessage `json:"billing_history"`
		} `json:"billing_history_vm"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !body.Success || len(body.VM.History) == 0 {
		t.Fatalf("with the key: %d %+v", resp.StatusCode, body)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--scale", "huge"}, {"--count", "vms=3"}, {"--count", "virtual-machine=x"},
		{"--now", "yesterday"}, {"--latency", "soon"}, {"extra"},
	} {
		if err := run(t.Context(), args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
