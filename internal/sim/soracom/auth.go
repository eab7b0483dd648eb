package soracom

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// authenticator issues and checks Soracom's API key and token pairs. Tokens
// live on the billing clock, so advancing it expires them.
type authenticator struct {
	keyID, key string
	ttl        time.Duration
	clock      *sim.Clock
	model      *Model
	limiter    *sim.Limiter
	secret     []byte

	mu     sync.Mutex
	issued int
	tokens map[string]session // by API key
}

type session struct {
	token   string
	expires time.Time
}

// MaxTokenTimeout is the largest tokenTimeoutSeconds the API takes.
const MaxTokenTimeout = 172800

func newAuthenticator(cfg Config, m *Model, clock *sim.Clock) *authenticator {
	return &authenticator{
		keyID: cfg.AuthKeyID, key: cfg.AuthKey, ttl: cfg.TokenTTL, clock: clock, model: m,
		limiter: sim.NewLimiter(cfg.AuthRateLimit, time.Minute, cfg.WallClock),
		secret:  []byte("soracom-sim-" + strconv.FormatUint(m.seed, 16)),
		tokens:  map[string]session{},
	}
}

// derive makes an id from the seed, so a seeded run hands out the same
// keys and tokens.
func derive(secret []byte, parts ...string) string {
	h := hmac.New(sha256.New, secret)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func uuidOf(hexs string) string {
	return hexs[:8] + "-" + hexs[8:12] + "-4" + hexs[13:16] + "-a" + hexs[17:20] + "-" + hexs[20:32]
}

type authRequest struct {
	AuthKeyID           string `json:"authKeyId"`
	AuthKey             string `json:"authKey"`
	Email               string `json:"email"`
	OperatorID          string `json:"operatorId"`
	UserName            string `json:"userName"`
	Password            string `json:"password"`
	TokenTimeoutSeconds *int64 `json:"tokenTimeoutSeconds"`
}

// login answers POST /auth: a new API key and token for a good key pair.
// It has its own per-IP limit, whose numbers its rate-limit headers show.
func (a *authenticator) login(r *sim.Request) (any, error) {
	q := a.limiter.Take(sim.ClientIP(r.Request))
	writeRateHeaders(r.ResponseHeader, q)
	if !q.Allowed {
		return nil, errorf(http.StatusTooManyRequests, CodeTooMany, "Too many authentication requests. Please wait up to a minute and retry.")
	}
	var in authRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&in); err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "Invalid JSON body.")
	}
	ttl := a.ttl
	if in.TokenTimeoutSeconds != nil {
		secs := *in.TokenTimeoutSeconds
		if secs < 180 || secs > MaxTokenTimeout {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "tokenTimeoutSeconds must be between 180 and %d.", MaxTokenTimeout)
		}
		ttl = time.Duration(secs) * time.Second
	}
	if in.AuthKeyID == "" || in.AuthKey == "" || (a.keyID != "" && (in.AuthKeyID != a.keyID || in.AuthKey != a.key)) {
		return nil, errorf(http.StatusUnauthorized, CodeAuthFailed, "Authentication failed. Check the authKeyId and authKey.")
	}
	a.mu.Lock()
	a.issued++
	n := strconv.Itoa(a.issued)
	a.mu.Unlock()
	apiKey := "api-" + uuidOf(derive(a.secret, "api-key", n))
	token := derive(a.secret, "token", n) + derive(a.secret, "token2", n)[:40]
	a.mu.Lock()
	a.tokens[apiKey] = session{token: token, expires: a.clock.Now().Add(ttl)}
	a.mu.Unlock()
	return map[string]any{"apiKey": apiKey, "token": token, "operatorId": a.model.OperatorID()}, nil
}

// logout answers POST /auth/logout: the pair is revoked at once.
func (a *authenticator) logout(r *sim.Request) (any, error) {
	a.mu.Lock()
	delete(a.tokens, r.Header.Get("X-Soracom-API-Key"))
	a.mu.Unlock()
	r.Status = http.StatusNoContent
	return sim.Raw{}, nil
}

// valid reports whether a request carries a live API key and token.
func (a *authenticator) valid(r *http.Request) bool {
	key, token := r.Header.Get("X-Soracom-API-Key"), r.Header.Get("X-Soracom-Token")
	if key == "" || token == "" {
		return false
	}
	a.mu.Lock()
	s, ok := a.tokens[key]
	a.mu.Unlock()
	return ok && hmac.Equal([]byte(s.token), []byte(token)) && a.clock.Now().Before(s.expires)
}

// authorize is the server's credential check: everything but /auth needs a
// live pair.
func (a *authenticator) authorize(r *http.Request) bool {
	if r.URL.Path == "/v1/auth" {
		return true
	}
	return a.valid(r)
}
