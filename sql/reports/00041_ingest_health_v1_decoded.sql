-- reports.ingest_health_v1, fixed in place (same columns, same meaning as
-- documented): a family's last success is the last body that was decoded
-- and written (ingest.raw_payloads.decoded_at), not the last one stored.
-- The bodies of failed units are stored too, for investigation; counting
-- them made a run whose every body was undecodable look fresh.
-- Grain: provider, account, endpoint family.
-- Columns: provider; endpoint_family; last_success_at (timestamptz, NULL when no body of
--   the family ever decoded); lag (interval since the last success, or since the
--   provider's first run when there was none, so the alert below fires);
--   last_run_status (of the account's newest finished run); last_error (the newest error
--   recorded for the family in that run, if any); account.
-- Example: SELECT * FROM reports.ingest_health_v1 WHERE lag > interval '2 hours';

-- +goose Up
CREATE OR REPLACE VIEW reports.ingest_health_v1 AS
WITH fresh AS (
    SELECT provider, account, split_part(endpoint, '/', 1) AS endpoint_family, max(decoded_at) AS last_success_at
    FROM ingest.raw_payloads GROUP BY 1, 2, 3
), last_run AS (
    SELECT DISTINCT ON (provider, account) provider, account, id, status FROM ingest.runs
    WHERE status <> 'running' ORDER BY provider, account, started_at DESC, id DESC
)
SELECT f.provider, f.endpoint_family, f.last_success_at,
       now() - coalesce(f.last_success_at,
           (SELECT min(r.started_at) FROM ingest.runs r WHERE r.provider = f.provider AND r.account = f.account)) AS lag,
       lr.status AS last_run_status,
       (SELECT e.message FROM ingest.run_errors e
        WHERE e.run_id = lr.id AND split_part(e.endpoint, '/', 1) = f.endpoint_family
        ORDER BY e.id DESC LIMIT 1) AS last_error,
       f.account
FROM fresh f LEFT JOIN last_run lr USING (provider, account);

-- +goose Down
CREATE OR REPLACE VIEW reports.ingest_health_v1 AS
WITH fresh AS (
    SELECT provider, account, split_part(endpoint, '/', 1) AS endpoint_family, max(fetched_at) AS last_success_at
    FROM ingest.raw_payloads WHERE status_code = 200 GROUP BY 1, 2, 3
), last_run AS (
    SELECT DISTINCT ON (provider, account) provider, account, id, status FROM ingest.runs
    WHERE status <> 'running' ORDER BY provider, account, started_at DESC, id DESC
)
SELECT f.provider, f.endpoint_family, f.last_success_at, now() - f.last_success_at AS lag,
       lr.status AS last_run_status,
       (SELECT e.message FROM ingest.run_errors e
        WHERE e.run_id = lr.id AND split_part(e.endpoint, '/', 1) = f.endpoint_family
        ORDER BY e.id DESC LIMIT 1) AS last_error,
       f.account
FROM fresh f LEFT JOIN last_run lr USING (provider, account);
