-- Bug fixes of v1 views, in place (listed in the README's changelog of the
-- reports); columns are only appended.
--   focus_v1: ListCost and x_DiscountSavings are no longer rounded to 9
--     places (1e-8 USD AI charges came out 4.6% off); PricingUnit and
--     ConsumedUnit of token-billed services are '1000000 Tokens' (FOCUS Unit
--     Format); ConsumedQuantity and ConsumedUnit are NULL on Purchase rows;
--     ChargeClass is 'Correction' only for a correction (of a settled
--     period) seen after the billing period ended; SkuPriceId, SkuMeter and
--     SkuPriceDetails are appended (re-created: grants are given again).
--   month_to_date_v1: days_elapsed is fractional, up to the account's last
--     run (or the data, if it reaches less far); a closed month has all its
--     days, so its forecast is its total.
--   idle_cost_v1: VM-months without billing events take the state seconds
--     of the month summary.
--   restatements_v1: corrections only (billing.restatements.kind), not the
--     growth of periods still accruing.

-- +goose Up
CREATE OR REPLACE VIEW reports.month_to_date_v1 AS
WITH months AS (
    SELECT provider, account, billing_month, sum(incurred_bill) AS incurred, sum(non_discounted_bill) AS non_discounted
    FROM billing.resource_month_costs GROUP BY 1, 2, 3
), reach AS (
    SELECT provider, account, date_trunc('month', bucket_start AT TIME ZONE 'UTC')::date AS billing_month,
           max(bucket_start + make_interval(secs => bucket_seconds)) AS data_until
    FROM billing.cost_datapoints GROUP BY 1, 2, 3
), clock AS (
    SELECT provider, account, max(window_end) AS as_of FROM ingest.runs GROUP BY 1, 2
), sized AS (
    SELECT m.*,
           extract(day FROM (m.billing_month + interval '1 month' - interval '1 day'))::numeric AS month_days,
           CASE WHEN (m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC' <= coalesce(c.as_of, now())
                THEN extract(day FROM (m.billing_month + interval '1 month' - interval '1 day'))::numeric
                ELSE round(extract(epoch FROM least(coalesce(r.data_until, c.as_of, now()), coalesce(c.as_of, now()))
                                              - m.billing_month::timestamp AT TIME ZONE 'UTC') / 86400, 4) END AS days_elapsed
    FROM months m LEFT JOIN reach r USING (provider, account, billing_month) LEFT JOIN clock c USING (provider, account)
)
SELECT provider,
       billing_month,
       incurred                                                    AS incurred_to_date,
       non_discounted                                              AS non_discounted_to_date,
       days_elapsed,
       round(incurred / nullif(days_elapsed, 0) * month_days, 6)   AS forecast_month_end,
       lag(incurred) OVER w                                        AS previous_month_total,
       round(100 * (incurred / nullif(days_elapsed, 0) * month_days - lag(incurred) OVER w) / nullif(lag(incurred) OVER w, 0), 2) AS change_pct,
       account
FROM sized
WINDOW w AS (PARTITION BY provider, account ORDER BY billing_month);

CREATE OR REPLACE VIEW reports.idle_cost_v1 AS
WITH events AS (
    SELECT e.provider, e.account, date_trunc('month', e.event_start AT TIME ZONE 'UTC')::date AS billing_month, e.resource_id,
           coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'ACTIVE'), 0)                 AS active_hours,
           coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'SHUTOFF'), 0)                AS shutoff_hours,
           coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'HIBERNATED'), 0)             AS hibernated_hours,
           coalesce(sum(e.total_cost) FILTER (WHERE e.event IN ('SHUTOFF', 'HIBERNATED')), 0)   AS idle_cost
    FROM billing.billing_events e
    WHERE e.family = 'virtual-machine'
    GROUP BY 1, 2, 3, 4
), months AS (
    -- VM-months without events: the state seconds of the VM's month summary;
    -- idle time cost the month's bill less its active hours at its price.
    SELECT c.provider, c.account, c.billing_month, c.resource_id,
           round(coalesce(c.usage_active_seconds, 0) / 3600, 6),
           round(coalesce(c.usage_shutoff_seconds, 0) / 3600, 6),
           round(coalesce(c.usage_hibernated_seconds, 0) / 3600, 6),
           CASE WHEN coalesce(c.usage_shutoff_seconds, 0) + coalesce(c.usage_hibernated_seconds, 0) = 0 THEN 0
                ELSE round(greatest(c.incurred_bill - coalesce(c.usage_active_seconds, 0) * c.price_per_hour / 3600, 0), 9) END
    FROM billing.resource_month_costs c
    WHERE c.family = 'virtual-machine'
      AND num_nonnulls(c.usage_active_seconds, c.usage_shutoff_seconds, c.usage_hibernated_seconds) > 0
      AND NOT EXISTS (SELECT 1 FROM events e WHERE e.provider = c.provider AND e.account = c.account
                        AND e.resource_id = c.resource_id AND e.billing_month = c.billing_month)
)
SELECT x.provider,
       x.billing_month,
       x.resource_id AS vm_id,
       r.name        AS vm_name,
       x.active_hours,
       x.shutoff_hours,
       x.hibernated_hours,
       x.idle_cost,
       x.account
