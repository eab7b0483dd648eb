-- reports.reconciliation_v1: do the API's own numbers agree?
-- Grain: provider, billing month, resource family, plus one row per month with
--   resource_family 'all' that also carries the organisation's own total.
-- Columns: provider; billing_month; resource_family; summary_total (USD, sum of the
--   resources' month summaries); datapoint_total (USD, sum of their graph datapoints;
--   NULL for image generation, whose graph has tokens only); org_total (USD, the
--   organisation history; 'all' rows only); difference (USD: summary minus datapoints,
--   or on 'all' rows summary minus organisation); within_tolerance (|difference| <= 0.01 USD).
-- Example: SELECT * FROM reports.reconciliation_v1 WHERE NOT within_tolerance;

-- +goose Up
CREATE VIEW reports.reconciliation_v1 AS
WITH summaries AS (
    SELECT provider, billing_month, family AS resource_family, sum(incurred_bill) AS total
    FROM billing.resource_month_costs GROUP BY 1, 2, 3
), points AS (
    SELECT provider, date_trunc('month', day)::date AS billing_month, resource_family, sum(incurred_bill) AS total
    FROM reports.resource_day_cost_v1 GROUP BY 1, 2, 3
), per_family AS (
    SELECT s.provider, s.billing_month, s.resource_family, s.total AS summary_total,
           CASE WHEN s.resource_family IN ('contract', 'image_generation') THEN NULL ELSE coalesce(p.total, 0) END AS datapoint_total,
           NULL::numeric AS org_total
    FROM summaries s LEFT JOIN points p USING (provider, billing_month, resource_family)
), overall AS (
    SELECT s.provider, s.billing_month, 'all'::text AS resource_family, sum(s.total) AS summary_total,
           NULL::numeric AS datapoint_total, o.incurred_bill AS org_total
    FROM summaries s LEFT JOIN billing.org_month_costs o USING (provider, billing_month)
    GROUP BY s.provider, s.billing_month, o.incurred_bill
)
SELECT provider, billing_month, resource_family, summary_total, datapoint_total, org_total,
       coalesce(summary_total - coalesce(datapoint_total, org_total), 0) AS difference,
       abs(coalesce(summary_total - coalesce(datapoint_total, org_total), 0)) <= 0.01 AS within_tolerance
FROM (SELECT * FROM per_family UNION ALL SELECT * FROM overall) x;
COMMENT ON VIEW reports.reconciliation_v1 IS 'Month summaries against graph datapoints per family, and against the organisation history in total.';
GRANT SELECT ON reports.reconciliation_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.reconciliation_v1;
