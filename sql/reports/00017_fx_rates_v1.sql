-- reports.fx_rates_v1: the factor that turns an amount into the reporting currency.
-- Grain: day the ECB published, currency.
-- Rule: rates are the ECB's euro reference rates (units of currency per 1 EUR,
--   billing.fx_rates, filled by `ingest fx import`); to_reporting = rate of the
--   reporting currency / rate of the currency (EUR is 1). Only days with both rates
--   have a row: a weekend or holiday has none, and nothing is carried over.
--   The reporting currency is billing.settings.reporting_currency (NULL: no rows).
-- Columns: day (date); currency; reporting_currency; to_reporting (multiply an
--   amount in currency by it).
-- Example: SELECT * FROM reports.fx_rates_v1 WHERE currency = 'USD' ORDER BY day DESC LIMIT 5;

-- +goose Up
CREATE VIEW reports.fx_rates_v1 AS
WITH rates AS (
    SELECT currency, day, rate_to_eur FROM billing.fx_rates
    UNION ALL
    SELECT DISTINCT 'EUR', day, 1::numeric FROM billing.fx_rates
)
SELECT c.day, c.currency, s.reporting_currency, r.rate_to_eur / c.rate_to_eur AS to_reporting
FROM (SELECT reporting_currency FROM billing.settings LIMIT 1) s
JOIN rates r ON r.currency = s.reporting_currency
JOIN rates c ON c.day = r.day;
COMMENT ON VIEW reports.fx_rates_v1 IS 'ECB reference rates as factors into the reporting currency, per publication day.';
GRANT SELECT ON reports.fx_rates_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.fx_rates_v1;
