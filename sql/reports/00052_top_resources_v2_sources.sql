-- reports.top_resources_v2 learns Soracom and CloudSigma (same columns and meaning
-- as 00022; ranks stay within provider, account, currency and month).
-- Soracom: each SIM, VPG or device by the sum of its month's CSV rows (daily and
--   monthly, pre-tax); the account's own rows (free tier, volume discount,
--   adjustments) are not a resource and are left out, so shares are of the
--   resources' sum. resource_name from billing.resources.
-- CloudSigma: each resource type (cpu, mem, dssd, ip, a licence: resource_family
--   and resource_id are both the resource, resource_name NULL) by its bursts and
--   licences plus its subscriptions amortized over the month (resource_day_cost_v2's
--   amortized_cost); billed_cost is that amount.
-- Down puts 00022's definition back.

-- +goose Up
CREATE OR REPLACE VIEW reports.top_resources_v2 AS
WITH costs AS (
    SELECT c.provider, c.account, coalesce(a.currency, CASE c.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
           c.billing_month, c.family, c.resource_id, r.name, c.incurred_bill
    FROM billing.resource_month_costs c
    LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
    LEFT JOIN billing.accounts a USING (provider, account)
    WHERE c.provider = 'hyperstack'
    UNION ALL
    -- Soracom: the month's CSV rows per resource (SIM, VPG, device), monthly
    -- fees included; the account's own rows (free tier, discounts,
    -- adjustments) belong to no resource.
    SELECT i.provider, i.account, coalesce(b.currency, a.currency), i.billing_month, i.family, i.resource_id, r.name, sum(i.amount)
    FROM billing.soracom_bill_items i
    LEFT JOIN billing.soracom_bills b USING (provider, account, billing_month)
    LEFT JOIN billing.accounts a USING (provider, account)
    LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
    WHERE i.family <> 'account'
    GROUP BY i.provider, i.account, coalesce(b.currency, a.currency), i.billing_month, i.family, i.resource_id, r.name
    UNION ALL
    -- CloudSigma bills resource types, not servers: each resource (cpu, mem,
    -- dssd, a licence) by its month's bursts and licences plus its
    -- subscriptions amortized over the month.
    SELECT d.provider, d.account, d.currency, date_trunc('month', d.day)::date, d.resource_family, d.resource_family, NULL::text, sum(d.amortized_cost)
    FROM reports.resource_day_cost_v2 d
    WHERE d.provider = 'cloudsigma'
    GROUP BY d.provider, d.account, d.currency, date_trunc('month', d.day), d.resource_family
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
CREATE OR REPLACE VIEW reports.top_resources_v2 AS
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
