package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/config"
	"github.com/billing-warehouse/billing-warehouse/store"
)

var crawlSettings = []string{"database-url", "config", "parallel", "concurrency", "rate", "timeout", "lookback",
	"full-refresh-every", "shutdown-grace", "history-start", "max-rate-limit-pause", "max-run-duration", "log-format", "log-level"}

// sourceFlag is --source NAME, repeatable: which configured sources a
// command runs (provider/account, or the account alone).
type sourceFlag []string

func (f *sourceFlag) String() string     { return strings.Join(*f, ",") }
func (f *sourceFlag) Set(v string) error { *f = append(*f, v); return nil }

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
		if _, isTerm := w.(*terminal); isTerm || newTerminal(w) != nil {
			format = "text"
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
	// Each running source holds a connection for its lock the whole run;
	// the rest serve the writes of every source.
	s, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: int32(cfg.Parallel + cfg.Concurrency + 4), Logger: logger,
		WritePath: store.WritePath(cfg.WritePath)})
	if err != nil {
		return nil, err
	}
	if err := s.CheckSchema(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// setup connects to the warehouse, builds the configured sources (or the
// ones named) and the engine that runs them.
func setup(ctx context.Context, cfg config.Config, names []string, logger *slog.Logger, metrics ingest.Metrics) (*store.Store, *ingest.Crawler, []ingest.Source, error) {
	sources, err := openSources(cfg, names, logger, metrics)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	crawler := ingest.NewCrawler(ingest.Config{
		Concurrency: cfg.Concurrency, Lookback: cfg.Lookback, FullRefreshEvery: cfg.FullRefreshEvery, Parallel: cfg.Parallel,
		MaxRunDuration: cfg.MaxRunDuration, Logger: logger, Metrics: metrics,
	}, s)
	return s, crawler, sources, nil
}

// openSources builds the configured sources, checking every entry before
// any request is made.
func openSources(cfg config.Config, names []string, logger *slog.Logger, metrics ingest.Metrics) ([]ingest.Source, error) {
	cfgs, err := cfg.Sources()
	if err != nil {
		return nil, err
	}
	all, err := ingest.OpenSources(cfgs, ingest.ClientConfig{RatePerMinute: cfg.Rate, Timeout: cfg.Timeout,
		MaxRateLimitPause: cfg.MaxRateLimitPause, Logger: logger, Metrics: metrics})
	if err != nil {
		return nil, err
	}
	return ingest.SelectSources(all, names)
}

// backfillRange checks a backfill's --since and --until at the edge: a
// month before the providers' history (--history-start) or after now is a
// mistake, not thousands of empty months marked done.
func backfillRange(since, until string, historyStart, now time.Time) (from, to time.Time, err error) {
	if since == "" {
		return from, to, fmt.Errorf("%w: backfill needs --since YYYY-MM", errUsage)
	}
	if from, err = parseMonth(since); err != nil {
		return from, to, fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	thisMonth := ingest.Month(now)
	if from.Before(historyStart) || ingest.Month(from).After(thisMonth) {
		return from, to, fmt.Errorf("%w: --since %s: want a month from %s (--history-start) to %s", errUsage, since,
			historyStart.Format("2006-01"), thisMonth.Format("2006-01"))
	}
	if until == "" {
		return from, to, nil
	}
	if to, err = parseMonth(until); err != nil {
		return from, to, fmt.Errorf("%w: --until: %v", errUsage, err)
	}
	if ingest.Month(to).Before(ingest.Month(from)) || ingest.Month(to).After(thisMonth) {
		return from, to, fmt.Errorf("%w: --until %s: want a month from --since (%s) to %s", errUsage, until,
			ingest.Month(from).Format("2006-01"), thisMonth.Format("2006-01"))
	}
	return from, to, nil
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
	var names sourceFlag
	fs.Var(&names, "source", "run only the source `NAME` (provider/account or account), repeatable (default: every configured source)")
	cfg, err := parseFlags(fs, args, crawlSettings)
	if err != nil {
		return err
	}
	mode, trigger := ingest.Mode{}, store.TriggerManual
	if name == "backfill" {
		trigger = store.TriggerBackfill
		mode.Backfill, mode.Refetch = true, *refetch
		if mode.Since, mode.Until, err = backfillRange(*since, *until, cfg.HistoryStart, time.Now()); err != nil {
			return err
		}
	}
	lc.setGrace(cfg.ShutdownGrace)
	mode.Drain = lc.drain
	term := newTerminal(stderr)
	var logTo io.Writer = stderr
	if term != nil {
		logTo = term // log lines go above the progress lines
	}
	logger := newLogger(cfg, logTo)
	s, crawler, sources, err := setup(ctx, cfg, names, logger, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	stopProgress := showProgress(term, crawler)
	outcomes := crawler.RunAll(ctx, sources, trigger, mode)
	stopProgress()
	return report(stdout, outcomes)
}

// report prints each source's outcome and maps them to the exit code:
// 0 when every source succeeded (or another process was running it), 2
// when any was partial, 1 when any failed.
func report(w io.Writer, outcomes []ingest.Outcome) error {
	code := 0
	var failures []string
	for _, o := range outcomes {
		res := o.Result
		var busy *store.BusyError
		switch {
		case errors.As(o.Err, &busy):
			fmt.Fprintf(w, "%s: not running: %v\n", res.Owner, busy)
			continue
		case o.Err != nil:
			fmt.Fprintf(w, "%s: failed: %v\n", res.Owner, o.Err)
			failures = append(failures, fmt.Sprintf("%s: %v", res.Owner, o.Err))
			code = 1
			continue
		}
		c := res.Counters
		fmt.Fprintf(w, "%s: run %d %s: %d requests (%d retries, %d rate-limited), rows %d inserted, %d updated, %d deleted, %d unchanged units skipped, %d errors\n",
			res.Owner, res.RunID, res.Status, c.Requests, c.Retries, c.RateLimited, c.RowsInserted, c.RowsUpdated, c.RowsDeleted, res.Skipped, c.Errors)
		if res.Undecoded > 0 {
			fmt.Fprintf(w, "%s: %d stored bodies never decoded, when fetched or now (payloads of failed units, kept in ingest.raw_payloads); not an error\n",
				res.Owner, res.Undecoded)
		}
		switch res.Status {
		case store.RunSucceeded:
		case store.RunPartial:
			next := "the next run retries them"
			if res.Trigger == store.TriggerReprocess {
				next = "these stored bodies decoded when fetched and no longer do: a decoder regression"
			}
			failures = append(failures, fmt.Sprintf("%s: some units failed (see ingest status); %s: %s", res.Owner, next, firstLine(res.Summary)))
			if code == 0 {
				code = 2
			}
		default:
			failures = append(failures, fmt.Sprintf("%s: run %d %s: %s", res.Owner, res.RunID, res.Status, firstLine(res.Summary)))
			code = 1
		}
	}
	if code == 0 {
		return nil
	}
	return &exitError{code: code, msg: strings.Join(failures, "; ")}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func reprocessCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest reprocess", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var names sourceFlag
	fs.Var(&names, "source", "reprocess only the source `NAME` (provider/account or account), repeatable")
	cfg, err := parseFlags(fs, args, []string{"database-url", "log-format", "log-level"})
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	cfg.Concurrency = 4
	s, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer s.Close()
	owners, err := s.PayloadOwners(ctx)
	if err != nil {
		return err
	}
	all, err := ingest.ReplaySources(owners)
	if err != nil {
		return err
	}
	sources, err := ingest.SelectSources(all, names)
	if err != nil {
		return err
	}
	crawler := ingest.NewCrawler(ingest.Config{Logger: logger}, s)
	var outcomes []ingest.Outcome
	for _, src := range sources {
		res, err := crawler.Reprocess(ctx, src, ingest.ReprocessConfig{})
		res.Owner = src.Owner()
		outcomes = append(outcomes, ingest.Outcome{Result: res, Err: err})
	}
	return report(stdout, outcomes)
}
