package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/config"
	"github.com/billing-warehouse/billing-warehouse/store"
)

var crawlSettings = []string{"database-url", "api-url", "api-key", "concurrency", "rate", "timeout", "lookback",
	"full-refresh-every", "shutdown-grace", "log-format", "log-level"}

// parseFlags parses a command's flags and loads its configuration.
func parseFlags(fs *flag.FlagSet, args []string, settings []string) (config.Config, error) {
	flags := config.Register(fs, settings...)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config.Config{}, err
		}
		return config.Config{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return flags.Load()
}

// registerDatabase registers only the database setting.
func registerDatabase(fs *flag.FlagSet) *config.Flags {
	return config.Register(fs, "database-url")
}

// newLogger logs JSON, or text when stderr is a terminal.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openStore connects and refuses an outdated schema.
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*store.Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: int32(cfg.Concurrency + 4), Logger: logger})
	if err != nil {
		return nil, err
	}
	if err := s.CheckSchema(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// setup connects to the warehouse and builds the crawler.
func setup(ctx context.Context, cfg config.Config, logger *slog.Logger, metrics ingest.Metrics) (*store.Store, *ingest.Crawler, error) {
	client, err := ingest.NewClient(ingest.ClientConfig{
		BaseURL: cfg.APIURL, APIKey: cfg.APIKey, RatePerMinute: cfg.Rate, Timeout: cfg.Timeout, Logger: logger, Metrics: metrics,
	})
	if err != nil {
		return nil, nil, err
	}
	s, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	crawler := ingest.NewCrawler(ingest.Config{
		Concurrency: cfg.Concurrency, Lookback: cfg.Lookback, FullRefreshEvery: cfg.FullRefreshEvery, Logger: logger, Metrics: metrics,
	}, client, s)
	return s, crawler, nil
}

// parseMonth reads YYYY-MM or YYYY-MM-DD as UTC.
func parseMonth(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not YYYY-MM or YYYY-MM-DD", s)
}

func crawlCmd(ctx context.Context, lc lifecycle, name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var since, until *string
	var refetch *bool
	if name == "backfill" {
		since = fs.String("since", "", "first billing month, YYYY-MM or YYYY-MM-DD (required)")
		until = fs.String("until", "", "last billing month (default: the current one)")
		refetch = fs.Bool("refetch", false, "also fetch months an earlier backfill finished (late corrections older than the lookback)")
	}
	cfg, err := parseFlags(fs, args, crawlSettings)
	if err != nil {
		return err
	}
	mode, trigger := ingest.Mode{}, store.TriggerManual
	if name == "backfill" {
		trigger = store.TriggerBackfill
		if *since == "" {
			return fmt.Errorf("%w: backfill needs --since YYYY-MM", errUsage)
		}
		mode.Backfill, mode.Refetch = true, *refetch
		if mode.Since, err = parseMonth(*since); err != nil {
			return fmt.Errorf("%w: --since: %v", errUsage, err)
		}
		if *until != "" {
			if mode.Until, err = parseMonth(*until); err != nil {
				return fmt.Errorf("%w: --until: %v", errUsage, err)
			}
		}
	}
	lc.setGrace(cfg.ShutdownGrace)
	mode.Drain = lc.drain
	logger := newLogger(cfg, stderr)
	s, crawler, err := setup(ctx, cfg, logger, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	stopProgress := showProgress(stderr, crawler)
	res, err := crawler.Run(ctx, trigger, mode)
	stopProgress()
	var busy *store.BusyError
	if errors.As(err, &busy) {
		fmt.Fprintf(stdout, "not running: %v\n", busy)
		return nil
	}
	if err != nil {
		return err
	}
	return report(stdout, res)
}

// report prints a run's outcome and maps its status to the exit code.
func report(w io.Writer, res ingest.Result) error {
	c := res.Counters
	fmt.Fprintf(w, "run %d %s: %d requests (%d retries, %d rate-limited), rows %d inserted, %d updated, %d deleted, %d unchanged units skipped, %d errors\n",
		res.RunID, res.Status, c.Requests, c.Retries, c.RateLimited, c.RowsInserted, c.RowsUpdated, c.RowsDeleted, res.Skipped, c.Errors)
	switch res.Status {
	case store.RunSucceeded:
		return nil
	case store.RunPartial:
		return &exitError{code: 2, msg: "some units failed (see ingest status); the next run retries them: " + firstLine(res.Summary)}
	}
	return &exitError{code: 1, msg: fmt.Sprintf("run %d %s: %s", res.RunID, res.Status, firstLine(res.Summary))}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func reprocessCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest reprocess", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := parseFlags(fs, args, []string{"database-url", "concurrency", "log-format", "log-level"})
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	s, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer s.Close()
	res, err := ingest.Reprocess(ctx, s, ingest.ReprocessConfig{Logger: logger})
	var busy *store.BusyError
	if errors.As(err, &busy) {
		fmt.Fprintf(stdout, "not reprocessing: %v\n", busy)
		return nil
	}
	if err != nil {
		return err
	}
	return report(stdout, res)
}
