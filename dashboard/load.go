// Package dashboard draws the warehouse's cost dashboard: one HTML page,
// rendered on the server from the views of the reports schema only, with
// inline SVG charts (no JavaScript, nothing fetched from elsewhere), so it
// works offline and as a file or an e-mail.
package dashboard

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Filter chooses what the page shows.
type Filter struct {
	Account string    // "" for every account
	Month   time.Time // first day of a month, UTC; zero: the newest month with data
}

// Days is how many days the daily chart shows.
const Days = 60

// TopN is how many resources the top-resources panel lists per currency.
const TopN = 15

// Data is everything the page shows, read in one read-only transaction.
type Data struct {
	Filter   Filter
	Month    time.Time   // the month shown
	Until    time.Time   // the last day of the daily chart
	Accounts []string    // the filter's choices
	Months   []time.Time // newest first
	MTD      []MonthToDate
	Daily    []Daily
	Top      []Top
	Runway   []Runway
	Anomalies
	Corrections []Correction
	Health      []Health
}

// MonthToDate is one row of reports.month_to_date_v2.
type MonthToDate struct {
	Provider, Account, Currency string
	Month                       time.Time
	Closed                      bool
	BilledToDate                Money
	DaysElapsed, MonthDays      float64
	Forecast                    Money
	PreviousSamePeriod          Money
	PreviousTotal               Money
	ForecastChangePct           *float64
}

// Daily is one currency's daily chart: cost per day and service.
type Daily struct {
	Currency string
	Rows     []DailyRow
}

// DailyRow is one day and service of reports.daily_cost_v2, summed over accounts.
type DailyRow struct {
	Day       time.Time
	Service   string
	Billed    Money
	Amortized Money
}

// Top is one currency's most expensive resources of the month.
type Top struct {
	Currency  string
	Rows      []TopRow
	Resources int   // how many resources had a cost this month
	Total     Money // what they all cost
}

// TopRow is one resource of reports.top_resources_v2.
type TopRow struct {
	Rank                              int
	Account, Family, ResourceID, Name string
	Billed                            Money
}

// Runway is one account's credit: its newest observation and the history.
type Runway struct {
	Provider, Account, Currency string
	ObservedAt                  time.Time
	Credit                      Money
	AvgDaily                    Money
	DaysLeft                    *float64
	RunsOutOn                   *time.Time
	History                     []CreditPoint
}

// CreditPoint is the credit at one observation.
type CreditPoint struct {
	At     time.Time
	Credit Money
}

// Anomalies is the month's anomalies (at most 20) and how many there are.
type Anomalies struct {
	AnomalyCount int
	AnomalyRows  []Anomaly
}

// Anomaly is one row of reports.cost_anomalies_v2.
type Anomaly struct {
	Provider, Account, Currency      string
	Day                              time.Time
	Family, ResourceID, ResourceName string
	Cost, Baseline                   Money
	Ratio                            float64
}

// Correction sums the month's money corrections of one table and family.
type Correction struct {
	Provider, Account, Currency, Table, Family string
	Changes                                    int
	Delta, Largest                             Money
	Last                                       time.Time
}

// Health is one endpoint family of reports.ingest_health_v1.
type Health struct {
	Provider, Account, Family string
	LastSuccess               *time.Time
	LagSeconds                *float64
	LastRunStatus, LastError  string
}

