-- Data quality: values a provider sent that are stored exactly as sent but
-- that no analyst should meet unawares inside a sum (a negative usage time,
-- a negative bill), and facts the crawler had to infer because the API left
-- them out (a graph's bucket size). One row per observation: a re-run that
-- sees the same thing again rewrites nothing but the run that last saw it.
--
-- resource_month_costs gains the size a list entry reports (buckets), which
-- had no column: a resource whose detail answers 404 keeps its list metrics.

-- +goose Up

CREATE TABLE billing.data_quality (
    provider     text COLLATE "C" NOT NULL,
    account      text COLLATE "C" NOT NULL,
    endpoint     text COLLATE "C" NOT NULL,
    resource_id  text COLLATE "C" NOT NULL,  -- '' for organisation-level endpoints
    field        text COLLATE "C" NOT NULL,
    period       timestamptz NOT NULL,        -- billing month, graph bucket or observation day
    value        numeric,
    note         text        NOT NULL,
    run_id       bigint,                      -- the run that last saw it; NULL when rebuilt by reprocess
    PRIMARY KEY (provider, account, endpoint, resource_id, field, period)
);
COMMENT ON TABLE billing.data_quality IS 'Values stored as sent but implausible (negative amounts, usage) and values the crawler inferred, per endpoint, resource, field and period.';

ALTER TABLE billing.resource_month_costs ADD COLUMN size numeric;
COMMENT ON COLUMN billing.resource_month_costs.size IS 'Size the API reports with the month (buckets), as sent.';

-- +goose Down

ALTER TABLE billing.resource_month_costs DROP COLUMN size;
DROP TABLE billing.data_quality;
