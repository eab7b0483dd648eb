package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// dayCostsPending locks the owner's runs whose days billing.resource_day_costs
// does not reflect yet: this run, and every ended run whose refresh never
// happened (killed, cancelled, or its refresh failed). It returns the days
// they cover, a whole history when one of them has no window (a reprocess).
const dayCostsPending = `
WITH pending AS (
    SELECT id, window_start, window_end FROM ingest.runs
    WHERE provider = $1 AND account = $2
      AND (id = $3 AND NOT $4 OR id <> $3 AND NOT day_costs_refreshed AND status <> 'running')
    FOR UPDATE
)
SELECT coalesce(array_agg(id), '{}'),
       CASE WHEN bool_or(window_start IS NULL) THEN '-infinity'::date ELSE min((window_start AT TIME ZONE 'UTC')::date) END,
       CASE WHEN bool_or(window_end IS NULL) THEN 'infinity'::date ELSE max((window_end AT TIME ZONE 'UTC')::date) END
FROM pending`

// The owner's days from $3 to $4 (inclusive), brought in line with the
// computed view (its filters on provider, account and day reach the
// warehouse's tables): rows it no longer has deleted, changed ones
// updated, new ones inserted, the rest left alone. A refresh of days that
// did not change (a reprocess of the same payloads, an hourly run's past
// days) writes nothing: rewriting them all cost a reprocess 1.8 s on the
// 4x benchmark warehouse, twice the view's reading, for index upkeep and
// WAL. Numbers are compared as text, so a change of scale is a change.
//
// Each day's anomaly baseline is worked out with it, from the days
// refreshed and the 14 kept before them; then the kept days up to 14
// after them, whose baselines read the refreshed ones, are set again
// where that changed them.
const (
	dayCostsMerge = `
WITH fresh AS MATERIALIZED (
    SELECT * FROM (
        SELECT d.*, ` + baselineColumns + `
        FROM (
            SELECT currency, day, resource_family, resource_id, billed_cost, amortized_cost, source, true AS refreshed
            FROM reports.resource_day_cost_computed_v2
            WHERE provider = $1 AND account = $2 AND day BETWEEN $3 AND $4
            UNION ALL
            SELECT currency, day, resource_family, resource_id, billed_cost, amortized_cost, source, false
            FROM billing.resource_day_costs
            WHERE provider = $1 AND account = $2 AND day BETWEEN $3::date - 14 AND $3::date - 1
        ) d
        WINDOW w AS (PARTITION BY resource_family, resource_id ORDER BY day ` + baselineFrame + `)
    ) d
    WHERE refreshed
), diff AS MATERIALIZED (
    -- the days whose row is new, gone or different
    SELECT coalesce(f.resource_family, k.resource_family) AS resource_family, coalesce(f.resource_id, k.resource_id) AS resource_id,
           coalesce(f.day, k.day) AS day, f.currency, f.billed_cost, f.amortized_cost, f.source, f.baseline, f.history_days,
           f.day IS NULL AS gone, k.day IS NULL AS new
    FROM fresh f
    FULL JOIN (SELECT resource_family, resource_id, day, currency, billed_cost, amortized_cost, source, baseline, history_days
               FROM billing.resource_day_costs
               WHERE provider = $1 AND account = $2 AND day BETWEEN $3 AND $4) k
           ON k.resource_family = f.resource_family AND k.resource_id = f.resource_id AND k.day = f.day
    WHERE f.day IS NULL OR k.day IS NULL
       OR (k.currency, k.billed_cost::text, k.amortized_cost::text, k.source, k.baseline::text, k.history_days)
          IS DISTINCT FROM (f.currency, f.billed_cost::text, f.amortized_cost::text, f.source, f.baseline::text, f.history_days)
), gone AS (
    DELETE FROM billing.resource_day_costs t USING diff d
    WHERE d.gone AND t.provider = $1 AND t.account = $2
      AND (t.resource_family, t.resource_id, t.day) = (d.resource_family, d.resource_id, d.day)
), changed AS (
    UPDATE billing.resource_day_costs t
    SET currency = d.currency, billed_cost = d.billed_cost, amortized_cost = d.amortized_cost, source = d.source,
        baseline = d.baseline, history_days = d.history_days, refreshed_run_id = $5
    FROM diff d
    WHERE NOT d.gone AND NOT d.new AND t.provider = $1 AND t.account = $2
      AND (t.resource_family, t.resource_id, t.day) = (d.resource_family, d.resource_id, d.day)
), added AS (
    INSERT INTO billing.resource_day_costs
        (provider, account, currency, day, resource_family, resource_id, billed_cost, amortized_cost, source, refreshed_run_id,
         baseline, history_days)
    SELECT $1, $2, currency, day, resource_family, resource_id, billed_cost, amortized_cost, source, $5, baseline, history_days
    FROM diff WHERE new
    RETURNING 1
)
SELECT count(*) FROM added`
	dayCostsAfter = `
UPDATE billing.resource_day_costs t SET baseline = w.baseline, history_days = w.history_days
FROM (SELECT resource_family, resource_id, day, ` + baselineColumns + `
      FROM billing.resource_day_costs
      WHERE provider = $1 AND account = $2 AND day BETWEEN $3::date - 13 AND $3::date + 14
      WINDOW w AS (PARTITION BY resource_family, resource_id ORDER BY day ` + baselineFrame + `)) w
WHERE t.provider = $1 AND t.account = $2 AND t.day > $3 AND t.day <= $3::date + 14
  AND (t.resource_family, t.resource_id, t.day) = (w.resource_family, w.resource_id, w.day)
  AND (t.baseline, t.history_days) IS DISTINCT FROM (w.baseline, w.history_days)`
	// baselineColumns are a day's baseline and history_days over window w
	// of its resource's days, whose frame is baselineFrame: the 14 days
	// before it, as reports/00023 defined the baseline.
	baselineColumns = `avg(billed_cost) OVER w AS baseline, count(billed_cost) OVER w AS history_days`
	baselineFrame   = `RANGE BETWEEN interval '14 days' PRECEDING AND interval '1 day' PRECEDING`
	dayCostsDone    = `UPDATE ingest.runs SET day_costs_refreshed = true WHERE id = ANY($1)`
	dayCosts        = "billing.resource_day_costs"
)

