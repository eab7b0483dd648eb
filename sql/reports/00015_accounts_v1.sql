-- Every v1 view learns the account (migrations/00003_accounts.sql): an
-- `account` column is appended to each (x_Account on focus_v1, whose custom
-- columns must start with x_), every aggregate groups by provider and
-- account, every join between tables matches the account too, and
-- focus_v1.BillingAccountId is the account's id at its provider (else the
-- configured name), BillingAccountName its display name (else that name).
-- Columns and meaning are otherwise those of 00002–00014 (see each file).
-- Down puts those definitions back.

-- +goose Up
CREATE OR REPLACE VIEW reports.resource_month_cost_v1 AS
SELECT c.provider,
       c.billing_month,
       c.family                                              AS resource_family,
       c.resource_id,
       r.name                                                AS resource_name,
       c.status,
       c.incurred_bill,
       c.non_discounted_bill,
       coalesce(c.non_discounted_bill - c.incurred_bill, 0)  AS discount_savings,
       c.price_per_hour,
       round(c.usage_seconds / 3600, 6)                      AS usage_hours,
       c.account
FROM billing.resource_month_costs c
LEFT JOIN billing.resources r USING (provider, account, family, resource_id);

CREATE OR REPLACE VIEW reports.resource_day_cost_v1 AS
WITH daily AS (
    SELECT provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, incurred_bill
    FROM billing.cost_datapoints
    WHERE bucket_seconds = 86400 AND incurred_bill IS NOT NULL
), hourly AS (
    SELECT provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, sum(incurred_bill) AS incurred_bill
    FROM billing.cost_datapoints
    WHERE bucket_seconds = 3600 AND incurred_bill IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
)
SELECT provider, family AS resource_family, resource_id, day, incurred_bill, account FROM daily
UNION ALL
SELECT h.provider, h.family, h.resource_id, h.day, h.incurred_bill, h.account FROM hourly h
WHERE NOT EXISTS (SELECT 1 FROM daily d
                  WHERE d.provider = h.provider AND d.account = h.account AND d.family = h.family
                    AND d.resource_id = h.resource_id AND d.day = h.day);

CREATE OR REPLACE VIEW reports.daily_cost_v1 AS
SELECT provider, day, resource_family, sum(incurred_bill) AS incurred_bill, account
FROM reports.resource_day_cost_v1
GROUP BY provider, account, day, resource_family;

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

CREATE OR REPLACE VIEW reports.top_resources_v1 AS
SELECT provider,
       billing_month,
       rank() OVER (PARTITION BY provider, account, billing_month ORDER BY incurred_bill DESC) AS rank,
       resource_family,
       resource_id,
       resource_name,
       incurred_bill,
       round(incurred_bill / nullif(sum(incurred_bill) OVER (PARTITION BY provider, account, billing_month), 0), 6) AS share_of_month,
       account
FROM reports.resource_month_cost_v1;

CREATE OR REPLACE VIEW reports.vm_cost_breakdown_v1 AS
SELECT s.provider,
       s.billing_month,
       s.vm_id,
       r.name AS vm_name,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'gpu'), 0)       AS gpu,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'cpu'), 0)       AS cpu,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'ram'), 0)       AS ram,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'disk'), 0)      AS disk,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'ephemeral'), 0) AS ephemeral,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'publicip'), 0)  AS public_ip,
       sum(s.incurred_bill)                                                          AS total,
       s.account
FROM billing.vm_subresource_costs s
LEFT JOIN billing.resources r ON r.provider = s.provider AND r.account = s.account AND r.family = 'virtual-machine' AND r.resource_id = s.vm_id
GROUP BY s.provider, s.account, s.billing_month, s.vm_id, r.name;

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

CREATE OR REPLACE VIEW reports.ai_usage_v1 AS
SELECT c.provider,
       c.billing_month,
       c.family                        AS service,
       c.resource_id,
       r.name                          AS resource_name,
       r.base_model,
       nullif(r.lora_adapter, '')      AS lora_adapter,
       coalesce(c.input_tokens, 0)     AS input_tokens,
       coalesce(c.output_tokens, 0)    AS output_tokens,
       c.incurred_bill,
       round(c.incurred_bill * 1000000 / nullif(coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0), 0), 9) AS cost_per_million_tokens,
       c.account
FROM billing.resource_month_costs c
LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
WHERE c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation');

