package hyperstacksim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"
)

// Faults are the rates (0 to 1) at which the simulator misbehaves, each
// class on its own. Which request gets a fault is decided by a hash of the
// seed, the request (method, path and query) and how often that same request
// was made before, so a crawl meets the same faults whatever its order, and
// a retry draws again.
type Faults struct {
	Error500      float64 `json:"error_500"`      // 500 with the error envelope
	Error502      float64 `json:"error_502"`      // a proxy's 502 or 503, HTML body
	Reset         float64 `json:"reset"`          // connection reset, no response
	Hang          float64 `json:"hang"`           // no response until the client gives up
	SlowBody      float64 `json:"slow_body"`      // the body trickles out over SlowBodyFor
	Truncate      float64 `json:"truncate"`       // a well-framed response whose JSON is cut short
	WrongType     float64 `json:"wrong_type"`     // one number sent as a string
	ExtraField    float64 `json:"extra_field"`    // one undeclared field added
	Null          float64 `json:"null"`           // one value sent as null
	UnstablePages float64 `json:"unstable_pages"` // an item appears or vanishes between two pages
}

// faultClass names a fault in stats and flags.
type faultClass string

const (
	faultNone      faultClass = ""
	fault500       faultClass = "error_500"
	fault502       faultClass = "error_502"
	faultReset     faultClass = "reset"
	faultHang      faultClass = "hang"
	faultSlow      faultClass = "slow_body"
	faultTruncate  faultClass = "truncate"
	faultWrongType faultClass = "wrong_type"
	faultExtra     faultClass = "extra_field"
	faultNull      faultClass = "null"
	faultUnstable  faultClass = "unstable_pages"
)

// classes lists the fault classes in the order they are drawn; the first
// that hits wins, so a request has at most one fault.
func (f Faults) classes() []struct {
	class faultClass
	rate  float64
} {
	return []struct {
		class faultClass
		rate  float64
	}{
		{faultReset, f.Reset}, {faultHang, f.Hang}, {fault500, f.Error500}, {fault502, f.Error502},
		{faultTruncate, f.Truncate}, {faultSlow, f.SlowBody}, {faultWrongType, f.WrongType},
		{faultExtra, f.ExtraField}, {faultNull, f.Null}, {faultUnstable, f.UnstablePages},
	}
}

// AllFaults returns every class at the same rate.
func AllFaults(rate float64) Faults {
	return Faults{rate, rate, rate, rate, rate, rate, rate, rate, rate, rate}
}

// draw is a deterministic pseudo-random number in [0, 1) for one request.
type draw struct {
	seed uint64
	key  uint64 // hash of method, path and query
	n    uint64 // how many times the same request came before
}

func newDraw(seed uint64, key string, n int) draw {
	h := fnv.New64a()
	h.Write([]byte(key))
	return draw{seed: seed, key: h.Sum64(), n: uint64(n)}
}

func (d draw) float(salt uint64) float64 {
	return float64(mix(d.seed, d.key, d.n, salt)>>11) / (1 << 53)
}

func (d draw) pick(salt uint64, n int) int {
	return int(mix(d.seed, d.key, d.n, salt) % uint64(n))
}

// choose decides which fault, if any, a request gets. Unstable pagination
// only applies to pages after the first of a list.
func (f Faults) choose(d draw, laterPage bool) faultClass {
	for i, c := range f.classes() {
		if c.class == faultUnstable && !laterPage {
			continue
		}
		if c.rate > 0 && d.float(uint64(i)+1) < c.rate {
			return c.class
		}
	}
	return faultNone
}

// leaf is one scalar in a response tree, with how to replace it.
type leaf struct {
	path string
	key  string
	set  func(any)
	val  any
}

// leaves walks a response tree in a fixed order.
func leaves(v any, path string, out *[]leaf) {
	switch x := v.(type) {
	case obj:
		for _, k := range sortedKeys(x) {
			switch x[k].(type) {
			case obj, []any:
				leaves(x[k], path+"."+k, out)
			default:
				*out = append(*out, leaf{path: path + "." + k, key: k, val: x[k], set: func(nv any) { x[k] = nv }})
			}
		}
	case []any:
		for i := range x {
			switch x[i].(type) {
			case obj, []any:
				leaves(x[i], path+"["+strconv.Itoa(i)+"]", out)
			default:
				*out = append(*out, leaf{path: fmt.Sprintf("%s[%d]", path, i), val: x[i], set: func(nv any) { x[i] = nv }})
			}
		}
	}
}

// sortedKeys gives an object's keys in a fixed order, so fault draws pick
// the same field every time.
func sortedKeys(o obj) []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// objects lists every object of a tree in a fixed order.
func objects(v any, out *[]obj) {
	switch x := v.(type) {
	case obj:
		*out = append(*out, x)
		for _, k := range sortedKeys(x) {
			objects(x[k], out)
		}
	case []any:
		for _, e := range x {
			objects(e, out)
		}
	}
}

// mutate applies a body fault to a response tree and says what it did.
func mutate(body obj, class faultClass, d draw) string {
	var all []leaf
	leaves(body, "", &all)
	var candidates []leaf
	for _, l := range all {
		switch class {
		case faultWrongType:
			if _, ok := l.val.(json.Number); ok {
				candidates = append(candidates, l)
			}
		case faultNull:
			if l.key != "status" && l.key != "success" && l.key != "message" && l.key != "" {
				candidates = append(candidates, l)
			}
		}
	}
	switch class {
	case faultWrongType, faultNull:
		if len(candidates) == 0 {
			return ""
		}
		l := candidates[d.pick(101, len(candidates))]
		if class == faultWrongType {
			l.set(string(l.val.(json.Number)))
			return "number as string at " + l.path
		}
		l.set(nil)
		return "null at " + l.path
	case faultExtra:
		var objs []obj
		objects(body, &objs)
		o := objs[d.pick(102, len(objs))]
		o["x_undocumented"] = obj{"added_at": time.Unix(0, 0).UTC().Format(time.RFC3339), "value": intJSON(int64(d.pick(103, 1000)))}
		return "extra field"
	}
	return ""
}
