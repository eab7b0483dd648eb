package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
)

// terminal shares a terminal between log lines and the progress lines
// (one per running source): before a log line is written the progress
// lines are erased, and after it they are drawn again, so the two never
// run together.
type terminal struct {
	mu    sync.Mutex
	out   io.Writer
	shown int // progress lines on screen
	lines []string
}

// newTerminal returns a terminal for w, or nil when w is not one.
func newTerminal(w io.Writer) *terminal {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &terminal{out: f}
}

// Write writes a log line above the progress lines.
func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.erase()
	n, err := t.out.Write(p)
	t.draw()
	return n, err
}

// show replaces the progress lines.
func (t *terminal) show(lines []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.erase()
	t.lines = lines
	t.draw()
}

// erase moves to the first progress line and clears to the end of the
// screen.
func (t *terminal) erase() {
	if t.shown == 0 {
		return
	}
	if t.shown > 1 {
		fmt.Fprintf(t.out, "\033[%dA", t.shown-1)
	}
	fmt.Fprint(t.out, "\r\033[J")
	t.shown = 0
}

func (t *terminal) draw() {
	if len(t.lines) == 0 {
		return
	}
	fmt.Fprint(t.out, strings.Join(t.lines, "\n"))
	t.shown = len(t.lines)
}

// showProgress keeps the progress lines up to date while runs go on; it
// returns the function that ends them. A nil terminal shows nothing.
func showProgress(t *terminal, c *ingest.Crawler) (stop func()) {
	if t == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				t.show(nil)
				return
			case <-tick.C:
				var lines []string
				for _, p := range c.Progress() {
					if p.Month != "" {
						lines = append(lines, formatProgress(p))
					}
				}
				t.show(lines)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func formatProgress(p ingest.Progress) string {
	eta := "estimating"
	if d, ok := p.ETA(); ok {
		eta = d.Round(time.Second).String()
	}
	return fmt.Sprintf("%s %s (month %d/%d): lists %d/%d, resources %d/%d, %d requests, %d rows, %d rate-limited, ETA %s",
		p.Source, p.Month, p.MonthIndex, p.Months, p.ListsDone, p.ListsTotal, p.UnitsDone, p.UnitsTotal, p.Requests, p.Rows, p.RateLimited, eta)
}
