-- reports.data_quality_v1: values the providers sent that are stored exactly but
-- deserve a look before they go into a sum (negative bills, negative usage
-- times), and values the crawler inferred because a response left them out.
-- Grain: provider, account, endpoint, resource, field, period.
-- Columns: provider; account; endpoint (catalog name, e.g. virtual-machine/detail);
--   resource_id ('' for organisation-level endpoints); field (as the API names it);
--   period (timestamptz: billing month, graph bucket or observation day);
--   value (numeric, as sent; for an inferred bucket size, its seconds);
--   note (what is wrong or how the value was inferred); run_id (the run that
--   last saw it, NULL when rebuilt from raw payloads).
-- Example: SELECT endpoint, field, count(*), sum(value) FROM reports.data_quality_v1
--   WHERE period >= date_trunc('month', now()) GROUP BY 1, 2 ORDER BY 3 DESC;

-- +goose Up
CREATE VIEW reports.data_quality_v1 AS
SELECT provider, account, endpoint, resource_id, field, period, value, note, run_id
FROM billing.data_quality;
COMMENT ON VIEW reports.data_quality_v1 IS 'Implausible values stored as sent (negative amounts and usage) and values the crawler inferred, per endpoint, resource, field and period.';
GRANT SELECT ON reports.data_quality_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.data_quality_v1;
