package main

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/billing-warehouse/billing-warehouse/internal/version"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// promMetrics exposes runs, requests and writes in Prometheus format.
type promMetrics struct {
	runs        *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	requests    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	pacerWait   prometheus.Counter
	rows        *prometheus.CounterVec
	partials    *prometheus.GaugeVec

	mu          sync.Mutex
	lastSuccess map[store.Owner]time.Time // zero: none yet
}

func newPromMetrics(reg *prometheus.Registry) *promMetrics {
	const ns = "billing_warehouse"
	src := []string{"provider", "account"}
	m := &promMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "runs_total",
			Help: "Runs finished, by source and status (succeeded, partial, failed, cancelled)."}, append(src, "status")),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "run_duration_seconds",
			Help: "How long runs took.", Buckets: prometheus.ExponentialBuckets(1, 2, 14)}, src),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "api_requests_total",
			Help: "Billing API requests by source, endpoint family and HTTP status code (0: no response)."}, append(src, "family", "code")),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "api_retries_total",
			Help: "Billing API requests retried, by source and endpoint family."}, append(src, "family")),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "api_rate_limited_total",
			Help: "Billing API answers 429 Too Many Requests, by source."}, src),
		pacerWait: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "pacer_wait_seconds_total",
			Help: "Time requests waited for the rate-limit pacers."}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rows_written_total",
			Help: "Warehouse rows written, by source, table and operation (inserted, updated, deleted)."}, append(src, "table", "operation")),
		partials: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "consecutive_partial_runs",
			Help: "Runs of this replica in a row that ended partial, up to the newest (0 after any other status)."}, src),
		lastSuccess: map[store.Owner]time.Time{},
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "build_info",
		Help: "Always 1; the labels say which build is running."}, []string{"version", "commit", "goversion"})
	b := version.Get()
	build.WithLabelValues(b.Version, b.Commit, b.GoVersion).Set(1)
	reg.MustRegister(build, m.runs, m.runDuration, m.requests, m.retries, m.rateLimited, m.pacerWait, m.rows, m.partials, sinceCollector{m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

var sinceDesc = prometheus.NewDesc("billing_warehouse_seconds_since_last_success",
	"Seconds since the source's last run that succeeded; -1 before the first.", []string{"provider", "account"}, nil)

// sinceCollector reports seconds_since_last_success per source.
type sinceCollector struct{ m *promMetrics }

func (c sinceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- sinceDesc }
func (c sinceCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for o, at := range c.m.lastSuccess {
		v := -1.0
		if !at.IsZero() {
			v = time.Since(at).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(sinceDesc, prometheus.GaugeValue, v, o.Provider, o.Account)
	}
}

// watch makes a source appear in seconds_since_last_success.
func (m *promMetrics) watch(o store.Owner) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.lastSuccess[o]; !ok {
		m.lastSuccess[o] = time.Time{}
	}
	m.rateLimited.WithLabelValues(o.Provider, o.Account) // exported at 0 before the first 429
	m.partials.WithLabelValues(o.Provider, o.Account)
}

// succeeded notes a successful run's end, if newer than the one known.
func (m *promMetrics) succeeded(o store.Owner, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if at.After(m.lastSuccess[o]) {
		m.lastSuccess[o] = at
	}
}

func (m *promMetrics) Request(o store.Owner, family string, status int) {
	m.requests.WithLabelValues(o.Provider, o.Account, family, strconv.Itoa(status)).Inc()
}
func (m *promMetrics) Retry(o store.Owner, family string) {
	m.retries.WithLabelValues(o.Provider, o.Account, family).Inc()
}
func (m *promMetrics) RateLimited(o store.Owner) {
	m.rateLimited.WithLabelValues(o.Provider, o.Account).Inc()
}
func (m *promMetrics) PacerWait(d time.Duration) { m.pacerWait.Add(d.Seconds()) }
func (m *promMetrics) RowsWritten(o store.Owner, table, op string, n int64) {
	if n > 0 {
		m.rows.WithLabelValues(o.Provider, o.Account, table, op).Add(float64(n))
	}
}
func (m *promMetrics) RunFinished(o store.Owner, status string, took time.Duration, at time.Time) {
	m.runs.WithLabelValues(o.Provider, o.Account, status).Inc()
	m.runDuration.WithLabelValues(o.Provider, o.Account).Observe(took.Seconds())
	if status == "partial" {
		m.partials.WithLabelValues(o.Provider, o.Account).Inc()
	} else {
		m.partials.WithLabelValues(o.Provider, o.Account).Set(0)
	}
	if status == "succeeded" {
		m.succeeded(o, at)
	}
}
