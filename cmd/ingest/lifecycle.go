package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// lifecycle carries a command's shutdown: at the first SIGINT or SIGTERM,
// drain closes (stop starting work, finish what is in flight); after the
// grace period the context is cancelled; a second signal exits at once.
type lifecycle struct {
	drain <-chan struct{}
	grace *atomic.Int64 // nanoseconds, set by the command from its config
}

func (l lifecycle) setGrace(d time.Duration) {
	if l.grace != nil {
		l.grace.Store(int64(d))
	}
}

// withSignals returns a context and lifecycle driven by the process's signals.
func withSignals(stderr io.Writer) (context.Context, lifecycle) {
	ctx, cancel := context.WithCancel(context.Background())
	drain := make(chan struct{})
	grace := new(atomic.Int64)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		close(drain)
		g := time.Duration(grace.Load())
		fmt.Fprintf(stderr, "ingest: %s: finishing the work in flight (at most %s); signal again to exit at once\n", sig, g)
		time.AfterFunc(g, cancel)
		<-signals
		fmt.Fprintln(stderr, "ingest: second signal: exiting now")
		os.Exit(1)
	}()
	return ctx, lifecycle{drain: drain, grace: grace}
}
