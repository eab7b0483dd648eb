-- reports.month_to_date_v1: each billing month's spend so far and its forecast.
-- Grain: provider, billing month.
-- Columns: provider; billing_month (date); incurred_to_date (USD); non_discounted_to_date (USD);
--   days_elapsed (days of the month with data: up to the latest datapoint for the current
--   month, the whole month for a past one); forecast_month_end (USD, a straight-line
--   projection: incurred_to_date / days_elapsed x days in the month); previous_month_total
--   (USD); change_pct (forecast against the previous month, percent).
-- Example: SELECT * FROM reports.month_to_date_v1 ORDER BY billing_month DESC LIMIT 1;

-- +goose Up
CREATE VIEW reports.month_to_date_v1 AS
WITH months AS (
    SELECT provider, billing_month, sum(incurred_bill) AS incurred, sum(non_discounted_bill) AS non_discounted
    FROM billing.resource_month_costs GROUP BY 1, 2
), reach AS (
    SELECT provider, date_trunc('month', bucket_start AT TIME ZONE 'UTC')::date AS billing_month,
           max(bucket_start + make_interval(secs => bucket_seconds)) AS data_until
    FROM billing.cost_datapoints GROUP BY 1, 2
), sized AS (
    SELECT m.*,
           extract(day FROM (m.billing_month + interval '1 month' - interval '1 day'))::numeric AS month_days,
           least(extract(day FROM (m.billing_month + interval '1 month' - interval '1 day')),
                 greatest(1, ceil(extract(epoch FROM (coalesce(r.data_until, m.billing_month + interval '1 month')
                                                     - m.billing_month::timestamp AT TIME ZONE 'UTC')) / 86400)))::numeric AS days_elapsed
    FROM months m LEFT JOIN reach r USING (provider, billing_month)
)
SELECT provider,
       billing_month,
       incurred                                                    AS incurred_to_date,
       non_discounted                                              AS non_discounted_to_date,
       days_elapsed,
       round(incurred / days_elapsed * month_days, 6)              AS forecast_month_end,
       lag(incurred) OVER w                                        AS previous_month_total,
       round(100 * (incurred / days_elapsed * month_days - lag(incurred) OVER w) / nullif(lag(incurred) OVER w, 0), 2) AS change_pct
FROM sized
WINDOW w AS (PARTITION BY provider ORDER BY billing_month);
COMMENT ON VIEW reports.month_to_date_v1 IS 'Spend of each billing month so far, its month-end forecast and the change against the previous month.';
GRANT SELECT ON reports.month_to_date_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.month_to_date_v1;
