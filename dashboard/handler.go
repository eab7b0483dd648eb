package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// ParseFilter reads the filter from query parameters: account (a name)
// and month (YYYY-MM).
func ParseFilter(account, month string) (Filter, error) {
	f := Filter{Account: account}
	if month != "" {
		m, err := time.ParseInLocation("2006-01", month, time.UTC)
		if err != nil {
			return f, fmt.Errorf("month wants YYYY-MM, got %q", month)
		}
		f.Month = m
	}
	return f, nil
}

// Handler serves the page. Each request reads the views afresh, within
// timeout; a failure shows its class, the details go to the log.
func Handler(db Querier, logger *slog.Logger, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := ParseFilter(r.URL.Query().Get("account"), r.URL.Query().Get("month"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		d, err := Load(ctx, db, f)
		if err != nil {
			logger.ErrorContext(ctx, "dashboard", "err", err)
			http.Error(w, "the dashboard could not read the reports views; see the log", http.StatusServiceUnavailable)
			return
		}
		var buf bytes.Buffer
		if err := Render(&buf, d, Options{}); err != nil {
			logger.ErrorContext(ctx, "dashboard render", "err", err)
			http.Error(w, "the dashboard could not be drawn; see the log", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(buf.Bytes())
	})
}