FROM (SELECT * FROM events UNION ALL SELECT * FROM months) x
LEFT JOIN billing.resources r ON r.provider = x.provider AND r.account = x.account AND r.family = 'virtual-machine' AND r.resource_id = x.resource_id;

CREATE OR REPLACE VIEW reports.restatements_v1 AS
SELECT provider,
       observed_at,
       run_id,
       table_name,
       coalesce(row_key->>'family', CASE WHEN row_key ? 'vm_id' THEN 'virtual-machine' WHEN row_key ? 'cluster_id' THEN 'cluster' END) AS resource_family,
       coalesce(row_key->>'resource_id', row_key->>'vm_id', row_key->>'cluster_id') AS resource_id,
       coalesce(row_key->>'billing_month', row_key->>'bucket_start', row_key->>'event_start', row_key->>'day') AS period,
       measure,
       old_value,
       new_value,
       coalesce(new_value, 0) - old_value AS delta,
       account
FROM billing.restatements
WHERE kind = 'correction';

DROP VIEW reports.focus_v1;
CREATE VIEW reports.focus_v1 AS
WITH months AS (
    SELECT c.provider, c.account, c.family, c.resource_id, c.billing_month, c.incurred_bill, c.non_discounted_bill,
           CASE WHEN c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation')
                THEN (coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0)) / 1000000
                ELSE coalesce(c.usage_seconds, 0) / 3600 END AS quantity,
           CASE WHEN c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation')
                THEN '1000000 Tokens' ELSE 'Hours' END AS unit
    FROM billing.resource_month_costs c
), charges AS (
    SELECT d.provider, d.account, d.resource_family AS family, d.resource_id, date_trunc('month', d.day)::date AS billing_month,
           (d.day::timestamp AT TIME ZONE 'UTC') AS period_start,
           ((d.day + 1)::timestamp AT TIME ZONE 'UTC') AS period_end,
           d.incurred_bill AS cost
    FROM reports.resource_day_cost_v1 d
    WHERE d.resource_family NOT IN ('contract', 'image_generation')
    UNION ALL
    SELECT m.provider, m.account, m.family, m.resource_id, m.billing_month,
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
    CASE WHEN m.non_discounted_bill IS NULL OR m.incurred_bill = 0 OR m.non_discounted_bill = m.incurred_bill THEN ch.cost
         ELSE ch.cost * m.non_discounted_bill / m.incurred_bill END          AS "ListCost",
    round(coalesce(ch.cost / nullif(m.incurred_bill, 0) * m.quantity, 0), 9)  AS "PricingQuantity",
    m.unit                                                                    AS "PricingUnit",
    coalesce(a.provider_account_id, ch.account)                               AS "BillingAccountId",
    coalesce(a.display_name, ch.account)                                      AS "BillingAccountName",
    'USD'::text                                                               AS "BillingCurrency",
    (ch.billing_month::timestamp AT TIME ZONE 'UTC')                          AS "BillingPeriodStart",
    ((ch.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC')   AS "BillingPeriodEnd",
    CASE WHEN ch.family = 'contract' THEN 'Purchase' ELSE 'Usage' END         AS "ChargeCategory",
    CASE WHEN EXISTS (
        SELECT 1 FROM billing.restatements rs
        WHERE rs.provider = ch.provider AND rs.account = ch.account AND rs.row_key->>'resource_id' = ch.resource_id
          AND rs.kind = 'correction' AND rs.observed_at >= (ch.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
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
    CASE WHEN ch.family <> 'contract' THEN round(coalesce(ch.cost / nullif(m.incurred_bill, 0) * m.quantity, 0), 9) END AS "ConsumedQuantity",
    CASE WHEN ch.family <> 'contract' THEN m.unit END                         AS "ConsumedUnit",
    round(m.non_discounted_bill / nullif(m.quantity, 0), 9)                   AS "ListUnitPrice",
    round(m.incurred_bill / nullif(m.quantity, 0), 9)                         AS "ContractedUnitPrice",
    ch.family || coalesce(':' || r.base_model, '')                            AS "SkuId",
    ch.provider                                                               AS "x_Provider",
    ch.family                                                                 AS "x_ResourceFamily",
    CASE WHEN m.non_discounted_bill IS NULL OR m.incurred_bill = 0 OR m.non_discounted_bill = m.incurred_bill THEN 0
         ELSE ch.cost * m.non_discounted_bill / m.incurred_bill - ch.cost END AS "x_DiscountSavings",
    ch.account                                                                AS "x_Account",
    ch.family || coalesce(':' || r.base_model, '') || coalesce('@' || trim_scale(round(m.non_discounted_bill / nullif(m.quantity, 0), 9))::text, '') AS "SkuPriceId",
    CASE WHEN ch.family = 'contract' THEN 'Contract'
         WHEN m.unit = 'Hours' THEN 'Runtime' ELSE 'Tokens' END              AS "SkuMeter",
    NULL::jsonb                                                               AS "SkuPriceDetails"
FROM charges ch
JOIN months m USING (provider, account, family, resource_id, billing_month)
LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
LEFT JOIN billing.accounts a USING (provider, account);
COMMENT ON VIEW reports.focus_v1 IS 'The billing data in FinOps FOCUS 1.2 columns: one row per resource per day (per month for contracts and image generation).';
GRANT SELECT ON reports.focus_v1 TO billing_reader;

-- +goose Down
CREATE OR REPLACE VIEW reports.month_to_date_v1 AS
WITH months AS (
    SELECT provider, account, billing_month, sum(incurred_bill) AS incurred, sum(non_discounted_bill) AS non_discounted
    FROM billing.resource_month_costs GROUP BY 1, 2, 3
), reach AS (
    SELECT provider, account, date_trunc('month', bucket_start AT TIME ZONE 'UTC')::date AS billing_month,
           max(bucket_start + make_interval(secs => bucket_seconds)) AS data_until
    FROM billing.cost_datapoints GROUP BY 1, 2, 3
), sized AS (
    SELECT m.*,
           extract(day FROM (m.billing_month + interval '1 month' - interval '1 day'))::numeric AS month_days,
           least(extract(day FROM (m.billing_month + interval '1 month' - interval '1 day')),
                 greatest(1, ceil(extract(epoch FROM (coalesce(r.data_until, m.billing_month + interval '1 month')
                                                     - m.billing_month::timestamp AT TIME ZONE 'UTC')) / 86400)))::numeric AS days_elapsed
    FROM months m LEFT JOIN reach r USING (provider, account, billing_month)
)
SELECT provider,
       billing_month,
       incurred                                                    AS incurred_to_date,
       non_discounted                                              AS non_discounted_to_date,
       days_elapsed,
       round(incurred / days_elapsed * month_days, 6)              AS forecast_month_end,
       lag(incurred) OVER w                                        AS previous_month_total,
       round(100 * (incurred / days_elapsed * month_days - lag(incurred) OVER w) / nullif(lag(incurred) OVER w, 0), 2) AS change_pct,
       account
FROM sized
WINDOW w AS (PARTITION BY provider, account ORDER BY billing_month);

CREATE OR REPLACE VIEW reports.idle_cost_v1 AS
SELECT e.provider,
       date_trunc('month', e.event_start AT TIME ZONE 'UTC')::date                            AS billing_month,
       e.resource_id                                                                        AS vm_id,
       r.name                                                                               AS vm_name,
       coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'ACTIVE'), 0)                 AS active_hours,
       coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'SHUTOFF'), 0)                AS shutoff_hours,
       coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'HIBERNATED'), 0)             AS hibernated_hours,
       coalesce(sum(e.total_cost) FILTER (WHERE e.event IN ('SHUTOFF', 'HIBERNATED')), 0)   AS idle_cost,
       e.account
