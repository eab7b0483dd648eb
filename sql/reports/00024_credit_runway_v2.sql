-- reports.credit_runway_v2: how long each account's credit lasts at its recent spending rate.
-- Grain: provider, account, credit observation (hourly at most).
-- Columns: provider; account; currency; observed_at (timestamptz); credit;
--   avg_daily_cost_7d (amortized cost per day over the 7 whole UTC days before the
--   observation's day, commitments included); days_left (NULL when nothing is spent);
--   runs_out_on (date).
-- Example: SELECT * FROM reports.credit_runway_v2 ORDER BY observed_at DESC LIMIT 1;

-- +goose Up
CREATE VIEW reports.credit_runway_v2 AS
WITH daily AS MATERIALIZED (
    SELECT provider, account, day, sum(amortized_cost) AS cost FROM reports.resource_day_cost_v2 GROUP BY 1, 2, 3
)
SELECT o.provider,
       o.account,
       coalesce(ac.currency, CASE o.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
       o.observed_hour AS observed_at,
       o.credit,
       round(a.spent / 7, 6) AS avg_daily_cost_7d,
       round(o.credit * 7 / nullif(a.spent, 0), 2) AS days_left,
       ((o.observed_hour AT TIME ZONE 'UTC')::date + floor(o.credit * 7 / nullif(a.spent, 0))::int) AS runs_out_on
FROM billing.credit_observations o
LEFT JOIN billing.accounts ac USING (provider, account)
CROSS JOIN LATERAL (
    SELECT sum(d.cost) AS spent
    FROM daily d
    WHERE d.provider = o.provider AND d.account = o.account
      AND d.day >= (o.observed_hour AT TIME ZONE 'UTC')::date - 7
      AND d.day <  (o.observed_hour AT TIME ZONE 'UTC')::date
) a;
COMMENT ON VIEW reports.credit_runway_v2 IS 'Each account''s credit, its average daily amortized cost of the last 7 days, and when the credit runs out.';
GRANT SELECT ON reports.credit_runway_v2 TO billing_reader;

-- +goose Down
DROP VIEW reports.credit_runway_v2;
