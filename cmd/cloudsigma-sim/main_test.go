package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/sim/simtest"
)

// TestServes runs the real binary, waits for its "listening" line and asks
// it for the balance without and with credentials.
func TestServes(t *testing.T) {
	base := simtest.Serve(t, "cloudsigma-sim", "--addr", "127.0.0.1:0", "--user", "u@example.com", "--password", "p-123",
		"--currency", "EUR", "--servers", "3", "--now", "2026-03-18T12:00:00Z")
	if !strings.HasSuffix(base, "/api/2.0/") {
		t.Errorf("url %s", base)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"balance/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Digest ") {
		t.Errorf("without credentials: %d %v", resp.StatusCode, resp.Header)
	}

	req.SetBasicAuth("u@example.com", "p-123")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Balance  string  `json:"balance"`
		Credit   *string `json:"credit_limit"`
		Currency string  `json:"currency"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || body.Currency != "EUR" || !regexp.MustCompile(`^-?\d+\.\d{20}$`).MatchString(body.Balance) {
		t.Fatalf("with credentials: %d %+v", resp.StatusCode, body)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--currency", "JPY"}, {"--auth", "cookie"}, {"--servers", "-2"},
		{"--now", "yesterday"}, {"--latency", "soon"}, {"extra"},
	} {
		if err := run(t.Context(), append(args, "--addr", "127.0.0.1:0", "--now", "2026-03-18T12:00:00Z"), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
