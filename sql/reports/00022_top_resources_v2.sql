-- reports.top_resources_v2: resources ranked by what they cost in each month, per account.
-- Grain: provider, account, currency, billing month, resource. Filter on rank for a top N.
-- Columns: provider; account; currency; billing_month; rank (1 = most expensive, ties
--   share a rank, within the account and currency); resource_family; resource_id;
--   resource_name; billed_cost; share_of_month (0 to 1); reporting_currency;
--   billed_cost_reporting (at the last ECB rate published in the month, else NULL).
-- Example: SELECT * FROM reports.top_resources_v2 WHERE billing_month = '2026-10-01' AND rank <= 10;

-- +goose Up
CREATE VIEW reports.top_resources_v2 AS
WITH costs AS (
    SELECT c.provider, c.account, coalesce(a.currency, CASE c.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
           c.billing_month, c.family, c.resource_id, r.name, c.incurred_bill
    FROM billing.resource_month_costs c
    LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
    LEFT JOIN billing.accounts a USING (provider, account)
)
SELECT x.provider,
       x.account,
       x.currency,
       x.billing_month,
       rank() OVER (PARTITION BY x.provider, x.account, x.currency, x.billing_month ORDER BY x.incurred_bill DESC) AS rank,
       x.family        AS resource_family,
       x.resource_id,
       x.name          AS resource_name,
       x.incurred_bill AS billed_cost,
       round(x.incurred_bill / nullif(sum(x.incurred_bill) OVER (PARTITION BY x.provider, x.account, x.currency, x.billing_month), 0), 6) AS share_of_month,
       s.reporting_currency,
       x.incurred_bill * CASE WHEN x.currency = s.reporting_currency THEN 1
                              ELSE (SELECT f.to_reporting FROM reports.fx_rates_v1 f
                                    WHERE f.currency = x.currency AND f.day >= x.billing_month AND f.day < x.billing_month + interval '1 month'
                                    ORDER BY f.day DESC LIMIT 1) END AS billed_cost_reporting
FROM costs x
CROSS JOIN (SELECT reporting_currency FROM billing.settings LIMIT 1) s;
COMMENT ON VIEW reports.top_resources_v2 IS 'Resources ranked by cost within each billing month, account and currency, with their share.';
GRANT SELECT ON reports.top_resources_v2 TO billing_reader;

-- +goose Down
DROP VIEW reports.top_resources_v2;
