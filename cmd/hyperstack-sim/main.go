// Command hyperstack-sim serves a simulated Hyperstack billing API, for
// trying the warehouse without an API key. See the README for its flags and
// its /_sim/ control endpoints.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/config"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "hyperstack-sim: %v\n", err)
		os.Exit(1)
	}
}

// countsFlag reads repeated --count FAMILY=N.
type countsFlag map[hyperstacksim.Family]int

func (c countsFlag) String() string {
	var parts []string
	for f, n := range c {
		parts = append(parts, fmt.Sprintf("%s=%d", f, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (c countsFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		name, num, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 {
			return fmt.Errorf("want FAMILY=N, got %q", part)
		}
		f := hyperstacksim.Family(name)
		if _, known := hyperstacksim.Scales["small"][f]; !known {
			return fmt.Errorf("unknown family %q", name)
		}
		c[f] = n
	}
	return nil
}

func timeFlag(fs *flag.FlagSet, name, usage string) *time.Time {
	t := new(time.Time)
	fs.Func(name, usage, func(v string) error {
		parsed, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fmt.Errorf("want RFC 3339, e.g. 2026-11-01T00:00:00Z: %w", err)
		}
		*t = parsed.UTC()
		return nil
	})
	return t
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("hyperstack-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8089", "listen address")
	seed := fs.Int64("seed", 1, "seed of the generated organisation")
	apiKey := fs.String("api-key", "", "api_key header value requests must carry (default: $HYPERSTACK_API_KEY or the file named by $HYPERSTACK_API_KEY_FILE, else any)")
	scale := fs.String("scale", "small", "organisation size: small, medium or large")
	counts := countsFlag{}
	fs.Var(counts, "count", "resources of one family, FAMILY=N (repeatable; overrides --scale)")
	active := fs.Float64("active-fraction", 0.2, "share of resources still running now")
	start := timeFlag(fs, "start", "start of the billing history, RFC 3339 (default: two months before the current month)")
	now := timeFlag(fs, "now", "fix the clock at this time, RFC 3339 (default: real time)")
	rateLimit := fs.Int("rate-limit", 500, "requests per minute per client; 0 or less: no limit")
	retryAfter := fs.Bool("retry-after", false, "send Retry-After with 429 (the live API does not)")
	latency := fs.String("latency", "", "how long after it arrives a request is answered (the simulator's own work included): a duration (50ms) or a range (10ms-80ms)")
	hangFor := fs.Duration("hang-for", 10*time.Minute, "how long a hanging response hangs")
	slowFor := fs.Duration("slow-body-for", 2*time.Second, "how long a slow body takes")
	var faults hyperstacksim.Faults
	for _, f := range []struct {
		name  string
		dst   *float64
		usage string
	}{
		{"fault-500", &faults.Error500, "rate of 500 responses"},
		{"fault-502", &faults.Error502, "rate of 502/503 responses from a proxy"},
		{"fault-reset", &faults.Reset, "rate of connection resets"},
		{"fault-hang", &faults.Hang, "rate of responses that never come"},
		{"fault-slow-body", &faults.SlowBody, "rate of bodies that trickle out"},
		{"fault-truncate", &faults.Truncate, "rate of truncated JSON bodies"},
		{"fault-wrong-type", &faults.WrongType, "rate of bodies with a number sent as a string"},
		{"fault-extra-field", &faults.ExtraField, "rate of bodies with an undeclared field"},
		{"fault-null", &faults.Null, "rate of bodies with a null value"},
		{"fault-unstable-pages", &faults.UnstablePages, "rate of list pages shifted by an item appearing or vanishing"},
	} {
		fs.Float64Var(f.dst, f.name, 0, f.usage+" (0 to 1)")
	}
	allFaults := fs.Float64("faults", 0, "set every fault rate at once (0 to 1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	cfg := hyperstacksim.Config{
		ModelConfig: hyperstacksim.ModelConfig{Seed: *seed, Start: *start, Now: *now, ActiveFraction: *active},
		APIKey:      *apiKey,
		RateLimit:   *rateLimit,
		RetryAfter:  *retryAfter,
		Faults:      faults,
		HangFor:     *hangFor,
		SlowBodyFor: *slowFor,
	}
	if cfg.APIKey == "" {
		key, err := config.Secret("HYPERSTACK_API_KEY")
		if err != nil {
			return err
		}
		cfg.APIKey = key
	}
	if *rateLimit <= 0 {
		cfg.RateLimit = -1
	}
	if *allFaults > 0 {
		cfg.Faults = hyperstacksim.AllFaults(*allFaults)
	}
	base, ok := hyperstacksim.Scales[*scale]
	if !ok {
		return fmt.Errorf("--scale must be small, medium or large, not %q", *scale)
	}
	cfg.Counts = map[hyperstacksim.Family]int{}
	for f, n := range base {
		cfg.Counts[f] = n
	}
	for f, n := range counts {
		cfg.Counts[f] = n
	}
	var err error
	if cfg.Latency, err = hyperstacksim.ParseLatency(*latency); err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	began := time.Now()
	sim := hyperstacksim.New(cfg)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	total := len(sim.Model.Resources(""))
	logger.Info("hyperstack-sim listening",
		"url", "http://"+ln.Addr().String()+"/v1", "resources", total, "seed", *seed,
		"history_start", sim.Model.Start().Format(time.RFC3339), "now", sim.Model.Now().Format(time.RFC3339),
		"auth", cfg.APIKey != "", "startup", time.Since(began).Round(time.Millisecond))

	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
