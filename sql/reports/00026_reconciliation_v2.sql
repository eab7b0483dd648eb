-- reports.reconciliation_v2: do the provider's own numbers agree, per account?
-- Grain: provider, account, currency, billing month, resource family, plus one row per
--   month with resource_family 'all' that also carries the account's own total.
-- Columns: provider; account; currency; billing_month; resource_family; summary_total
--   (sum of the resources' month summaries); datapoint_total (sum of their graph
--   datapoints; NULL for families without cost graphs: contracts, image generation);
--   account_total ('all' rows: the organisation history); difference (summary minus
--   datapoints, or on 'all' rows summary minus account); tolerance (one minor unit of
--   the currency: 0.01 USD, 1 JPY; 0.01 for a currency not in billing.currencies);
--   within_tolerance (|difference| <= tolerance).
-- Example: SELECT * FROM reports.reconciliation_v2 WHERE NOT within_tolerance;

-- +goose Up
CREATE VIEW reports.reconciliation_v2 AS
WITH summaries AS (
    SELECT provider, account, billing_month, family AS resource_family, sum(incurred_bill) AS total
    FROM billing.resource_month_costs GROUP BY 1, 2, 3, 4
), points AS (
    SELECT provider, account, date_trunc('month', day)::date AS billing_month, resource_family, sum(billed_cost) AS total
    FROM reports.resource_day_cost_v2 WHERE source IN ('daily', 'hourly') GROUP BY 1, 2, 3, 4
), per_family AS (
    SELECT s.provider, s.account, s.billing_month, s.resource_family, s.total AS summary_total,
           CASE WHEN s.resource_family IN ('contract', 'image_generation') THEN NULL ELSE coalesce(p.total, 0) END AS datapoint_total,
           NULL::numeric AS account_total
    FROM summaries s LEFT JOIN points p USING (provider, account, billing_month, resource_family)
), overall AS (
    SELECT s.provider, s.account, s.billing_month, 'all'::text AS resource_family, sum(s.total) AS summary_total,
           NULL::numeric AS datapoint_total, o.incurred_bill AS account_total
    FROM summaries s LEFT JOIN billing.org_month_costs o USING (provider, account, billing_month)
    GROUP BY s.provider, s.account, s.billing_month, o.incurred_bill
), compared AS (
    SELECT x.*, coalesce(a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
           coalesce(x.summary_total - coalesce(x.datapoint_total, x.account_total), 0) AS difference
    FROM (SELECT * FROM per_family UNION ALL SELECT * FROM overall) x
    LEFT JOIN billing.accounts a USING (provider, account)
)
SELECT c.provider, c.account, c.currency, c.billing_month, c.resource_family, c.summary_total, c.datapoint_total, c.account_total,
       c.difference,
       power(10::numeric, -coalesce(cu.minor_units, 2)) AS tolerance,
       abs(c.difference) <= power(10::numeric, -coalesce(cu.minor_units, 2)) AS within_tolerance
FROM compared c
LEFT JOIN billing.currencies cu ON cu.currency = c.currency;
COMMENT ON VIEW reports.reconciliation_v2 IS 'Month summaries against graph datapoints per family and against the account total, within one minor unit.';
GRANT SELECT ON reports.reconciliation_v2 TO billing_reader;

-- +goose Down
DROP VIEW reports.reconciliation_v2;