// Querier is what Load reads through: a pool, a connection.
type Querier interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// Load reads the page's data in one read-only, repeatable-read transaction
// (every panel sees the same snapshot). A session that may act as
// billing_reader (its members, a superuser) reads as that role, so the page
// can see no more than a BI tool can.
func Load(ctx context.Context, db Querier, f Filter) (*Data, error) {
	var d *Data
	err := pgx.BeginTxFunc(ctx, db, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL TimeZone = 'UTC'`); err != nil {
			return err
		}
		// The page's reads are short: compiling them (JIT, for the views'
		// large plans) took longer than running them. Each is planned for
		// its month and account: a generic plan, which pgx's cached
		// statements get after five pages, read a month of anomalies in
		// 270 ms where one planned for it took 170.
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
			return err
		}
		var reader bool
		if err := tx.QueryRow(ctx, `SELECT coalesce(pg_has_role('billing_reader', 'MEMBER'), false) FROM pg_roles WHERE rolname = 'billing_reader'`).Scan(&reader); err != nil && err != pgx.ErrNoRows {
			return err
		}
		if reader {
			if _, err := tx.Exec(ctx, `SET LOCAL ROLE billing_reader`); err != nil {
				return err
			}
		}
		var err error
		d, err = load(ctx, tx, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	return d, nil
}

func load(ctx context.Context, tx pgx.Tx, f Filter) (*Data, error) {
	d := &Data{Filter: f}
	all, err := collect(ctx, tx, "month_to_date_v2", queryMonths, nil, func(r pgx.CollectableRow) (MonthToDate, error) {
		var m MonthToDate
		err := r.Scan(&m.Provider, &m.Account, &m.Currency, &m.Month, &m.Closed, &m.DaysElapsed)
		return m, err
	})
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if !slices.Contains(d.Accounts, m.Account) {
			d.Accounts = append(d.Accounts, m.Account)
		}
		if (f.Account == "" || m.Account == f.Account) && !slices.ContainsFunc(d.Months, m.Month.Equal) {
			d.Months = append(d.Months, m.Month)
		}
	}
	slices.Sort(d.Accounts)
	slices.SortFunc(d.Months, func(a, b time.Time) int { return b.Compare(a) })
	d.Month = f.Month
	if d.Month.IsZero() {
		d.Month = time.Date(time.Now().UTC().Year(), time.Now().UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
		if len(d.Months) > 0 {
			d.Month = d.Months[0]
		}
	}
	// The daily chart ends on the month's last day with data: its last day
	// once closed, the day the data reaches while it runs.
	d.Until = d.Month.AddDate(0, 1, -1)
	d.MTD, err = collect(ctx, tx, "month_to_date_v2", queryMTD, []any{f.Account, d.Month}, func(r pgx.CollectableRow) (MonthToDate, error) {
		var m MonthToDate
		err := r.Scan(&m.Provider, &m.Account, &m.Currency, &m.Month, &m.Closed, &m.BilledToDate, &m.DaysElapsed, &m.MonthDays,
			&m.Forecast, &m.PreviousSamePeriod, &m.PreviousTotal, &m.ForecastChangePct)
		return m, err
	})
	if err != nil {
		return nil, err
	}
	var reach time.Time
	for _, m := range d.MTD {
		if !m.Closed {
			day := d.Month.AddDate(0, 0, max(0, int(m.DaysElapsed+0.999999)-1))
			reach = later(reach, day)
		}
	}
	if !reach.IsZero() && reach.Before(d.Until) {
		d.Until = reach
	}

	args := []any{f.Account, d.Month}
	rows, err := collect(ctx, tx, "daily_cost_v2", queryDaily, []any{f.Account, d.Until}, func(r pgx.CollectableRow) (struct {
		cur string
		DailyRow
	}, error) {
		var x struct {
			cur string
			DailyRow
		}
		err := r.Scan(&x.cur, &x.Day, &x.Service, &x.Billed, &x.Amortized)
		return x, err
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if len(d.Daily) == 0 || d.Daily[len(d.Daily)-1].Currency != r.cur {
			d.Daily = append(d.Daily, Daily{Currency: r.cur})
		}
		d.Daily[len(d.Daily)-1].Rows = append(d.Daily[len(d.Daily)-1].Rows, r.DailyRow)
	}

	if err := d.loadTop(ctx, tx); err != nil {
		return nil, err
	}
	if err := d.loadRunway(ctx, tx); err != nil {
		return nil, err
	}
	d.AnomalyRows, err = collect(ctx, tx, "cost_anomalies_v2", queryAnomalies, args, func(r pgx.CollectableRow) (Anomaly, error) {
		var a Anomaly
		err := r.Scan(&a.Provider, &a.Account, &a.Currency, &a.Day, &a.Family, &a.ResourceID, &a.ResourceName, &a.Cost, &a.Baseline, &a.Ratio, &d.AnomalyCount)
		return a, err
	})
	if err != nil {
		return nil, err
	}
	d.Corrections, err = collect(ctx, tx, "restatements_v2", queryCorrections, args, func(r pgx.CollectableRow) (Correction, error) {
		var c Correction
		err := r.Scan(&c.Provider, &c.Account, &c.Currency, &c.Table, &c.Family, &c.Changes, &c.Delta, &c.Largest, &c.Last)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	d.Health, err = collect(ctx, tx, "ingest_health_v1", queryHealth, args[:1], func(r pgx.CollectableRow) (Health, error) {
		var h Health
		err := r.Scan(&h.Provider, &h.Account, &h.Family, &h.LastSuccess, &h.LagSeconds, &h.LastRunStatus, &h.LastError)
		return h, err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Data) loadTop(ctx context.Context, tx pgx.Tx) error {
	type row struct {
		cur string
		TopRow
		resources int
		total     Money
	}
	rows, err := collect(ctx, tx, "top_resources_v2", queryTop, []any{d.Filter.Account, d.Month, TopN}, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.cur, &x.Rank, &x.Account, &x.Family, &x.ResourceID, &x.Name, &x.Billed, &x.resources, &x.total)
		return x, err
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if len(d.Top) == 0 || d.Top[len(d.Top)-1].Currency != r.cur {
			d.Top = append(d.Top, Top{Currency: r.cur, Resources: r.resources, Total: r.total})
		}
		d.Top[len(d.Top)-1].Rows = append(d.Top[len(d.Top)-1].Rows, r.TopRow)
	}
	return nil
}

func (d *Data) loadRunway(ctx context.Context, tx pgx.Tx) error {
	rows, err := collect(ctx, tx, "credit_runway_v2", queryRunway, []any{d.Filter.Account, d.Month}, func(r pgx.CollectableRow) (Runway, error) {
		var x Runway
		var runsOut pgtype.Date
		err := r.Scan(&x.Provider, &x.Account, &x.Currency, &x.ObservedAt, &x.Credit, &x.AvgDaily, &x.DaysLeft, &runsOut)
		if runsOut.Valid && runsOut.InfinityModifier == pgtype.Finite {
			t := runsOut.Time
			x.RunsOutOn = &t
		}
		return x, err
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		n := len(d.Runway)
		if n == 0 || d.Runway[n-1].Provider != r.Provider || d.Runway[n-1].Account != r.Account {
			d.Runway = append(d.Runway, Runway{})
			n++
		}
		hist := append(d.Runway[n-1].History, CreditPoint{At: r.ObservedAt, Credit: r.Credit})
		d.Runway[n-1] = r
		d.Runway[n-1].History = hist
	}
	return nil
}

func collect[T any](ctx context.Context, tx pgx.Tx, view, sql string, args []any, scan pgx.RowToFunc[T]) ([]T, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read reports.%s: %w", view, err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("read reports.%s: %w", view, err)
	}
	return out, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
