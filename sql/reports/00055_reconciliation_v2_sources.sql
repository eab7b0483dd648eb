-- reports.reconciliation_v2 learns Soracom and CloudSigma (same columns and meaning
-- as 00026: summary_total against datapoint_total on family rows, against
-- account_total on 'all' rows, within one minor unit of the currency).
-- Soracom: resource_family 'daily': the CSV's daily rows (summary_total) against
--   the daily totals of /bills/{yyyyMM}/daily (datapoint_total); 'all': every CSV
--   row of the month (pre-tax, before rounding and coupons) against Soracom's own
--   bill-item summary (account_total; the API keeps four months: NULL before, and
--   then the difference is 0).
-- CloudSigma: one row per ledger kind (burst, licence, subscription, payment,
--   refund, promotion, other) with what its entries add up to; 'all': the sum of
--   every entry of the month, payments included, against the fall of the balance
--   chain over the month (first initial balance - last end balance): a missing
--   entry or a broken link shows as a difference. Usage is in resource units, not
--   money, and is not compared.
-- Down puts 00026's definition back.

-- +goose Up
CREATE OR REPLACE VIEW reports.reconciliation_v2 AS
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
), soracom AS (
    -- The CSV's daily rows against /bills/{yyyyMM}/daily ('daily'), and all
    -- its rows against Soracom's own bill-item summary of the month ('all';
    -- pre-tax, kept for the last four months: NULL before).
    SELECT i.provider, i.account, i.billing_month, 'daily'::text, sum(i.amount) FILTER (WHERE NOT i.monthly),
           (SELECT coalesce(sum(d.amount), 0) FROM billing.soracom_daily_bills d
            WHERE d.provider = i.provider AND d.account = i.account AND d.billing_month = i.billing_month), NULL::numeric
    FROM billing.soracom_bill_items i GROUP BY 1, 2, 3
    UNION ALL
    SELECT i.provider, i.account, i.billing_month, 'all', sum(i.amount), NULL,
           (SELECT sum(s.amount) FROM billing.soracom_summaries s
            WHERE s.provider = i.provider AND s.account = i.account AND s.billing_month = i.billing_month AND s.breakdown = 'bill_item')
    FROM billing.soracom_bill_items i GROUP BY 1, 2, 3
), cloudsigma_entries AS (
    SELECT l.*, date_trunc('month', l.time AT TIME ZONE 'UTC')::date AS billing_month,
           row_number() OVER (PARTITION BY l.provider, l.account, date_trunc('month', l.time AT TIME ZONE 'UTC')
                              ORDER BY l.time, length(l.entry_id), l.entry_id) AS pos,
           row_number() OVER (PARTITION BY l.provider, l.account, date_trunc('month', l.time AT TIME ZONE 'UTC')
                              ORDER BY l.time DESC, length(l.entry_id) DESC, l.entry_id DESC) AS pos_desc
    FROM billing.cloudsigma_ledger_entries l
), cloudsigma AS (
    -- The ledger proves itself: per kind, what the month's entries add up to;
    -- 'all', their sum (payments included) against what the balance chain
    -- fell by over the month (the first entry's initial balance less the last
    -- one's end balance). They differ when an entry is missing or does not
    -- chain. (/usage/ counts resource units, not money: nothing to add up.)
    SELECT provider, account, billing_month, kind::text, sum(amount), NULL::numeric, NULL::numeric
    FROM cloudsigma_entries GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT provider, account, billing_month, 'all', sum(amount), NULL,
           max(initial_balance) FILTER (WHERE pos = 1) - max(end_balance) FILTER (WHERE pos_desc = 1)
    FROM cloudsigma_entries GROUP BY 1, 2, 3
), compared AS (
    SELECT x.*, coalesce(a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
           coalesce(x.summary_total - coalesce(x.datapoint_total, x.account_total), 0) AS difference
    FROM (SELECT * FROM per_family UNION ALL SELECT * FROM overall
          UNION ALL SELECT * FROM soracom UNION ALL SELECT * FROM cloudsigma) x
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
CREATE OR REPLACE VIEW reports.reconciliation_v2 AS
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
