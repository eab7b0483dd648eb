-- The three schemas the warehouse lives in, and the run ledger.
--
--   billing  normalized billing data, one table per entity, every row tagged with its provider
--   ingest   the crawler's own records: runs, errors, raw payloads, fetch bookkeeping
--   reports  versioned views, the only schema BI tools are granted

-- +goose Up
CREATE SCHEMA billing;
COMMENT ON SCHEMA billing IS 'Normalized billing data. Every table has a provider column.';

CREATE SCHEMA ingest;
COMMENT ON SCHEMA ingest IS 'Ingestion bookkeeping: run ledger, errors, raw payloads. Not for BI tools.';

CREATE SCHEMA reports;
COMMENT ON SCHEMA reports IS 'Versioned report views (name_vN). Their columns are a public contract.';

CREATE TABLE ingest.runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider       text        NOT NULL DEFAULT 'hyperstack',
    trigger        text        NOT NULL,
    window_start   timestamptz,
    window_end     timestamptz,
    started_at     timestamptz NOT NULL DEFAULT now(),
    heartbeat_at   timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    status         text        NOT NULL DEFAULT 'running',
    requests       bigint      NOT NULL DEFAULT 0,
    retries        bigint      NOT NULL DEFAULT 0,
    rate_limited   bigint      NOT NULL DEFAULT 0,
    rows_inserted  bigint      NOT NULL DEFAULT 0,
    rows_updated   bigint      NOT NULL DEFAULT 0,
    rows_deleted   bigint      NOT NULL DEFAULT 0,
    errors         bigint      NOT NULL DEFAULT 0,
    error_summary  text,
    host           text        NOT NULL DEFAULT '',
    pid            integer     NOT NULL DEFAULT 0,

    CONSTRAINT runs_trigger_check CHECK (trigger IN ('manual', 'schedule', 'backfill', 'reprocess')),
    CONSTRAINT runs_status_check CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'cancelled', 'abandoned')),
    CONSTRAINT runs_finished_check CHECK ((status = 'running') = (finished_at IS NULL)),
    CONSTRAINT runs_window_check CHECK (window_start IS NULL OR window_end IS NULL OR window_start <= window_end)
);
COMMENT ON TABLE ingest.runs IS 'One row per ingestion run: what it fetched, how it ended, what it counted.';

CREATE INDEX runs_started_at_idx ON ingest.runs (started_at DESC);
CREATE INDEX runs_running_idx ON ingest.runs (heartbeat_at) WHERE status = 'running';

-- +goose Down
DROP TABLE ingest.runs;
DROP SCHEMA reports;
DROP SCHEMA ingest;
DROP SCHEMA billing;