FROM billing.billing_events e
LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
WHERE e.family = 'virtual-machine'
GROUP BY e.provider, e.account, 2, e.resource_id, r.name;

CREATE OR REPLACE VIEW reports.restatements_v1 AS
SELECT provider,
       observed_at,
       run_id,
       table_name,
       coalesce(row_key->>'family', CASE WHEN row_key ? 'vm_id' THEN 'virtual-machine' WHEN row_key ? 'cluster_id' THEN 'cluster' END) AS resource_family,
       coalesce(row_key->>'resource_id', row_key->>'vm_id', row_key->>'cluster_id') AS resource_id,
       coalesce(row_key->>'billing_month', row_key->>'bucket_start', row_key->>'event_start', row_key->>'day') AS period,
       measure,
       old_value,
       new_value,
       coalesce(new_value, 0) - old_value AS delta,
       account
FROM billing.restatements;

DROP VIEW reports.focus_v1;
CREATE VIEW reports.focus_v1 AS
WITH months AS (
    SELECT c.provider, c.account, c.family, c.resource_id, c.billing_month, c.incurred_bill, c.non_discounted_bill,
           CASE WHEN c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation')
                THEN (coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0)) / 1000000
                ELSE coalesce(c.usage_seconds, 0) / 3600 END AS quantity,
           CASE WHEN c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation')
                THEN 'Million Tokens' ELSE 'Hours' END AS unit
    FROM billing.resource_month_costs c
), charges AS (
    SELECT d.provider, d.account, d.resource_family AS family, d.resource_id, date_trunc('month', d.day)::date AS billing_month,
           (d.day::timestamp AT TIME ZONE 'UTC') AS period_start,
           ((d.day + 1)::timestamp AT TIME ZONE 'UTC') AS period_end,
           d.incurred_bill AS cost
    FROM reports.resource_day_cost_v1 d
    WHERE d.resource_family NOT IN ('contract', 'image_generation')
    UNION ALL
    SELECT m.provider, m.account, m.family, m.resource_id, m.billing_month,
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
    coalesce(a.provider_account_id, ch.account)                               AS "BillingAccountId",
    coalesce(a.display_name, ch.account)                                      AS "BillingAccountName",
    'USD'::text                                                               AS "BillingCurrency",
    (ch.billing_month::timestamp AT TIME ZONE 'UTC')                          AS "BillingPeriodStart",
    ((ch.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC')   AS "BillingPeriodEnd",
    CASE WHEN ch.family = 'contract' THEN 'Purchase' ELSE 'Usage' END         AS "ChargeCategory",
    CASE WHEN EXISTS (
        SELECT 1 FROM billing.restatements rs
        WHERE rs.provider = ch.provider AND rs.account = ch.account AND rs.row_key->>'resource_id' = ch.resource_id
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
    round(ch.cost * coalesce(m.non_discounted_bill / nullif(m.incurred_bill, 0), 1), 9) - ch.cost AS "x_DiscountSavings",
    ch.account                                                                AS "x_Account"
FROM charges ch
JOIN months m USING (provider, account, family, resource_id, billing_month)
LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
LEFT JOIN billing.accounts a USING (provider, account);
COMMENT ON VIEW reports.focus_v1 IS 'The billing data in FinOps FOCUS 1.2 columns: one row per resource per day (per month for contracts and image generation).';
GRANT SELECT ON reports.focus_v1 TO billing_reader;
