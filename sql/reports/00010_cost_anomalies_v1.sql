-- reports.cost_anomalies_v1: resource-days whose cost jumped well above their baseline.
-- Grain: provider, day, resource.
-- Rule: baseline = the resource's average daily cost over the days it had cost in the 14
--   days before, only when there are at least 7 such days (a new resource has no
--   baseline yet); a day is an anomaly when its cost is at least twice the baseline and
--   at least 1 USD above it.
-- Columns: provider; day; resource_family; resource_id; resource_name; cost (USD);
--   baseline (USD/day); ratio (cost / baseline).
-- Example: SELECT * FROM reports.cost_anomalies_v1 WHERE day > current_date - 7 ORDER BY ratio DESC;

-- +goose Up
CREATE VIEW reports.cost_anomalies_v1 AS
WITH days AS (
    SELECT d.provider, d.resource_family, d.resource_id, d.day, d.incurred_bill AS cost,
           (SELECT avg(p.incurred_bill) FROM reports.resource_day_cost_v1 p
            WHERE p.provider = d.provider AND p.resource_family = d.resource_family AND p.resource_id = d.resource_id
              AND p.day >= d.day - 14 AND p.day < d.day) AS baseline,
           (SELECT count(*) FROM reports.resource_day_cost_v1 p
            WHERE p.provider = d.provider AND p.resource_family = d.resource_family AND p.resource_id = d.resource_id
              AND p.day >= d.day - 14 AND p.day < d.day) AS history_days
    FROM reports.resource_day_cost_v1 d
)
SELECT x.provider, x.day, x.resource_family, x.resource_id, r.name AS resource_name,
       x.cost, round(x.baseline, 6) AS baseline, round(x.cost / x.baseline, 2) AS ratio
FROM days x
LEFT JOIN billing.resources r ON r.provider = x.provider AND r.family = x.resource_family AND r.resource_id = x.resource_id
WHERE x.history_days >= 7 AND x.baseline > 0 AND x.cost >= 2 * x.baseline AND x.cost - x.baseline >= 1;
COMMENT ON VIEW reports.cost_anomalies_v1 IS 'Resource-days costing at least twice (and 1 USD above) their 14-day baseline.';
GRANT SELECT ON reports.cost_anomalies_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.cost_anomalies_v1;
