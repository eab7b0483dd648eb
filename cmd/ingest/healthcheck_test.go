package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/version"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	ready.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if !ready.Load() {
			http.Error(w, "not ready: database unreachable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	var out bytes.Buffer
	if err := run(t.Context(), lifecycle{}, []string{"healthcheck", "--addr", addr}, &out, &out); err != nil || out.String() != "healthy: ready\n" {
		t.Errorf("ready: %v %q", err, out.String())
	}
	ready.Store(false)
	err := run(t.Context(), lifecycle{}, []string{"healthcheck", "--addr", addr}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "answered 503") {
		t.Errorf("not ready: %v", err)
	}
	srv.Close()
	if err := run(t.Context(), lifecycle{}, []string{"healthcheck", "--addr", addr}, &out, &out); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("down: %v", err)
	}
}

func TestVersion(t *testing.T) {
	v := version.Get()
	if v.Version == "" || v.Commit == "" || !strings.HasPrefix(v.GoVersion, "go1.") {
		t.Errorf("version %+v", v)
	}
	if !version.Requested([]string{"--version"}) || version.Requested([]string{"run", "--version"}) {
		t.Error("Requested answers wrong")
	}
}