CREATE OR REPLACE VIEW reports.credit_runway_v1 AS
SELECT o.provider,
       o.observed_hour AS observed_at,
       o.credit,
       round(a.avg_daily, 6) AS avg_daily_cost_7d,
       round(o.credit / nullif(a.avg_daily, 0), 2) AS days_left,
       ((o.observed_hour AT TIME ZONE 'UTC')::date + floor(o.credit / nullif(a.avg_daily, 0))::int) AS runs_out_on,
       o.account
FROM billing.credit_observations o
CROSS JOIN LATERAL (
    SELECT sum(d.incurred_bill) / 7 AS avg_daily
    FROM reports.daily_cost_v1 d
    WHERE d.provider = o.provider AND d.account = o.account
      AND d.day >= (o.observed_hour AT TIME ZONE 'UTC')::date - 7
      AND d.day <  (o.observed_hour AT TIME ZONE 'UTC')::date
) a;

CREATE OR REPLACE VIEW reports.cost_anomalies_v1 AS
WITH days AS (
    SELECT d.provider, d.account, d.resource_family, d.resource_id, d.day, d.incurred_bill AS cost,
           (SELECT avg(p.incurred_bill) FROM reports.resource_day_cost_v1 p
            WHERE p.provider = d.provider AND p.account = d.account AND p.resource_family = d.resource_family
              AND p.resource_id = d.resource_id AND p.day >= d.day - 14 AND p.day < d.day) AS baseline,
           (SELECT count(*) FROM reports.resource_day_cost_v1 p
            WHERE p.provider = d.provider AND p.account = d.account AND p.resource_family = d.resource_family
              AND p.resource_id = d.resource_id AND p.day >= d.day - 14 AND p.day < d.day) AS history_days
    FROM reports.resource_day_cost_v1 d
)
SELECT x.provider, x.day, x.resource_family, x.resource_id, r.name AS resource_name,
       x.cost, round(x.baseline, 6) AS baseline, round(x.cost / x.baseline, 2) AS ratio, x.account
FROM days x
LEFT JOIN billing.resources r ON r.provider = x.provider AND r.account = x.account AND r.family = x.resource_family AND r.resource_id = x.resource_id
WHERE x.history_days >= 7 AND x.baseline > 0 AND x.cost >= 2 * x.baseline AND x.cost - x.baseline >= 1;

CREATE OR REPLACE VIEW reports.reconciliation_v1 AS
WITH summaries AS (
    SELECT provider, account, billing_month, family AS resource_family, sum(incurred_bill) AS total
    FROM billing.resource_month_costs GROUP BY 1, 2, 3, 4
), points AS (
    SELECT provider, account, date_trunc('month', day)::date AS billing_month, resource_family, sum(incurred_bill) AS total
    FROM reports.resource_day_cost_v1 GROUP BY 1, 2, 3, 4
), per_family AS (
    SELECT s.provider, s.account, s.billing_month, s.resource_family, s.total AS summary_total,
           CASE WHEN s.resource_family IN ('contract', 'image_generation') THEN NULL ELSE coalesce(p.total, 0) END AS datapoint_total,
           NULL::numeric AS org_total
    FROM summaries s LEFT JOIN points p USING (provider, account, billing_month, resource_family)
), overall AS (
    SELECT s.provider, s.account, s.billing_month, 'all'::text AS resource_family, sum(s.total) AS summary_total,
           NULL::numeric AS datapoint_total, o.incurred_bill AS org_total
    FROM summaries s LEFT JOIN billing.org_month_costs o USING (provider, account, billing_month)
    GROUP BY s.provider, s.account, s.billing_month, o.incurred_bill
)
SELECT provider, billing_month, resource_family, summary_total, datapoint_total, org_total,
       coalesce(summary_total - coalesce(datapoint_total, org_total), 0) AS difference,
       abs(coalesce(summary_total - coalesce(datapoint_total, org_total), 0)) <= 0.01 AS within_tolerance,
       account
FROM (SELECT * FROM per_family UNION ALL SELECT * FROM overall) x;

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

