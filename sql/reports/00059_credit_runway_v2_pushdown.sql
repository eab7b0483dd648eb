-- reports.credit_runway_v2 reads the 7 days before each observation only
-- (same columns, rows and meaning as 00054), from daily_cost_v2, instead of
-- every account's daily cost over all history (a materialized CTE). The
-- spending is a LEFT JOIN of one row, so a query that reads only the credit
-- (a chart of it) skips it.
-- Down puts 00054's definition back.

-- +goose Up
CREATE OR REPLACE VIEW reports.credit_runway_v2 AS
SELECT o.provider,
       o.account,
       coalesce(ac.currency, CASE o.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
       o.observed_hour AS observed_at,
       o.credit,
       round(a.spent / 7, 6) AS avg_daily_cost_7d,
       round(h.usable * 7 / nullif(a.spent, 0), 2) AS days_left,
       ((o.observed_hour AT TIME ZONE 'UTC')::date + floor(h.usable * 7 / nullif(a.spent, 0))::int) AS runs_out_on
FROM billing.credit_observations o
LEFT JOIN billing.accounts ac USING (provider, account)
-- CloudSigma's balance runs down to its credit limit (threshold; NULL: 0).
CROSS JOIN LATERAL (SELECT CASE WHEN o.provider = 'cloudsigma' THEN o.credit - coalesce(o.threshold, 0) ELSE o.credit END AS usable) h
-- The 7 days before the observation's, read for those days only (a LEFT
-- JOIN of one row: a query that reads no runway figure skips it).
LEFT JOIN LATERAL (
    SELECT sum(d.amortized_cost) AS spent
    FROM reports.daily_cost_v2 d
    WHERE d.provider = o.provider AND d.account = o.account
      AND d.day >= (o.observed_hour AT TIME ZONE 'UTC')::date - 7
      AND d.day <  (o.observed_hour AT TIME ZONE 'UTC')::date
) a ON true;
COMMENT ON VIEW reports.credit_runway_v2 IS 'Each account''s credit, its average daily amortized cost of the last 7 days, and when the credit runs out.';
GRANT SELECT ON reports.credit_runway_v2 TO billing_reader;

-- +goose Down
CREATE OR REPLACE VIEW reports.credit_runway_v2 AS
WITH daily AS MATERIALIZED (
    SELECT provider, account, day, sum(amortized_cost) AS cost FROM reports.resource_day_cost_v2 GROUP BY 1, 2, 3
)
SELECT o.provider,
       o.account,
       coalesce(ac.currency, CASE o.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
       o.observed_hour AS observed_at,
       o.credit,
       round(a.spent / 7, 6) AS avg_daily_cost_7d,
       round(h.usable * 7 / nullif(a.spent, 0), 2) AS days_left,
       ((o.observed_hour AT TIME ZONE 'UTC')::date + floor(h.usable * 7 / nullif(a.spent, 0))::int) AS runs_out_on
FROM billing.credit_observations o
LEFT JOIN billing.accounts ac USING (provider, account)
-- CloudSigma's balance runs down to its credit limit (threshold; NULL: 0).
CROSS JOIN LATERAL (SELECT CASE WHEN o.provider = 'cloudsigma' THEN o.credit - coalesce(o.threshold, 0) ELSE o.credit END AS usable) h
CROSS JOIN LATERAL (
    SELECT sum(d.cost) AS spent
    FROM daily d
    WHERE d.provider = o.provider AND d.account = o.account
      AND d.day >= (o.observed_hour AT TIME ZONE 'UTC')::date - 7
      AND d.day <  (o.observed_hour AT TIME ZONE 'UTC')::date
) a;
COMMENT ON VIEW reports.credit_runway_v2 IS 'Each account''s credit, its average daily amortized cost of the last 7 days, and when the credit runs out.';
GRANT SELECT ON reports.credit_runway_v2 TO billing_reader;
