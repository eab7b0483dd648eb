-- reports.focus_v2: every provider's billing data in FinOps FOCUS 1.2 columns.
-- Grain: one row per resource per charge period: a UTC day of usage (graph data;
--   image generation's month spread by tokens), a contract's month (Purchase), a
--   contract's day (the purchase amortized: BilledCost 0, EffectiveCost its share),
--   and correction rows.
-- Columns: the FOCUS 1.2 Mandatory ones; BillingCurrency is the account's;
--   ChargeFrequency (Usage-Based; Recurring for contract purchases); InvoiceId (NULL:
--   Hyperstack debits a prepaid credit and issues no invoice id); commitment columns
--   (CommitmentDiscountId = the contract, Category Usage, Type 'Reserved Contract',
--   Status Used on the amortized rows, Quantity and Unit in Hours); ConsumedQuantity
--   and ConsumedUnit on Usage rows only; Sku columns; Tags (JSON; NULL where the
--   provider has none); resource columns; then x_Provider, x_Account,
--   x_ResourceFamily, x_DiscountSavings (ListCost − ContractedCost),
--   x_ReportingCurrency, x_BilledCostReporting, x_EffectiveCostReporting (at the
--   ECB rate of the charge's day, or of the last day published in a month-long
--   charge; NULL without one).
-- Corrections: a correction of a settled period seen after the charge's billing
--   period ended is a row of its own with ChargeClass 'Correction' in the billing
--   period it was seen in (its ChargePeriod the corrected one); the original row keeps
--   the value as billed. Corrections seen while the period is open are in the
--   original row, ChargeClass NULL. Sums over all rows are the warehouse's values.
-- Quantities of a day are the month's quantity in proportion to the day's cost (the API
--   reports usage time and tokens per month); unit prices are the month's averages.
-- Later sources add UNION ALL branches to `lines` (their invoices give InvoiceId,
--   CloudSigma subscriptions commitments).
-- Example: SELECT "BillingCurrency", "ServiceName", sum("EffectiveCost") FROM reports.focus_v2
--          WHERE "BillingPeriodStart" = '2026-10-01' GROUP BY 1, 2;

-- +goose Up
CREATE VIEW reports.focus_v2 AS
WITH months AS (
    SELECT c.provider, c.account, c.family, c.resource_id, c.billing_month, c.incurred_bill,
           coalesce(c.non_discounted_bill, c.incurred_bill) AS list_bill,
           CASE WHEN c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation')
                THEN (coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0)) / 1000000
                ELSE coalesce(c.usage_seconds, 0) / 3600 END AS quantity,
           CASE WHEN c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation')
                THEN '1000000 Tokens' ELSE 'Hours' END AS unit
    FROM billing.resource_month_costs c
    WHERE c.provider = 'hyperstack'
), corrections AS (
    -- Corrections of settled values, by the charge they belong to and the month they were seen in.
    SELECT provider, account, row_key->>'family' AS family, row_key->>'resource_id' AS resource_id,
           CASE table_name WHEN 'billing.cost_datapoints' THEN CASE row_key->>'bucket_seconds' WHEN '86400' THEN 'daily' ELSE 'hourly' END
                           ELSE 'month' END AS source,
           CASE table_name WHEN 'billing.cost_datapoints' THEN ((row_key->>'bucket_start')::timestamptz AT TIME ZONE 'UTC')::date
                           ELSE (row_key->>'billing_month')::date END AS charge_day,
           date_trunc('month', observed_at AT TIME ZONE 'UTC')::date AS seen_month,
           sum(coalesce(new_value, 0) - old_value) AS delta
    FROM billing.restatements
    WHERE kind = 'correction' AND measure = 'incurred_bill' AND provider = 'hyperstack'
      AND table_name IN ('billing.cost_datapoints', 'billing.resource_month_costs')
    GROUP BY 1, 2, 3, 4, 5, 6, 7
), charges AS (
    -- line: usage (graph days, image generation spread), amortized (a contract's day), purchase (a contract's month).
    SELECT d.provider, d.account, d.resource_family AS family, d.resource_id, date_trunc('month', d.day)::date AS billing_month,
           d.day::timestamp AT TIME ZONE 'UTC' AS period_start, (d.day + 1)::timestamp AT TIME ZONE 'UTC' AS period_end,
           CASE WHEN d.resource_family = 'contract' THEN 'amortized' ELSE 'usage' END AS line,
           coalesce(d.billed_cost, 0) AS billed, d.amortized_cost AS effective, d.source, d.day AS charge_day
    FROM reports.resource_day_cost_v2 d
    WHERE d.provider = 'hyperstack'
    UNION ALL
    SELECT m.provider, m.account, m.family, m.resource_id, m.billing_month,
           m.billing_month::timestamp AT TIME ZONE 'UTC', (m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC',
           'purchase', m.incurred_bill, 0, 'month', m.billing_month
    FROM months m
    WHERE m.family = 'contract'
), later AS (
    SELECT ch.provider, ch.account, ch.family, ch.resource_id, ch.charge_day, ch.source, c.seen_month, c.delta
    FROM (SELECT DISTINCT provider, account, family, resource_id, charge_day, source, billing_month FROM charges WHERE line <> 'amortized') ch
    JOIN corrections c USING (provider, account, family, resource_id, charge_day, source)
    WHERE c.seen_month > ch.billing_month
), lines AS (
    SELECT ch.provider, ch.account, ch.family, ch.resource_id, ch.billing_month, ch.period_start, ch.period_end, ch.line,
           NULL::text AS charge_class,
           ch.billed - CASE WHEN ch.line = 'amortized' THEN 0 ELSE coalesce(l.delta, 0) END AS billed,
           CASE WHEN ch.line = 'usage' THEN ch.effective - coalesce(l.delta, 0) ELSE ch.effective END AS effective
    FROM charges ch
    LEFT JOIN (SELECT provider, account, family, resource_id, charge_day, source, sum(delta) AS delta FROM later GROUP BY 1, 2, 3, 4, 5, 6) l
           ON ch.line <> 'amortized' AND l.provider = ch.provider AND l.account = ch.account AND l.family = ch.family
          AND l.resource_id = ch.resource_id AND l.charge_day = ch.charge_day AND l.source = ch.source
    UNION ALL
    SELECT l.provider, l.account, l.family, l.resource_id, l.seen_month,
           CASE l.source WHEN 'month' THEN l.charge_day::timestamp AT TIME ZONE 'UTC' ELSE l.charge_day::timestamp AT TIME ZONE 'UTC' END,
           CASE l.source WHEN 'month' THEN (l.charge_day + interval '1 month')::timestamp AT TIME ZONE 'UTC'
                         ELSE (l.charge_day + 1)::timestamp AT TIME ZONE 'UTC' END,
           CASE l.source WHEN 'month' THEN 'purchase' ELSE 'usage' END,
           'Correction', l.delta, CASE l.source WHEN 'month' THEN 0 ELSE l.delta END
    FROM later l
), priced AS (
    SELECT x.*,
           coalesce(a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
           CASE x.line WHEN 'amortized' THEN x.effective ELSE x.billed END AS base,
           m.incurred_bill, m.list_bill, m.quantity, m.unit,
           a.provider_account_id, a.display_name, r.name AS resource_name, r.base_model,
           cr.name AS contract_name
    FROM lines x
    JOIN months m ON m.provider = x.provider AND m.account = x.account AND m.family = x.family AND m.resource_id = x.resource_id
                 AND m.billing_month = date_trunc('month', x.period_start AT TIME ZONE 'UTC')::date
    LEFT JOIN billing.accounts a ON a.provider = x.provider AND a.account = x.account
    LEFT JOIN billing.resources r ON r.provider = x.provider AND r.account = x.account AND r.family = x.family AND r.resource_id = x.resource_id
    LEFT JOIN billing.resources cr ON x.family = 'contract' AND cr.provider = x.provider AND cr.account = x.account
                                  AND cr.family = 'contract' AND cr.resource_id = x.resource_id
), measured AS (
    SELECT p.*,
           CASE WHEN p.incurred_bill = 0 OR p.list_bill = p.incurred_bill THEN p.base ELSE p.base * p.list_bill / p.incurred_bill END AS list_cost,
           CASE WHEN p.charge_class IS NULL AND p.quantity > 0 AND p.incurred_bill <> 0 THEN round(p.base * p.quantity / p.incurred_bill, 9) END AS qty,
           CASE WHEN p.charge_class IS NULL AND p.quantity > 0 THEN p.list_bill / p.quantity END AS list_unit_price,
           CASE WHEN p.charge_class IS NULL AND p.quantity > 0 THEN p.incurred_bill / p.quantity END AS contracted_unit_price
    FROM priced p
)
SELECT
    m.billed                                                                  AS "BilledCost",
    m.base                                                                    AS "ContractedCost",
    m.effective                                                               AS "EffectiveCost",
    m.list_cost                                                               AS "ListCost",
    m.qty                                                                     AS "PricingQuantity",
    CASE WHEN m.qty IS NOT NULL THEN m.unit END                               AS "PricingUnit",
    coalesce(m.provider_account_id, m.account)                                AS "BillingAccountId",
    coalesce(m.display_name, m.account)                                       AS "BillingAccountName",
    m.currency                                                                AS "BillingCurrency",
    m.billing_month::timestamp AT TIME ZONE 'UTC'                             AS "BillingPeriodStart",
    (m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'      AS "BillingPeriodEnd",
    CASE m.line WHEN 'purchase' THEN 'Purchase' ELSE 'Usage' END              AS "ChargeCategory",
    m.charge_class                                                            AS "ChargeClass",
    CASE m.line WHEN 'amortized' THEN 'Amortized share of contract ' WHEN 'purchase' THEN 'Contract ' ELSE
         initcap(replace(replace(m.family, '_', ' '), '-', ' ')) || ' ' END || coalesce(m.resource_name, m.resource_id)
      || CASE WHEN m.charge_class IS NOT NULL THEN ' (correction)' ELSE '' END AS "ChargeDescription",
    CASE m.line WHEN 'purchase' THEN 'Recurring' ELSE 'Usage-Based' END       AS "ChargeFrequency",
    m.period_start                                                            AS "ChargePeriodStart",
    m.period_end                                                              AS "ChargePeriodEnd",
    CASE WHEN m.family = 'contract' THEN 'Usage' END                          AS "CommitmentDiscountCategory",
    CASE WHEN m.family = 'contract' THEN m.resource_id END                    AS "CommitmentDiscountId",
    CASE WHEN m.family = 'contract' THEN coalesce(m.contract_name, m.resource_id) END AS "CommitmentDiscountName",
    CASE WHEN m.family = 'contract' THEN m.qty END                            AS "CommitmentDiscountQuantity",
    CASE WHEN m.line = 'amortized' THEN 'Used' END                            AS "CommitmentDiscountStatus",
    CASE WHEN m.family = 'contract' THEN 'Reserved Contract' END              AS "CommitmentDiscountType",
    CASE WHEN m.family = 'contract' AND m.qty IS NOT NULL THEN 'Hours' END    AS "CommitmentDiscountUnit",
    CASE WHEN m.line <> 'purchase' THEN m.qty END                             AS "ConsumedQuantity",
    CASE WHEN m.line <> 'purchase' AND m.qty IS NOT NULL THEN m.unit END      AS "ConsumedUnit",
    m.contracted_unit_price                                                   AS "ContractedUnitPrice",
    NULL::text                                                                AS "InvoiceId",
    'NexGenCloud'::text                                                       AS "InvoiceIssuerName",
    m.list_unit_price                                                         AS "ListUnitPrice",
    'Hyperstack'::text                                                        AS "ProviderName",
    'Hyperstack'::text                                                        AS "PublisherName",
    m.resource_id                                                             AS "ResourceId",
    m.resource_name                                                           AS "ResourceName",
    m.family                                                                  AS "ResourceType",
    CASE WHEN m.family IN ('virtual-machine', 'cluster', 'contract') THEN 'Compute'
         WHEN m.family IN ('volume', 'snapshot', 'bucket') THEN 'Storage'
         ELSE 'AI and Machine Learning' END                                  AS "ServiceCategory",
    CASE m.family WHEN 'virtual-machine' THEN 'Virtual Machines' WHEN 'cluster' THEN 'Kubernetes Clusters'
                  WHEN 'contract' THEN 'Reserved Contracts' WHEN 'volume' THEN 'Volumes'
                  WHEN 'snapshot' THEN 'Snapshots' WHEN 'bucket' THEN 'Object Storage'
                  WHEN 'fine_tuning' THEN 'Fine-Tuning' WHEN 'serverless_inference' THEN 'Serverless Inference'
                  WHEN 'model_evaluation' THEN 'Model Evaluation' WHEN 'data_synthesis' THEN 'Data Synthesis'
                  WHEN 'image_generation' THEN 'Image Generation' ELSE m.family END AS "ServiceName",
    m.family || coalesce(':' || m.base_model, '')                            AS "SkuId",
    CASE WHEN m.family = 'contract' THEN 'Contract' WHEN m.unit = 'Hours' THEN 'Runtime' ELSE 'Tokens' END AS "SkuMeter",
    NULL::jsonb                                                               AS "SkuPriceDetails",
    m.family || coalesce(':' || m.base_model, '') || coalesce('@' || trim_scale(round(m.list_bill / nullif(m.quantity, 0), 9))::text, '') AS "SkuPriceId",
    NULL::jsonb                                                               AS "Tags",
    m.provider                                                                AS "x_Provider",
    m.account                                                                 AS "x_Account",
    m.family                                                                  AS "x_ResourceFamily",
    m.list_cost - m.base                                                      AS "x_DiscountSavings",
    s.reporting_currency                                                      AS "x_ReportingCurrency",
    m.billed * fx.factor                                                      AS "x_BilledCostReporting",
    m.effective * fx.factor                                                   AS "x_EffectiveCostReporting"
FROM measured m
CROSS JOIN (SELECT reporting_currency FROM billing.settings LIMIT 1) s
LEFT JOIN LATERAL (
    SELECT CASE WHEN m.currency = s.reporting_currency THEN 1
                ELSE (SELECT f.to_reporting FROM reports.fx_rates_v1 f
                      WHERE f.currency = m.currency AND f.day >= (m.period_start AT TIME ZONE 'UTC')::date
                        AND f.day < (m.period_end AT TIME ZONE 'UTC')::date
                      ORDER BY f.day DESC LIMIT 1) END AS factor
) fx ON true;
COMMENT ON VIEW reports.focus_v2 IS 'Every provider''s billing data in FinOps FOCUS 1.2: usage, contract purchases and their amortization, corrections as rows of their own.';
GRANT SELECT ON reports.focus_v2 TO billing_reader;

-- +goose Down
DROP VIEW reports.focus_v2;
