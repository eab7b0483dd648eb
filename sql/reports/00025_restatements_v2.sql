-- reports.restatements_v2: every change to a stored value, corrections and accruals told apart.
-- Grain: one changed (or vanished) value.
-- Rule: kind 'correction' when the value's period had ended by the end of the window
--   of the account's previous run (it was settled when last seen, and the provider
--   changed it); 'accrual' when the period was still running then and grew.
-- Columns: provider; account; currency; observed_at; run_id; kind; table_name;
--   resource_family; resource_id; period_start, period_end (timestamptz: the bucket,
--   day, month, hour or state stretch the value belongs to; period_end NULL for a
--   stretch whose length is not in its key); measure; is_money (false for usage
--   seconds and tokens); old_value; new_value (NULL when the value vanished); delta.
-- Example: SELECT account, date_trunc('month', observed_at), sum(delta) FROM reports.restatements_v2
--          WHERE kind = 'correction' AND is_money GROUP BY 1, 2;

-- +goose Up
CREATE VIEW reports.restatements_v2 AS
SELECT r.provider,
       r.account,
       coalesce(a.currency, CASE r.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
       r.observed_at,
       r.run_id,
       r.kind,
       r.table_name,
       coalesce(r.row_key->>'family', CASE WHEN r.row_key ? 'vm_id' THEN 'virtual-machine' WHEN r.row_key ? 'cluster_id' THEN 'cluster' END) AS resource_family,
       coalesce(r.row_key->>'resource_id', r.row_key->>'vm_id', r.row_key->>'cluster_id') AS resource_id,
       p.period_start,
       CASE WHEN r.row_key ? 'bucket_seconds' THEN p.period_start + make_interval(secs => (r.row_key->>'bucket_seconds')::int)
            WHEN r.row_key ? 'billing_month' THEN p.period_start + interval '1 month'
            WHEN r.row_key ? 'day' OR r.row_key ? 'observed_on' THEN p.period_start + interval '1 day'
            WHEN r.row_key ? 'observed_hour' THEN p.period_start + interval '1 hour' END AS period_end,
       r.measure,
       r.measure NOT IN ('usage_seconds', 'input_tokens', 'output_tokens', 'duration_hours') AS is_money,
       r.old_value,
       r.new_value,
       coalesce(r.new_value, 0) - r.old_value AS delta
FROM billing.restatements r
LEFT JOIN billing.accounts a USING (provider, account)
CROSS JOIN LATERAL (
    SELECT coalesce((r.row_key->>'bucket_start')::timestamptz, (r.row_key->>'event_start')::timestamptz,
                    (r.row_key->>'observed_hour')::timestamptz,
                    coalesce(r.row_key->>'billing_month', r.row_key->>'day', r.row_key->>'observed_on')::date::timestamp AT TIME ZONE 'UTC') AS period_start
) p;
COMMENT ON VIEW reports.restatements_v2 IS 'Every change to a stored value: corrections of settled periods and accruals of running ones, old, new, delta.';
GRANT SELECT ON reports.restatements_v2 TO billing_reader;

-- +goose Down
DROP VIEW reports.restatements_v2;