// RefreshDayCosts rewrites the owner's rows of billing.resource_day_costs
// (what reports.resource_day_cost_v2 reads) for the days of run runID and
// of every earlier run of the owner whose refresh never happened, in one
// transaction: the days of a run killed before its refresh are repaired by
// the next. A run's window is whole billing months, which covers what a
// month's summary is spread over (contracts, image generation, Soracom's
// monthly rows); a run without a window (a reprocess) rewrites every day.
//
// covered says the run's own days were already rewritten, window by window
// as its months were written (RefreshDayCostsIn): then only earlier runs'
// days are, and the run is marked.
func (s *Store) RefreshDayCosts(ctx context.Context, owner Owner, runID int64, covered bool) error {
	var inserted int64
	err := withTx(ctx, s.pool, func(tx pgx.Tx) error {
		var ids []int64
		var from, to pgtype.Date
		if err := tx.QueryRow(ctx, dayCostsPending, owner.Provider, owner.Account, runID, covered).Scan(&ids, &from, &to); err != nil {
			return fmt.Errorf("find the runs to refresh: %w", err)
		}
		if len(ids) > 0 {
			n, err := rewriteDayCosts(ctx, tx, owner, pgtype.Int8{Int64: runID, Valid: true}, from, to)
			if err != nil {
				return err
			}
			inserted = n
		}
		if _, err := tx.Exec(ctx, dayCostsDone, append(ids, runID)); err != nil {
			return fmt.Errorf("mark the runs refreshed: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("refresh day costs of %s: %w", owner, err)
	}
	s.analyzeDayCosts(ctx, inserted)
	return nil
}

// RefreshDayCostsIn rewrites the owner's days of w (a billing month a run
// has just written, say) without marking any run: the run's closing
// RefreshDayCosts does, told its days are covered. The crawler calls it
// after each month is written, while the next is fetched and written, so
// the refresh costs a run the time of its last month's only.
func (s *Store) RefreshDayCostsIn(ctx context.Context, owner Owner, runID int64, w Window) error {
	from := pgtype.Date{Time: w.Start.UTC().Truncate(24 * time.Hour), Valid: true}
	to := pgtype.Date{Time: w.End.UTC().Truncate(24 * time.Hour), Valid: true}
	var inserted int64
	err := withTx(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := rewriteDayCosts(ctx, tx, owner, pgtype.Int8{Int64: runID, Valid: true}, from, to)
		inserted = n
		return err
	})
	if err != nil {
		return fmt.Errorf("refresh day costs of %s from %s to %s: %w", owner, w.Start.Format(time.DateOnly), w.End.Format(time.DateOnly), err)
	}
	s.analyzeDayCosts(ctx, inserted)
	return nil
}

// RebuildDayCosts rewrites every account's days from the warehouse, as the
// runs' refreshes leave them, and counts every run refreshed: for a
// warehouse written by hand (a test's fixture), which no run refreshed.
func RebuildDayCosts(ctx context.Context, conn *pgx.Conn) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT provider, account FROM reports.resource_day_cost_computed_v2
		                            UNION SELECT provider, account FROM billing.resource_day_costs`)
		if err != nil {
			return err
		}
		owners, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Owner])
		if err != nil {
			return err
		}
		always := pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
		ever := pgtype.Date{InfinityModifier: pgtype.Infinity, Valid: true}
		for _, o := range owners {
			if _, err := rewriteDayCosts(ctx, tx, o, pgtype.Int8{}, always, ever); err != nil {
				return fmt.Errorf("rebuild day costs of %s: %w", o, err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE ingest.runs SET day_costs_refreshed = true WHERE NOT day_costs_refreshed`)
		return err
	})
}

