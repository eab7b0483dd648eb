package sim

import (
	"flag"
	"fmt"
	"strconv"
	"time"
)

// Flags are the command-line flags every simulator shares. Set the fields
// that should default to something else (Addr at least) before Register:
// the values a Flags holds then are the defaults --help shows.
type Flags struct {
	Addr        string
	Seed        int64 // default 1
	Start, Now  time.Time
	RateLimit   int // <= 0: no limit
	RetryAfter  bool
	Latency     Latency
	Faults      Faults
	AllFaults   float64       // --faults: every class at this rate
	HangFor     time.Duration // default 10m
	SlowBodyFor time.Duration // default 2s

	extra []ClassFlag
}

// ClassFlag declares a provider's own fault class for the command line:
// --fault-<Flag> sets its rate, and --faults includes it.
type ClassFlag struct {
	Class Class
	Flag  string // "503-conflict" for --fault-503-conflict
	Usage string // "rate of …"
}

// standardFlags are the standard classes' flags, in the order --help lists
// them.
var standardFlags = []ClassFlag{
	{Fault500, "500", "rate of 500 responses"},
	{Fault502, "502", "rate of 502/503 responses from a proxy"},
	{FaultReset, "reset", "rate of connection resets"},
	{FaultHang, "hang", "rate of responses that never come"},
	{FaultSlowBody, "slow-body", "rate of bodies that trickle out"},
	{FaultTruncate, "truncate", "rate of truncated JSON bodies"},
	{FaultWrongType, "wrong-type", "rate of bodies with a number sent as a string"},
	{FaultExtraField, "extra-field", "rate of bodies with an undeclared field"},
	{FaultNull, "null", "rate of bodies with a null value"},
	{FaultUnstablePages, "unstable-pages", "rate of list pages shifted by an item appearing or vanishing"},
}

// Register defines the shared flags on fs: --addr, --seed, --start, --now,
// --rate-limit, --retry-after, --latency, --fault-<class> for every
// standard class and each of extra, --faults, --hang-for, --slow-body-for.
func (f *Flags) Register(fs *flag.FlagSet, extra ...ClassFlag) {
	if f.Seed == 0 {
		f.Seed = 1
	}
	if f.HangFor == 0 {
		f.HangFor = 10 * time.Minute
	}
	if f.SlowBodyFor == 0 {
		f.SlowBodyFor = 2 * time.Second
	}
	f.extra = extra
	fs.StringVar(&f.Addr, "addr", f.Addr, "listen address")
	fs.Int64Var(&f.Seed, "seed", f.Seed, "seed of the generated data and of the fault and latency draws")
	timeVar(fs, &f.Start, "start", "start of the billing history, RFC 3339 (default: the simulator's own)")
	timeVar(fs, &f.Now, "now", "fix the clock at this time, RFC 3339 (default: real time)")
	fs.IntVar(&f.RateLimit, "rate-limit", f.RateLimit, "requests per minute per client; 0 or less: no limit")
	fs.BoolVar(&f.RetryAfter, "retry-after", f.RetryAfter, "send Retry-After with 429s")
	fs.Func("latency", "how long after it arrives a request is answered (the simulator's own work included): a duration (50ms) or a range (10ms-80ms)", func(v string) error {
		l, err := ParseLatency(v)
		f.Latency = l
		return err
	})
	fs.DurationVar(&f.HangFor, "hang-for", f.HangFor, "how long a hanging response hangs")
	fs.DurationVar(&f.SlowBodyFor, "slow-body-for", f.SlowBodyFor, "how long a slow body takes")
	for _, c := range standardFlags {
		fs.Float64Var(f.Faults.field(c.Class), "fault-"+c.Flag, 0, c.Usage+" (0 to 1)")
	}
	for _, c := range extra {
		fs.Func("fault-"+c.Flag, c.Usage+" (0 to 1)", func(v string) error {
			rate, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("want a rate from 0 to 1: %w", err)
			}
			if f.Faults.Extra == nil {
				f.Faults.Extra = map[Class]float64{}
			}
			f.Faults.Extra[c.Class] = rate
			return nil
		})
	}
	fs.Float64Var(&f.AllFaults, "faults", f.AllFaults, "set every fault rate at once (0 to 1)")
}

// Config returns the server configuration the parsed flags describe;
// --faults, when above 0, overrides every class's rate, the extra ones too.
func (f *Flags) Config() Config {
	faults := f.Faults
	if f.AllFaults > 0 {
		faults = AllFaults(f.AllFaults)
		for _, c := range f.extra {
			if faults.Extra == nil {
				faults.Extra = map[Class]float64{}
			}
			faults.Extra[c.Class] = f.AllFaults
		}
	}
	return Config{
		Seed: f.Seed, RateLimit: f.RateLimit, RetryAfter: f.RetryAfter, Faults: faults,
		Latency: f.Latency, HangFor: f.HangFor, SlowBodyFor: f.SlowBodyFor,
	}
}

func timeVar(fs *flag.FlagSet, t *time.Time, name, usage string) {
	fs.Func(name, usage, func(v string) error {
		parsed, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fmt.Errorf("want RFC 3339, e.g. 2026-11-01T00:00:00Z: %w", err)
		}
		*t = parsed.UTC()
		return nil
	})
}
