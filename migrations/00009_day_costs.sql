-- Day costs: reports.resource_day_cost_v2 kept as a table. The view
-- computed every resource's day from the datapoints, month summaries and
-- the sources' ledgers on every read: the dashboard's anomalies (a 14-day
-- baseline over every resource-day) took 2 s of its 2.45 s on the 4x
-- benchmark warehouse. Each run now rewrites the days it fetched
-- (store.RefreshDayCosts), and the view reads this table.
--
-- The table is filled by the report file that points the view at it
-- (sql/reports/00059), not here: report views are installed after the
-- schema, so on a new database there is no view to fill from yet, and
-- every rollback of the schema takes the views down and puts them back,
-- refilling it.

-- +goose Up
CREATE TABLE billing.resource_day_costs (
    provider          text COLLATE "C" NOT NULL,
    account           text COLLATE "C" NOT NULL,
    currency          text,
    day               date NOT NULL,
    resource_family   text COLLATE "C" NOT NULL,
    resource_id       text COLLATE "C" NOT NULL,
    billed_cost       numeric,
    amortized_cost    numeric,
    source            text NOT NULL,
    refreshed_run_id  bigint,
    -- the view's grain; the anomalies' baseline reads a resource's days in order
    PRIMARY KEY (provider, account, resource_family, resource_id, day)
);
COMMENT ON TABLE billing.resource_day_costs IS
    'reports.resource_day_cost_v2 as of each account''s last refreshed run: cost per resource per UTC day. Rewritten by the runs, never by hand.';
COMMENT ON COLUMN billing.resource_day_costs.refreshed_run_id IS
    'The run whose refresh wrote the row; NULL when written by the report file that filled the table.';
-- the charts and month-to-date read an account's days
CREATE INDEX resource_day_costs_day_idx ON billing.resource_day_costs (provider, account, day);

ALTER TABLE ingest.runs ADD COLUMN day_costs_refreshed boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN ingest.runs.day_costs_refreshed IS
    'Whether billing.resource_day_costs has been rewritten for the run''s window; a run killed before that is repaired by the next one.';

-- +goose Down
ALTER TABLE ingest.runs DROP COLUMN day_costs_refreshed;
DROP TABLE billing.resource_day_costs;
