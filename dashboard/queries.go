package dashboard

// The page's queries. Each reads one view of the reports schema and
// nothing else; $1 is the account ('' for every account), $2 the first day
// of the month shown (the daily chart: its last day).

// queryMonths lists every month of every account: the filter's choices,
// and which of them is closed and how far its data reaches. It reads no
// previous-month figure, so the view computes none for the months not shown.
const queryMonths = `
SELECT provider, account, currency, billing_month, closed, days_elapsed
FROM reports.month_to_date_v2
ORDER BY billing_month, account, provider, currency`

// queryMTD is the month-to-date panel: the month shown ($2) against the
// previous one; the filter on the month reaches the view's tables.
const queryMTD = `
SELECT provider, account, currency, billing_month, closed, billed_to_date, days_elapsed, month_days,
       forecast_month_end, previous_month_same_period, previous_month_total, forecast_change_pct
FROM reports.month_to_date_v2
WHERE billing_month = $2 AND ($1 = '' OR account = $1)
ORDER BY billing_month, account, provider, currency`

// queryDaily is the daily chart: 60 days up to $2, summed over accounts per
// currency and service. billed_cost is NULL for commitments (billed by the
// month), so the amortized part of a bar is amortized minus billed.
const queryDaily = `
SELECT currency, day, service, coalesce(sum(billed_cost), 0), coalesce(sum(amortized_cost), 0)
FROM reports.daily_cost_v2
WHERE day > $2::date - 60 AND day <= $2::date AND ($1 = '' OR account = $1)
GROUP BY currency, day, service
ORDER BY currency, day, service`

// queryTop is the month's most expensive resources per currency over the
// chosen accounts (the view ranks within one account), with how many
// resources there are and what they cost in all.
const queryTop = `
WITH month AS (
    SELECT account, currency, resource_family, resource_id, coalesce(resource_name, '') AS resource_name, billed_cost,
           row_number() OVER (PARTITION BY currency ORDER BY billed_cost DESC, account, resource_family, resource_id) AS n,
           count(*) OVER (PARTITION BY currency) AS resources,
           sum(billed_cost) OVER (PARTITION BY currency) AS total
    FROM reports.top_resources_v2
    WHERE billing_month = $2 AND ($1 = '' OR account = $1)
)
SELECT currency, n, account, resource_family, resource_id, resource_name, billed_cost, resources, total
FROM month WHERE n <= $3
ORDER BY currency, n`

// queryRunway is each account's credit at every observation of the 60
// days up to the end of the month shown; the newest is the runway.
const queryRunway = `
SELECT provider, account, currency, observed_at, credit, avg_daily_cost_7d, days_left, runs_out_on
FROM reports.credit_runway_v2
WHERE observed_at >= $2::date + interval '1 month' - interval '60 days' AND observed_at < $2::date + interval '1 month'
  AND ($1 = '' OR account = $1)
ORDER BY provider, account, observed_at`

// queryAnomalies is the month's anomalies, the largest jumps first.
const queryAnomalies = `
SELECT provider, account, currency, day, resource_family, resource_id, coalesce(resource_name, ''), cost, baseline, ratio,
       count(*) OVER ()
FROM reports.cost_anomalies_v2
WHERE day >= $2 AND day < $2::date + interval '1 month' AND ($1 = '' OR account = $1)
ORDER BY ratio DESC, day DESC, resource_id
LIMIT 20`

// queryCorrections is what providers changed this month in periods that
// had already settled: money only, per account, table and family.
const queryCorrections = `
SELECT provider, account, currency, table_name, coalesce(resource_family, ''), count(*), sum(delta), max(abs(delta)), max(observed_at)
FROM reports.restatements_v2
WHERE kind = 'correction' AND is_money
  AND observed_at >= $2::date::timestamp AT TIME ZONE 'UTC'
  AND observed_at < ($2::date + interval '1 month')::timestamp AT TIME ZONE 'UTC'
  AND ($1 = '' OR account = $1)
GROUP BY provider, account, currency, table_name, coalesce(resource_family, '')
ORDER BY provider, account, max(abs(delta)) DESC, table_name`

// queryHealth is ingest health per source and endpoint family.
const queryHealth = `
SELECT provider, account, endpoint_family, last_success_at, extract(epoch FROM lag)::float8, coalesce(last_run_status, ''), coalesce(last_error, '')
FROM reports.ingest_health_v1
WHERE ($1 = '' OR account = $1)
ORDER BY provider, account, endpoint_family`
