-- What the v2 reports need of the schema: currencies and their minor units,
-- ECB reference rates, the reporting currency, and whether a restatement
-- corrected a settled period or recorded the growth of one still accruing.

-- +goose Up

-- One row per currency the warehouse may hold. minor_units is ISO 4217's
-- exponent (2 for USD, 0 for JPY): reconciliation tolerates one minor
-- unit. anomaly_floor is the least rise over its baseline a day must show
-- to be an anomaly, in that currency.
CREATE TABLE billing.currencies (
    currency       text COLLATE "C" PRIMARY KEY,
    minor_units    integer NOT NULL,
    anomaly_floor  numeric NOT NULL,
    CONSTRAINT currencies_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT currencies_minor_units_check CHECK (minor_units BETWEEN 0 and 4),
    CONSTRAINT currencies_anomaly_floor_check CHECK (anomaly_floor >= 0)
);
COMMENT ON TABLE billing.currencies IS 'Currencies: ISO 4217 minor units and the anomaly floor of the reports.';
INSERT INTO billing.currencies (currency, minor_units, anomaly_floor) VALUES
  ('USD', 2, 1), ('EUR', 2, 1), ('CHF', 2, 1), ('GBP', 2, 1), ('JPY', 0, 150);

-- ECB euro foreign exchange reference rates: units of currency per 1 EUR,
-- one row per currency and day the ECB published (no weekends, no
-- holidays). Filled by `ingest fx import`.
CREATE TABLE billing.fx_rates (
    currency     text COLLATE "C" NOT NULL,
    day          date    NOT NULL,
    rate_to_eur  numeric NOT NULL,
    PRIMARY KEY (currency, day),
    CONSTRAINT fx_rates_currency_check CHECK (currency ~ '^[A-Z]{3}$' AND currency <> 'EUR'),
    CONSTRAINT fx_rates_rate_check CHECK (rate_to_eur > 0)
);
COMMENT ON TABLE billing.fx_rates IS 'ECB reference rates: units of currency per 1 EUR per publication day.';

-- The warehouse's settings, one row. reporting_currency NULL: the v2
-- views' *_reporting columns stay NULL.
CREATE TABLE billing.settings (
    id                  boolean PRIMARY KEY DEFAULT true,
    reporting_currency  text COLLATE "C",
    CONSTRAINT settings_one_row CHECK (id),
    CONSTRAINT settings_reporting_currency_check CHECK (reporting_currency ~ '^[A-Z]{3}$')
);
COMMENT ON TABLE billing.settings IS 'Warehouse settings (one row): the reporting currency of the v2 reports.';
INSERT INTO billing.settings (id) VALUES (true);

-- correction: a value of a period that had ended when it was last observed
-- changed (the API corrected it). accrual: a period still running when it
-- was last observed grew. "Last observed" is the end of the account's
-- previous run's window (the crawler's clock, so simulated runs agree).
ALTER TABLE billing.restatements ADD COLUMN kind text;
-- Rows stored before: the same rule, from the key the row carries.
UPDATE billing.restatements rs SET kind = CASE
    WHEN p.period_end IS NULL OR p.period_end <= coalesce(
        (SELECT max(r.window_end) FROM ingest.runs r WHERE r.provider = rs.provider AND r.account = rs.account AND r.id < rs.run_id),
        rs.observed_at)
    THEN 'correction' ELSE 'accrual' END
FROM (SELECT id, CASE
        WHEN row_key ? 'bucket_start' THEN (row_key->>'bucket_start')::timestamptz + make_interval(secs => (row_key->>'bucket_seconds')::int)
        WHEN row_key ? 'billing_month' THEN ((row_key->>'billing_month')::date + interval '1 month')::timestamp AT TIME ZONE 'UTC'
        WHEN row_key ? 'day' THEN ((row_key->>'day')::date + 1)::timestamp AT TIME ZONE 'UTC'
        WHEN row_key ? 'observed_hour' THEN (row_key->>'observed_hour')::timestamptz + interval '1 hour'
        WHEN row_key ? 'event_start' THEN (row_key->>'event_start')::timestamptz + coalesce(
            (SELECT e.duration_hours FROM billing.billing_events e
             WHERE e.provider = x.provider AND e.account = x.account AND e.family = row_key->>'family'
               AND e.resource_id = row_key->>'resource_id' AND e.event_start = (row_key->>'event_start')::timestamptz), 0) * interval '1 hour'
      END AS period_end
      FROM billing.restatements x) p
WHERE p.id = rs.id;
ALTER TABLE billing.restatements ALTER COLUMN kind SET NOT NULL,
    ADD CONSTRAINT restatements_kind_check CHECK (kind IN ('correction', 'accrual'));

-- +goose Down
ALTER TABLE billing.restatements DROP COLUMN kind;
DROP TABLE billing.settings;
DROP TABLE billing.fx_rates;
DROP TABLE billing.currencies;
