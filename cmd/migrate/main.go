// Command migrate applies the warehouse's schema migrations.
//
//	migrate [--database-url URL] up | up-to N | down | down-to N | redo | reset | status | version | citus | citus-plan
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/billing-warehouse/billing-warehouse/internal/config"
	"github.com/billing-warehouse/billing-warehouse/internal/version"
	"github.com/billing-warehouse/billing-warehouse/store"
)

const usage = `Usage: migrate [--database-url URL] [--create-database] COMMAND

Applies the billing warehouse's schema migrations, then its versioned report
views (sql/reports). Two migrators started at once take turns: the second
waits for the first's lock.

Commands:
  up          apply every pending migration
  up-to N     apply pending migrations up to version N
  down        roll back the newest migration (and the report views; up reinstalls them)
  down-to N   roll back every migration newer than N (and the report views)
  redo        roll back the newest migration and apply it again
  reset       roll back every migration and view (drops the warehouse)
  status      list migrations and when each was applied
  version     print the database's schema version and the newest known
  citus       distribute the warehouse on a Citus coordinator, on account
              (idempotent; later "up"s distribute the tables they add)
  citus-plan  print the statements "citus" would run, on any database

Flags:
  --database-url URL   connection string (default $DATABASE_URL)
  --create-database    create the database first if it does not exist

Environment:
  DATABASE_URL        PostgreSQL connection string (or DATABASE_URL_FILE)
`

// errUsage marks command-line mistakes, which exit 2.
var errUsage = errors.New("usage")

func main() {
	if version.Requested(os.Args[1:]) {
		fmt.Println("migrate", version.Get())
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "migrate: %v\n", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "migrate: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	databaseURL := fs.String("database-url", "", "PostgreSQL connection string (default $DATABASE_URL)")
	createDB := fs.Bool("create-database", false, "create the database first if it does not exist")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("%w: no command given", errUsage)
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	version, err := versionArg(cmd, rest)
	if err != nil {
		return err
	}

	url := *databaseURL
	if url == "" {
		if url, err = config.Secret("DATABASE_URL"); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	if *createDB {
		created, err := store.EnsureDatabase(ctx, url)
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintln(stdout, "created the database")
		}
	}
	m, err := store.NewMigrator(ctx, url, logger)
	if err != nil {
		return err
	}
	defer m.Close()

	var results []*goose.MigrationResult
	switch cmd {
	case "up":
		results, err = m.Up(ctx)
	case "up-to":
		results, err = m.UpTo(ctx, version)
	case "down":
		results, err = m.Down(ctx)
	case "down-to":
		results, err = m.DownTo(ctx, version)
	case "redo":
		results, err = m.Redo(ctx)
	case "reset":
		results, err = m.Reset(ctx)
	case "status":
		return printStatus(ctx, m, stdout)
	case "citus":
		return distribute(ctx, m, stdout)
	case "citus-plan":
		plan, err := m.PlanCitus(ctx)
		if err != nil {
			return err
		}
		printPlan(stdout, plan)
		return nil
	case "version":
		cur, latest, err := m.Version(ctx)
		if err != nil {
			return err
		}
		views, viewsLatest, err := m.ReportsVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "version %d (newest known: %d)\nreports %d (newest known: %d)\n", cur, latest, views, viewsLatest)
		return nil
	}
	printResults(stdout, results)
	if err != nil {
		return migrationError(err)
	}
	cur, _, verr := m.Version(ctx)
	if verr != nil {
		return verr
	}
	if len(results) == 0 {
		fmt.Fprintf(stdout, "nothing to do; schema is at version %d\n", cur)
	} else {
		fmt.Fprintf(stdout, "schema is at version %d\n", cur)
	}
	return nil
}

// versionArg validates the command and its version argument, if it takes one.
func versionArg(cmd string, rest []string) (int64, error) {
	switch cmd {
	case "up-to", "down-to":
		if len(rest) != 1 {
			return 0, fmt.Errorf("%w: %s takes one version number", errUsage, cmd)
		}
		v, err := strconv.ParseInt(rest[0], 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%w: %s: %q is not a version number", errUsage, cmd, rest[0])
		}
		return v, nil
	case "up", "down", "redo", "reset", "status", "version", "citus", "citus-plan":
		if len(rest) != 0 {
			return 0, fmt.Errorf("%w: %s takes no arguments", errUsage, cmd)
		}
		return 0, nil
	}
	return 0, fmt.Errorf("%w: unknown command %q (see migrate --help)", errUsage, cmd)
}

// migrationError keeps the failing migration's name and the database's
// reason, without goose's nested prefixes.
func migrationError(err error) error {
	var partial *goose.PartialError
	if errors.As(err, &partial) && partial.Failed != nil {
		return fmt.Errorf("migration %s failed: %v", partial.Failed.Source.Path, partial.Err)
	}
	if errors.Is(err, goose.ErrNoNextVersion) || errors.Is(err, goose.ErrNoCurrentVersion) {
		return fmt.Errorf("no migration to roll back")
	}
	return err
}

func printResults(w io.Writer, results []*goose.MigrationResult) {
	for _, r := range results {
		if r == nil || r.Empty && r.Error == nil {
			continue
		}
		verb := "applied"
		if r.Direction == "down" {
			verb = "rolled back"
		}
		if r.Error != nil {
			verb = "FAILED"
		}
		fmt.Fprintf(w, "%-11s %s (%s)\n", verb, r.Source.Path, r.Duration.Round(time.Millisecond))
	}
}

func printStatus(ctx context.Context, m *store.Migrator, w io.Writer) error {
	statuses, err := m.Status(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tMIGRATION\tAPPLIED AT (UTC)")
	for _, s := range statuses {
		applied := "pending"
		if s.State == goose.StateApplied {
			applied = s.AppliedAt.UTC().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Source.Version, s.Source.Path, applied)
	}
	return tw.Flush()
}

// distribute runs `migrate citus` and says what it did.
func distribute(ctx context.Context, m *store.Migrator, w io.Writer) error {
	res, err := m.DistributeCitus(ctx)
	for _, name := range res.Distributed {
		fmt.Fprintf(w, "distributed %s on account\n", name)
	}
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(res.Local)) {
		fmt.Fprintf(w, "left on the coordinator: %s (%s)\n", name, res.Local[name])
	}
	fmt.Fprintf(w, "citus %s: %d tables distributed now, %d already were\n", res.Version, len(res.Distributed), len(res.Already))
	return nil
}

func printPlan(w io.Writer, plan store.CitusPlan) {
	for _, name := range plan.Distributed {
		fmt.Fprintf(w, "-- already distributed: %s\n", name)
	}
	for _, name := range slices.Sorted(maps.Keys(plan.Local)) {
		fmt.Fprintf(w, "-- left on the coordinator: %s (%s)\n", name, plan.Local[name])
	}
	fmt.Fprint(w, plan.SQL())
}
