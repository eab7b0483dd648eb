-- reports.focus_v2 learns Soracom and CloudSigma (columns and meaning as 00027,
-- with x_RegionId appended: the account's region, Soracom's coverage or
-- CloudSigma's location; FOCUS's RegionId would have to sit before the custom
-- columns, which only a new view version can do).
-- Soracom: one charge per key of the billing CSV (billing.soracom_bill_items):
--   ChargeCategory Usage, or Credit for a negative line (free tier, discounts);
--   ChargePeriod the charge_date's day, the month for a monthly line; BilledCost =
--   ContractedCost = EffectiveCost = the amount; ListUnitPrice and PricingQuantity
--   from the CSV (unit by bill item: MB, Days, Hours, Months, Count), ContractedUnitPrice
--   amount / quantity; ResourceId the SIM, VPG or device (NULL for the account's own
--   lines), ResourceType its family; Tags the SIM's tags; InvoiceId the bill's
--   payment transaction. An "Adjustment for yyyyMM" is ChargeClass 'Correction' in
--   the month it was issued, its ChargePeriod the month corrected. Per bill, a Tax
--   charge (what the amount holds beyond the rounded CSV sum less coupons) and a
--   Credit for the coupons applied: a month's charges add up to its bill (within
--   the rounding of the CSV's sum to the minor unit).
-- CloudSigma (no invoices: InvoiceId NULL): bursts, licences and other debits
--   rolled up per UTC day, kind and resource (Usage; PricingQuantity the hours
--   billed, or the entries when they have no interval; unit prices the day's
--   average); a subscription's debit is a Purchase (EffectiveCost 0, ListCost with
--   its discount, CommitmentDiscountId its uuid, type 'Subscription', quantity in
--   Hours of its period), amortized over every day of its period (Usage, BilledCost
--   0, EffectiveCost price x overlap / period, status Used; all of the period, so
--   that the amortized rows add up to the purchase: daily_cost_v2 stops at the
--   account's last run); refunds and promotions per day are Credit. Payments are
--   money in, not charges. BillingCurrency from the rows.
-- Down puts 00027's view back (dropped and created: a column was appended).

-- +goose Up
CREATE OR REPLACE VIEW reports.focus_v2 AS
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
), hyperstack AS (
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
        m.list_cost - m.base                                                      AS "x_DiscountSavings"
    FROM measured m), soracom_bills AS (
    -- Each bill with what its CSV adds up to, rounded down as Soracom bills it.
    SELECT b.provider, b.account, b.billing_month, coalesce(b.currency, a.currency) AS currency, b.payment_transaction_id,
           coalesce(b.applied_coupon_amount, 0) AS coupons,
           b.amount + coalesce(b.applied_coupon_amount, 0)
             - floor(i.total * power(10::numeric, coalesce(cu.minor_units, 2))) / power(10::numeric, coalesce(cu.minor_units, 2)) AS tax
    FROM billing.soracom_bills b
    LEFT JOIN billing.accounts a USING (provider, account)
    LEFT JOIN billing.currencies cu ON cu.currency = coalesce(b.currency, a.currency)
    LEFT JOIN (SELECT provider, account, billing_month, sum(amount) AS total FROM billing.soracom_bill_items GROUP BY 1, 2, 3) i
           USING (provider, account, billing_month)
), soracom_items AS (
    SELECT i.*, coalesce(b.currency, a.currency) AS currency, b.payment_transaction_id,
           CASE WHEN i.amount < 0 THEN 'Credit' ELSE 'Usage' END AS category,
           CASE WHEN i.corrects_month IS NOT NULL THEN 'Correction' END AS charge_class,
           -- priced: a usage line of the month itself, with a quantity
           i.amount >= 0 AND i.corrects_month IS NULL AND i.quantity > 0 AS priced,
           CASE WHEN i.bill_item_name LIKE 'Data traffic%' OR i.bill_item_name LIKE 'Free tier%' OR i.bill_item_name LIKE 'Volume discount%' THEN 'MB'
                WHEN i.bill_item_name LIKE 'SMS%' THEN 'Count'
                WHEN i.bill_item_name LIKE 'VPG%' THEN 'Hours'
                WHEN i.bill_item_name LIKE 'Monthly fee%' THEN 'Months'
                WHEN i.bill_item_name LIKE 'Basic charge%' OR i.bill_item_name LIKE 'Inventory device%' OR i.bill_item_name LIKE 'Long-term discount%' THEN 'Days'
                ELSE 'Units' END AS unit,
           r.name AS resource_name
    FROM billing.soracom_bill_items i
    LEFT JOIN billing.soracom_bills b USING (provider, account, billing_month)
    LEFT JOIN billing.accounts a USING (provider, account)
    LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
), soracom_lines AS (
    -- One charge per CSV key. A correction ("Adjustment for yyyyMM") is a row
    -- of the month it was issued in, its charge period the month it corrects.
    SELECT i.provider, i.account, i.currency, i.billing_month,
           coalesce(i.corrects_month, CASE WHEN i.monthly THEN i.billing_month ELSE i.charge_date END)::timestamp AT TIME ZONE 'UTC' AS period_start,
           CASE WHEN i.corrects_month IS NOT NULL THEN (i.corrects_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
                WHEN i.monthly THEN (i.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
                ELSE (i.charge_date + 1)::timestamp AT TIME ZONE 'UTC' END AS period_end,
           i.category, i.charge_class,
           CASE WHEN i.monthly THEN 'Recurring' ELSE 'Usage-Based' END AS frequency,
           i.bill_item_name || CASE WHEN i.resource_id <> '' THEN ' ' || i.resource_id ELSE '' END AS description,
           i.amount AS billed, i.amount AS contracted, i.amount AS effective,
           CASE WHEN i.priced THEN coalesce(i.unit_price, i.amount / i.quantity) * i.quantity ELSE i.amount END AS list,
           CASE WHEN i.priced THEN i.quantity END AS qty,
           CASE WHEN i.priced THEN i.unit END AS unit,
           CASE WHEN i.priced THEN coalesce(i.unit_price, i.amount / i.quantity) END AS list_unit_price,
           CASE WHEN i.priced THEN i.amount / i.quantity END AS contracted_unit_price,
           CASE WHEN i.priced AND i.category = 'Usage' THEN i.quantity END AS consumed_qty,
           CASE WHEN i.priced AND i.category = 'Usage' THEN i.unit END AS consumed_unit,
           NULL::text AS cd_id, NULL::text AS cd_name, NULL::numeric AS cd_qty, NULL::text AS cd_status, NULL::text AS cd_unit,
           i.payment_transaction_id AS invoice_id,
           nullif(i.resource_id, '') AS resource_id,
           CASE WHEN i.resource_id <> '' AND i.resource_name <> i.resource_id THEN i.resource_name END AS resource_name,
           CASE WHEN i.resource_id <> '' THEN i.family END AS resource_type,
           CASE i.family WHEN 'vpg' THEN 'Networking' ELSE 'Internet of Things' END AS service_category,
           CASE i.family WHEN 'vpg' THEN 'Soracom Canal/Door (VPG)' WHEN 'device' THEN 'Soracom Inventory' ELSE 'Soracom Air' END AS service_name,
           CASE WHEN i.priced THEN i.bill_item_name END AS sku_id,
           CASE WHEN i.priced THEN i.bill_item_name END AS sku_meter,
           CASE WHEN i.priced THEN i.bill_item_name || '@' || trim_scale(coalesce(i.unit_price, round(i.amount / i.quantity, 9)))::text END AS sku_price_id,
           i.tags, i.family
    FROM soracom_items i
    UNION ALL
    -- The bill's tax and coupons, one charge each per month.
    SELECT b.provider, b.account, b.currency, b.billing_month,
           b.billing_month::timestamp AT TIME ZONE 'UTC', (b.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC',
           x.category, NULL, 'Recurring', x.description, x.amount, x.amount, x.amount, x.amount,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           b.payment_transaction_id, NULL, NULL, NULL, 'Other', x.service, NULL, NULL, NULL, NULL::jsonb, x.family
    FROM soracom_bills b
    CROSS JOIN LATERAL (VALUES ('Tax', 'Consumption tax', b.tax, 'Tax', 'tax'),
                               ('Credit', 'Coupons applied', -b.coupons, 'Coupons', 'coupon')) x(category, description, amount, service, family)
    WHERE x.amount IS NOT NULL AND x.amount <> 0
), cloudsigma_subs AS (
    SELECT s.*, extract(epoch FROM s.end_time - s.start_time) / 3600 AS period_hours,
           s.resource || ' subscription (' || coalesce(s.period, 'period') || ')' AS name
    FROM billing.cloudsigma_subscriptions s
    WHERE s.end_time > s.start_time
), cloudsigma_debits AS (
    -- Bursts, licences and other debits per UTC day, kind and resource.
    SELECT l.provider, l.account, l.currency, (l.time AT TIME ZONE 'UTC')::date AS day, l.kind, coalesce(l.resource, l.kind) AS resource,
           sum(l.amount) AS amount, sum(l.interval_seconds)::numeric / 3600 AS hours, count(*) AS entries
    FROM billing.cloudsigma_ledger_entries l
    WHERE l.amount > 0 AND l.kind <> 'subscription'
    GROUP BY 1, 2, 3, 4, 5, 6
), cloudsigma_charges AS (
    -- line: usage (debits), purchase (a subscription's debit), amortized (its
    -- days, over the whole period: the purchase is fully accounted for),
    -- credit (refunds and promotions). Payments are money in: no charge.
    SELECT d.provider, d.account, d.currency, d.day, d.kind, d.resource, 'usage' AS line,
           d.amount AS billed, d.amount AS effective, d.amount AS list,
           CASE WHEN d.hours > 0 THEN d.hours ELSE d.entries END AS qty,
           CASE WHEN d.hours > 0 THEN 'Hours' ELSE 'Count' END AS unit,
           NULL::text AS cd_id, NULL::text AS cd_name, NULL::numeric AS list_unit_price, NULL::numeric AS contracted_unit_price, NULL::text AS reference
    FROM cloudsigma_debits d
    UNION ALL
    SELECT l.provider, l.account, l.currency, (l.time AT TIME ZONE 'UTC')::date, l.kind, coalesce(l.resource, l.kind),
           'purchase', l.amount, CASE WHEN s.uuid IS NOT NULL THEN 0 ELSE l.amount END, l.amount + coalesce(s.discount_amount, 0),
           coalesce(s.period_hours, 1), CASE WHEN s.uuid IS NOT NULL THEN 'Hours' ELSE 'Units' END,
           s.uuid, s.name,
           (l.amount + coalesce(s.discount_amount, 0)) / coalesce(s.period_hours, 1), l.amount / coalesce(s.period_hours, 1), l.reference
    FROM billing.cloudsigma_ledger_entries l
    LEFT JOIN cloudsigma_subs s ON s.provider = l.provider AND s.account = l.account AND s.uuid = l.reference
    WHERE l.amount > 0 AND l.kind = 'subscription'
    UNION ALL
    SELECT s.provider, s.account, s.currency, d.day, 'subscription', s.resource, 'amortized', 0,
           round(s.price * extract(epoch FROM least(greatest((d.day + 1)::timestamp AT TIME ZONE 'UTC', s.start_time), s.end_time) - s.start_time)
                         / extract(epoch FROM s.end_time - s.start_time), 10)
         - round(s.price * extract(epoch FROM least(greatest(d.day::timestamp AT TIME ZONE 'UTC', s.start_time), s.end_time) - s.start_time)
                         / extract(epoch FROM s.end_time - s.start_time), 10),
           (s.price + coalesce(s.discount_amount, 0)) / s.period_hours * h.hours,
           h.hours, 'Hours', s.uuid, s.name,
           (s.price + coalesce(s.discount_amount, 0)) / s.period_hours, s.price / s.period_hours, s.uuid
    FROM cloudsigma_subs s
    CROSS JOIN LATERAL (SELECT g::date AS day FROM generate_series((s.start_time AT TIME ZONE 'UTC')::date::timestamp,
                                                                   (s.end_time AT TIME ZONE 'UTC') - interval '1 microsecond', interval '1 day') AS g) d
    CROSS JOIN LATERAL (SELECT extract(epoch FROM least((d.day + 1)::timestamp AT TIME ZONE 'UTC', s.end_time)
                                                - greatest(d.day::timestamp AT TIME ZONE 'UTC', s.start_time)) / 3600 AS hours) h
    WHERE s.uuid IS NOT NULL
    UNION ALL
    SELECT l.provider, l.account, l.currency, (l.time AT TIME ZONE 'UTC')::date, l.kind, NULL, 'credit',
           sum(l.amount), sum(l.amount), sum(l.amount), NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM billing.cloudsigma_ledger_entries l
    WHERE l.kind IN ('refund', 'promotion')
    GROUP BY 1, 2, 3, 4, 5
), cloudsigma_lines AS (
    SELECT c.provider, c.account, coalesce(c.currency, a.currency) AS currency, date_trunc('month', c.day)::date AS billing_month,
           c.day::timestamp AT TIME ZONE 'UTC' AS period_start, (c.day + 1)::timestamp AT TIME ZONE 'UTC' AS period_end,
           CASE c.line WHEN 'purchase' THEN 'Purchase' WHEN 'credit' THEN 'Credit' ELSE 'Usage' END AS category,
           NULL::text AS charge_class,
           CASE c.line WHEN 'purchase' THEN 'One-Time' WHEN 'credit' THEN 'One-Time' ELSE 'Usage-Based' END AS frequency,
           CASE c.line WHEN 'usage' THEN initcap(c.kind) || ' of ' || c.resource
                       WHEN 'purchase' THEN 'Purchase of ' || coalesce(c.cd_name, c.resource || ' subscription')
                       WHEN 'amortized' THEN 'Amortized share of ' || c.cd_name
                       ELSE initcap(c.kind) END AS description,
           c.billed, CASE c.line WHEN 'amortized' THEN c.effective ELSE c.billed END AS contracted, c.effective, c.list,
           c.qty, c.unit,
           CASE WHEN c.line = 'usage' THEN c.list / c.qty ELSE c.list_unit_price END AS list_unit_price,
           CASE WHEN c.line = 'usage' THEN c.billed / c.qty ELSE c.contracted_unit_price END AS contracted_unit_price,
           CASE WHEN c.line IN ('usage', 'amortized') THEN c.qty END AS consumed_qty,
           CASE WHEN c.line IN ('usage', 'amortized') THEN c.unit END AS consumed_unit,
           c.cd_id, c.cd_name,
           CASE WHEN c.cd_id IS NOT NULL THEN c.qty END AS cd_qty,
           CASE WHEN c.line = 'amortized' THEN 'Used' END AS cd_status,
           CASE WHEN c.cd_id IS NOT NULL THEN 'Hours' END AS cd_unit,
           NULL::text AS invoice_id,
           CASE WHEN c.line = 'credit' THEN NULL WHEN c.kind = 'subscription' THEN coalesce(c.cd_id, c.reference) ELSE c.resource END AS resource_id,
           CASE WHEN c.kind = 'subscription' THEN c.cd_name END AS resource_name,
           CASE WHEN c.line = 'credit' THEN NULL WHEN c.kind = 'subscription' THEN 'subscription' ELSE 'resource type' END AS resource_type,
           CASE WHEN c.line = 'credit' THEN 'Other'
                WHEN c.resource LIKE '%cpu' OR c.resource LIKE '%mem' OR c.resource LIKE 'msft\_%' THEN 'Compute'
                WHEN c.resource IN ('dssd', 'ssd', 'zadara') THEN 'Storage'
                WHEN c.resource IN ('ip', 'vlan', 'vlan_ecx', 'tx') THEN 'Networking'
                ELSE 'Other' END AS service_category,
           CASE WHEN c.line = 'credit' THEN 'Credits'
                WHEN c.resource LIKE 'msft\_%' THEN 'Licences'
                WHEN c.resource LIKE '%cpu' OR c.resource LIKE '%mem' THEN 'Cloud Servers'
                WHEN c.resource IN ('dssd', 'ssd', 'zadara') THEN 'Drives'
                WHEN c.resource IN ('ip', 'vlan', 'vlan_ecx', 'tx') THEN 'Networking'
                ELSE 'Other Services' END AS service_name,
           CASE WHEN c.qty IS NOT NULL THEN c.resource END AS sku_id,
           CASE WHEN c.qty IS NOT NULL THEN initcap(c.kind) END AS sku_meter,
           CASE WHEN c.qty IS NOT NULL THEN c.resource || ':' || c.kind || '@'
                || trim_scale(round(CASE WHEN c.line = 'usage' THEN c.list / c.qty ELSE c.list_unit_price END, 9))::text END AS sku_price_id,
           NULL::jsonb AS tags, c.kind AS family
    FROM cloudsigma_charges c
    LEFT JOIN billing.accounts a USING (provider, account)
), sources AS (
    -- Each text column keeps the collation 00027 gave it: CREATE OR REPLACE
    -- cannot change a view column's collation.
    SELECT
        l.billed                                                             AS "BilledCost",
        l.contracted                                                         AS "ContractedCost",
        l.effective                                                          AS "EffectiveCost",
        l.list                                                               AS "ListCost",
        l.qty                                                                AS "PricingQuantity",
        (l.unit) COLLATE "default"                                           AS "PricingUnit",
        (coalesce(a.provider_account_id, l.account)) COLLATE "C"             AS "BillingAccountId",
        (coalesce(a.display_name, l.account)) COLLATE "C"                    AS "BillingAccountName",
        (coalesce(l.currency, a.currency)) COLLATE "default"                 AS "BillingCurrency",
        l.billing_month::timestamp AT TIME ZONE 'UTC'                        AS "BillingPeriodStart",
        (l.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC' AS "BillingPeriodEnd",
        (l.category) COLLATE "default"                                       AS "ChargeCategory",
        (l.charge_class) COLLATE "default"                                   AS "ChargeClass",
        (l.description) COLLATE "C"                                          AS "ChargeDescription",
        (l.frequency) COLLATE "default"                                      AS "ChargeFrequency",
        l.period_start                                                       AS "ChargePeriodStart",
        l.period_end                                                         AS "ChargePeriodEnd",
        (CASE WHEN l.cd_id IS NOT NULL THEN 'Usage' END) COLLATE "default"   AS "CommitmentDiscountCategory",
        (l.cd_id) COLLATE "C"                                                AS "CommitmentDiscountId",
        (l.cd_name) COLLATE "C"                                              AS "CommitmentDiscountName",
        l.cd_qty                                                             AS "CommitmentDiscountQuantity",
        (l.cd_status) COLLATE "default"                                      AS "CommitmentDiscountStatus",
        (CASE WHEN l.cd_id IS NOT NULL THEN 'Subscription' END) COLLATE "default" AS "CommitmentDiscountType",
        (l.cd_unit) COLLATE "default"                                        AS "CommitmentDiscountUnit",
        l.consumed_qty                                                       AS "ConsumedQuantity",
        (l.consumed_unit) COLLATE "default"                                  AS "ConsumedUnit",
        l.contracted_unit_price                                              AS "ContractedUnitPrice",
        (l.invoice_id) COLLATE "default"                                     AS "InvoiceId",
        (CASE l.provider WHEN 'soracom' THEN 'SORACOM' ELSE 'CloudSigma' END) COLLATE "default" AS "InvoiceIssuerName",
        l.list_unit_price                                                    AS "ListUnitPrice",
        (CASE l.provider WHEN 'soracom' THEN 'SORACOM' ELSE 'CloudSigma' END) COLLATE "default" AS "ProviderName",
        (CASE l.provider WHEN 'soracom' THEN 'SORACOM' ELSE 'CloudSigma' END) COLLATE "default" AS "PublisherName",
        (l.resource_id) COLLATE "C"                                          AS "ResourceId",
        (l.resource_name) COLLATE "default"                                  AS "ResourceName",
        (l.resource_type) COLLATE "C"                                        AS "ResourceType",
        (l.service_category) COLLATE "default"                               AS "ServiceCategory",
        (l.service_name) COLLATE "C"                                         AS "ServiceName",
        (l.sku_id) COLLATE "C"                                               AS "SkuId",
        (l.sku_meter) COLLATE "default"                                      AS "SkuMeter",
        NULL::jsonb                                                          AS "SkuPriceDetails",
        (l.sku_price_id) COLLATE "C"                                         AS "SkuPriceId",
        l.tags                                                               AS "Tags",
        (l.provider) COLLATE "C"                                             AS "x_Provider",
        (l.account) COLLATE "C"                                              AS "x_Account",
        (l.family) COLLATE "C"                                               AS "x_ResourceFamily",
        l.list - l.contracted                                                AS "x_DiscountSavings"
    FROM (SELECT * FROM soracom_lines UNION ALL SELECT * FROM cloudsigma_lines) l
    LEFT JOIN billing.accounts a USING (provider, account)

)
SELECT r.*,
       s.reporting_currency                AS "x_ReportingCurrency",
       r."BilledCost" * fx.factor          AS "x_BilledCostReporting",
       r."EffectiveCost" * fx.factor       AS "x_EffectiveCostReporting",
       ra.region                           AS "x_RegionId"
FROM (SELECT * FROM hyperstack UNION ALL SELECT * FROM sources) r
LEFT JOIN billing.accounts ra ON ra.provider = r."x_Provider" AND ra.account = r."x_Account"
CROSS JOIN (SELECT reporting_currency FROM billing.settings LIMIT 1) s
LEFT JOIN LATERAL (
    SELECT CASE WHEN r."BillingCurrency" = s.reporting_currency THEN 1
                ELSE (SELECT f.to_reporting FROM reports.fx_rates_v1 f
                      WHERE f.currency = r."BillingCurrency" AND f.day >= (r."ChargePeriodStart" AT TIME ZONE 'UTC')::date
                        AND f.day < (r."ChargePeriodEnd" AT TIME ZONE 'UTC')::date
                      ORDER BY f.day DESC LIMIT 1) END AS factor
) fx ON true;
-- (comment as 00027)
COMMENT ON VIEW reports.focus_v2 IS 'Every provider''s billing data in FinOps FOCUS 1.2: usage, contract purchases and their amortization, corrections as rows of their own.';

-- +goose Down
DROP VIEW reports.focus_v2;
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
