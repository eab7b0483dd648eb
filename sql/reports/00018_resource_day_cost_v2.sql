-- reports.resource_day_cost_v2: what each resource cost per UTC day, in its account's currency.
-- Grain: provider, account, resource, day.
-- Rule: billed_cost comes from the graph (a daily bucket, else the day's hourly
--   buckets, as resource_day_cost_v1). Resources whose graph has no cost get their
--   month summary spread over the days: image generation in proportion to each
--   day's tokens (evenly when there are none); commitments (Hyperstack contracts)
--   over the part of the month they covered (from creation to termination, up to the
--   account's last run for the month still open), in proportion to time. Contracts
--   are commitments: their billed_cost is NULL on the days (the month is billed,
--   see focus_v2), their amortized_cost carries the spread. amortized_cost is
--   billed_cost for everything else, so a month's days add up to its summaries.
-- Columns: provider; account; currency (ISO 4217, of the account); day (date, UTC);
--   resource_family; resource_id; billed_cost; amortized_cost (currency);
--   source ('daily', 'hourly' graph buckets, 'spread' from the month summary).
-- Later sources add UNION ALL branches with their own rows (CloudSigma
--   subscriptions as commitments).
-- Example: SELECT day, sum(amortized_cost) FROM reports.resource_day_cost_v2 WHERE account = 'default' GROUP BY 1;

-- +goose Up
CREATE VIEW reports.resource_day_cost_v2 AS
WITH clock AS (
    SELECT provider, account, max(window_end) AS as_of FROM ingest.runs GROUP BY 1, 2
), graph AS (
    -- A day's daily bucket where there is one, else the sum of its hourly ones.
    SELECT provider, account, family, resource_id, day, cost,
           CASE bucket_seconds WHEN 86400 THEN 'daily' ELSE 'hourly' END AS source
    FROM (SELECT provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, bucket_seconds,
                 sum(incurred_bill) AS cost,
                 rank() OVER (PARTITION BY provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date
                              ORDER BY bucket_seconds DESC) AS pick
          FROM billing.cost_datapoints
          WHERE incurred_bill IS NOT NULL AND bucket_seconds IN (3600, 86400) AND family NOT IN ('contract', 'image_generation')
          GROUP BY provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date, bucket_seconds) g
    WHERE pick = 1
), image_tokens AS (
    SELECT provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day,
           sum(coalesce(total_tokens, coalesce(input_tokens, 0) + coalesce(output_tokens, 0))) AS tokens
    FROM billing.cost_datapoints
    WHERE family = 'image_generation' AND bucket_seconds = 86400
    GROUP BY 1, 2, 3, 4, 5
), images AS (
    SELECT m.provider, m.account, m.family, m.resource_id, t.day,
           m.incurred_bill * t.tokens / sum(t.tokens) OVER (PARTITION BY m.provider, m.account, m.resource_id, m.billing_month) AS cost
    FROM billing.resource_month_costs m
    JOIN image_tokens t ON t.provider = m.provider AND t.account = m.account AND t.resource_id = m.resource_id
                       AND date_trunc('month', t.day)::date = m.billing_month AND t.tokens > 0
    WHERE m.family = 'image_generation'
), spans AS (
    -- What a month summary without a usable graph covers: contracts from their
    -- start to their end, image generation without tokens the month; both up
    -- to the account's last run while the month is open.
    SELECT m.provider, m.account, m.family, m.resource_id, m.billing_month, m.incurred_bill,
           greatest(m.billing_month::timestamp AT TIME ZONE 'UTC', CASE WHEN m.family = 'contract' THEN r.created_at END) AS span_start,
           least((m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC',
                 CASE WHEN m.family = 'contract' THEN r.terminated_at END, c.as_of) AS span_end
    FROM billing.resource_month_costs m
    LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
    LEFT JOIN clock c USING (provider, account)
    WHERE m.family = 'contract'
       OR m.family = 'image_generation' AND NOT EXISTS (SELECT 1 FROM images i WHERE i.provider = m.provider AND i.account = m.account
                                                          AND i.resource_id = m.resource_id AND date_trunc('month', i.day)::date = m.billing_month)
), spans_fixed AS (
    -- A span the resource's dates do not fit (unknown, or outside the month): the whole month.
    SELECT s.provider, s.account, s.family, s.resource_id, s.billing_month, s.incurred_bill,
           CASE WHEN s.span_end > s.span_start THEN s.span_start ELSE s.billing_month::timestamp AT TIME ZONE 'UTC' END AS span_start,
           CASE WHEN s.span_end > s.span_start THEN s.span_end ELSE (s.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC' END AS span_end
    FROM spans s
), spread AS (
    SELECT s.provider, s.account, s.family, s.resource_id, d.day,
           s.incurred_bill * extract(epoch FROM least(s.span_end, (d.day + 1)::timestamp AT TIME ZONE 'UTC')
                                              - greatest(s.span_start, d.day::timestamp AT TIME ZONE 'UTC'))
                           / extract(epoch FROM s.span_end - s.span_start) AS cost
    FROM spans_fixed s
    CROSS JOIN LATERAL (SELECT g::date AS day FROM generate_series((s.span_start AT TIME ZONE 'UTC')::date::timestamp,
                                                                   (s.span_end AT TIME ZONE 'UTC') - interval '1 microsecond',
                                                                   interval '1 day') AS g) d
), days AS (
    SELECT provider, account, family, resource_id, day, cost AS billed, cost AS amortized, source FROM graph
    UNION ALL
    SELECT provider, account, family, resource_id, day, cost, cost, 'spread' FROM images
    UNION ALL
    SELECT provider, account, family, resource_id, day,
           CASE WHEN family = 'contract' THEN NULL ELSE cost END, cost, 'spread' FROM spread
)
SELECT x.provider,
       x.account,
       coalesce(a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
       x.day,
       x.family      AS resource_family,
       x.resource_id,
       x.billed      AS billed_cost,
       x.amortized   AS amortized_cost,
       x.source
FROM days x
LEFT JOIN billing.accounts a USING (provider, account);
COMMENT ON VIEW reports.resource_day_cost_v2 IS 'Cost per resource per UTC day in the account''s currency: billed, and amortized (commitments spread over the days they cover).';
GRANT SELECT ON reports.resource_day_cost_v2 TO billing_reader;

-- +goose Down
DROP VIEW reports.resource_day_cost_v2;
