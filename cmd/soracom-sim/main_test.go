package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/sim/simtest"
)

// TestServes runs the real binary, waits for its "listening" line, logs in
// with the key pair and asks for the latest bill with and without the token.
func TestServes(t *testing.T) {
	base := simtest.Serve(t, "soracom-sim", "--addr", "127.0.0.1:0", "--auth-key-id", "keyId-1", "--auth-key", "secret-1",
		"--sims", "20", "--coverage", "g", "--now", "2026-05-20T12:00:00Z")

	resp, err := http.Get(base + "/bills/latest")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", resp.StatusCode)
	}

	resp, err = http.Post(base+"/auth", "application/json", strings.NewReader(`{"authKeyId":"keyId-1","authKey":"secret-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	var auth struct{ APIKey, Token, OperatorID string }
	json.NewDecoder(resp.Body).Decode(&auth)
	resp.Body.Close()
	if resp.StatusCode != 200 || auth.Token == "" || auth.OperatorID == "" {
		t.Fatalf("auth: %d %+v", resp.StatusCode, auth)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/bills/latest", nil)
	req.Header.Set("X-Soracom-API-Key", auth.APIKey)
	req.Header.Set("X-Soracom-Token", auth.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var latest struct {
		Amount            json.Number
		Currency          string
		LastEvaluatedTime string
	}
	if err := json.NewDecoder(resp.Body).Decode(&latest); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || latest.Currency != "USD" || latest.LastEvaluatedTime != "20260520100000" || latest.Amount == "" {
		t.Fatalf("latest: %d %+v", resp.StatusCode, latest)
	}
	if resp.Header.Get("X-Soracom-Ratelimit-Limit") != "100" {
		t.Errorf("rate-limit headers: %v", resp.Header)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--coverage", "eu"}, {"--sims", "0"}, {"--close-delay", "-1"}, {"--auth-key-id", "x"},
		{"--now", "yesterday"}, {"--latency", "soon"}, {"--fault-export-failed", "x"}, {"extra"},
	} {
		if err := run(t.Context(), append(args, "--addr", "127.0.0.1:0", "--now", "2026-05-20T12:00:00Z"), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