// rewriteDayCosts brings the owner's rows from day from to day to
// (inclusive) in line with the computed view's, as refreshed by run runID
// (none for a rebuild), with the writer's settings: the view's plan is
// costed high enough for JIT, whose compiling took longer than the
// statement runs. The merge runs with sorts priced out (the window's own
// stays): the planner costed sorting a year of CloudSigma's ledger, a
// million rows, to group them into a few thousand resource-days about the
// same as hashing them, and the sort took 2.5 s where the hash takes
// 0.3 s. The update of the days after runs with sorts back on: without
// them its window is fed by the primary key, every day of the account's
// history, instead of the days it needs sorted. It returns how many rows
// it added.
func rewriteDayCosts(ctx context.Context, tx pgx.Tx, owner Owner, runID pgtype.Int8, from, to pgtype.Date) (int64, error) {
	if _, err := tx.Exec(ctx, writeSettings+"; SET LOCAL enable_sort = off"); err != nil {
		return 0, err
	}
	// The deletes and updates run whether or not their rows are read.
	var added int64
	if err := tx.QueryRow(ctx, dayCostsMerge, owner.Provider, owner.Account, from, to, runID).Scan(&added); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, "SET LOCAL enable_sort = on"); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, dayCostsAfter, owner.Provider, owner.Account, to); err != nil {
		return 0, fmt.Errorf("update the baselines of the days after: %w", err)
	}
	return added, nil
}

// analyzeDayCosts keeps the table's statistics while refreshes fill it.
func (s *Store) analyzeDayCosts(ctx context.Context, inserted int64) {
	// The first backfill fills the table from nothing; the dashboard's
	// plans for an empty table read it whole (see keepStatistics).
	if s.grown(ctx, dayCosts, inserted) {
		if _, err := s.pool.Exec(ctx, "ANALYZE "+dayCosts); err != nil {
			s.logger.WarnContext(ctx, "could not analyze a table after a bulk write", "table", dayCosts, "err", err)
		}
	}
}
