package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// RunError is one failed unit of a run.
type RunError struct {
	Endpoint   string
	ResourceID string
	HTTPStatus int
	Attempts   int
	Message    string
}

// RecordRunError appends a failure to the run's error records.
func (s *Store) RecordRunError(ctx context.Context, runID int64, e RunError) error {
	var resource *string
	if e.ResourceID != "" {
		resource = &e.ResourceID
	}
	var status *int
	if e.HTTPStatus != 0 {
		status = &e.HTTPStatus
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO ingest.run_errors (run_id, provider, account, endpoint, resource_id, http_status, attempts, message)
		SELECT id, provider, account, $2, $3, $4, $5, $6 FROM ingest.runs WHERE id = $1`, runID, e.Endpoint, resource, status, e.Attempts, Clip(e.Message, 2000))
	if err != nil {
		return fmt.Errorf("record run error: %w", err)
	}
	return nil
}

// RunErrors lists a run's errors, oldest first.
func (s *Store) RunErrors(ctx context.Context, runID int64) ([]RunError, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT endpoint, coalesce(resource_id, ''), coalesce(http_status, 0), attempts, message
		FROM ingest.run_errors WHERE run_id = $1 ORDER BY id`, runID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RunError, error) {
		var e RunError
		err := r.Scan(&e.Endpoint, &e.ResourceID, &e.HTTPStatus, &e.Attempts, &e.Message)
		return e, err
	})
}

// Clip cuts s to at most n bytes on a character boundary, marking the cut,
// and makes it storable: PostgreSQL refuses a text that is not UTF-8 (one
// cut inside a character, an API's stray byte) or that holds a NUL.
func Clip(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// UnitState is what the crawler last saw of one unit of work.
type UnitState struct {
	Fingerprint   string
	FetchedAt     time.Time
	FullRefreshAt time.Time
}

// FetchStates loads the fetch state of every unit whose name starts with prefix.
func (s *Store) FetchStates(ctx context.Context, owner Owner, prefix string) (map[string]UnitState, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT unit, fingerprint, fetched_at, full_refresh_at FROM ingest.fetch_state
		WHERE provider = $1 AND account = $2 AND starts_with(unit, $3)`, owner.Provider, owner.Account, prefix)
	if err != nil {
		return nil, fmt.Errorf("read fetch state: %w", err)
	}
	out := map[string]UnitState{}
	var unit string
	var st UnitState
	_, err = pgx.ForEachRow(rows, []any{&unit, &st.Fingerprint, &st.FetchedAt, &st.FullRefreshAt}, func() error {
		out[unit] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read fetch state: %w", err)
	}
	return out, nil
}

// RecordSightings notes that resources were seen by a run: first seen stays,
// last seen moves.
func (s *Store) RecordSightings(ctx context.Context, owner Owner, family string, ids []string, runID int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO ingest.resource_sightings (provider, account, family, resource_id, first_seen_at, last_seen_at, last_run_id)
		SELECT $1, $6, $2, id, $4, $4, $3 FROM unnest($5::text[]) AS id
		ON CONFLICT (provider, account, family, resource_id)
		DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at, last_run_id = EXCLUDED.last_run_id`,
		owner.Provider, family, runID, at, ids, owner.Account)
	if err != nil {
		return fmt.Errorf("record sightings: %w", err)
	}
	return nil
}

// BackfillDone lists the billing months a backfill has finished.
func (s *Store) BackfillDone(ctx context.Context, owner Owner) (map[time.Time]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT billing_month FROM ingest.backfill_months WHERE provider = $1 AND account = $2`,
		owner.Provider, owner.Account)
	if err != nil {
		return nil, fmt.Errorf("read backfill progress: %w", err)
	}
	months, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("read backfill progress: %w", err)
	}
	out := map[time.Time]bool{}
	for _, m := range months {
		out[time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, time.UTC)] = true
	}
	return out, nil
}

// MarkBackfillDone records that every unit of a billing month was fetched.
func (s *Store) MarkBackfillDone(ctx context.Context, owner Owner, month time.Time, runID int64) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO ingest.backfill_months (provider, account, billing_month, completed_at, run_id) VALUES ($1, $2, $3, now(), $4)
		ON CONFLICT (provider, account, billing_month) DO UPDATE SET completed_at = EXCLUDED.completed_at, run_id = EXCLUDED.run_id`,
		owner.Provider, owner.Account, month, runID)
	if err != nil {
		return fmt.Errorf("record backfill progress: %w", err)
	}
	return nil
}

// RawPayload is a stored response body (gzip) with what it was fetched for.
type RawPayload struct {
	Endpoint    string
	Params      string
	WindowStart *time.Time
	WindowEnd   *time.Time
	FetchedAt   time.Time
	BodyGzip    []byte
	// Decoded says the body was decoded and written when fetched. A body
	// that never was (its unit failed) is replayed only when it is newer
	// than every decoded body of its query: a decoder fix may read it now.
	Decoded bool
}

