-- reports.resource_day_cost_computed_v2 (same columns, rows and meaning as
-- 00059) reads Soracom's CSV rows month by month. The runs refresh the
-- day costs a month at a time, filtering this view on its days; 00059's
-- Soracom branch read every row of the account for each of them (a
-- DISTINCT of its months, the last day of each, a scan for the month's
-- days, which the primary key, month first, could not narrow): on a
-- 10,000-SIM account, 0.7 s for a month with no rows at three months of
-- history, growing with it. The months are now found one step down the
-- primary key each, the days through it, and the monthly rows through
-- their own index (migration 00011).
--
-- Down puts 00059's definition back.

-- +goose Up
CREATE OR REPLACE VIEW reports.resource_day_cost_computed_v2 AS
WITH RECURSIVE clock AS NOT MATERIALIZED (
    SELECT provider, account, max(window_end) AS as_of FROM ingest.runs GROUP BY 1, 2
), graph AS (
    -- A day's daily bucket where there is one, else the sum of its hourly
    -- ones: one branch each, so that a filter on source drops a branch and a
    -- filter on day reaches the datapoints (no window over the history).
    SELECT provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, sum(incurred_bill) AS cost,
           'daily'::text AS source
    FROM billing.cost_datapoints
    WHERE incurred_bill IS NOT NULL AND bucket_seconds = 86400 AND family NOT IN ('contract', 'image_generation')
    GROUP BY provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date
    UNION ALL
    SELECT h.provider, h.account, h.family, h.resource_id, (h.bucket_start AT TIME ZONE 'UTC')::date, sum(h.incurred_bill), 'hourly'
    FROM billing.cost_datapoints h
    WHERE h.incurred_bill IS NOT NULL AND h.bucket_seconds = 3600 AND h.family NOT IN ('contract', 'image_generation')
      AND NOT EXISTS (SELECT 1 FROM billing.cost_datapoints d
                      WHERE d.provider = h.provider AND d.account = h.account AND d.family = h.family AND d.resource_id = h.resource_id
                        AND d.bucket_seconds = 86400 AND d.incurred_bill IS NOT NULL
                        AND d.bucket_start >= date_trunc('day', h.bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                        AND d.bucket_start < (date_trunc('day', h.bucket_start AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC')
    GROUP BY h.provider, h.account, h.family, h.resource_id, (h.bucket_start AT TIME ZONE 'UTC')::date
), image_tokens AS (
    SELECT provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day,
           sum(coalesce(total_tokens, coalesce(input_tokens, 0) + coalesce(output_tokens, 0))) AS tokens
    FROM billing.cost_datapoints
    WHERE family = 'image_generation' AND bucket_seconds = 86400
    GROUP BY 1, 2, 3, 4, 5
), images AS (
    -- The month's bill in proportion to each day's tokens; the month's
    -- tokens are read per resource and month, so a day filter reaches the
    -- graph.
    SELECT m.provider, m.account, m.family, m.resource_id, t.day, m.incurred_bill * t.tokens / mt.tokens AS cost
    FROM image_tokens t
    JOIN billing.resource_month_costs m ON m.provider = t.provider AND m.account = t.account AND m.family = 'image_generation'
                                       AND m.resource_id = t.resource_id AND m.billing_month = date_trunc('month', t.day)::date
    CROSS JOIN LATERAL (
        SELECT sum(d.tokens) AS tokens
        FROM (SELECT sum(coalesce(c.total_tokens, coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0))) AS tokens
              FROM billing.cost_datapoints c
              WHERE c.provider = m.provider AND c.account = m.account AND c.family = 'image_generation' AND c.resource_id = m.resource_id
                AND c.bucket_seconds = 86400
                AND c.bucket_start >= m.billing_month::timestamp AT TIME ZONE 'UTC'
                AND c.bucket_start < (m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
              GROUP BY (c.bucket_start AT TIME ZONE 'UTC')::date) d
        WHERE d.tokens > 0
    ) mt
    WHERE t.tokens > 0
), spans AS (
    -- What a month summary without a usable graph covers: contracts from their
    -- start to their end, image generation without tokens the month; both up
    -- to the account's last run while the month is open.
    SELECT m.provider, m.account, m.family, m.resource_id, m.billing_month, m.incurred_bill,
           greatest(m.billing_month::timestamp AT TIME ZONE 'UTC', CASE WHEN m.family = 'contract' THEN r.created_at END) AS span_start,
           least((m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC',
                 CASE WHEN m.family = 'contract' THEN r.terminated_at END, c.as_of) AS span_end
    FROM billing.resource_month_costs m
    LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
    LEFT JOIN clock c USING (provider, account)
    WHERE m.family = 'contract'
       OR m.family = 'image_generation' AND NOT EXISTS (
              SELECT 1 FROM billing.cost_datapoints i
              WHERE i.provider = m.provider AND i.account = m.account AND i.family = 'image_generation' AND i.resource_id = m.resource_id
                AND i.bucket_seconds = 86400
                AND i.bucket_start >= m.billing_month::timestamp AT TIME ZONE 'UTC'
                AND i.bucket_start < (m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
              GROUP BY (i.bucket_start AT TIME ZONE 'UTC')::date
              HAVING sum(coalesce(i.total_tokens, coalesce(i.input_tokens, 0) + coalesce(i.output_tokens, 0))) > 0)
), spans_fixed AS (
    -- A span the resource's dates do not fit (unknown, or outside the month): the whole month.
    SELECT s.provider, s.account, s.family, s.resource_id, s.billing_month, s.incurred_bill,
           CASE WHEN s.span_end > s.span_start THEN s.span_start ELSE s.billing_month::timestamp AT TIME ZONE 'UTC' END AS span_start,
           CASE WHEN s.span_end > s.span_start THEN s.span_end ELSE (s.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC' END AS span_end
    FROM spans s
), spread AS (
    SELECT s.provider, s.account, s.family, s.resource_id, d.day,
           s.incurred_bill * extract(epoch FROM least(s.span_end, (d.day + 1)::timestamp AT TIME ZONE 'UTC')
                                              - greatest(s.span_start, d.day::timestamp AT TIME ZONE 'UTC'))
                           / extract(epoch FROM s.span_end - s.span_start) AS cost
    FROM spans_fixed s
    CROSS JOIN LATERAL (SELECT g::date AS day FROM generate_series((s.span_start AT TIME ZONE 'UTC')::date::timestamp,
                                                                   (s.span_end AT TIME ZONE 'UTC') - interval '1 microsecond',
                                                                   interval '1 day') AS g) d
), soracom_months AS (
    -- Each account's months with CSV rows, one step down the primary key
    -- per month: a DISTINCT read every row of every month.
    (SELECT provider, account, billing_month FROM billing.soracom_bill_items ORDER BY 1, 2, 3 LIMIT 1)
    UNION ALL
    SELECT n.provider, n.account, n.billing_month
    FROM soracom_months m
    CROSS JOIN LATERAL (SELECT i.provider, i.account, i.billing_month FROM billing.soracom_bill_items i
                        WHERE (i.provider, i.account, i.billing_month) > (m.provider, m.account, m.billing_month)
                        ORDER BY 1, 2, 3 LIMIT 1) n
), soracom_spans AS (
    -- The days a Soracom month's monthly rows are spread over: the whole month
    -- once it is closed, else its days up to the last one the CSV has daily
    -- rows for (what Soracom has evaluated so far).
    SELECT m.provider, m.account, m.billing_month, b.currency,
           CASE WHEN b.state = 'closed' OR d.last_day IS NULL THEN (m.billing_month + interval '1 month')::date - m.billing_month
                ELSE least(d.last_day + 1, (m.billing_month + interval '1 month')::date) - m.billing_month END AS days
    FROM soracom_months m
    LEFT JOIN billing.soracom_bills b USING (provider, account, billing_month)
    CROSS JOIN LATERAL (SELECT max(x.charge_date) AS last_day FROM billing.soracom_bill_items x
                        WHERE x.provider = m.provider AND x.account = m.account AND x.billing_month = m.billing_month
                          AND NOT x.monthly) d
), soracom_rows AS (
    -- Daily rows on their day (the bill's currency), read month by month
    -- through the primary key, so that a filter on day reads only its
    -- days; monthly rows (fees, free tier, discounts, adjustments) are
    -- billed by the month, like commitments: billed NULL on the days,
    -- amortized spread evenly (by cumulative shares rounded to 10 places,
    -- so the days add up to the month exactly).
    SELECT s.provider, s.account, s.currency, i.family, i.resource_id, i.charge_date AS day, i.amount AS billed, i.amount AS amortized
    FROM soracom_spans s
    JOIN billing.soracom_bill_items i
      ON i.provider = s.provider AND i.account = s.account AND i.billing_month = s.billing_month AND NOT i.monthly
    UNION ALL
    SELECT i.provider, i.account, s.currency, i.family, i.resource_id, i.billing_month + g.n - 1, NULL::numeric,
           round(i.amount * g.n / s.days, 10) - round(i.amount * (g.n - 1) / s.days, 10)
    FROM (SELECT provider, account, billing_month, family, resource_id, sum(amount) AS amount FROM billing.soracom_bill_items
          WHERE monthly GROUP BY 1, 2, 3, 4, 5) i
    JOIN soracom_spans s USING (provider, account, billing_month)
    CROSS JOIN LATERAL generate_series(1, s.days) AS g(n)
), soracom AS (
    SELECT provider, account, currency, family, resource_id, day, sum(billed) AS billed, sum(amortized) AS amortized, 'csv'::text AS source
    FROM soracom_rows GROUP BY 1, 2, 3, 4, 5, 6
), cloudsigma_rows AS (
    -- Ledger debits on the UTC day of their time, family = the resource (or
    -- the kind when there is none), resource_id = the resource, or for a
    -- subscription's purchase the subscription's uuid. A purchase is billed
    -- on its day and amortized over the subscription's period (when the
    -- subscription is known): price x overlap / period, cumulative shares
    -- rounded to 10 places, up to the account's last run.
    SELECT l.provider, l.account, l.currency, coalesce(l.resource, l.kind) AS family,
           CASE WHEN l.kind = 'subscription' THEN coalesce(l.reference, '') ELSE coalesce(l.resource, '') END AS resource_id,
           (l.time AT TIME ZONE 'UTC')::date AS day, l.amount AS billed,
           CASE WHEN l.kind = 'subscription' AND EXISTS (
                    SELECT 1 FROM billing.cloudsigma_subscriptions s
                    WHERE s.provider = l.provider AND s.account = l.account AND s.uuid = l.reference AND s.end_time > s.start_time)
                THEN 0 ELSE l.amount END AS amortized
    FROM billing.cloudsigma_ledger_entries l
    WHERE l.amount > 0
    UNION ALL
    SELECT s.provider, s.account, s.currency, s.resource, coalesce(s.uuid, s.subscription_id), d.day, NULL::numeric,
           round(s.price * extract(epoch FROM least(greatest((d.day + 1)::timestamp AT TIME ZONE 'UTC', s.start_time), s.end_time) - s.start_time)
                         / extract(epoch FROM s.end_time - s.start_time), 10)
         - round(s.price * extract(epoch FROM least(greatest(d.day::timestamp AT TIME ZONE 'UTC', s.start_time), s.end_time) - s.start_time)
                         / extract(epoch FROM s.end_time - s.start_time), 10)
    FROM billing.cloudsigma_subscriptions s
    LEFT JOIN clock c USING (provider, account)
    CROSS JOIN LATERAL (SELECT g::date AS day FROM generate_series((s.start_time AT TIME ZONE 'UTC')::date::timestamp,
                                                                   (least(s.end_time, coalesce(c.as_of, now())) AT TIME ZONE 'UTC') - interval '1 microsecond',
                                                                   interval '1 day') AS g) d
    WHERE s.end_time > s.start_time
), cloudsigma AS (
    SELECT provider, account, currency, family, resource_id, day, sum(billed) AS billed, sum(amortized) AS amortized,
           CASE WHEN count(billed) > 0 THEN 'ledger' ELSE 'spread' END AS source
    FROM cloudsigma_rows GROUP BY 1, 2, 3, 4, 5, 6
), days AS (
    SELECT provider, account, NULL::text AS currency, family, resource_id, day, cost AS billed, cost AS amortized, source FROM graph
    UNION ALL
    SELECT provider, account, NULL, family, resource_id, day, cost, cost, 'spread' FROM images
    UNION ALL
    SELECT provider, account, NULL, family, resource_id, day,
           CASE WHEN family = 'contract' THEN NULL ELSE cost END, cost, 'spread' FROM spread
    UNION ALL
    SELECT provider, account, currency, family, resource_id, day, billed, amortized, source FROM soracom
    UNION ALL
    SELECT provider, account, currency, family, resource_id, day, billed, amortized, source FROM cloudsigma
)
SELECT x.provider,
       x.account,
       coalesce(x.currency, a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
       x.day,
       x.family      AS resource_family,
       x.resource_id,
       x.billed      AS billed_cost,
       x.amortized   AS amortized_cost,
       x.source
FROM days x
LEFT JOIN billing.accounts a USING (provider, account);
COMMENT ON VIEW reports.resource_day_cost_computed_v2 IS 'resource_day_cost_v2 computed from the warehouse on every read: what the runs copy into billing.resource_day_costs.';
GRANT SELECT ON reports.resource_day_cost_computed_v2 TO billing_reader;

-- +goose Down
CREATE OR REPLACE VIEW reports.resource_day_cost_computed_v2 AS
WITH clock AS NOT MATERIALIZED (
    SELECT provider, account, max(window_end) AS as_of FROM ingest.runs GROUP BY 1, 2
), graph AS (
    -- A day's daily bucket where there is one, else the sum of its hourly
    -- ones: one branch each, so that a filter on source drops a branch and a
    -- filter on day reaches the datapoints (no window over the history).
    SELECT provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, sum(incurred_bill) AS cost,
           'daily'::text AS source
    FROM billing.cost_datapoints
    WHERE incurred_bill IS NOT NULL AND bucket_seconds = 86400 AND family NOT IN ('contract', 'image_generation')
    GROUP BY provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date
    UNION ALL
    SELECT h.provider, h.account, h.family, h.resource_id, (h.bucket_start AT TIME ZONE 'UTC')::date, sum(h.incurred_bill), 'hourly'
    FROM billing.cost_datapoints h
    WHERE h.incurred_bill IS NOT NULL AND h.bucket_seconds = 3600 AND h.family NOT IN ('contract', 'image_generation')
      AND NOT EXISTS (SELECT 1 FROM billing.cost_datapoints d
                      WHERE d.provider = h.provider AND d.account = h.account AND d.family = h.family AND d.resource_id = h.resource_id
                        AND d.bucket_seconds = 86400 AND d.incurred_bill IS NOT NULL
                        AND d.bucket_start >= date_trunc('day', h.bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                        AND d.bucket_start < (date_trunc('day', h.bucket_start AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC')
    GROUP BY h.provider, h.account, h.family, h.resource_id, (h.bucket_start AT TIME ZONE 'UTC')::date
), image_tokens AS (
    SELECT provider, account, family, resource_id, (bucket_start AT TIME ZONE 'UTC')::date AS day,
           sum(coalesce(total_tokens, coalesce(input_tokens, 0) + coalesce(output_tokens, 0))) AS tokens
    FROM billing.cost_datapoints
    WHERE family = 'image_generation' AND bucket_seconds = 86400
    GROUP BY 1, 2, 3, 4, 5
), images AS (
    -- The month's bill in proportion to each day's tokens; the month's
    -- tokens are read per resource and month, so a day filter reaches the
    -- graph.
    SELECT m.provider, m.account, m.family, m.resource_id, t.day, m.incurred_bill * t.tokens / mt.tokens AS cost
    FROM image_tokens t
    JOIN billing.resource_month_costs m ON m.provider = t.provider AND m.account = t.account AND m.family = 'image_generation'
                                       AND m.resource_id = t.resource_id AND m.billing_month = date_trunc('month', t.day)::date
    CROSS JOIN LATERAL (
        SELECT sum(d.tokens) AS tokens
        FROM (SELECT sum(coalesce(c.total_tokens, coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0))) AS tokens
              FROM billing.cost_datapoints c
              WHERE c.provider = m.provider AND c.account = m.account AND c.family = 'image_generation' AND c.resource_id = m.resource_id
                AND c.bucket_seconds = 86400
                AND c.bucket_start >= m.billing_month::timestamp AT TIME ZONE 'UTC'
                AND c.bucket_start < (m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
              GROUP BY (c.bucket_start AT TIME ZONE 'UTC')::date) d
        WHERE d.tokens > 0
    ) mt
    WHERE t.tokens > 0
), spans AS (
    -- What a month summary without a usable graph covers: contracts from their
    -- start to their end, image generation without tokens the month; both up
    -- to the account's last run while the month is open.
    SELECT m.provider, m.account, m.family, m.resource_id, m.billing_month, m.incurred_bill,
           greatest(m.billing_month::timestamp AT TIME ZONE 'UTC', CASE WHEN m.family = 'contract' THEN r.created_at END) AS span_start,
           least((m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC',
                 CASE WHEN m.family = 'contract' THEN r.terminated_at END, c.as_of) AS span_end
    FROM billing.resource_month_costs m
    LEFT JOIN billing.resources r USING (provider, account, family, resource_id)
    LEFT JOIN clock c USING (provider, account)
    WHERE m.family = 'contract'
       OR m.family = 'image_generation' AND NOT EXISTS (
              SELECT 1 FROM billing.cost_datapoints i
              WHERE i.provider = m.provider AND i.account = m.account AND i.family = 'image_generation' AND i.resource_id = m.resource_id
                AND i.bucket_seconds = 86400
                AND i.bucket_start >= m.billing_month::timestamp AT TIME ZONE 'UTC'
                AND i.bucket_start < (m.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
              GROUP BY (i.bucket_start AT TIME ZONE 'UTC')::date
              HAVING sum(coalesce(i.total_tokens, coalesce(i.input_tokens, 0) + coalesce(i.output_tokens, 0))) > 0)
), spans_fixed AS (
    -- A span the resource's dates do not fit (unknown, or outside the month): the whole month.
    SELECT s.provider, s.account, s.family, s.resource_id, s.billing_month, s.incurred_bill,
           CASE WHEN s.span_end > s.span_start THEN s.span_start ELSE s.billing_month::timestamp AT TIME ZONE 'UTC' END AS span_start,
           CASE WHEN s.span_end > s.span_start THEN s.span_end ELSE (s.billing_month + interval '1 month')::timestamp AT TIME ZONE 'UTC' END AS span_end
    FROM spans s
), spread AS (
    SELECT s.provider, s.account, s.family, s.resource_id, d.day,
           s.incurred_bill * extract(epoch FROM least(s.span_end, (d.day + 1)::timestamp AT TIME ZONE 'UTC')
                                              - greatest(s.span_start, d.day::timestamp AT TIME ZONE 'UTC'))
                           / extract(epoch FROM s.span_end - s.span_start) AS cost
    FROM spans_fixed s
    CROSS JOIN LATERAL (SELECT g::date AS day FROM generate_series((s.span_start AT TIME ZONE 'UTC')::date::timestamp,
                                                                   (s.span_end AT TIME ZONE 'UTC') - interval '1 microsecond',
                                                                   interval '1 day') AS g) d
), soracom_spans AS (
    -- The days a Soracom month's monthly rows are spread over: the whole month
    -- once it is closed, else its days up to the last one the CSV has daily
    -- rows for (what Soracom has evaluated so far).
    SELECT m.provider, m.account, m.billing_month, b.currency,
           CASE WHEN b.state = 'closed' OR d.last_day IS NULL THEN (m.billing_month + interval '1 month')::date - m.billing_month
                ELSE least(d.last_day + 1, (m.billing_month + interval '1 month')::date) - m.billing_month END AS days
    FROM (SELECT DISTINCT provider, account, billing_month FROM billing.soracom_bill_items) m
    LEFT JOIN billing.soracom_bills b USING (provider, account, billing_month)
    LEFT JOIN (SELECT provider, account, billing_month, max(charge_date) AS last_day FROM billing.soracom_bill_items
               WHERE NOT monthly GROUP BY 1, 2, 3) d USING (provider, account, billing_month)
), soracom_rows AS (
    -- Daily rows on their day (the bill's currency); monthly rows (fees, free tier, discounts,
    -- adjustments) are billed by the month, like commitments: billed NULL on
    -- the days, amortized spread evenly (by cumulative shares rounded to 10
    -- places, so the days add up to the month exactly).
    SELECT i.provider, i.account, b.currency, i.family, i.resource_id, i.charge_date AS day, i.amount AS billed, i.amount AS amortized
    FROM billing.soracom_bill_items i
    LEFT JOIN billing.soracom_bills b USING (provider, account, billing_month)
    WHERE NOT i.monthly
    UNION ALL
    SELECT i.provider, i.account, s.currency, i.family, i.resource_id, i.billing_month + g.n - 1, NULL::numeric,
           round(i.amount * g.n / s.days, 10) - round(i.amount * (g.n - 1) / s.days, 10)
    FROM (SELECT provider, account, billing_month, family, resource_id, sum(amount) AS amount FROM billing.soracom_bill_items
          WHERE monthly GROUP BY 1, 2, 3, 4, 5) i
    JOIN soracom_spans s USING (provider, account, billing_month)
    CROSS JOIN LATERAL generate_series(1, s.days) AS g(n)
), soracom AS (
    SELECT provider, account, currency, family, resource_id, day, sum(billed) AS billed, sum(amortized) AS amortized, 'csv'::text AS source
    FROM soracom_rows GROUP BY 1, 2, 3, 4, 5, 6
), cloudsigma_rows AS (
    -- Ledger debits on the UTC day of their time, family = the resource (or
    -- the kind when there is none), resource_id = the resource, or for a
    -- subscription's purchase the subscription's uuid. A purchase is billed
    -- on its day and amortized over the subscription's period (when the
    -- subscription is known): price x overlap / period, cumulative shares
    -- rounded to 10 places, up to the account's last run.
    SELECT l.provider, l.account, l.currency, coalesce(l.resource, l.kind) AS family,
           CASE WHEN l.kind = 'subscription' THEN coalesce(l.reference, '') ELSE coalesce(l.resource, '') END AS resource_id,
           (l.time AT TIME ZONE 'UTC')::date AS day, l.amount AS billed,
           CASE WHEN l.kind = 'subscription' AND EXISTS (
                    SELECT 1 FROM billing.cloudsigma_subscriptions s
                    WHERE s.provider = l.provider AND s.account = l.account AND s.uuid = l.reference AND s.end_time > s.start_time)
                THEN 0 ELSE l.amount END AS amortized
    FROM billing.cloudsigma_ledger_entries l
    WHERE l.amount > 0
    UNION ALL
    SELECT s.provider, s.account, s.currency, s.resource, coalesce(s.uuid, s.subscription_id), d.day, NULL::numeric,
           round(s.price * extract(epoch FROM least(greatest((d.day + 1)::timestamp AT TIME ZONE 'UTC', s.start_time), s.end_time) - s.start_time)
                         / extract(epoch FROM s.end_time - s.start_time), 10)
         - round(s.price * extract(epoch FROM least(greatest(d.day::timestamp AT TIME ZONE 'UTC', s.start_time), s.end_time) - s.start_time)
                         / extract(epoch FROM s.end_time - s.start_time), 10)
    FROM billing.cloudsigma_subscriptions s
    LEFT JOIN clock c USING (provider, account)
    CROSS JOIN LATERAL (SELECT g::date AS day FROM generate_series((s.start_time AT TIME ZONE 'UTC')::date::timestamp,
                                                                   (least(s.end_time, coalesce(c.as_of, now())) AT TIME ZONE 'UTC') - interval '1 microsecond',
                                                                   interval '1 day') AS g) d
    WHERE s.end_time > s.start_time
), cloudsigma AS (
    SELECT provider, account, currency, family, resource_id, day, sum(billed) AS billed, sum(amortized) AS amortized,
           CASE WHEN count(billed) > 0 THEN 'ledger' ELSE 'spread' END AS source
    FROM cloudsigma_rows GROUP BY 1, 2, 3, 4, 5, 6
), days AS (
    SELECT provider, account, NULL::text AS currency, family, resource_id, day, cost AS billed, cost AS amortized, source FROM graph
    UNION ALL
    SELECT provider, account, NULL, family, resource_id, day, cost, cost, 'spread' FROM images
    UNION ALL
    SELECT provider, account, NULL, family, resource_id, day,
           CASE WHEN family = 'contract' THEN NULL ELSE cost END, cost, 'spread' FROM spread
    UNION ALL
    SELECT provider, account, currency, family, resource_id, day, billed, amortized, source FROM soracom
    UNION ALL
    SELECT provider, account, currency, family, resource_id, day, billed, amortized, source FROM cloudsigma
)
SELECT x.provider,
       x.account,
       coalesce(x.currency, a.currency, CASE x.provider WHEN 'hyperstack' THEN 'USD' END) AS currency,
       x.day,
       x.family      AS resource_family,
       x.resource_id,
       x.billed      AS billed_cost,
       x.amortized   AS amortized_cost,
       x.source
FROM days x
LEFT JOIN billing.accounts a USING (provider, account);
COMMENT ON VIEW reports.resource_day_cost_computed_v2 IS 'resource_day_cost_v2 computed from the warehouse on every read: what the runs copy into billing.resource_day_costs.';
GRANT SELECT ON reports.resource_day_cost_computed_v2 TO billing_reader;
