-- reports.daily_cost_v2: spend per UTC day and service, billed and amortized.
-- Grain: provider, account, currency, day, service (the resource family).
-- Columns: provider; account; currency (ISO 4217); day (date, UTC); service;
--   billed_cost (the graph's cost, as daily_cost_v1; NULL for commitments, which are
--   billed by the month); amortized_cost (commitments spread over the days they cover:
--   a closed month's days add up to its total); reporting_currency;
--   billed_cost_reporting, amortized_cost_reporting (at the day's ECB rate; NULL
--   when there is none for the day).
-- Example: SELECT day, currency, sum(amortized_cost) FROM reports.daily_cost_v2 GROUP BY 1, 2 ORDER BY 1;

-- +goose Up
CREATE VIEW reports.daily_cost_v2 AS
SELECT d.provider,
       d.account,
       d.currency,
       d.day,
       d.resource_family       AS service,
       sum(d.billed_cost)      AS billed_cost,
       sum(d.amortized_cost)   AS amortized_cost,
       s.reporting_currency,
       sum(d.billed_cost) * CASE WHEN d.currency = s.reporting_currency THEN 1 ELSE fx.to_reporting END    AS billed_cost_reporting,
       sum(d.amortized_cost) * CASE WHEN d.currency = s.reporting_currency THEN 1 ELSE fx.to_reporting END AS amortized_cost_reporting
FROM reports.resource_day_cost_v2 d
CROSS JOIN (SELECT reporting_currency FROM billing.settings LIMIT 1) s
LEFT JOIN reports.fx_rates_v1 fx ON fx.currency = d.currency AND fx.day = d.day
GROUP BY d.provider, d.account, d.currency, d.day, d.resource_family, s.reporting_currency, fx.to_reporting;
COMMENT ON VIEW reports.daily_cost_v2 IS 'Spend per UTC day and service per account and currency: billed, and amortized over commitments.';
GRANT SELECT ON reports.daily_cost_v2 TO billing_reader;

-- +goose Down
DROP VIEW reports.daily_cost_v2;
