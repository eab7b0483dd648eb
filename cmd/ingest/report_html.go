package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/billing-warehouse/billing-warehouse/dashboard"
	"github.com/billing-warehouse/billing-warehouse/internal/config"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// reportHTMLCmd writes the dashboard (serve's /) as one self-contained
// file: inline SVG and CSS, no script, no filter form.
func reportHTMLCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest report html", flag.ContinueOnError)
	fs.SetOutput(stderr)
	month := fs.String("month", "", "the billing month `YYYY-MM` (default: the newest with data)")
	account := fs.String("account", "", "only the account `NAME` (default: every account)")
	flags := registerDatabase(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ingest report html [--month YYYY-MM] [--account NAME] > costs.html\n\nThe cost dashboard as one HTML file.\n\n")
		config.PrintDefaults(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: report html takes no name, only --month and --account", errUsage)
	}
	f, err := dashboard.ParseFilter(*account, *month)
	if err != nil {
		return fmt.Errorf("%w: --%v", errUsage, err)
	}
	cfg, err := flags.Load()
	if err != nil {
		return err
	}
	s, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer s.Close()
	d, err := dashboard.Load(ctx, s.Pool(), f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := dashboard.Render(&buf, d, dashboard.Options{Static: true}); err != nil {
		return err
	}
	_, err = stdout.Write(buf.Bytes())
	return err
}
