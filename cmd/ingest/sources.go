package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/cloudsigma"
	"github.com/billing-warehouse/billing-warehouse/ingest/hyperstack"
	"github.com/billing-warehouse/billing-warehouse/ingest/soracom"
)

// The providers this build knows: one line each.
func init() {
	ingest.Register(hyperstack.Provider)
	ingest.Register(soracom.Provider)
	ingest.Register(cloudsigma.Provider)
}

// sourcesCmd lists the configured sources, secrets shown as (set).
func sourcesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest sources", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := parseFlags(fs, args, []string{"config"})
	if err != nil {
		return err
	}
	cfgs, err := cfg.Sources()
	if err != nil {
		return err
	}
	from := "the environment (no config file)"
	if cfg.ConfigFile != "" {
		from = cfg.ConfigFile
	}
	fmt.Fprintf(stdout, "%d sources, from %s\n\n", len(cfgs), from)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tACCOUNT\tSETTINGS")
	for _, c := range cfgs {
		p, _ := ingest.LookupProvider(c.Provider)
		var settings []string
		keys := make([]string, 0, len(c.Settings))
		for k := range c.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := c.Settings[k]
			if slices.ContainsFunc(p.Keys, func(key ingest.Key) bool { return key.Name == k && key.Secret }) {
				v = "(set)"
			}
			settings = append(settings, k+"="+v)
		}
		if c.Rate > 0 {
			settings = append(settings, fmt.Sprintf("rate=%d", c.Rate))
		}
		if c.Concurrency > 0 {
			settings = append(settings, fmt.Sprintf("concurrency=%d", c.Concurrency))
		}
		if c.Lookback > 0 {
			settings = append(settings, "lookback="+c.Lookback.String())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Provider, c.Account, strings.Join(settings, " "))
	}
	return tw.Flush()
}
