-- reports.credit_runway_v1: how long the credit lasts at the recent spending rate.
-- Grain: provider, credit observation (hourly at most).
-- Columns: provider; observed_at (timestamptz); credit (USD); avg_daily_cost_7d (USD/day,
--   over the 7 whole UTC days before the observation's day); days_left (days, NULL when
--   nothing is spent); runs_out_on (date).
-- Example: SELECT * FROM reports.credit_runway_v1 ORDER BY observed_at DESC LIMIT 1;

-- +goose Up
CREATE VIEW reports.credit_runway_v1 AS
SELECT o.provider,
       o.observed_hour AS observed_at,
       o.credit,
       round(a.avg_daily, 6) AS avg_daily_cost_7d,
       round(o.credit / nullif(a.avg_daily, 0), 2) AS days_left,
       ((o.observed_hour AT TIME ZONE 'UTC')::date + floor(o.credit / nullif(a.avg_daily, 0))::int) AS runs_out_on
FROM billing.credit_observations o
CROSS JOIN LATERAL (
    SELECT sum(d.incurred_bill) / 7 AS avg_daily
    FROM reports.daily_cost_v1 d
    WHERE d.provider = o.provider
      AND d.day >= (o.observed_hour AT TIME ZONE 'UTC')::date - 7
      AND d.day <  (o.observed_hour AT TIME ZONE 'UTC')::date
) a;
COMMENT ON VIEW reports.credit_runway_v1 IS 'Credit balance, average daily cost of the last 7 days, and when the credit runs out at that rate.';
GRANT SELECT ON reports.credit_runway_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.credit_runway_v1;
