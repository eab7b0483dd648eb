-- reports.resource_month_cost_v1: what each resource cost in each billing month.
-- Grain: provider, billing month, resource.
-- Columns: provider; billing_month (date, first of the month, UTC); resource_family;
--   resource_id; resource_name; status (as of the month's end); incurred_bill (USD,
--   what was charged); non_discounted_bill (USD, at list price); discount_savings (USD);
--   price_per_hour (USD/h, at the month's end); usage_hours (h).
-- Example: SELECT resource_family, sum(incurred_bill) FROM reports.resource_month_cost_v1
--          WHERE billing_month = '2026-10-01' GROUP BY 1 ORDER BY 2 DESC;

-- +goose Up
CREATE VIEW reports.resource_month_cost_v1 AS
SELECT c.provider,
       c.billing_month,
       c.family                                              AS resource_family,
       c.resource_id,
       r.name                                                AS resource_name,
       c.status,
       c.incurred_bill,
       c.non_discounted_bill,
       coalesce(c.non_discounted_bill - c.incurred_bill, 0)  AS discount_savings,
       c.price_per_hour,
       round(c.usage_seconds / 3600, 6)                      AS usage_hours
FROM billing.resource_month_costs c
LEFT JOIN billing.resources r USING (provider, family, resource_id);
COMMENT ON VIEW reports.resource_month_cost_v1 IS 'What each resource cost in each billing month, with list price and discount.';
GRANT SELECT ON reports.resource_month_cost_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.resource_month_cost_v1;
