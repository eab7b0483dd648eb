-- reports.ingest_health_v1: is every endpoint family fresh?
-- Grain: provider, endpoint family (virtual-machine, volume, …, org, usage, credit, …).
-- Columns: provider; endpoint_family; last_success_at (timestamptz); lag (interval since);
--   last_run_status (of the newest finished run); last_error (the newest error recorded
--   for the family in that run, if any).
-- Example: SELECT * FROM reports.ingest_health_v1 WHERE lag > interval '2 hours';

-- +goose Up
CREATE VIEW reports.ingest_health_v1 AS
WITH fresh AS (
    SELECT provider, split_part(endpoint, '/', 1) AS endpoint_family, max(fetched_at) AS last_success_at
    FROM ingest.raw_payloads WHERE status_code = 200 GROUP BY 1, 2
), last_run AS (
    SELECT DISTINCT ON (provider) provider, id, status FROM ingest.runs
    WHERE status <> 'running' ORDER BY provider, started_at DESC, id DESC
)
SELECT f.provider, f.endpoint_family, f.last_success_at, now() - f.last_success_at AS lag,
       lr.status AS last_run_status,
       (SELECT e.message FROM ingest.run_errors e
        WHERE e.run_id = lr.id AND split_part(e.endpoint, '/', 1) = f.endpoint_family
        ORDER BY e.id DESC LIMIT 1) AS last_error
FROM fresh f LEFT JOIN last_run lr USING (provider);
COMMENT ON VIEW reports.ingest_health_v1 IS 'When each endpoint family last answered, how long ago, and the last run''s status and error.';
GRANT SELECT ON reports.ingest_health_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.ingest_health_v1;
