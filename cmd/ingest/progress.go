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

// showProgress keeps a progress line on stderr while a run goes on, when
// stderr is a terminal; it returns the function that ends it.
func showProgress(w io.Writer, c *ingest.Crawler) (stop func()) {
	f, ok := w.(*os.File)
	if !ok {
		return func() {}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		shown := 0 // lines on screen: one per source
		clear := func() {
			if shown > 1 {
				fmt.Fprintf(f, "\033[%dA", shown-1)
			}
			fmt.Fprint(f, "\r\033[J")
		}
		for {
			select {
			case <-done:
				clear()
				return
			case <-t.C:
				var lines []string
				for _, p := range c.Progress() {
					if p.Month != "" {
						lines = append(lines, formatProgress(p))
					}
				}
				clear()
				fmt.Fprint(f, strings.Join(lines, "\n"))
				shown = len(lines)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func formatProgress(p ingest.Progress) string {
	eta := "?"
	if d := p.ETA(); d > 0 {
		eta = d.Round(time.Second).String()
	}
	return fmt.Sprintf("%s %s: lists %d/%d, resources %d/%d, %d requests, %d rows, %d rate-limited, ETA %s",
		p.Source, p.Month, p.ListsDone, p.ListsTotal, p.UnitsDone, p.UnitsTotal, p.Requests, p.Rows, p.RateLimited, eta)
}
