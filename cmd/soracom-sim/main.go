// Command soracom-sim serves a simulated Soracom billing API, for trying
// the warehouse without a Soracom account. See the README for its flags and
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
	"syscall"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/config"
	"github.com/billing-warehouse/billing-warehouse/internal/sim"
	"github.com/billing-warehouse/billing-warehouse/internal/sim/soracom"
	"github.com/billing-warehouse/billing-warehouse/internal/version"
)

func main() {
	if version.Requested(os.Args[1:]) {
		fmt.Println("soracom-sim", version.Get())
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "soracom-sim: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("soracom-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	common := sim.Flags{Addr: "127.0.0.1:8090", RateLimit: 100}
	common.Register(fs, soracom.ClassFlags...)
	fs.Lookup("start").Usage = "the account's first day, RFC 3339 (default: the first day of the month three months before the clock's)"
	fs.Lookup("rate-limit").Usage = "requests per minute per account and API path; 0 or less: no limit"
	coverage := fs.String("coverage", "jp", "coverage: jp (Japan, JPY) or g (global, USD)")
	keyID := fs.String("auth-key-id", "", "authKeyId POST /auth accepts (default: $SORACOM_AUTH_KEY_ID or the file named by $SORACOM_AUTH_KEY_ID_FILE, else any)")
	key := fs.String("auth-key", "", "authKey POST /auth accepts (default: $SORACOM_AUTH_KEY or the file named by $SORACOM_AUTH_KEY_FILE)")
	sims := fs.Int("sims", 50, "SIMs of the account")
	closeDelay := fs.Int("close-delay", soracom.DefaultCloseDelay, "business days after its end a month closes")
	tokenTTL := fs.Duration("token-ttl", 24*time.Hour, "lifetime of a token when /auth does not set tokenTimeoutSeconds")
	authLimit := fs.Int("auth-rate-limit", 10, "POST /auth requests per minute per client IP; 0 or less: no limit")
	latestLag := fs.Duration("latest-lag", 2*time.Hour, "how far the preliminary figures lag the clock")
	linkTTL := fs.Duration("link-ttl", time.Hour, "lifetime of a download link")
	exportPolls := fs.Int("export-polls", 1, "polls of an async export that answer processing before it is exported")
	stuckFor := fs.Duration("stuck-for", 6*time.Hour, "how long an export hit by --fault-export-stuck stays processing (billing clock)")
	storageAddr := fs.String("storage-addr", "", "serve exported files on this second listener (default: on --addr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *closeDelay < 0 {
		return fmt.Errorf("--close-delay %d: want 0 or more", *closeDelay)
	}
	for _, s := range []struct {
		dst  *string
		name string
	}{{keyID, "SORACOM_AUTH_KEY_ID"}, {key, "SORACOM_AUTH_KEY"}} {
		if *s.dst == "" {
			v, err := config.Secret(s.name)
			if err != nil {
				return err
			}
			*s.dst = v
		}
	}
	if (*keyID == "") != (*key == "") {
		return errors.New("set both --auth-key-id and --auth-key, or neither")
	}

	cfg := soracom.Config{
		Config: common.Config(),
		Model: soracom.ModelConfig{
			Coverage: soracom.Coverage(*coverage), SIMs: *sims, Start: common.Start,
			CloseDelay: *closeDelay, LatestLag: *latestLag,
		},
		Now: common.Now, AuthKeyID: *keyID, AuthKey: *key, TokenTTL: *tokenTTL,
		AuthRateLimit: *authLimit, LinkTTL: *linkTTL, ExportPolls: *exportPolls, StuckFor: *stuckFor,
	}
	if *closeDelay == 0 {
		cfg.Model.CloseDelay = -1 // the model's 0 is the default
	}
	if *latestLag == 0 {
		cfg.Model.LatestLag = -1
	}
	if *authLimit <= 0 {
		cfg.AuthRateLimit = -1
	}
	if *exportPolls <= 0 {
		cfg.ExportPolls = -1
	}
	if *sims <= 0 {
		return fmt.Errorf("--sims %d: want 1 or more", *sims)
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	var storage net.Listener
	if *storageAddr != "" {
		ln, err := net.Listen("tcp", *storageAddr)
		if err != nil {
			return err
		}
		storage = ln
		cfg.StorageURL = "http://" + ln.Addr().String()
	}
	began := time.Now()
	api, err := soracom.New(cfg)
	if err != nil {
		if storage != nil {
			storage.Close()
		}
		return err
	}
	if storage != nil {
		srv := &http.Server{Handler: api.Storage(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(storage)
		defer srv.Close()
		logger.Info("soracom-sim storage listening", "url", cfg.StorageURL)
	}
	m := api.Model
	return sim.ListenAndServe(ctx, logger, "soracom-sim", common.Addr, "/v1", api,
		"coverage", m.Coverage(), "currency", m.Currency(), "sims", len(m.SIMs()), "seed", cfg.Seed,
		"operator_id", m.OperatorID(), "start", m.StartDay().String(), "now", m.Now().Format(time.RFC3339),
		"auth", cfg.AuthKeyID != "", "startup", time.Since(began).Round(time.Millisecond))
}