CREATE OR REPLACE VIEW reports.ingest_health_v1 AS
WITH fresh AS (
    SELECT provider, account, split_part(endpoint, '/', 1) AS endpoint_family, max(fetched_at) AS last_success_at
    FROM ingest.raw_payloads WHERE status_code = 200 GROUP BY 1, 2, 3
), last_run AS (
    SELECT DISTINCT ON (provider, account) provider, account, id, status FROM ingest.runs
    WHERE status <> 'running' ORDER BY provider, account, started_at DESC, id DESC
)
SELECT f.provider, f.endpoint_family, f.last_success_at, now() - f.last_success_at AS lag,
       lr.status AS last_run_status,
       (SELECT e.message FROM ingest.run_errors e
        WHERE e.run_id = lr.id AND split_part(e.endpoint, '/', 1) = f.endpoint_family
        ORDER BY e.id DESC LIMIT 1) AS last_error,
       f.account
FROM fresh f LEFT JOIN last_run lr USING (provider, account);

CREATE OR REPLACE VIEW reports.focus_v1 AS
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

-- +goose Down
DROP VIEW reports.focus_v1, reports.ingest_health_v1, reports.restatements_v1, reports.reconciliation_v1, reports.cost_anomalies_v1,
    reports.credit_runway_v1, reports.ai_usage_v1, reports.idle_cost_v1, reports.vm_cost_breakdown_v1, reports.top_resources_v1,
    reports.month_to_date_v1, reports.daily_cost_v1, reports.resource_day_cost_v1, reports.resource_month_cost_v1;
CREATE VIEW reports.resource_month_cost_v1 AS
SELECT c.provider,
       c.billing_month,
       c.family                                              AS resource_family,
       c.resource_id,
       r.name                                                AS resource_name,
       c.status,
       c.incurred_bill,
       c.non_discounted_bill,
       coalesce(c.non_discounted_bill - c.incurred_bill, 0)  AS discount_savings,
       c.price_per_hour,
       round(c.usage_seconds / 3600, 6)                      AS usage_hours
FROM billing.resource_month_costs c
LEFT JOIN billing.resources r USING (provider, family, resource_id);
COMMENT ON VIEW reports.resource_month_cost_v1 IS 'What each resource cost in each billing month, with list price and discount.';
GRANT SELECT ON reports.resource_month_cost_v1 TO billing_reader;

CREATE VIEW reports.resource_day_cost_v1 AS
WITH daily AS (
    SELECT provider, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, incurred_bill
    FROM billing.cost_datapoints
    WHERE bucket_seconds = 86400 AND incurred_bill IS NOT NULL
), hourly AS (
    SELECT provider, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, sum(incurred_bill) AS incurred_bill
    FROM billing.cost_datapoints
    WHERE bucket_seconds = 3600 AND incurred_bill IS NOT NULL
    GROUP BY 1, 2, 3, 4
)
SELECT provider, family AS resource_family, resource_id, day, incurred_bill FROM daily
UNION ALL
SELECT h.provider, h.family, h.resource_id, h.day, h.incurred_bill FROM hourly h
WHERE NOT EXISTS (SELECT 1 FROM daily d
                  WHERE d.provider = h.provider AND d.family = h.family AND d.resource_id = h.resource_id AND d.day = h.day);
COMMENT ON VIEW reports.resource_day_cost_v1 IS 'Cost per resource per UTC day (daily buckets, else summed hourly ones).';
GRANT SELECT ON reports.resource_day_cost_v1 TO billing_reader;

CREATE VIEW reports.daily_cost_v1 AS
SELECT provider, day, resource_family, sum(incurred_bill) AS incurred_bill
FROM reports.resource_day_cost_v1
GROUP BY provider, day, resource_family;
COMMENT ON VIEW reports.daily_cost_v1 IS 'Cost per UTC day and resource family, from the graph datapoints.';
GRANT SELECT ON reports.daily_cost_v1 TO billing_reader;

CREATE VIEW reports.month_to_date_v1 AS
WITH months AS (
    SELECT provider, billing_month, sum(incurred_bill) AS incurred, sum(non_discounted_bill) AS non_discounted
    FROM billing.resource_month_costs GROUP BY 1, 2
), reach AS (
    SELECT provider, date_trunc('month', bucket_start AT TIME ZONE 'UTC')::date AS billing_month,
           max(bucket_start + make_interval(secs => bucket_seconds)) AS data_until
    FROM billing.cost_datapoints GROUP BY 1, 2
), sized AS (
    SELECT m.*,
           extract(day FROM (m.billing_month + interval '1 month' - interval '1 day'))::numeric AS month_days,
           least(extract(day FROM (m.billing_month + interval '1 month' - interval '1 day')),
                 greatest(1, ceil(extract(epoch FROM (coalesce(r.data_until, m.billing_month + interval '1 month')
                                                     - m.billing_month::timestamp AT TIME ZONE 'UTC')) / 86400)))::numeric AS days_elapsed
    FROM months m LEFT JOIN reach r USING (provider, billing_month)
)
SELECT provider,
       billing_month,
       incurred                                                    AS incurred_to_date,
       non_discounted                                              AS non_discounted_to_date,
       days_elapsed,
       round(incurred / days_elapsed * month_days, 6)              AS forecast_month_end,
       lag(incurred) OVER w                                        AS previous_month_total,
       round(100 * (incurred / days_elapsed * month_days - lag(incurred) OVER w) / nullif(lag(incurred) OVER w, 0), 2) AS change_pct
