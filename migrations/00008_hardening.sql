-- Hardening: freshness that counts only what was written, and a database
-- whose PUBLIC privileges no longer let a read-only login write or stop
-- ingestion.

-- +goose Up

-- When a body was last decoded and written with its unit. NULL: it was
-- only kept (Run.KeepRaw) because its unit failed; it never counted.
-- Freshness (ingest status, reports.ingest_health_v1) is max(decoded_at),
-- and reprocess replays decoded bodies. Bodies stored before this
-- migration were counted as written then; they keep that.
ALTER TABLE ingest.raw_payloads ADD COLUMN decoded_at timestamptz;
COMMENT ON COLUMN ingest.raw_payloads.decoded_at IS
    'When the body was last decoded and written with its unit; NULL when it was only kept, its unit having failed.';
UPDATE ingest.raw_payloads SET decoded_at = fetched_at;

-- +goose Down
ALTER TABLE ingest.raw_payloads DROP COLUMN decoded_at;
