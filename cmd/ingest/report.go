package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/billing-warehouse/billing-warehouse/internal/config"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

const reportUsage = `Usage:
  ingest report list
  ingest report show NAME [--month YYYY-MM | --since YYYY-MM-DD --until YYYY-MM-DD] [--limit N] [--format table|csv|json]
  ingest report html [--month YYYY-MM] [--account NAME] > costs.html
`

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "html" {
		return reportHTMLCmd(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "show") {
		fmt.Fprint(stderr, reportUsage)
		return fmt.Errorf("%w: report list, report show NAME or report html", errUsage)
	}
	fs := flag.NewFlagSet("ingest report "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var month, since, until, format *string
	var limit *int
	if args[0] == "show" {
		month = fs.String("month", "", "only this billing `YYYY-MM`")
		since = fs.String("since", "", "from this day, `YYYY-MM-DD` (inclusive)")
		until = fs.String("until", "", "to this day, `YYYY-MM-DD` (inclusive)")
		limit = fs.Int("limit", 0, "at most `N` rows")
		format = fs.String("format", "table", "`FORMAT`: table, csv or json")
	}
	flags := registerDatabase(fs)
	if args[0] == "show" {
		fs.Usage = func() {
			fmt.Fprintf(stderr, "Usage: ingest report show NAME [flags]\n\nNAME is a report view (ingest report list); without a _vN suffix, its newest version.\nFlags may come before or after NAME.\n\n")
			config.PrintDefaults(fs)
		}
	}
	// Flags may stand before and after the name: parse, take the name,
	// parse what follows it.
	var names []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		names, rest = append(names, fs.Arg(0)), fs.Args()[1:]
	}
	switch {
	case args[0] == "list" && len(names) > 0:
		return fmt.Errorf("%w: report list takes no name", errUsage)
	case args[0] == "show" && len(names) != 1:
		fs.Usage()
		return fmt.Errorf("%w: report show needs one report name (see ingest report list)", errUsage)
	}
	cfg, err := flags.Load()
	if err != nil {
		return err
	}
	var q store.ReportQuery
	if args[0] == "show" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["month"] && (set["since"] || set["until"]) {
			return fmt.Errorf("%w: --month and --since/--until both choose the days; give one", errUsage)
		}
		if set["limit"] && *limit <= 0 {
			return fmt.Errorf("%w: --limit wants a positive number, got %d", errUsage, *limit)
		}
		q.Limit = *limit
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
	}
	s, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer s.Close()
	reports, err := s.Reports(ctx)
	if err != nil {
		return err
	}
	if args[0] == "list" {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tVERSION\tDESCRIPTION")
		for _, r := range reports {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, r.Version, r.Description)
		}
		return tw.Flush()
	}
	if q.Name, err = resolveReport(names[0], reports); err != nil {
		return err
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
	return writeTable(stdout, cols, rows, terminalWidth(stdout))
}

// resolveReport finds the view a name means: the name itself, or without
// a _vN suffix its newest version. An unknown name gets the nearest names
// as suggestions.
func resolveReport(name string, reports []store.ReportInfo) (string, error) {
	newest, newestV := "", -1
	for _, r := range reports {
		if r.Name == name {
			return name, nil
		}
		if base, v := splitVersion(r.Name); base == name && v > newestV {
			newest, newestV = r.Name, v
		}
	}
	if newest != "" {
		return newest, nil
	}
	type near struct {
		name string
		d    int
	}
	var nearest []near
	for _, r := range reports {
		base, _ := splitVersion(r.Name)
		d := min(editDistance(name, r.Name), editDistance(name, base))
		if d <= max(3, len(name)/3) || strings.Contains(r.Name, name) {
			nearest = append(nearest, near{r.Name, d})
		}
	}
	sort.SliceStable(nearest, func(i, j int) bool { return nearest[i].d < nearest[j].d })
	var hints []string
	for _, n := range nearest[:min(3, len(nearest))] {
		hints = append(hints, n.name)
	}
	msg := fmt.Sprintf("no report named %q (see ingest report list)", name)
	if len(hints) > 0 {
		msg = fmt.Sprintf("no report named %q; did you mean %s?", name, strings.Join(hints, ", "))
	}
	return "", fmt.Errorf("%w: %s", errUsage, msg)
}

// splitVersion splits daily_cost_v2 into daily_cost and 2 (-1: no version).
func splitVersion(name string) (string, int) {
	i := strings.LastIndex(name, "_v")
	if i < 0 {
		return name, -1
	}
	v, err := strconv.Atoi(name[i+2:])
	if err != nil {
		return name, -1
	}
	return name[:i], v
}

// editDistance is Levenshtein's distance between two names.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// timeText is how every command shows a time: UTC, to the second.
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

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
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.UTC().Format("2006-01-02")
		}
		return timeText(x)
	case pgtype.Interval:
		return (time.Duration(x.Microseconds)*time.Microsecond + time.Duration(x.Days)*24*time.Hour).Round(time.Second).String()
	}
	return fmt.Sprint(v)
}