FROM sized
WINDOW w AS (PARTITION BY provider ORDER BY billing_month);
COMMENT ON VIEW reports.month_to_date_v1 IS 'Spend of each billing month so far, its month-end forecast and the change against the previous month.';
GRANT SELECT ON reports.month_to_date_v1 TO billing_reader;

CREATE VIEW reports.top_resources_v1 AS
SELECT provider,
       billing_month,
       rank() OVER (PARTITION BY provider, billing_month ORDER BY incurred_bill DESC) AS rank,
       resource_family,
       resource_id,
       resource_name,
       incurred_bill,
       round(incurred_bill / nullif(sum(incurred_bill) OVER (PARTITION BY provider, billing_month), 0), 6) AS share_of_month
FROM reports.resource_month_cost_v1;
COMMENT ON VIEW reports.top_resources_v1 IS 'Resources ranked by cost within each billing month, with their share of the month.';
GRANT SELECT ON reports.top_resources_v1 TO billing_reader;

CREATE VIEW reports.vm_cost_breakdown_v1 AS
SELECT s.provider,
       s.billing_month,
       s.vm_id,
       r.name AS vm_name,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'gpu'), 0)       AS gpu,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'cpu'), 0)       AS cpu,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'ram'), 0)       AS ram,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'disk'), 0)      AS disk,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'ephemeral'), 0) AS ephemeral,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'publicip'), 0)  AS public_ip,
       sum(s.incurred_bill)                                                          AS total
FROM billing.vm_subresource_costs s
LEFT JOIN billing.resources r ON r.provider = s.provider AND r.family = 'virtual-machine' AND r.resource_id = s.vm_id
GROUP BY s.provider, s.billing_month, s.vm_id, r.name;
COMMENT ON VIEW reports.vm_cost_breakdown_v1 IS 'Each VM''s monthly cost split into gpu, cpu, ram, disk, ephemeral disk and public IP.';
GRANT SELECT ON reports.vm_cost_breakdown_v1 TO billing_reader;

CREATE VIEW reports.idle_cost_v1 AS
SELECT e.provider,
       date_trunc('month', e.event_start AT TIME ZONE 'UTC')::date                            AS billing_month,
       e.resource_id                                                                        AS vm_id,
       r.name                                                                               AS vm_name,
       coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'ACTIVE'), 0)                 AS active_hours,
       coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'SHUTOFF'), 0)                AS shutoff_hours,
       coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'HIBERNATED'), 0)             AS hibernated_hours,
       coalesce(sum(e.total_cost) FILTER (WHERE e.event IN ('SHUTOFF', 'HIBERNATED')), 0)   AS idle_cost
FROM billing.billing_events e
LEFT JOIN billing.resources r USING (provider, family, resource_id)
WHERE e.family = 'virtual-machine'
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW reports.idle_cost_v1 IS 'Hours each VM spent active, shut off and hibernated per month, and what the idle time cost.';
GRANT SELECT ON reports.idle_cost_v1 TO billing_reader;

CREATE VIEW reports.ai_usage_v1 AS
SELECT c.provider,
       c.billing_month,
       c.family                        AS service,
       c.resource_id,
       r.name                          AS resource_name,
       r.base_model,
       nullif(r.lora_adapter, '')      AS lora_adapter,
       coalesce(c.input_tokens, 0)     AS input_tokens,
       coalesce(c.output_tokens, 0)    AS output_tokens,
       c.incurred_bill,
       round(c.incurred_bill * 1000000 / nullif(coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0), 0), 9) AS cost_per_million_tokens
