package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

const fxUsage = `Usage:
  ingest fx import FILE [--reporting-currency EUR]

FILE is the ECB's historical euro reference rates (eurofxref-hist.csv, unzipped):
a header "Date,USD,JPY,..." and one row per day, rates in units of currency per
1 EUR, "N/A" where there is none. Rates go to billing.fx_rates; importing again
adds new days and takes revised values. --reporting-currency sets the currency
of the v2 reports' *_reporting columns (billing.settings).
`

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

func fxCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprint(stderr, fxUsage)
		return fmt.Errorf("%w: fx import FILE", errUsage)
	}
	fs := flag.NewFlagSet("ingest fx import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reporting := fs.String("reporting-currency", "", "make this the reports' reporting currency (ISO 4217, e.g. EUR)")
	rest := args[1:]
	var file string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		file, rest = rest[0], rest[1:]
	}
	cfg, err := parseFlags(fs, rest, []string{"database-url"})
	if err != nil {
		return err
	}
	if file == "" {
		return fmt.Errorf("%w: fx import needs the CSV file", errUsage)
	}
	if *reporting != "" && !currencyCode.MatchString(*reporting) {
		return fmt.Errorf("%w: --reporting-currency wants an ISO 4217 code like EUR", errUsage)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rates, err := parseECB(f)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	cfg.Concurrency = 1
	s, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := s.ImportFXRates(ctx, rates, *reporting)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d rates: %d new, %d revised, %d unchanged\n", len(rates), r.Inserted, r.Updated, r.Unchanged)
	return nil
}

// parseECB reads the ECB's historical reference-rate CSV. Columns that are
// not currency codes (the empty one a trailing comma makes) are ignored, as
// are "N/A" and empty cells; anything else that is not a positive decimal is
// an error naming its line.
func parseECB(r io.Reader) ([]store.FXRate, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read the header: %w", err)
	}
	if len(header) == 0 || strings.TrimPrefix(strings.TrimSpace(header[0]), "\ufeff") != "Date" {
		return nil, errors.New(`not the ECB's format: the header must start with "Date"`)
	}
	var rates []store.FXRate
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rates, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		day, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(rec[0]), time.UTC)
		if err != nil {
			return nil, fmt.Errorf("line %d: date %q is not YYYY-MM-DD", line, rec[0])
		}
		for i := 1; i < len(rec) && i < len(header); i++ {
			code, cell := strings.TrimSpace(header[i]), strings.TrimSpace(rec[i])
			if !currencyCode.MatchString(code) || code == "EUR" || cell == "" || cell == "N/A" {
				continue
			}
			rate, err := decimal.Parse(cell)
			if err != nil || rate.Sign() <= 0 {
				return nil, fmt.Errorf("line %d: %s rate %q is not a positive number", line, code, cell)
			}
			rates = append(rates, store.FXRate{Currency: code, Day: day, RateToEUR: rate})
		}
	}
}
