package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/sim/simtest"
)

// TestServes runs the real binary, waits for its "listening" line and asks
// it for the VM billing history with and without the key.
func TestServes(t *testing.T) {
	base := simtest.Serve(t, "hyperstack-sim", "--scale", "small", "--addr", "127.0.0.1:0", "--api-key", "k-123", "--now", "2026-11-23T12:00:00Z")

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
