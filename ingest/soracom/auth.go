package soracom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/billing-warehouse/billing-warehouse/ingest"
)

// auth holds the API key and token POST /auth gives for the auth key pair:
// one login per run (the endpoint is rate limited per IP), renewed once
// when the API says the token is no longer good. Neither the key pair nor
// the token is kept anywhere but here, nor shown.
type auth struct {
	client     *ingest.Client
	keyID, key string

	login      sync.Mutex // one login at a time
	mu         sync.RWMutex
	apiKey     string
	token      string
	generation int // how many logins so far
	operatorID string
}

// authorize adds the API key and token to a request, except /auth's own.
func (a *auth) authorize(req *http.Request) {
	if strings.HasSuffix(req.URL.Path, "/auth") {
		return
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.token != "" {
		req.Header.Set("X-Soracom-API-Key", a.apiKey)
		req.Header.Set("X-Soracom-Token", a.token)
	}
}

// current is the generation of the token in use; 0 before any login.
func (a *auth) current() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.generation
}

// renew logs in unless another caller already did since seen.
func (a *auth) renew(ctx context.Context, seen int) error {
	a.login.Lock()
	defer a.login.Unlock()
	if a.current() != seen {
		return nil
	}
	body, _ := json.Marshal(map[string]string{"authKeyId": a.keyID, "authKey": a.key})
	resp, err := a.client.Do(ctx, ingest.Request{Method: http.MethodPost, Path: "/auth", Body: body, Label: "auth"})
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	var out struct {
		APIKey     string `json:"apiKey"`
		Token      string `json:"token"`
		OperatorID string `json:"operatorId"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil || out.APIKey == "" || out.Token == "" {
		return fmt.Errorf("log in: %w: the answer has no apiKey and token", ErrMalformed) // never the body: it holds them
	}
	if strings.ContainsAny(out.APIKey+out.Token, "\r\n\x00") {
		return fmt.Errorf("log in: %w: the API key or token holds a line break", ErrMalformed)
	}
	a.mu.Lock()
	a.apiKey, a.token, a.operatorID = out.APIKey, out.Token, out.OperatorID
	a.generation++
	a.mu.Unlock()
	return nil
}

// ensure logs in if no login happened yet, and returns the token's generation.
func (a *auth) ensure(ctx context.Context) (int, error) {
	if g := a.current(); g > 0 {
		return g, nil
	}
	if err := a.renew(ctx, 0); err != nil {
		return 0, err
	}
	return a.current(), nil
}

func (a *auth) operator() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.operatorID
}
