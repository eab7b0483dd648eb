package cloudsigma

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// basicAuth sends the username and password with every request.
type basicAuth struct{ header string }

func newBasic(user, pass string) *basicAuth {
	return &basicAuth{header: "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
}

func (b *basicAuth) Sign(req *http.Request) func(int, http.Header) bool {
	req.Header.Set("Authorization", b.header)
	return nil
}

// digestAuth answers the API's Digest challenges (RFC 7616, qop=auth,
// SHA-256 when offered, else MD5). A nonce's counts must reach the server
// in order, and requests in flight overtake each other, so each request
// takes a nonce no other request is using and gives it back with its
// answer: there are as many nonces as requests in flight. The first
// request of each gets a 401 whose challenge brings it; so does the first
// request after a nonce goes stale. Neither the password nor HA1 leaves
// this type; the Authorization header is never logged by the client.
type digestAuth struct {
	user string
	ha1  map[string]string // by algorithm: HA1 = H(user:realm:password), computed per realm seen

	pass     string
	proven   atomic.Bool // the API has accepted the password this run
	mu       sync.Mutex
	free     []*nonce
	reserved map[string]*nonce // a challenge's nonce, kept for the request it answered
}

// nonce is one server nonce with its count and the challenge around it.
type nonce struct {
	value, realm, opaque, algorithm string
	count                           uint32
}

func newDigest(user, pass string) *digestAuth {
	return &digestAuth{user: user, pass: pass, ha1: map[string]string{}, reserved: map[string]*nonce{}}
}

func (d *digestAuth) Sign(req *http.Request) func(int, http.Header) bool {
	// The request sent again after a 401 takes the nonce its challenge
	// brought: another request might take a pooled one that went stale
	// too, and a request is sent again only once.
	key := req.Method + " " + req.URL.RequestURI()
	d.mu.Lock()
	n := d.reserved[key]
	delete(d.reserved, key)
	if k := len(d.free); n == nil && k > 0 {
		n, d.free = d.free[k-1], d.free[:k-1]
	}
	d.mu.Unlock()
	if n != nil {
		n.count++
		req.Header.Set("Authorization", d.authorization(n, req.Method, req.URL.RequestURI()))
	}
	// Without a nonce the request goes unsigned: its 401 brings one.
	return func(status int, h http.Header) bool {
		if status == http.StatusUnauthorized {
			fresh, stale := d.challenge(h)
			if fresh != nil {
				d.mu.Lock()
				if old := d.reserved[key]; old != nil {
					d.free = append(d.free, old)
				}
				d.reserved[key] = fresh
				d.mu.Unlock()
			}
			// The used nonce is dropped. Sending again only helps when the
			// request went unsigned or its nonce was merely stale: a
			// refused password is not tried twice. Once the API has
			// accepted the password, a refusal is the nonce's: a count
			// it has seen (Go's transport resends a GET whose reused
			// connection broke, Authorization and all, and the server
			// may have counted the first), or an expired nonce on a
			// server that never says stale (django-digest, whose nonce
			// format the API's is).
			return fresh != nil && (n == nil || stale || d.proven.Load())
		}
		if n != nil {
			if status >= 200 && status < 300 {
				d.proven.Store(true)
			}
			d.give(n)
		}
		return false
	}
}

func (d *digestAuth) give(n *nonce) {
	d.mu.Lock()
	d.free = append(d.free, n)
	d.mu.Unlock()
}

// challenge reads the Digest challenges of a 401 and returns the best,
// and whether it says the nonce used was stale.
func (d *digestAuth) challenge(h http.Header) (best *nonce, stale bool) {
	for _, v := range h.Values("WWW-Authenticate") {
		scheme, params, _ := strings.Cut(v, " ")
		if !strings.EqualFold(scheme, "Digest") {
			continue
		}
		p := parseParams(params)
		alg := strings.ToUpper(p["algorithm"])
		if alg == "" {
			alg = "MD5"
		}
		if hasher(alg) == nil || p["nonce"] == "" || !qopAuth(p["qop"]) {
			continue
		}
		if best == nil || alg == "SHA-256" {
			best = &nonce{value: p["nonce"], realm: p["realm"], opaque: p["opaque"], algorithm: alg}
			stale = strings.EqualFold(p["stale"], "true")
		}
	}
	return best, stale
}

func qopAuth(qop string) bool {
	for _, q := range strings.Split(qop, ",") {
		if strings.TrimSpace(q) == "auth" {
			return true
		}
	}
	return false
}

func hasher(alg string) func() hash.Hash {
	switch alg {
	case "MD5":
		return md5.New
	case "SHA-256":
		return sha256.New
	}
	return nil
}

func hexHash(h func() hash.Hash, s string) string {
	x := h()
	x.Write([]byte(s))
	return hex.EncodeToString(x.Sum(nil))
}

func (d *digestAuth) authorization(n *nonce, method, uri string) string {
	h := hasher(n.algorithm)
	d.mu.Lock()
	ha1, ok := d.ha1[n.algorithm+"\x00"+n.realm]
	if !ok {
		ha1 = hexHash(h, d.user+":"+n.realm+":"+d.pass)
		d.ha1[n.algorithm+"\x00"+n.realm] = ha1
	}
	d.mu.Unlock()
	var b [12]byte
	rand.Read(b[:])
	cnonce := hex.EncodeToString(b[:])
	nc := fmt.Sprintf("%08x", n.count)
	resp := hexHash(h, ha1+":"+n.value+":"+nc+":"+cnonce+":auth:"+hexHash(h, method+":"+uri))
	return fmt.Sprintf(`Digest username=%q, realm=%q, nonce=%q, uri=%q, algorithm=%s, qop=auth, nc=%s, cnonce=%q, response=%q, opaque=%q`,
		d.user, n.realm, n.value, uri, n.algorithm, nc, cnonce, resp, n.opaque)
}

// parseParams reads the name=value pairs of a challenge; values may be quoted.
func parseParams(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), ",")) {
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
	}
	return out
}
