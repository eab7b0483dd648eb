package main

import (
	"fmt"
	"io"
	"os"
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
		for {
			select {
			case <-done:
				fmt.Fprint(f, "\r\033[K")
				return
			case <-t.C:
				if p := c.Progress(); p.Month != "" {
					fmt.Fprint(f, "\r\033[K"+formatProgress(p))
				}
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
	return fmt.Sprintf("%s: lists %d/%d, resources %d/%d, %d requests, %d rows, %d rate-limited, ETA %s",
		p.Month, p.ListsDone, p.ListsTotal, p.UnitsDone, p.UnitsTotal, p.Requests, p.Rows, p.RateLimited, eta)
}
