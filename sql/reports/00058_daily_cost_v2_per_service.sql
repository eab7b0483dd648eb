-- reports.daily_cost_v2 sums the graph per service straight from the
-- datapoints (same columns, rows and meaning as 00020). It summed
-- resource_day_cost_v2, which groups every resource's day first: the most
-- work of the dashboard's 60 days, for a chart per service. The graph's rule
-- is resource_day_cost_v2's (a day's daily bucket, else its hourly ones when
-- it has no daily bucket); every other row of it (spread, image generation,
-- the sources) still comes from that view, whose graph branches a filter on
-- source drops. A filter on provider, account or day reaches the datapoints.
-- Down puts 00020's definition back.

-- +goose Up
CREATE OR REPLACE VIEW reports.daily_cost_v2 AS
WITH graph AS (
    -- The graph's cost per service and day summed straight from the
    -- datapoints, as resource_day_cost_v2 picks them per resource (a day's
    -- daily bucket, else its hourly ones), without a per-resource step.
    SELECT c.provider, c.account, (c.bucket_start AT TIME ZONE 'UTC')::date AS day, c.family, sum(c.incurred_bill) AS billed
    FROM (SELECT provider, account, family, bucket_start, incurred_bill
          FROM billing.cost_datapoints
          WHERE incurred_bill IS NOT NULL AND bucket_seconds = 86400 AND family NOT IN ('contract', 'image_generation')
          UNION ALL
          SELECT h.provider, h.account, h.family, h.bucket_start, h.incurred_bill
          FROM billing.cost_datapoints h
          WHERE h.incurred_bill IS NOT NULL AND h.bucket_seconds = 3600 AND h.family NOT IN ('contract', 'image_generation')
            AND NOT EXISTS (SELECT 1 FROM billing.cost_datapoints d
                            WHERE d.provider = h.provider AND d.account = h.account AND d.family = h.family AND d.resource_id = h.resource_id
                              AND d.bucket_seconds = 86400 AND d.incurred_bill IS NOT NULL
                              AND d.bucket_start >= date_trunc('day', h.bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                              AND d.bucket_start < (date_trunc('day', h.bucket_start AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC')) c
    GROUP BY c.provider, c.account, (c.bucket_start AT TIME ZONE 'UTC')::date, c.family
), days AS (
    SELECT g.provider, g.account, coalesce(a.currency, CASE g.provider WHEN 'hyperstack' THEN 'USD' END) AS currency, g.day,
           g.family AS resource_family, g.billed AS billed_cost, g.billed AS amortized_cost
    FROM graph g
    LEFT JOIN billing.accounts a USING (provider, account)
    UNION ALL
    -- Every other row of resource_day_cost_v2 (spread, sources).
    SELECT provider, account, currency, day, resource_family, billed_cost, amortized_cost
    FROM reports.resource_day_cost_v2
    WHERE source NOT IN ('daily', 'hourly')
)
SELECT d.provider,
       d.account,
       d.currency,
       d.day,
       d.resource_family       AS service,
       sum(d.billed_cost)      AS billed_cost,
       sum(d.amortized_cost)   AS amortized_cost,
       s.reporting_currency,
       sum(d.billed_cost) * CASE WHEN d.currency = s.reporting_currency THEN 1 ELSE fx.to_reporting END    AS billed_cost_reporting,
       sum(d.amortized_cost) * CASE WHEN d.currency = s.reporting_currency THEN 1 ELSE fx.to_reporting END AS amortized_cost_reporting
FROM days d
CROSS JOIN (SELECT reporting_currency FROM billing.settings LIMIT 1) s
LEFT JOIN reports.fx_rates_v1 fx ON fx.currency = d.currency AND fx.day = d.day
GROUP BY d.provider, d.account, d.currency, d.day, d.resource_family, s.reporting_currency, fx.to_reporting;
COMMENT ON VIEW reports.daily_cost_v2 IS 'Spend per UTC day and service per account and currency: billed, and amortized over commitments.';
GRANT SELECT ON reports.daily_cost_v2 TO billing_reader;

-- +goose Down
CREATE OR REPLACE VIEW reports.daily_cost_v2 AS
SELECT d.provider,
       d.account,
       d.currency,
       d.day,
       d.resource_family       AS service,
       sum(d.billed_cost)      AS billed_cost,
       sum(d.amortized_cost)   AS amortized_cost,
       s.reporting_currency,
       sum(d.billed_cost) * CASE WHEN d.currency = s.reporting_currency THEN 1 ELSE fx.to_reporting END    AS billed_cost_reporting,
       sum(d.amortized_cost) * CASE WHEN d.currency = s.reporting_currency THEN 1 ELSE fx.to_reporting END AS amortized_cost_reporting
FROM reports.resource_day_cost_v2 d
CROSS JOIN (SELECT reporting_currency FROM billing.settings LIMIT 1) s
LEFT JOIN reports.fx_rates_v1 fx ON fx.currency = d.currency AND fx.day = d.day
GROUP BY d.provider, d.account, d.currency, d.day, d.resource_family, s.reporting_currency, fx.to_reporting;
COMMENT ON VIEW reports.daily_cost_v2 IS 'Spend per UTC day and service per account and currency: billed, and amortized over commitments.';
GRANT SELECT ON reports.daily_cost_v2 TO billing_reader;
