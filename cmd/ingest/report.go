package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

const reportUsage = `Usage:
  ingest report list
  ingest report show NAME [--month YYYY-MM | --since YYYY-MM-DD --until YYYY-MM-DD] [--limit N] [--format table|csv|json]
`

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "show") {
		fmt.Fprint(stderr, reportUsage)
		return fmt.Errorf("%w: report list or report show NAME", errUsage)
	}
	fs := flag.NewFlagSet("ingest report "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	month := fs.String("month", "", "only this billing month, YYYY-MM")
	since := fs.String("since", "", "from this day, YYYY-MM-DD (inclusive)")
	until := fs.String("until", "", "to this day, YYYY-MM-DD (inclusive)")
	limit := fs.Int("limit", 0, "at most this many rows")
	format := fs.String("format", "table", "table, csv or json")
	flags := registerDatabase(fs)
	rest := args[1:]
	var name string
	if args[0] == "show" {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			return fmt.Errorf("%w: report show needs a report name", errUsage)
		}
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := flags.Load()
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["month"] && (set["since"] || set["until"]) {
		return fmt.Errorf("%w: --month and --since/--until both choose the days; give one", errUsage)
	}
	if set["limit"] && *limit <= 0 {
		return fmt.Errorf("%w: --limit wants a positive number, got %d", errUsage, *limit)
	}
	q := store.ReportQuery{Name: name, Limit: *limit}
	switch {
	case *month != "":
		m, err := time.ParseInLocation("2006-01", *month, time.UTC)
		if err != nil {
			return fmt.Errorf("%w: --month wants YYYY-MM", errUsage)
		}
		q.Since, q.Until = m, m.AddDate(0, 1, 0)
	default:
		for _, d := range []struct {
			text string
			dst  *time.Time
			add  int
		}{{*since, &q.Since, 0}, {*until, &q.Until, 1}} {
			if d.text == "" {
				continue
			}
			t, err := time.ParseInLocation("2006-01-02", d.text, time.UTC)
			if err != nil {
				return fmt.Errorf("%w: --since and --until want YYYY-MM-DD", errUsage)
			}
			*d.dst = t.AddDate(0, 0, d.add)
		}
	}
	if *format != "table" && *format != "csv" && *format != "json" {
		return fmt.Errorf("%w: --format must be table, csv or json", errUsage)
	}
	s, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer s.Close()

	if args[0] == "list" {
		reports, err := s.Reports(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tVERSION\tDESCRIPTION")
		for _, r := range reports {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, r.Version, r.Description)
		}
		return tw.Flush()
	}
	cols, rows, err := s.Report(ctx, q)
	if err != nil {
		return err
	}
	switch *format {
	case "csv":
		return writeCSV(stdout, cols, rows)
	case "json":
		return writeJSON(stdout, cols, rows)
	}
	return writeTable(stdout, cols, rows)
}

// cell renders a value exactly (decimals in full), or "" for NULL.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case pgtype.Numeric:
		var d decimal.Decimal
		if err := d.ScanNumeric(x); err != nil {
			return ""
		}
		return d.String()
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Location() == time.UTC {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format(time.RFC3339)
	case pgtype.Interval:
		return (time.Duration(x.Microseconds)*time.Microsecond + time.Duration(x.Days)*24*time.Hour).Round(time.Second).String()
	}
	return fmt.Sprint(v)
}

// places is how many decimals the table shows for a numeric column: money
// with 2, prices per unit and per million tokens with more.
func places(col string) int {
	lc := strings.ToLower(col)
	if strings.Contains(lc, "per_million") || strings.Contains(lc, "price") || strings.Contains(lc, "unitprice") || strings.Contains(lc, "share") {
		return 6
	}
	return 2
}

func writeTable(w io.Writer, cols []string, rows [][]any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = cell(v)
			if n, ok := v.(pgtype.Numeric); ok && n.Valid {
				cells[i] = roundText(n, places(cols[i]))
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	return tw.Flush()
}

// roundText formats a numeric with a fixed number of decimals, half away
// from zero, without going through a float.
func roundText(n pgtype.Numeric, decimals int) string {
	r := new(big.Rat).SetInt(n.Int)
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n.Exp))), nil))
	if n.Exp < 0 {
		r.Quo(r, scale)
	} else {
		r.Mul(r, scale)
	}
	return r.FloatString(decimals)
}

func abs(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

func writeCSV(w io.Writer, cols []string, rows [][]any) error {
	cw := csv.NewWriter(w)
	cw.Write(cols)
	for _, row := range rows {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = cell(v)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

func writeJSON(w io.Writer, cols []string, rows [][]any) error {
	out := make([]map[string]any, 0, len(rows))
	for _, row := range rows {
		obj := make(map[string]any, len(row))
		for i, v := range row {
			switch x := v.(type) {
			case pgtype.Numeric:
				obj[cols[i]] = json.Number(cell(x))
			case nil, bool, string, int16, int32, int64:
				obj[cols[i]] = x
			default:
				obj[cols[i]] = cell(x)
			}
		}
		out = append(out, obj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
