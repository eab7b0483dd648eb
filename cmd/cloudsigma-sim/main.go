// Command cloudsigma-sim serves a simulated CloudSigma billing API for one
// account at one location, for trying the warehouse without an account.
// See internal/sim/cloudsigma/README.md for its flags, its /_sim/ control
// endpoints and the choices the docs left open.
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
	"syscall"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/config"
	"github.com/billing-warehouse/billing-warehouse/internal/sim"
	"github.com/billing-warehouse/billing-warehouse/internal/sim/cloudsigma"
	"github.com/billing-warehouse/billing-warehouse/internal/version"
)

func main() {
	if version.Requested(os.Args[1:]) {
		fmt.Println("cloudsigma-sim", version.Get())
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "cloudsigma-sim: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("cloudsigma-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	common := sim.Flags{Addr: "127.0.0.1:8091", RateLimit: 10000}
	common.Register(fs, sim.ClassFlag{Class: cloudsigma.FaultConflict, Flag: "503-conflict", Usage: "rate of 503 concurrency conflicts"})
	fs.Lookup("start").Usage = "start of the account's history, RFC 3339 (default: 30 days before now)"
	fs.Lookup("seed").Usage = "seed of the generated account"
	location := fs.String("location", "zrh", "the location the account lives in")
	currency := fs.String("currency", "CHF", "the account's currency: USD, EUR, GBP or CHF")
	user := fs.String("user", "user@example.com", "the account's e-mail, the username of Basic and Digest auth")
	password := fs.String("password", "", "the account's password (default: $CLOUDSIGMA_PASSWORD or the file named by $CLOUDSIGMA_PASSWORD_FILE, else \"secret\")")
	auth := fs.String("auth", cloudsigma.AuthBoth, "schemes accepted: basic, digest or both")
	servers := fs.Int("servers", 5, "servers the account has")
	nonceTTL := fs.Duration("nonce-ttl", 5*time.Minute, "how long a Digest nonce stays good")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *servers < 0 {
		return fmt.Errorf("--servers must be 0 or more, not %d", *servers)
	}
	if *password == "" {
		p, err := config.Secret("CLOUDSIGMA_PASSWORD")
		if err != nil {
			return err
		}
		*password = p
	}
	n := *servers
	if n == 0 {
		n = -1 // ModelConfig's 0 means the default
	}
	cfg := cloudsigma.Config{
		ModelConfig: cloudsigma.ModelConfig{Seed: common.Seed, Location: *location, Currency: *currency, User: *user,
			Servers: n, Start: common.Start, Now: common.Now},
		Config:   common.Config(),
		Password: *password,
		Auth:     *auth,
		NonceTTL: *nonceTTL,
	}
	began := time.Now()
	api, err := cloudsigma.New(cfg)
	if err != nil {
		return err
	}
	m := api.Model
	return sim.ListenAndServe(ctx, slog.New(slog.NewTextHandler(stderr, nil)), "cloudsigma-sim", common.Addr, cloudsigma.Prefix+"/", api,
		"location", *location, "currency", *currency, "servers", *servers, "seed", common.Seed, "auth", *auth,
		"history_start", m.Start().Format(time.RFC3339), "now", m.Now().Format(time.RFC3339),
		"ledger_entries", m.LedgerLen(), "startup", time.Since(began).Round(time.Millisecond))
}
