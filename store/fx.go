package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
)

// FXRate is one ECB euro reference rate: units of Currency per 1 EUR on Day.
type FXRate struct {
	Currency  string
	Day       time.Time
	RateToEUR decimal.Decimal
}

// FXImport counts what an import did.
type FXImport struct {
	Inserted, Updated, Unchanged int64
}

const mergeFXRates = `
WITH merged AS (
    INSERT INTO billing.fx_rates AS f (currency, day, rate_to_eur)
    SELECT DISTINCT ON (currency, day) currency, day, rate_to_eur FROM stage_fx_rates ORDER BY currency, day
    ON CONFLICT (currency, day) DO UPDATE SET rate_to_eur = EXCLUDED.rate_to_eur
    WHERE f.rate_to_eur IS DISTINCT FROM EXCLUDED.rate_to_eur
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), (SELECT count(DISTINCT (currency, day)) FROM stage_fx_rates)
FROM merged`

// ImportFXRates merges rates into billing.fx_rates (a published rate the
// ECB revised is updated) and, when reportingCurrency is not empty, makes
// it the reporting currency of the v2 reports. One transaction.
func (s *Store) ImportFXRates(ctx context.Context, rates []FXRate, reportingCurrency string) (FXImport, error) {
	var r FXImport
	err := withTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stage_fx_rates ON COMMIT DROP AS
			SELECT currency, day, rate_to_eur FROM billing.fx_rates WITH NO DATA`); err != nil {
			return fmt.Errorf("stage rates: %w", err)
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"stage_fx_rates"}, []string{"currency", "day", "rate_to_eur"},
			pgx.CopyFromSlice(len(rates), func(i int) ([]any, error) {
				return []any{rates[i].Currency, rates[i].Day, rates[i].RateToEUR}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy rates: %w", err)
		}
		var staged int64
		if err := tx.QueryRow(ctx, mergeFXRates).Scan(&r.Inserted, &r.Updated, &staged); err != nil {
			return fmt.Errorf("merge rates: %w", err)
		}
		r.Unchanged = staged - r.Inserted - r.Updated
		if reportingCurrency != "" {
			if _, err := tx.Exec(ctx, `UPDATE billing.settings SET reporting_currency = $1`, reportingCurrency); err != nil {
				return fmt.Errorf("set the reporting currency: %w", err)
			}
		}
		return nil
	})
	return r, err
}
