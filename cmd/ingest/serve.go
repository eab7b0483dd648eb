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
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"

	"github.com/billing-warehouse/billing-warehouse/dashboard"
	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// cronLogger lets cron log through slog.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}

func serveCmd(ctx context.Context, lc lifecycle, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var names sourceFlag
	fs.Var(&names, "source", "run only the source `NAME` (provider/account or account), repeatable (default: every configured source)")
	cfg, err := parseFlags(fs, args, append(crawlSettings, "schedule", "listen", "run-at-start"))
	if err != nil {
		return err
	}
	lc.setGrace(cfg.ShutdownGrace)
	schedule, _ := cron.ParseStandard(cfg.Schedule) // validated by Load
	logger := newLogger(cfg, stderr)

	reg := prometheus.NewRegistry()
	metrics := newPromMetrics(reg)
	s, crawler, sources, err := setup(ctx, cfg, names, logger, metrics)
	if err != nil {
		return err
	}
	defer s.Close()
	reg.MustRegister(newMoneyCollector(s.Pool(), logger))
	for _, src := range sources {
		metrics.watch(src.Owner())
	}
	if runs, err := s.RecentRuns(ctx, 200); err == nil {
		for _, r := range runs {
			if r.Status == store.RunSucceeded && r.FinishedAt != nil {
				metrics.succeeded(r.Owner, *r.FinishedAt)
			}
		}
	}
	// A run that started within half a period of a tick belongs to it: a
	// replica that reaches a source another replica has run this tick
	// skips it.
	next := schedule.Next(time.Now())
	halfPeriod := schedule.Next(next).Sub(next) / 2

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{Handler: endpoints(s, reg, logger), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()

	var running sync.WaitGroup
	tick := func(scheduled bool) {
		running.Add(1)
		defer running.Done()
		select {
		case <-lc.drain:
			return // shutting down: no new run
		default:
		}
		mode := ingest.Mode{Drain: lc.drain}
		if scheduled {
			mode.NotBefore = time.Now().Add(-halfPeriod)
		}
		for _, o := range crawler.RunAll(ctx, sources, store.TriggerSchedule, mode) {
			var busy *store.BusyError
			switch {
			case errors.As(o.Err, &busy):
				logger.Info("skipping a source this tick: another replica is running it", "source", o.Result.Owner.String(), "holder", busy.Error())
			case errors.Is(o.Err, ingest.ErrAlreadyRan):
				logger.Info("skipping a source this tick: another replica ran it", "source", o.Result.Owner.String())
			case o.Err != nil:
				logger.Error("run failed", "source", o.Result.Owner.String(), "err", o.Err)
			default:
				logger.Info("run finished", "source", o.Result.Owner.String(), "run_id", o.Result.RunID, "status", o.Result.Status)
			}
		}
	}
	cl := cronLogger{logger}
	job := cron.NewChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)).Then(cron.FuncJob(func() { tick(true) }))
	atStart := cron.NewChain(cron.Recover(cl)).Then(cron.FuncJob(func() { tick(false) }))
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cl))
	c.Schedule(schedule, job)
	c.Start()
	logger.Info("serving", "sources", len(sources), "schedule", cfg.Schedule, "next", schedule.Next(time.Now()).UTC().Format(time.RFC3339),
		"listen", ln.Addr().String(), "run_at_start", cfg.RunAtStart)
	fmt.Fprintf(stdout, "serving on %s, schedule %q\n", ln.Addr(), cfg.Schedule)
	if cfg.RunAtStart {
		go atStart.Run()
	}

	select {
	case <-lc.drain:
	case <-ctx.Done():
	}
	<-c.Stop().Done() // no more ticks; the tick in flight has drained
	running.Wait()
	logger.Info("stopped")
	return nil
}

// endpoints serves the cost dashboard at / and /dashboard, /healthz (the
// process is up), /readyz (the database answers and its schema is current)
// and /metrics. Whoever reaches the
// port learns only the class of a problem; the details (the database's
// user, host and name) go to the log.
func endpoints(s *store.Store, reg *prometheus.Registry, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		reason := ""
		err := s.Ping(ctx)
		if err != nil {
			reason = "database unreachable (" + errorClass(err) + ")"
		} else if err = s.CheckSchema(ctx); err != nil {
			switch {
			case errors.Is(err, store.ErrSchemaOutdated):
				reason = "database schema out of date: run migrate up"
			case errors.Is(err, store.ErrSchemaTooNew):
				reason = "database schema newer than this binary"
			default:
				reason = "database unreachable (" + errorClass(err) + ")"
			}
		}
		if err != nil {
			logger.WarnContext(ctx, "not ready", "err", err)
			http.Error(w, "not ready: "+reason, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	dash := dashboard.Handler(s.Pool(), logger, 10*time.Second)
	mux.Handle("GET /{$}", dash)
	mux.Handle("GET /dashboard", dash)
	return mux
}

// errorClass names what kind of failure err is, without a name, address or
// message from the database.
func errorClass(err error) string {
	var pgErr *pgconn.PgError
	var netErr net.Error
	switch {
	case errors.As(err, &pgErr):
		return "SQLSTATE " + pgErr.Code
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &netErr):
		return "network error"
	}
	return "connection failed"
}
