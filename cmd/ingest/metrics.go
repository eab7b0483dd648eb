package main

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// promMetrics exposes runs, requests and writes in Prometheus format.
type promMetrics struct {
	runs        *prometheus.CounterVec
	runDuration prometheus.Histogram
	requests    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	rateLimited prometheus.Counter
	pacerWait   prometheus.Counter
	rows        *prometheus.CounterVec
	lastSuccess atomic.Int64 // unix nanoseconds
}

func newPromMetrics(reg *prometheus.Registry) *promMetrics {
	const ns = "billing_warehouse"
	m := &promMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "runs_total",
			Help: "Runs finished, by status (succeeded, partial, failed, cancelled)."}, []string{"status"}),
		runDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "run_duration_seconds",
			Help: "How long runs took.", Buckets: prometheus.ExponentialBuckets(1, 2, 14)}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "api_requests_total",
			Help: "Billing API requests by endpoint family and HTTP status code (0: no response)."}, []string{"family", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "api_retries_total",
			Help: "Billing API requests retried, by endpoint family."}, []string{"family"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "api_rate_limited_total",
			Help: "Billing API answers 429 Too Many Requests."}),
		pacerWait: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "pacer_wait_seconds_total",
			Help: "Time requests waited for the rate-limit pacer."}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rows_written_total",
			Help: "Warehouse rows written, by table and operation (inserted, updated, deleted)."}, []string{"table", "operation"}),
	}
	since := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "seconds_since_last_success",
		Help: "Seconds since the last run that succeeded; -1 before the first."}, func() float64 {
		last := m.lastSuccess.Load()
		if last == 0 {
			return -1
		}
		return time.Since(time.Unix(0, last)).Seconds()
	})
	reg.MustRegister(m.runs, m.runDuration, m.requests, m.retries, m.rateLimited, m.pacerWait, m.rows, since,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *promMetrics) Request(family string, status int) {
	m.requests.WithLabelValues(family, strconv.Itoa(status)).Inc()
}
func (m *promMetrics) Retry(family string)       { m.retries.WithLabelValues(family).Inc() }
func (m *promMetrics) RateLimited()              { m.rateLimited.Inc() }
func (m *promMetrics) PacerWait(d time.Duration) { m.pacerWait.Add(d.Seconds()) }
func (m *promMetrics) RowsWritten(table, op string, n int64) {
	if n > 0 {
		m.rows.WithLabelValues(table, op).Add(float64(n))
	}
}
func (m *promMetrics) RunFinished(status string, took time.Duration, at time.Time) {
	m.runs.WithLabelValues(status).Inc()
	m.runDuration.Observe(took.Seconds())
	if status == "succeeded" {
		m.lastSuccess.Store(at.UnixNano())
	}
}
