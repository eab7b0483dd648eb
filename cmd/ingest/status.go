package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/config"
	"github.com/billing-warehouse/billing-warehouse/store"
)

func statusCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	databaseURL := fs.String("database-url", "", "PostgreSQL connection string (default $DATABASE_URL)")
	limit := fs.Int("runs", 10, "how many of the newest runs to list")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	url := *databaseURL
	if url == "" {
		var err error
		if url, err = config.Secret("DATABASE_URL"); err != nil {
			return err
		}
	}

	s, err := store.Open(ctx, url, store.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); err != nil {
		return err
	}
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
	fmt.Fprintln(tw, "RUN\tTRIGGER\tSTATUS\tSTARTED (UTC)\tDURATION\tREQUESTS\tROWS +/~/-\tERRORS")
	for _, r := range runs {
		end := time.Now()
		if r.FinishedAt != nil {
			end = *r.FinishedAt
		}
		c := r.Counters
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d/%d/%d\t%d\n", r.ID, r.Trigger, r.Status,
			r.StartedAt.Format(time.DateTime), end.Sub(r.StartedAt).Round(time.Second),
			c.Requests, c.RowsInserted, c.RowsUpdated, c.RowsDeleted, c.Errors)
	}
	return tw.Flush()
}
