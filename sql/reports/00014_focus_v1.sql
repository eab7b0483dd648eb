-- reports.focus_v1: the billing data in the FinOps Open Cost and Usage Specification
-- (FOCUS) 1.2 format, for tools that read it.
-- Grain: one row per resource per charge period: a UTC day (from the graph datapoints,
--   daily buckets or summed hourly ones) or, for contracts and image generation whose
--   graphs carry no cost, the billing month.
-- Mandatory columns: BilledCost, ContractedCost, EffectiveCost, ListCost (USD);
--   PricingQuantity, PricingUnit (Hours, or Million Tokens for token-billed services);
--   BillingAccountId, BillingAccountName, BillingCurrency (USD); BillingPeriodStart/End
--   (the calendar month, UTC); ChargeCategory (Usage; Purchase for contracts); ChargeClass
--   (Correction when the charge was restated after it was first seen, else NULL);
--   ChargeDescription; ChargePeriodStart/End; InvoiceIssuerName; ProviderName;
--   PublisherName; ServiceCategory; ServiceName.
-- Conditional columns: ResourceId, ResourceName, ResourceType, ConsumedQuantity,
--   ConsumedUnit, ListUnitPrice, ContractedUnitPrice, SkuId.
-- Provider-specific: x_Provider, x_ResourceFamily, x_DiscountSavings.
-- Quantities of a day are the month's quantity in proportion to the day's cost (the API
--   reports usage time and tokens per month); unit prices are the month's averages.
-- Example: SELECT "ServiceName", sum("BilledCost") FROM reports.focus_v1
--          WHERE "BillingPeriodStart" = '2026-10-01' GROUP BY 1;

-- +goose Up
CREATE VIEW reports.focus_v1 AS
WITH months AS (
    SELECT c.provider, c.family, c.resource_id, c.billing_month, c.incurred_bill, c.non_discounted_bill,
           CASE WHEN c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation')
                THEN (coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0)) / 1000000
                ELSE coalesce(c.usage_seconds, 0) / 3600 END AS quantity,
           CASE WHEN c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation')
                THEN 'Million Tokens' ELSE 'Hours' END AS unit
    FROM billing.resource_month_costs c
), charges AS (
    SELECT d.provider, d.resource_family AS family, d.resource_id, date_trunc('month', d.day)::date AS billing_month,
           (d.day::timestamp AT TIME ZONE 'UTC') AS period_start,
           ((d.day + 1)::timestamp AT TIME ZONE 'UTC') AS period_end,
           d.incurred_bill AS cost
    FROM reports.resource_day_cost_v1 d
    WHERE d.resource_family NOT IN ('contract', 'image_generation')
    UNION ALL
    SELECT m.provider, m.family, m.resource_id, m.billing_month,
           (m.billing_month::timestamp AT TIME ZONE 'UTC'),
           ((m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'),
           m.incurred_bill
    FROM months m
    WHERE m.family IN ('contract', 'image_generation')
)
SELECT
    ch.cost                                                                   AS "BilledCost",
    ch.cost                                                                   AS "ContractedCost",
    ch.cost                                                                   AS "EffectiveCost",
    round(ch.cost * coalesce(m.non_discounted_bill / nullif(m.incurred_bill, 0), 1), 9) AS "ListCost",
    round(coalesce(ch.cost / nullif(m.incurred_bill, 0) * m.quantity, 0), 9)  AS "PricingQuantity",
    m.unit                                                                    AS "PricingUnit",
    ch.provider || ':organization'                                            AS "BillingAccountId",
    initcap(ch.provider) || ' organization'                                   AS "BillingAccountName",
    'USD'::text                                                               AS "BillingCurrency",
    (ch.billing_month::timestamp AT TIME ZONE 'UTC')                          AS "BillingPeriodStart",
    ((ch.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC')   AS "BillingPeriodEnd",
    CASE WHEN ch.family = 'contract' THEN 'Purchase' ELSE 'Usage' END         AS "ChargeCategory",
    CASE WHEN EXISTS (
        SELECT 1 FROM billing.restatements rs
        WHERE rs.provider = ch.provider AND rs.row_key->>'resource_id' = ch.resource_id
          AND rs.row_key->>'family' = ch.family
          AND (rs.row_key->>'billing_month' = ch.billing_month::text
               OR (rs.row_key->>'bucket_start')::timestamptz >= ch.period_start
                  AND (rs.row_key->>'bucket_start')::timestamptz < ch.period_end)
    ) THEN 'Correction' END                                                   AS "ChargeClass",
    initcap(replace(replace(ch.family, '_', ' '), '-', ' ')) || ' ' || coalesce(r.name, ch.resource_id) AS "ChargeDescription",
    ch.period_start                                                           AS "ChargePeriodStart",
    ch.period_end                                                             AS "ChargePeriodEnd",
    'NexGenCloud'::text                                                       AS "InvoiceIssuerName",
    'Hyperstack'::text                                                        AS "ProviderName",
    'Hyperstack'::text                                                        AS "PublisherName",
    CASE WHEN ch.family IN ('virtual-machine', 'cluster', 'contract') THEN 'Compute'
         WHEN ch.family IN ('volume', 'snapshot', 'bucket') THEN 'Storage'
         ELSE 'AI and Machine Learning' END                                  AS "ServiceCategory",
    CASE ch.family WHEN 'virtual-machine' THEN 'Virtual Machines' WHEN 'cluster' THEN 'Kubernetes Clusters'
                   WHEN 'contract' THEN 'Reserved Contracts' WHEN 'volume' THEN 'Volumes'
                   WHEN 'snapshot' THEN 'Snapshots' WHEN 'bucket' THEN 'Object Storage'
                   WHEN 'fine_tuning' THEN 'Fine-Tuning' WHEN 'serverless_inference' THEN 'Serverless Inference'
                   WHEN 'model_evaluation' THEN 'Model Evaluation' WHEN 'data_synthesis' THEN 'Data Synthesis'
                   WHEN 'image_generation' THEN 'Image Generation' ELSE ch.family END AS "ServiceName",
    ch.resource_id                                                            AS "ResourceId",
    r.name                                                                    AS "ResourceName",
    ch.family                                                                 AS "ResourceType",
    round(coalesce(ch.cost / nullif(m.incurred_bill, 0) * m.quantity, 0), 9)  AS "ConsumedQuantity",
    m.unit                                                                    AS "ConsumedUnit",
    round(m.non_discounted_bill / nullif(m.quantity, 0), 9)                   AS "ListUnitPrice",
    round(m.incurred_bill / nullif(m.quantity, 0), 9)                         AS "ContractedUnitPrice",
    ch.family || coalesce(':' || r.base_model, '')                            AS "SkuId",
    ch.provider                                                               AS "x_Provider",
    ch.family                                                                 AS "x_ResourceFamily",
    round(ch.cost * coalesce(m.non_discounted_bill / nullif(m.incurred_bill, 0), 1), 9) - ch.cost AS "x_DiscountSavings"
FROM charges ch
JOIN months m USING (provider, family, resource_id, billing_month)
LEFT JOIN billing.resources r USING (provider, family, resource_id);
COMMENT ON VIEW reports.focus_v1 IS 'The billing data in FinOps FOCUS 1.2 columns: one row per resource per day (per month for contracts and image generation).';
GRANT SELECT ON reports.focus_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.focus_v1;
