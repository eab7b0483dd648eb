-- reports.restatements_v1: every late correction the crawler saw.
-- Grain: one changed (or vanished) value.
-- Columns: provider; observed_at (when the run saw it); run_id; table_name; resource_family;
--   resource_id; period (the month, bucket or event start the value belongs to, as text);
--   measure; old_value; new_value (NULL when the value vanished); delta (new minus old).
-- Example: SELECT date_trunc('month', observed_at), sum(delta) FROM reports.restatements_v1 GROUP BY 1;

-- +goose Up
CREATE VIEW reports.restatements_v1 AS
SELECT provider,
       observed_at,
       run_id,
       table_name,
       coalesce(row_key->>'family', CASE WHEN row_key ? 'vm_id' THEN 'virtual-machine' WHEN row_key ? 'cluster_id' THEN 'cluster' END) AS resource_family,
       coalesce(row_key->>'resource_id', row_key->>'vm_id', row_key->>'cluster_id') AS resource_id,
       coalesce(row_key->>'billing_month', row_key->>'bucket_start', row_key->>'event_start', row_key->>'day') AS period,
       measure,
       old_value,
       new_value,
       coalesce(new_value, 0) - old_value AS delta
FROM billing.restatements;
COMMENT ON VIEW reports.restatements_v1 IS 'Late corrections: which value changed, from what to what, seen by which run.';
GRANT SELECT ON reports.restatements_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.restatements_v1;
