-- reports.cost_anomalies_v2: resource-days whose cost jumped well above their baseline.
-- Grain: provider, account, currency, day, resource.
-- Rule: baseline = the resource's average daily billed cost over the days it had cost
--   in the 14 days before, only with at least 7 such days; a day is an anomaly when
--   its cost is at least twice the baseline and at least the currency's anomaly floor
--   above it (billing.currencies.anomaly_floor: 1 USD, 150 JPY, …; a currency not in
--   that table has no floor, only the ratio).
-- Columns: provider; account; currency; day; resource_family; resource_id;
--   resource_name; cost; baseline (per day); ratio (cost / baseline); floor.
-- Example: SELECT * FROM reports.cost_anomalies_v2 WHERE day > current_date - 7 ORDER BY ratio DESC;

-- +goose Up
CREATE VIEW reports.cost_anomalies_v2 AS
WITH days AS (
    SELECT d.provider, d.account, d.currency, d.resource_family, d.resource_id, d.day, d.billed_cost AS cost,
           avg(d.billed_cost) OVER w AS baseline, count(*) OVER w AS history_days
    FROM reports.resource_day_cost_v2 d
    WHERE d.billed_cost IS NOT NULL
    WINDOW w AS (PARTITION BY d.provider, d.account, d.resource_family, d.resource_id ORDER BY d.day
                 RANGE BETWEEN interval '14 days' PRECEDING AND interval '1 day' PRECEDING)
)
SELECT x.provider, x.account, x.currency, x.day, x.resource_family, x.resource_id, r.name AS resource_name,
       x.cost, round(x.baseline, 6) AS baseline, round(x.cost / x.baseline, 2) AS ratio, cu.anomaly_floor AS floor
FROM days x
LEFT JOIN billing.currencies cu ON cu.currency = x.currency
LEFT JOIN billing.resources r ON r.provider = x.provider AND r.account = x.account AND r.family = x.resource_family AND r.resource_id = x.resource_id
WHERE x.history_days >= 7 AND x.baseline > 0 AND x.cost >= 2 * x.baseline AND x.cost - x.baseline >= coalesce(cu.anomaly_floor, 0);
COMMENT ON VIEW reports.cost_anomalies_v2 IS 'Resource-days costing at least twice their 14-day baseline and the currency''s floor above it.';
GRANT SELECT ON reports.cost_anomalies_v2 TO billing_reader;

-- +goose Down
DROP VIEW reports.cost_anomalies_v2;
