-- reports.daily_cost_v1: cost per UTC day and resource family, from the graph datapoints.
-- Grain: provider, day, resource family.
-- Rule: a resource's daily bucket is used as it is; its hourly buckets are summed only
--   for days that have no daily bucket, so nothing counts twice.
-- Columns: provider; day (date, UTC); resource_family; incurred_bill (USD).
-- Example: SELECT day, sum(incurred_bill) FROM reports.daily_cost_v1 GROUP BY day ORDER BY day;

-- +goose Up
CREATE VIEW reports.resource_day_cost_v1 AS
WITH daily AS (
    SELECT provider, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, incurred_bill
    FROM billing.cost_datapoints
    WHERE bucket_seconds = 86400 AND incurred_bill IS NOT NULL
), hourly AS (
    SELECT provider, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, sum(incurred_bill) AS incurred_bill
    FROM billing.cost_datapoints
    WHERE bucket_seconds = 3600 AND incurred_bill IS NOT NULL
    GROUP BY 1, 2, 3, 4
)
SELECT provider, family AS resource_family, resource_id, day, incurred_bill FROM daily
UNION ALL
SELECT h.provider, h.family, h.resource_id, h.day, h.incurred_bill FROM hourly h
WHERE NOT EXISTS (SELECT 1 FROM daily d
                  WHERE d.provider = h.provider AND d.family = h.family AND d.resource_id = h.resource_id AND d.day = h.day);
COMMENT ON VIEW reports.resource_day_cost_v1 IS 'Cost per resource per UTC day (daily buckets, else summed hourly ones).';
GRANT SELECT ON reports.resource_day_cost_v1 TO billing_reader;

CREATE VIEW reports.daily_cost_v1 AS
SELECT provider, day, resource_family, sum(incurred_bill) AS incurred_bill
FROM reports.resource_day_cost_v1
GROUP BY provider, day, resource_family;
COMMENT ON VIEW reports.daily_cost_v1 IS 'Cost per UTC day and resource family, from the graph datapoints.';
GRANT SELECT ON reports.daily_cost_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.daily_cost_v1;
DROP VIEW reports.resource_day_cost_v1;
