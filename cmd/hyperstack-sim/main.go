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
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/config"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/internal/sim"
	"github.com/billing-warehouse/billing-warehouse/internal/version"
)

func main() {
	if version.Requested(os.Args[1:]) {
		fmt.Println("hyperstack-sim", version.Get())
		return
	}
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

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("hyperstack-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	common := sim.Flags{Addr: "127.0.0.1:8089", RateLimit: 500}
	common.Register(fs)
	fs.Lookup("start").Usage = "start of the billing history, RFC 3339 (default: two months before the current month)"
	fs.Lookup("retry-after").Usage = "send Retry-After with 429 (the live API does not)"
	apiKey := fs.String("api-key", "", "api_key header value requests must carry (default: $HYPERSTACK_API_KEY or the file named by $HYPERSTACK_API_KEY_FILE, else any)")
	scale := fs.String("scale", "small", "organisation size: small, medium or large")
	counts := countsFlag{}
	fs.Var(counts, "count", "resources of one family, FAMILY=N (repeatable; overrides --scale)")
	active := fs.Float64("active-fraction", 0.2, "share of resources still running now")
	maxPerPage := fs.Int("max-per-page", hyperstacksim.MaxPerPage, "cap of per_page (the docs' lists all answer 10)")
	noData := fs.Bool("no-data", false, `answer an empty list as the docs do: {"status": false, "message": "No … data found for …"}, HTTP 200, no payload`)
	orgNoGranularity := fs.Bool("org-graph-no-granularity", false, "leave granularity out of the organisation history's graph (neither spec declares it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *maxPerPage < 1 {
		return fmt.Errorf("--max-per-page must be at least 1, not %d", *maxPerPage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	shared := common.Config()
	cfg := hyperstacksim.Config{
		ModelConfig: hyperstacksim.ModelConfig{Seed: shared.Seed, Start: common.Start, Now: common.Now, ActiveFraction: *active},
		APIKey:      *apiKey,
		RateLimit:   shared.RateLimit,
		RetryAfter:  shared.RetryAfter,
		Faults:      shared.Faults,
		Latency:     shared.Latency,
		HangFor:     shared.HangFor,
		SlowBodyFor: shared.SlowBodyFor,
		Shapes:      hyperstacksim.Shapes{MaxPerPage: *maxPerPage, NoData: *noData, OrgGraphNoGranularity: *orgNoGranularity},
	}
	if cfg.APIKey == "" {
		key, err := config.Secret("HYPERSTACK_API_KEY")
		if err != nil {
			return err
		}
		cfg.APIKey = key
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = -1 // Config's 0 is the live API's 500
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

	began := time.Now()
	api := hyperstacksim.New(cfg)
	return sim.ListenAndServe(ctx, slog.New(slog.NewTextHandler(stderr, nil)), "hyperstack-sim", common.Addr, "/v1", api,
		"resources", len(api.Model.Resources("")), "seed", cfg.Seed,
		"history_start", api.Model.Start().Format(time.RFC3339), "now", api.Model.Now().Format(time.RFC3339),
		"auth", cfg.APIKey != "", "startup", time.Since(began).Round(time.Millisecond))
}
