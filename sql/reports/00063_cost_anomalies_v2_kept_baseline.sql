-- reports.cost_anomalies_v2 reads each resource-day's baseline from
-- billing.resource_day_costs (same columns, rows and meaning as 00060),
-- where the runs keep it as they rewrite the days (store.RefreshDayCosts).
-- 00060 looked up every day's 14 days before it on each read: 170 ms of
-- the dashboard's 200 ms budget for a month on the 4x benchmark
-- warehouse; the view now filters the month's rows.
--
-- Up works the baseline out for every row the table holds (the schema
-- migration cannot: the table is filled by 00059, after the schema).
-- Down puts 00060's definition back; the columns stay with their schema
-- migration.

-- +goose Up
UPDATE billing.resource_day_costs t SET baseline = w.baseline, history_days = w.history_days
FROM (SELECT provider, account, resource_family, resource_id, day,
             avg(billed_cost) OVER w AS baseline, count(billed_cost) OVER w AS history_days
      FROM billing.resource_day_costs
      WINDOW w AS (PARTITION BY provider, account, resource_family, resource_id ORDER BY day
                   RANGE BETWEEN interval '14 days' PRECEDING AND interval '1 day' PRECEDING)) w
WHERE (t.provider, t.account, t.resource_family, t.resource_id, t.day) = (w.provider, w.account, w.resource_family, w.resource_id, w.day);
ANALYZE billing.resource_day_costs;

CREATE OR REPLACE VIEW reports.cost_anomalies_v2 AS
SELECT x.provider, x.account, x.currency, x.day, x.resource_family, x.resource_id, r.name AS resource_name,
       x.billed_cost AS cost, round(x.baseline, 6) AS baseline, round(x.billed_cost / x.baseline, 2) AS ratio, cu.anomaly_floor AS floor
FROM billing.resource_day_costs x
LEFT JOIN billing.currencies cu ON cu.currency = x.currency
LEFT JOIN billing.resources r ON r.provider = x.provider AND r.account = x.account AND r.family = x.resource_family AND r.resource_id = x.resource_id
WHERE x.billed_cost IS NOT NULL AND x.history_days >= 7 AND x.baseline > 0 AND x.billed_cost >= 2 * x.baseline
  AND x.billed_cost - x.baseline >= coalesce(cu.anomaly_floor, 0);
COMMENT ON VIEW reports.cost_anomalies_v2 IS 'Resource-days costing at least twice their 14-day baseline and the currency''s floor above it.';
GRANT SELECT ON reports.cost_anomalies_v2 TO billing_reader;

-- +goose Down
CREATE OR REPLACE VIEW reports.cost_anomalies_v2 AS
WITH days AS (
    SELECT d.provider, d.account, d.currency, d.resource_family, d.resource_id, d.day, d.billed_cost AS cost,
           b.baseline, b.history_days
    FROM reports.resource_day_cost_v2 d
    CROSS JOIN LATERAL (
        -- the window of 00023: the resource's days with a cost in the 14 before
        SELECT avg(h.billed_cost) AS baseline, count(*) AS history_days
        FROM reports.resource_day_cost_v2 h
        WHERE h.provider = d.provider AND h.account = d.account AND h.resource_family = d.resource_family AND h.resource_id = d.resource_id
          AND h.day >= d.day - 14 AND h.day <= d.day - 1 AND h.billed_cost IS NOT NULL
    ) b
    WHERE d.billed_cost IS NOT NULL
)
SELECT x.provider, x.account, x.currency, x.day, x.resource_family, x.resource_id, r.name AS resource_name,
       x.cost, round(x.baseline, 6) AS baseline, round(x.cost / x.baseline, 2) AS ratio, cu.anomaly_floor AS floor
FROM days x
LEFT JOIN billing.currencies cu ON cu.currency = x.currency
LEFT JOIN billing.resources r ON r.provider = x.provider AND r.account = x.account AND r.family = x.resource_family AND r.resource_id = x.resource_id
WHERE x.history_days >= 7 AND x.baseline > 0 AND x.cost >= 2 * x.baseline AND x.cost - x.baseline >= coalesce(cu.anomaly_floor, 0);
COMMENT ON VIEW reports.cost_anomalies_v2 IS 'Resource-days costing at least twice their 14-day baseline and the currency''s floor above it.';
GRANT SELECT ON reports.cost_anomalies_v2 TO billing_reader;

