-- reports.account_month_cost_v1 learns Soracom and CloudSigma (same columns, same
-- meaning as 00019; one row per provider, account, billing month and currency).
-- Soracom (billing.soracom_bills, one bill a month; its months are JST months in
--   Japan coverage): invoice_total = the bill's amount (tax in, coupons out);
--   billed_cost = the sum of the month's CSV rows (soracom_bill_items) rounded down
--   to the currency's minor unit, as Soracom bills it (NULL until the CSV is
--   stored); list_cost = that sum without the discount rows (negative rows that
--   are not an "Adjustment for yyyyMM"); credits = the coupons applied; tax =
--   amount + coupons - billed_cost; state 'closed' once the bill is closed, else
--   open or preliminary by the clock; source_rows = the month's CSV rows.
-- CloudSigma (billing.cloudsigma_ledger_entries, by UTC month of the entry's time,
--   in the entries' currency): billed_cost = invoice_total = the sum of the debits
--   (bursts, licences, subscription purchases); list_cost adds the subscriptions'
--   discounts back; credits = refunds and promotions (positive); payments are
--   money in, not cost, and are left out; tax NULL (the ledger has none); state
--   'closed' once the account's last run passed the month's end (a walked ledger
--   never changes: no preliminary), else 'open'; source_rows = the entries counted.
-- Down puts 00019's definition back.

-- +goose Up
CREATE OR REPLACE VIEW reports.account_month_cost_v1 AS
WITH clock AS (
    SELECT provider, account, max(window_end) AS as_of FROM ingest.runs GROUP BY 1, 2
), hyperstack AS (
    SELECT o.provider, o.account, o.billing_month, NULL::text AS currency,
           o.incurred_bill                              AS billed_cost,
           coalesce(o.non_discounted_bill, o.incurred_bill) AS list_cost,
           NULL::numeric                                AS credits,
           NULL::numeric                                AS tax,
           o.incurred_bill                              AS invoice_total,
           NULL::text                                   AS state,
           (SELECT count(*) FROM billing.resource_month_costs m
            WHERE m.provider = o.provider AND m.account = o.account AND m.billing_month = o.billing_month) AS source_rows
    FROM billing.org_month_costs o
    WHERE o.provider = 'hyperstack'
), soracom_items AS (
    SELECT provider, account, billing_month, sum(amount) AS total,
           sum(amount) FILTER (WHERE amount >= 0 OR corrects_month IS NOT NULL) AS list, count(*) AS n
    FROM billing.soracom_bill_items GROUP BY 1, 2, 3
), soracom AS (
    -- billed = the CSV's sum rounded down to the minor unit (as Soracom bills
    -- it); tax is what the bill's amount holds beyond billed − coupons.
    SELECT b.provider, b.account, b.billing_month, coalesce(b.currency, a.currency) AS currency,
           p.billed                                     AS billed_cost,
           i.list                                       AS list_cost,
           coalesce(b.applied_coupon_amount, 0)         AS credits,
           b.amount + coalesce(b.applied_coupon_amount, 0) - p.billed AS tax,
           b.amount                                     AS invoice_total,
           CASE WHEN b.state = 'closed' THEN 'closed' END AS state,
           coalesce(i.n, 0)                             AS source_rows
    FROM billing.soracom_bills b
    LEFT JOIN billing.accounts a USING (provider, account)
    LEFT JOIN billing.currencies cu ON cu.currency = coalesce(b.currency, a.currency)
    LEFT JOIN soracom_items i USING (provider, account, billing_month)
    CROSS JOIN LATERAL (SELECT floor(i.total * power(10::numeric, coalesce(cu.minor_units, 2)))
                               / power(10::numeric, coalesce(cu.minor_units, 2)) AS billed) p
), cloudsigma AS (
    -- The ledger: debits are what the month cost (bursts, licences,
    -- subscription purchases); refunds and promotions are credits; payments
    -- are money in and left out. The ledger never changes once walked: a
    -- month is closed once the account's last run passed its end.
    SELECT l.provider, l.account, date_trunc('month', l.time AT TIME ZONE 'UTC')::date AS billing_month,
           coalesce(l.currency, a.currency) AS currency,
           coalesce(sum(l.amount) FILTER (WHERE l.amount > 0), 0) AS billed_cost,
           coalesce(sum(l.amount) FILTER (WHERE l.amount > 0), 0) + coalesce(sum(s.discount_amount), 0) AS list_cost,
           coalesce(-sum(l.amount) FILTER (WHERE l.kind IN ('refund', 'promotion')), 0) AS credits,
           NULL::numeric AS tax,
           coalesce(sum(l.amount) FILTER (WHERE l.amount > 0), 0) AS invoice_total,
           CASE WHEN (date_trunc('month', l.time AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC' <= max(c.as_of) THEN 'closed' ELSE 'open' END AS state,
           count(*) AS source_rows
    FROM billing.cloudsigma_ledger_entries l
    LEFT JOIN billing.accounts a USING (provider, account)
    LEFT JOIN clock c USING (provider, account)
    LEFT JOIN billing.cloudsigma_subscriptions s ON l.kind = 'subscription' AND l.amount > 0 AND s.provider = l.provider
                                                 AND s.account = l.account AND s.uuid = l.reference
    WHERE l.kind <> 'payment'
    GROUP BY l.provider, l.account, date_trunc('month', l.time AT TIME ZONE 'UTC'), coalesce(l.currency, a.currency)
), months AS (
    SELECT * FROM hyperstack
    UNION ALL
    SELECT * FROM soracom
    UNION ALL
    SELECT * FROM cloudsigma
)
SELECT x.provider,
       x.account,
       x.billing_month,
       coalesce(x.currency, a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
       x.billed_cost,
       x.list_cost,
       x.credits,
       x.tax,
       x.invoice_total,
       coalesce(x.state,
       CASE WHEN (x.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC' > coalesce(c.as_of, now()) THEN 'open'
            WHEN (x.billing_month + interval '1 month' + interval '3 days')::timestamp AT TIME ZONE 'UTC' > coalesce(c.as_of, now()) THEN 'preliminary'
            ELSE 'closed' END)                                                  AS state,
       x.source_rows,
       s.reporting_currency,
       x.billed_cost * fx.factor                                                AS billed_cost_reporting,
       x.invoice_total * fx.factor                                              AS invoice_total_reporting
FROM months x
LEFT JOIN billing.accounts a USING (provider, account)
LEFT JOIN clock c USING (provider, account)
CROSS JOIN (SELECT reporting_currency FROM billing.settings LIMIT 1) s
LEFT JOIN LATERAL (
    SELECT CASE WHEN coalesce(x.currency, a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END) = s.reporting_currency THEN 1
                ELSE (SELECT f.to_reporting FROM reports.fx_rates_v1 f
                      WHERE f.currency = coalesce(x.currency, a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END)
                        AND f.day >= x.billing_month AND f.day < x.billing_month + interval '1 month'
                      ORDER BY f.day DESC LIMIT 1) END AS factor
) fx ON true;

-- +goose Down
CREATE OR REPLACE VIEW reports.account_month_cost_v1 AS
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