FROM billing.resource_month_costs c
LEFT JOIN billing.resources r USING (provider, family, resource_id)
WHERE c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation');
COMMENT ON VIEW reports.ai_usage_v1 IS 'Tokens and cost of the token-billed AI services per month, and the cost per million tokens.';
GRANT SELECT ON reports.ai_usage_v1 TO billing_reader;

CREATE VIEW reports.credit_runway_v1 AS
SELECT o.provider,
       o.observed_hour AS observed_at,
       o.credit,
       round(a.avg_daily, 6) AS avg_daily_cost_7d,
       round(o.credit / nullif(a.avg_daily, 0), 2) AS days_left,
       ((o.observed_hour AT TIME ZONE 'UTC')::date + floor(o.credit / nullif(a.avg_daily, 0))::int) AS runs_out_on
FROM billing.credit_observations o
CROSS JOIN LATERAL (
    SELECT sum(d.incurred_bill) / 7 AS avg_daily
    FROM reports.daily_cost_v1 d
    WHERE d.provider = o.provider
      AND d.day >= (o.observed_hour AT TIME ZONE 'UTC')::date - 7
      AND d.day <  (o.observed_hour AT TIME ZONE 'UTC')::date
) a;
COMMENT ON VIEW reports.credit_runway_v1 IS 'Credit balance, average daily cost of the last 7 days, and when the credit runs out at that rate.';
GRANT SELECT ON reports.credit_runway_v1 TO billing_reader;

CREATE VIEW reports.cost_anomalies_v1 AS
WITH days AS (
    SELECT d.provider, d.resource_family, d.resource_id, d.day, d.incurred_bill AS cost,
           (SELECT avg(p.incurred_bill) FROM reports.resource_day_cost_v1 p
            WHERE p.provider = d.provider AND p.resource_family = d.resource_family AND p.resource_id = d.resource_id
              AND p.day >= d.day - 14 AND p.day < d.day) AS baseline,
           (SELECT count(*) FROM reports.resource_day_cost_v1 p
            WHERE p.provider = d.provider AND p.resource_family = d.resource_family AND p.resource_id = d.resource_id
              AND p.day >= d.day - 14 AND p.day < d.day) AS history_days
    FROM reports.resource_day_cost_v1 d
)
SELECT x.provider, x.day, x.resource_family, x.resource_id, r.name AS resource_name,
       x.cost, round(x.baseline, 6) AS baseline, round(x.cost / x.baseline, 2) AS ratio
FROM days x
LEFT JOIN billing.resources r ON r.provider = x.provider AND r.family = x.resource_family AND r.resource_id = x.resource_id
WHERE x.history_days >= 7 AND x.baseline > 0 AND x.cost >= 2 * x.baseline AND x.cost - x.baseline >= 1;
COMMENT ON VIEW reports.cost_anomalies_v1 IS 'Resource-days costing at least twice (and 1 USD above) their 14-day baseline.';
GRANT SELECT ON reports.cost_anomalies_v1 TO billing_reader;

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

CREATE VIEW reports.restatements_v1 AS
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
       coalesce(new_value, 0) - old_value AS delta
FROM billing.restatements;
COMMENT ON VIEW reports.restatements_v1 IS 'Late corrections: which value changed, from what to what, seen by which run.';
GRANT SELECT ON reports.restatements_v1 TO billing_reader;

CREATE VIEW reports.ingest_health_v1 AS
WITH fresh AS (
    SELECT provider, split_part(endpoint, '/', 1) AS endpoint_family, max(fetched_at) AS last_success_at
    FROM ingest.raw_payloads WHERE status_code = 200 GROUP BY 1, 2
), last_run AS (
    SELECT DISTINCT ON (provider) provider, id, status FROM ingest.runs
    WHERE status <> 'running' ORDER BY provider, started_at DESC, id DESC
)
SELECT f.provider, f.endpoint_family, f.last_success_at, now() - f.last_success_at AS lag,
       lr.status AS last_run_status,
       (SELECT e.message FROM ingest.run_errors e
        WHERE e.run_id = lr.id AND split_part(e.endpoint, '/', 1) = f.endpoint_family
        ORDER BY e.id DESC LIMIT 1) AS last_error
FROM fresh f LEFT JOIN last_run lr USING (provider);
COMMENT ON VIEW reports.ingest_health_v1 IS 'When each endpoint family last answered, how long ago, and the last run''s status and error.';
GRANT SELECT ON reports.ingest_health_v1 TO billing_reader;

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

