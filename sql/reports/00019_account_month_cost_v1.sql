-- reports.account_month_cost_v1: what each account was charged per billing month.
-- Grain: provider, account, billing month, currency.
-- Columns: provider; account; billing_month (date); currency (ISO 4217);
--   billed_cost (pre-tax, after discounts); list_cost (at list price); credits
--   (coupons, vouchers, promotions; NULL where the provider reports none); tax (NULL
--   where the provider reports none); invoice_total (what the provider invoices or
--   debits for the month); state ('open' while the month runs, 'preliminary' in the
--   3 days after it during which the crawler still re-fetches it, then 'closed');
--   source_rows (rows the figures come from); reporting_currency; billed_cost_reporting
--   and invoice_total_reporting (at the last ECB rate published in the month; NULL
--   without one).
-- Hyperstack: the organisation history (prepaid credit: the month's bill is debited,
--   no tax, no credits reported), source_rows the resources' month summaries. Later
--   sources add UNION ALL branches from their own invoice or bill tables.
-- Example: SELECT account, billing_month, currency, invoice_total FROM reports.account_month_cost_v1 ORDER BY 2, 1;

-- +goose Up
CREATE VIEW reports.account_month_cost_v1 AS
WITH clock AS (
    SELECT provider, account, max(window_end) AS as_of FROM ingest.runs GROUP BY 1, 2
), hyperstack AS (
    SELECT o.provider, o.account, o.billing_month,
           o.incurred_bill                              AS billed_cost,
           coalesce(o.non_discounted_bill, o.incurred_bill) AS list_cost,
           NULL::numeric                                AS credits,
           NULL::numeric                                AS tax,
           o.incurred_bill                              AS invoice_total,
           (SELECT count(*) FROM billing.resource_month_costs m
            WHERE m.provider = o.provider AND m.account = o.account AND m.billing_month = o.billing_month) AS source_rows
    FROM billing.org_month_costs o
    WHERE o.provider = 'hyperstack'
), months AS (
    SELECT * FROM hyperstack
)
SELECT x.provider,
       x.account,
       x.billing_month,
       coalesce(a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
       x.billed_cost,
       x.list_cost,
       x.credits,
       x.tax,
       x.invoice_total,
       CASE WHEN (x.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC' > coalesce(c.as_of, now()) THEN 'open'
            WHEN (x.billing_month + interval '1 month' + interval '3 days')::timestamp AT TIME ZONE 'UTC' > coalesce(c.as_of, now()) THEN 'preliminary'
            ELSE 'closed' END                                                   AS state,
       x.source_rows,
       s.reporting_currency,
       x.billed_cost * fx.factor                                                AS billed_cost_reporting,
       x.invoice_total * fx.factor                                              AS invoice_total_reporting
FROM months x
LEFT JOIN billing.accounts a USING (provider, account)
LEFT JOIN clock c USING (provider, account)
CROSS JOIN (SELECT reporting_currency FROM billing.settings LIMIT 1) s
LEFT JOIN LATERAL (
    SELECT CASE WHEN coalesce(a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END) = s.reporting_currency THEN 1
                ELSE (SELECT f.to_reporting FROM reports.fx_rates_v1 f
                      WHERE f.currency = coalesce(a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END)
                        AND f.day >= x.billing_month AND f.day < x.billing_month + interval '1 month'
                      ORDER BY f.day DESC LIMIT 1) END AS factor
) fx ON true;
COMMENT ON VIEW reports.account_month_cost_v1 IS 'Per account and billing month: billed, list, credits, tax, invoice total, state, in the account''s currency.';
GRANT SELECT ON reports.account_month_cost_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.account_month_cost_v1;
