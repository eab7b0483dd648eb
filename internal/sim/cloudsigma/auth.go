package cloudsigma

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Auth modes: which schemes the simulator accepts.
const (
	AuthBasic  = "basic"
	AuthDigest = "digest"
	AuthBoth   = "both"
)

// realm is the live API's Digest realm.
const realm = "users"

// authenticator checks HTTP Basic and Digest credentials (RFC 7617, RFC
// 7616 with qop=auth, MD5 or SHA-256). Nonces carry their issue time and a
// MAC over it and the nonce generation, so the server keeps no nonce list:
// a nonce older than ttl, or from before ExpireNonces, is stale and the
// answer is a new challenge with stale=true. It only remembers each nonce's
// last nonce count, to refuse replays.
type authenticator struct {
	mode, user, pass string
	ttl              time.Duration
	wall             func() time.Time
	secret           []byte
	opaque           string

	mu     sync.Mutex
	gen    uint64
	issued uint64
	lastNC map[string]uint64
}

func newAuthenticator(mode, user, pass string, ttl time.Duration, wall func() time.Time, seed uint64) *authenticator {
	secret := binary.BigEndian.AppendUint64(nil, mix(seed, 0xa17))
	return &authenticator{
		mode: mode, user: user, pass: pass, ttl: ttl, wall: wall, secret: secret,
		opaque: hex.EncodeToString(hmacSum(secret, "opaque")[:20]), lastNC: map[string]uint64{},
	}
}

func hmacSum(secret []byte, s string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(s))
	return h.Sum(nil)
}

// verdict is what authorize decided, for the 401's challenge.
type verdict struct {
	ok    bool
	stale bool
}

// authorize checks a request's Authorization header.
func (a *authenticator) authorize(r *http.Request) verdict {
	scheme, params, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Basic") && a.mode != AuthDigest:
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(params))
		user, pass, ok := strings.Cut(string(raw), ":")
		return verdict{ok: err == nil && ok && equal(user, a.user) && equal(pass, a.pass)}
	case strings.EqualFold(scheme, "Digest") && a.mode != AuthBasic:
		return a.digest(r, parseDigest(params))
	}
	return verdict{}
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// parseDigest reads the comma-separated name=value pairs of a Digest
// header; values may be quoted.
func parseDigest(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimLeft(strings.TrimSpace(s), ",") {
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		name = strings.ToLower(strings.TrimSpace(name))
		rest = strings.TrimSpace(rest)
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for end < len(rest) && (rest[end] != '"' || rest[end-1] == '\\') {
				end++
			}
			val = strings.ReplaceAll(rest[1:min(end, len(rest))], `\"`, `"`)
			s = rest[min(end+1, len(rest)):]
		} else {
			val, s, _ = strings.Cut(rest, ",")
			val = strings.TrimSpace(val)
		}
		out[name] = val
		s = strings.TrimSpace(s)
	}
	return out
}

func hasher(algorithm string) func() hash.Hash {
	switch strings.ToUpper(algorithm) {
	case "", "MD5":
		return md5.New
	case "SHA-256":
		return sha256.New
	}
	return nil
}

func hexHash(newHash func() hash.Hash, parts ...string) string {
	h := newHash()
	h.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(h.Sum(nil))
}

func (a *authenticator) digest(r *http.Request, p map[string]string) verdict {
	newHash := hasher(p["algorithm"])
	if newHash == nil || p["qop"] != "auth" || p["realm"] != realm || p["opaque"] != a.opaque ||
		p["uri"] != r.URL.RequestURI() || !equal(p["username"], a.user) || p["cnonce"] == "" {
		return verdict{}
	}
	nc, err := strconv.ParseUint(p["nc"], 16, 32)
	if err != nil {
		return verdict{}
	}
	fresh, known := a.checkNonce(p["nonce"])
	if !known {
		return verdict{}
	}
	ha1 := hexHash(newHash, a.user, realm, a.pass)
	ha2 := hexHash(newHash, r.Method, p["uri"])
	want := hexHash(newHash, ha1, p["nonce"], p["nc"], p["cnonce"], "auth", ha2)
	if !equal(strings.ToLower(p["response"]), want) {
		return verdict{}
	}
	if !fresh {
		return verdict{stale: true} // right password, old nonce: a new challenge
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if nc <= a.lastNC[p["nonce"]] {
		return verdict{} // a replay
	}
	a.lastNC[p["nonce"]] = nc
	return verdict{ok: true}
}

// newNonce issues a nonce in the live API's shape,
// "1363185031.81:FCF2:443b657bfd1a7340a0841c704d93a579": issue time, a
// counter, and a MAC over both and the generation.
func (a *authenticator) newNonce() string {
	a.mu.Lock()
	a.issued++
	n, gen := a.issued, a.gen
	a.mu.Unlock()
	ts := fmt.Sprintf("%.2f", float64(a.wall().UnixMilli())/1000)
	ctr := fmt.Sprintf("%04X", n&0xffff)
	return ts + ":" + ctr + ":" + a.nonceMAC(ts, ctr, gen)
}

func (a *authenticator) nonceMAC(ts, ctr string, gen uint64) string {
	return hex.EncodeToString(hmacSum(a.secret, ts+":"+ctr+":"+strconv.FormatUint(gen, 10))[:16])
}

// checkNonce reports whether a nonce is one of ours (known) and still good
// (fresh): of the current generation and younger than ttl.
func (a *authenticator) checkNonce(nonce string) (fresh, known bool) {
	parts := strings.Split(nonce, ":")
	if len(parts) != 3 {
		return false, false
	}
	a.mu.Lock()
	gen := a.gen
	a.mu.Unlock()
	for g := gen; ; g-- {
		if hmac.Equal([]byte(parts[2]), []byte(a.nonceMAC(parts[0], parts[1], g))) {
			if g != gen {
				return false, true
			}
			ts, err := strconv.ParseFloat(parts[0], 64)
			issued := time.UnixMilli(int64(ts*1000 + 0.5))
			return err == nil && a.wall().Sub(issued) < a.ttl, true
		}
		if g == 0 {
			return false, false
		}
	}
}

// ExpireNonces makes every nonce issued so far stale.
func (a *authenticator) expireNonces() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	a.lastNC = map[string]uint64{}
}

// challenges are the WWW-Authenticate values of a 401: Digest with MD5 (as
// the docs show it) and SHA-256, and Basic, as the mode allows.
func (a *authenticator) challenges(stale bool) []string {
	var out []string
	if a.mode != AuthBasic {
		nonce := a.newNonce()
		for _, alg := range []string{"MD5", "SHA-256"} {
			c := fmt.Sprintf(`Digest nonce=%q, realm=%q, algorithm=%q, opaque=%q, qop="auth"`, nonce, realm, alg, a.opaque)
			if stale {
				c += ", stale=true"
			}
			out = append(out, c)
		}
	}
	if a.mode != AuthDigest {
		out = append(out, fmt.Sprintf("Basic realm=%q", realm))
	}
	return out
}