// places is how many decimals a table shows for a numeric column, by the
// words of its name (snake_case or CamelCase): exactly, without trailing
// zeros (-1), for counts, hours, days and tokens, so whole numbers stay
// whole; 6 for rates (per hour, per million tokens, shares, ratios); 2
// for the rest, which in a billing warehouse is money and percentages.
func places(col string) int {
	list := columnWords(col)
	words := map[string]bool{}
	for _, w := range list {
		words[w] = true
	}
	money := map[string]bool{"bill": true, "cost": true, "amount": true, "credit": true, "credits": true, "tax": true, "total": true,
		"spend": true, "savings": true, "forecast": true, "balance": true, "delta": true, "value": true}
	switch {
	case words["price"] || words["per"] || words["share"] || words["ratio"] || words["rate"] || words["unitprice"]:
		return 6
	case len(list) > 0 && money[list[len(list)-1]]: // input_tokens_bill is money
		return 2
	case words["tokens"] || words["hours"] || words["seconds"] || words["minutes"] || words["days"] || words["quantity"] ||
		words["count"] || words["rows"] || words["rank"] || words["id"] || words["units"] || words["bucket"]:
		return -1
	}
	return 2
}

// columnWords splits a column name into lower-case words: at underscores
// and where CamelCase turns upper.
func columnWords(col string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range col {
		switch {
		case r == '_' || r == ' ':
			flush()
		case unicode.IsUpper(r) && i > 0 && len(cur) > 0 && !unicode.IsUpper(cur[len(cur)-1]):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

// tableCell renders a value for the table: numerics rounded as places
// says (half away from zero, never "-0.00"), whole numbers without
// decimals outside money columns.
func tableCell(col string, v any) (string, bool) {
	switch x := v.(type) {
	case pgtype.Numeric:
		if !x.Valid {
			return "", true
		}
		p := places(col)
		text := cell(x)
		if p >= 0 {
			text = roundText(x, p)
		}
		if strings.Trim(text, "-0.") == "" {
			text = strings.TrimPrefix(text, "-")
		}
		return text, true
	case int16, int32, int64, int, float64:
		return fmt.Sprint(x), true
	}
	return cell(v), false
}

// writeTable prints rows as a table: text left-aligned, numbers
// right-aligned. Rows wider than width (a terminal's; 0: no limit) are
// printed one field a line instead, like psql's expanded mode.
func writeTable(w io.Writer, cols []string, rows [][]any, width int) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "0 rows")
		return err
	}
	cells := make([][]string, len(rows))
	numeric := make([]bool, len(cols))
	for i := range numeric {
		numeric[i] = true
	}
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = utf8.RuneCountInString(c)
	}
	for r, row := range rows {
		cells[r] = make([]string, len(row))
		for i, v := range row {
			text, isNum := tableCell(cols[i], v)
			if v != nil && !isNum {
				numeric[i] = false
			}
			cells[r][i] = text
			widths[i] = max(widths[i], utf8.RuneCountInString(text))
		}
	}
	total := 0
	for _, wd := range widths {
		total += wd + 2
	}
	var b strings.Builder
	if width > 0 && total-2 > width {
		keyWidth := 0
		for _, c := range cols {
			keyWidth = max(keyWidth, utf8.RuneCountInString(c))
		}
		for r := range rows {
			fmt.Fprintf(&b, "-[ RECORD %d ]-\n", r+1)
			for i, c := range cols {
				fmt.Fprintf(&b, "%-*s | %s\n", keyWidth, c, cells[r][i])
			}
		}
	} else {
		line := func(texts []string) {
			for i, t := range texts {
				pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(t))
				if i > 0 {
					b.WriteString("  ")
				}
				switch {
				case numeric[i]:
					b.WriteString(pad + t)
				case i == len(texts)-1:
					b.WriteString(t)
				default:
					b.WriteString(t + pad)
				}
			}
			b.WriteString("\n")
		}
		line(cols)
		for _, row := range cells {
			line(row)
		}
	}
	fmt.Fprintf(&b, "(%d rows)\n", len(rows))
	_, err := io.WriteString(w, b.String())
	return err
}

// terminalWidth is the width wide rows must fit: $COLUMNS, else the
// terminal's, else none (a pipe or a file gets the table as it is).
func terminalWidth(w io.Writer) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	return 0
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

// writeJSON prints rows as an array of objects, keys in column order.
func writeJSON(w io.Writer, cols []string, rows [][]any) error {
	var b bytes.Buffer
	b.WriteString("[")
	for r, row := range rows {
		if r > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  {")
		for i, v := range row {
			if i > 0 {
				b.WriteString(",")
			}
			key, _ := json.Marshal(cols[i])
			var val []byte
			switch x := v.(type) {
			case pgtype.Numeric:
				val = []byte(cell(x))
			case nil, bool, string, int16, int32, int64:
				val, _ = json.Marshal(x)
			default:
				val, _ = json.Marshal(cell(x))
			}
			fmt.Fprintf(&b, "\n    %s: %s", key, val)
		}
		b.WriteString("\n  }")
	}
	if len(rows) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := w.Write(b.Bytes())
	return err
}