// eachRawPayload picks what reprocess replays: the newest decoded body of
// every windowed query and every decoded body of the point-in-time ones,
// plus the bodies that never decoded and are newer than any that did.
// Bodies are read by id once picked, so choosing never reads one.
const eachRawPayload = `
WITH p AS (
    SELECT id, endpoint, regexp_replace(params, $3, '') AS query, window_start IS NULL AS point_in_time, fetched_at, decoded_at,
           max(fetched_at) FILTER (WHERE decoded_at IS NOT NULL) OVER (PARTITION BY endpoint, regexp_replace(params, $3, '')) AS last_decoded
    FROM ingest.raw_payloads WHERE provider = $1 AND account = $2 AND status_code = 200
), picked AS (
    SELECT id FROM (
        SELECT DISTINCT ON (endpoint, query) id FROM p WHERE decoded_at IS NOT NULL AND NOT point_in_time
        ORDER BY endpoint, query, fetched_at DESC, id DESC
    ) newest
    UNION ALL
    SELECT id FROM p WHERE decoded_at IS NOT NULL AND point_in_time
    UNION ALL
    SELECT id FROM p WHERE decoded_at IS NULL AND (last_decoded IS NULL OR fetched_at > last_decoded)
)
SELECT r.endpoint, r.params, r.window_start, r.window_end, r.fetched_at, r.decoded_at IS NOT NULL, r.body_gzip
FROM ingest.raw_payloads r JOIN picked USING (id)
ORDER BY r.fetched_at, r.id`

// EachRawPayload calls fn for the stored bodies reprocess replays, oldest
// fetch first, so replaying them in order ends with what the API said
// last: the newest decoded body of every endpoint and query, where queries
// that differ only in what volatile matches (a regular expression over the
// params, such as the end of a window: the current month, fetched by
// successive runs) count as one: the newest covers the older.
// Point-in-time endpoints (no window: credit, usage, thresholds) are
// observations, and every decoded body of theirs is replayed, observed
// when it was last fetched. Bodies that never decoded come too when no
// decoded body of their query is newer (Decoded false). Each payload is
// fn's own to keep.
func (s *Store) EachRawPayload(ctx context.Context, owner Owner, volatile string, fn func(RawPayload) error) error {
	if volatile == "" {
		volatile = "$^" // matches nothing
	}
	rows, err := s.pool.Query(ctx, eachRawPayload, owner.Provider, owner.Account, volatile)
	if err != nil {
		return fmt.Errorf("read raw payloads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		// A fresh payload per row: fn may hand it to another goroutine.
		var p RawPayload
		if err := rows.Scan(&p.Endpoint, &p.Params, &p.WindowStart, &p.WindowEnd, &p.FetchedAt, &p.Decoded, &p.BodyGzip); err != nil {
			return fmt.Errorf("read raw payloads: %w", err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read raw payloads: %w", err)
	}
	return nil
}

// Freshness is when each endpoint family last answered with a body that
// was decoded and written; the zero time for a family whose every body
// failed (kept for investigation, never counted).
func (s *Store) Freshness(ctx context.Context, owner Owner) (map[string]time.Time, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT split_part(endpoint, '/', 1), max(decoded_at) FROM ingest.raw_payloads
		WHERE provider = $1 AND account = $2 GROUP BY 1`, owner.Provider, owner.Account)
	if err != nil {
		return nil, fmt.Errorf("read freshness: %w", err)
	}
	out := map[string]time.Time{}
	var family string
	var at *time.Time
	_, err = pgx.ForEachRow(rows, []any{&family, &at}, func() error {
		out[family] = time.Time{}
		if at != nil {
			out[family] = at.UTC()
		}
		return nil
	})
	return out, err
}

// AccountInfo is what the warehouse knows of one configured source, for
// billing.accounts. Empty fields leave what is stored.
type AccountInfo struct {
	Owner             Owner
	DisplayName       string
	ProviderAccountID string
	Currency          string
	Region            string
}

// SeeAccount records that a source's run started: the account's row is
// created the first time, and its last sighting moves. (Citus refuses a
// function that is not IMMUTABLE, now() included, in DO UPDATE SET: the
// time comes through EXCLUDED.)
func (s *Store) SeeAccount(ctx context.Context, a AccountInfo) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO billing.accounts (provider, account, display_name, provider_account_id, currency, region)
		VALUES ($1, $2, nullif($3, ''), nullif($4, ''), nullif($5, ''), nullif($6, ''))
		ON CONFLICT (provider, account) DO UPDATE SET
		    display_name = coalesce(EXCLUDED.display_name, billing.accounts.display_name),
		    provider_account_id = coalesce(EXCLUDED.provider_account_id, billing.accounts.provider_account_id),
		    currency = coalesce(EXCLUDED.currency, billing.accounts.currency),
		    region = coalesce(EXCLUDED.region, billing.accounts.region),
		    last_seen_at = EXCLUDED.last_seen_at`,
		a.Owner.Provider, a.Owner.Account, a.DisplayName, a.ProviderAccountID, a.Currency, a.Region)
	if err != nil {
		return fmt.Errorf("record account %s: %w", a.Owner, err)
	}
	return nil
}

// PayloadOwners lists the sources that have raw payloads, in order.
func (s *Store) PayloadOwners(ctx context.Context) ([]Owner, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT provider, account FROM ingest.raw_payloads ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read raw payload owners: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Owner, error) {
		var o Owner
		return o, r.Scan(&o.Provider, &o.Account)
	})
}
