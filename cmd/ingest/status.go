package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/billing-warehouse/billing-warehouse/store"
)

func statusCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	limit := fs.Int("runs", 10, "how many of the newest runs to list")
	cfg, err := parseFlags(fs, args, []string{"database-url"})
	if err != nil {
		return err
	}
	if *limit <= 0 {
		return fmt.Errorf("%w: --runs wants a positive number, got %d", errUsage, *limit)
	}
	cfg.Concurrency = 1
	s, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stdout, "warehouse %s, schema version %d (current)\n\n", s.Target(), store.RequiredSchemaVersion())

	runs, err := s.RecentRuns(ctx, *limit)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintln(stdout, "no runs yet: the warehouse is empty")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSOURCE\tTRIGGER\tSTATUS\tSTARTED\tDURATION\tREQUESTS\tROWS +/~/-\tERRORS")
	for _, r := range runs {
		end := time.Now()
		if r.FinishedAt != nil {
			end = *r.FinishedAt
		}
		c := r.Counters
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d/%d/%d\t%d\n", r.ID, r.Owner, r.Trigger, r.Status,
			timeText(r.StartedAt), end.Sub(r.StartedAt).Round(time.Second),
			c.Requests, c.RowsInserted, c.RowsUpdated, c.RowsDeleted, c.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Why runs that did not succeed ended as they did.
	first := true
	for _, r := range runs {
		if r.ErrorSummary == "" || r.Status == store.RunSucceeded || r.Status == store.RunRunning {
			continue
		}
		if first {
			fmt.Fprintln(stdout)
			first = false
		}
		fmt.Fprintf(stdout, "run %d %s: %s\n", r.ID, r.Status, store.Clip(firstLine(r.ErrorSummary), 300))
	}

	owners, err := s.PayloadOwners(ctx)
	if err != nil || len(owners) == 0 {
		return err
	}
	fmt.Fprintln(stdout)
	tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tENDPOINT FAMILY\tLAST SUCCESS\tAGE")
	for _, o := range owners {
		fresh, err := s.Freshness(ctx, o)
		if err != nil {
			return err
		}
		families := make([]string, 0, len(fresh))
		for f := range fresh {
			families = append(families, f)
		}
		sort.Strings(families)
		for _, f := range families {
			if fresh[f].IsZero() {
				fmt.Fprintf(tw, "%s\t%s\tnever\t-\n", o, f) // every body of it failed to decode
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o, f, timeText(fresh[f]), time.Since(fresh[f]).Round(time.Second))
		}
	}
	return tw.Flush()
}
