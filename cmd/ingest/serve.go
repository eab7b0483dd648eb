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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"

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
	cfg, err := parseFlags(fs, args, append(crawlSettings, "schedule", "listen", "run-at-start"))
	if err != nil {
		return err
	}
	lc.setGrace(cfg.ShutdownGrace)
	schedule, _ := cron.ParseStandard(cfg.Schedule) // validated by Load
	logger := newLogger(cfg, stderr)

	reg := prometheus.NewRegistry()
	metrics := newPromMetrics(reg)
	s, crawler, err := setup(ctx, cfg, logger, metrics)
	if err != nil {
		return err
	}
	defer s.Close()
	if runs, err := s.RecentRuns(ctx, 50); err == nil {
		for _, r := range runs {
			if r.Status == store.RunSucceeded && r.FinishedAt != nil {
				metrics.lastSuccess.Store(r.FinishedAt.UnixNano())
				break
			}
		}
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{Handler: endpoints(s, reg), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()

	var running sync.WaitGroup
	tick := func() {
		running.Add(1)
		defer running.Done()
		select {
		case <-lc.drain:
			return // shutting down: no new run
		default:
		}
		res, err := crawler.Run(ctx, store.TriggerSchedule, ingest.Mode{Drain: lc.drain})
		var busy *store.BusyError
		switch {
		case errors.As(err, &busy):
			logger.Info("skipping this tick: another replica is running", "holder", busy.Error())
		case err != nil:
			logger.Error("run failed", "err", err)
		default:
			logger.Info("run finished", "run_id", res.RunID, "status", res.Status)
		}
	}
	cl := cronLogger{logger}
	job := cron.NewChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)).Then(cron.FuncJob(tick))
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cl))
	c.Schedule(schedule, job)
	c.Start()
	logger.Info("serving", "schedule", cfg.Schedule, "next", schedule.Next(time.Now()).UTC().Format(time.RFC3339),
		"listen", ln.Addr().String(), "run_at_start", cfg.RunAtStart)
	fmt.Fprintf(stdout, "serving on %s, schedule %q\n", ln.Addr(), cfg.Schedule)
	if cfg.RunAtStart {
		go job.Run()
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

// endpoints serves /healthz (the process is up), /readyz (the database
// answers and its schema is current) and /metrics.
func endpoints(s *store.Store, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		err := s.Ping(ctx)
		if err == nil {
			err = s.CheckSchema(ctx)
		}
		if err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
