package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
)

// Class names a fault in statistics, in /_sim/faults and (with a "fault-"
// prefix) in flags.
type Class string

// The classes every simulator has. The middleware carries out all of them
// but FaultUnstablePages, which only a provider's list handler can: it
// reads Request.Fault.
const (
	Fault500           Class = "error_500"      // 500 in the provider's error envelope
	Fault502           Class = "error_502"      // a proxy's 502 or 503, HTML body
	FaultReset         Class = "reset"          // connection reset, no response
	FaultHang          Class = "hang"           // no response until the client gives up
	FaultSlowBody      Class = "slow_body"      // the body trickles out over SlowBodyFor
	FaultTruncate      Class = "truncate"       // a well-framed response whose body is cut short
	FaultWrongType     Class = "wrong_type"     // one number sent as a string
	FaultExtraField    Class = "extra_field"    // one undeclared field added
	FaultNull          Class = "null"           // one value sent as null
	FaultUnstablePages Class = "unstable_pages" // an item appears or vanishes between two pages
)

// Faults are the rates (0 to 1) at which a simulator misbehaves, each class
// on its own. Which request gets a fault is decided by a Draw, so a crawl
// meets the same faults whatever its order, and a retry draws again.
type Faults struct {
	Error500      float64 `json:"error_500"`
	Error502      float64 `json:"error_502"`
	Reset         float64 `json:"reset"`
	Hang          float64 `json:"hang"`
	SlowBody      float64 `json:"slow_body"`
	Truncate      float64 `json:"truncate"`
	WrongType     float64 `json:"wrong_type"`
	ExtraField    float64 `json:"extra_field"`
	Null          float64 `json:"null"`
	UnstablePages float64 `json:"unstable_pages"`
	// Extra holds the rates of a provider's own classes (Config.Classes).
	// In JSON they sit beside the standard ones.
	Extra map[Class]float64 `json:"-"`
}

// AllFaults returns every standard class at the same rate; a simulator's
// Flags add its own classes at that rate too.
func AllFaults(rate float64) Faults {
	return Faults{rate, rate, rate, rate, rate, rate, rate, rate, rate, rate, nil}
}

// drawOrder lists the standard classes in the order they are drawn: the
// first that hits wins, so a request has at most one fault. The position
// is the draw's salt; changing the order changes every seeded run.
var drawOrder = []Class{
	FaultReset, FaultHang, Fault500, Fault502, FaultTruncate, FaultSlowBody,
	FaultWrongType, FaultExtraField, FaultNull, FaultUnstablePages,
}

// Rate returns a class's rate.
func (f Faults) Rate(c Class) float64 {
	if p := f.field(c); p != nil {
		return *p
	}
	return f.Extra[c]
}

// field points at a standard class's rate, nil for any other class.
func (f *Faults) field(c Class) *float64 {
	switch c {
	case Fault500:
		return &f.Error500
	case Fault502:
		return &f.Error502
	case FaultReset:
		return &f.Reset
	case FaultHang:
		return &f.Hang
	case FaultSlowBody:
		return &f.SlowBody
	case FaultTruncate:
		return &f.Truncate
	case FaultWrongType:
		return &f.WrongType
	case FaultExtraField:
		return &f.ExtraField
	case FaultNull:
		return &f.Null
	case FaultUnstablePages:
		return &f.UnstablePages
	}
	return nil
}

// Choose decides which fault, if any ("" then), a request with draw d gets:
// the standard classes in a fixed order, then the extra ones by name, each
// with its own salt, so a provider's classes never move the standard draws.
// applies, when not nil, skips the classes that cannot happen to this
// request; a skipped class keeps its salt.
func (f Faults) Choose(d Draw, applies func(Class) bool) Class {
	for i, c := range drawOrder {
		if rate := f.Rate(c); rate > 0 && (applies == nil || applies(c)) && d.Float(uint64(i)+1) < rate {
			return c
		}
	}
	for _, c := range slices.Sorted(maps.Keys(f.Extra)) {
		if rate := f.Extra[c]; rate > 0 && (applies == nil || applies(c)) && d.Float(classSalt(c)) < rate {
			return c
		}
	}
	return ""
}

// classSalt is an extra class's salt: a hash of its name, far above the
// salts the package uses (below 1000).
func classSalt(c Class) uint64 {
	h := fnv.New64a()
	h.Write([]byte(c))
	return h.Sum64() | 1<<63
}

// MarshalJSON writes the standard rates, then the extra ones.
func (f Faults) MarshalJSON() ([]byte, error) {
	type plain Faults
	b, err := json.Marshal(plain(f))
	if err != nil || len(f.Extra) == 0 {
		return b, err
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1])
	for _, c := range slices.Sorted(maps.Keys(f.Extra)) {
		k, _ := json.Marshal(string(c))
		v, err := json.Marshal(f.Extra[c])
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&buf, ",%s:%s", k, v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads the standard rates and keeps any other key as an
// extra class; a Server refuses classes it does not know.
func (f *Faults) UnmarshalJSON(b []byte) error {
	type plain Faults
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*f = Faults(p)
	f.Extra = nil
	for k, raw := range all {
		if (&Faults{}).field(Class(k)) != nil {
			continue
		}
		var rate float64
		if err := json.Unmarshal(raw, &rate); err != nil {
			return fmt.Errorf("fault %q: %w", k, err)
		}
		if f.Extra == nil {
			f.Extra = map[Class]float64{}
		}
		f.Extra[Class(k)] = rate
	}
	return nil
}

// Draw is a deterministic pseudo-random source for one request: a hash of
// the seed, the request's key and how many times the same key came before.
// Each decision reads it with its own salt. This package uses salts below
// 1000 (1-10 the classes, 101-104 body faults and the 502's status, 200 the
// latency; hyperstack's page shift uses 105); a provider's own decisions use
// salts from 1000 up.
type Draw struct {
	seed uint64
	key  uint64
	n    uint64
}

// NewDraw returns the draw of the n-th repeat (from 0) of a request key.
func NewDraw(seed uint64, key string, n int) Draw {
	h := fnv.New64a()
	h.Write([]byte(key))
	return Draw{seed: seed, key: h.Sum64(), n: uint64(n)}
}

// Float returns a number in [0, 1).
func (d Draw) Float(salt uint64) float64 {
	return float64(Mix(d.seed, d.key, d.n, salt)>>11) / (1 << 53)
}

// Pick returns an integer in [0, n).
func (d Draw) Pick(salt uint64, n int) int {
	return int(Mix(d.seed, d.key, d.n, salt) % uint64(n))
}

// Mix hashes integers into one well-spread integer (a splitmix64 fold); a
// model can use it for its own deterministic noise.
func Mix(xs ...uint64) uint64 {
	var h uint64 = 0x9e3779b97f4a7c15
	for _, x := range xs {
		h ^= x + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h ^= h >> 30
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 27
		h *= 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}
