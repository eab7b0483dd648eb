package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// moneyQuery reads, per provider, account and currency, what the money
// gauges export: the newest credit observation and its runway
// (credit_runway_v2), the newest month's spend, forecast and the month
// before (month_to_date_v2), the amount outside reconciliation tolerance
// over all months (reconciliation_v2) and the money corrections observed
// in the last 24 hours (restatements_v2). Reports views only.
const moneyQuery = `
WITH credit AS (
    SELECT DISTINCT ON (provider, account, currency) provider, account, currency, credit, days_left
    FROM reports.credit_runway_v2 ORDER BY provider, account, currency, observed_at DESC
), month AS (
    SELECT DISTINCT ON (provider, account, currency) provider, account, currency, billed_to_date, forecast_month_end, previous_month_total
    FROM reports.month_to_date_v2 ORDER BY provider, account, currency, billing_month DESC
), unreconciled AS (
    SELECT provider, account, currency, sum(abs(difference)) AS amount
    FROM reports.reconciliation_v2 WHERE NOT within_tolerance AND resource_family = 'all' GROUP BY 1, 2, 3
), corrected AS (
    SELECT provider, account, currency, sum(abs(delta)) AS amount
    FROM reports.restatements_v2 WHERE kind = 'correction' AND is_money AND observed_at > now() - interval '24 hours' GROUP BY 1, 2, 3
), keys AS (
    SELECT provider, account, currency FROM credit UNION SELECT provider, account, currency FROM month
)
SELECT k.provider, k.account, k.currency,
       c.credit::float8, c.days_left::float8,
       m.billed_to_date::float8, m.forecast_month_end::float8, m.previous_month_total::float8,
       coalesce(u.amount, 0)::float8, coalesce(r.amount, 0)::float8
FROM keys k
LEFT JOIN credit c USING (provider, account, currency)
LEFT JOIN month m USING (provider, account, currency)
LEFT JOIN unreconciled u USING (provider, account, currency)
LEFT JOIN corrected r USING (provider, account, currency)`

var moneyLabels = []string{"provider", "account", "currency"}

func moneyDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("billing_warehouse_"+name, help, moneyLabels, nil)
}

// The money gauges; a value the views have no row or a NULL for is not exported.
var (
	creditDesc       = moneyDesc("credit_balance", "The account's newest observed prepaid credit, in its currency (reports.credit_runway_v2).")
	runwayDesc       = moneyDesc("credit_runway_days", "Days the credit lasts at the last 7 whole days' amortized spend; absent when nothing is spent.")
	mtdDesc          = moneyDesc("month_to_date_cost", "Billed so far in the newest billing month (reports.month_to_date_v2).")
	forecastDesc     = moneyDesc("month_forecast_cost", "The newest month's forecast at its spending rate so far; its total once closed.")
	lastMonthDesc    = moneyDesc("previous_month_cost", "The whole previous month's billed cost; absent without one.")
	unreconciledDesc = moneyDesc("unreconciled_amount", "Sum over months of the account totals' differences outside one minor unit (reports.reconciliation_v2).")
	correctedDesc    = moneyDesc("corrections_24h_amount", "Sum of the absolute money corrections of settled periods observed in the last 24 hours (reports.restatements_v2).")
	moneyErrorDesc   = prometheus.NewDesc("billing_warehouse_money_scrape_error", "1 when the last read of the money gauges failed (the values shown are the previous read's).", nil, nil)
)

// moneyCollector computes the money gauges from the reports views at
// scrape time, cached briefly so that several scrapers cost one query.
type moneyCollector struct {
	db interface {
		BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error)
	}
	logger  *slog.Logger
	timeout time.Duration
	ttl     time.Duration

	mu      sync.Mutex
	at      time.Time
	metrics []prometheus.Metric
	failed  bool
}

func newMoneyCollector(db interface {
	BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error)
}, logger *slog.Logger) *moneyCollector {
	return &moneyCollector{db: db, logger: logger, timeout: 3 * time.Second, ttl: 30 * time.Second}
}

func (c *moneyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{creditDesc, runwayDesc, mtdDesc, forecastDesc, lastMonthDesc, unreconciledDesc, correctedDesc, moneyErrorDesc} {
		ch <- d
	}
}

func (c *moneyCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) > c.ttl {
		ms, err := c.read()
		c.at, c.failed = time.Now(), err != nil
		if err != nil {
			c.logger.Warn("money metrics: reading the reports views failed", "err", err)
		} else {
			c.metrics = ms
		}
	}
	for _, m := range c.metrics {
		ch <- m
	}
	failed := 0.0
	if c.failed {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(moneyErrorDesc, prometheus.GaugeValue, failed)
}

func (c *moneyCollector) read() ([]prometheus.Metric, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var out []prometheus.Metric
	err := pgx.BeginTxFunc(ctx, c.db, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, moneyQuery)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var provider, account, currency string
			var credit, runway, mtd, forecast, last *float64
			var unreconciled, corrected float64
			if err := rows.Scan(&provider, &account, &currency, &credit, &runway, &mtd, &forecast, &last, &unreconciled, &corrected); err != nil {
				return err
			}
			for _, g := range []struct {
				d *prometheus.Desc
				v *float64
			}{{creditDesc, credit}, {runwayDesc, runway}, {mtdDesc, mtd}, {forecastDesc, forecast}, {lastMonthDesc, last},
				{unreconciledDesc, &unreconciled}, {correctedDesc, &corrected}} {
				if g.v != nil {
					out = append(out, prometheus.MustNewConstMetric(g.d, prometheus.GaugeValue, *g.v, provider, account, currency))
				}
			}
		}
		return rows.Err()
	})
	return out, err
}
