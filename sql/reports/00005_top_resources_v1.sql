-- reports.top_resources_v1: resources ranked by what they cost in each month.
-- Grain: provider, billing month, resource. Filter on rank for a top N.
-- Columns: provider; billing_month; rank (1 = most expensive, ties share a rank);
--   resource_family; resource_id; resource_name; incurred_bill (USD); share_of_month (0 to 1).
-- Example: SELECT * FROM reports.top_resources_v1 WHERE billing_month = '2026-10-01' AND rank <= 10;

-- +goose Up
CREATE VIEW reports.top_resources_v1 AS
SELECT provider,
       billing_month,
       rank() OVER (PARTITION BY provider, billing_month ORDER BY incurred_bill DESC) AS rank,
       resource_family,
       resource_id,
       resource_name,
       incurred_bill,
       round(incurred_bill / nullif(sum(incurred_bill) OVER (PARTITION BY provider, billing_month), 0), 6) AS share_of_month
FROM reports.resource_month_cost_v1;
COMMENT ON VIEW reports.top_resources_v1 IS 'Resources ranked by cost within each billing month, with their share of the month.';
GRANT SELECT ON reports.top_resources_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.top_resources_v1;
