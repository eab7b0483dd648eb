// Command ingest copies billing data into the warehouse and reports on it.
//
// This first version has the status command only; run, backfill, serve and
// reprocess arrive with the crawler.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Usage: ingest COMMAND [flags]

Commands:
  status    the newest runs from the ledger and the warehouse's schema state
  help      this text

Run "ingest COMMAND --help" for a command's flags.

Environment:
  DATABASE_URL   PostgreSQL connection string (or DATABASE_URL_FILE)
`

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "ingest: %v\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "ingest: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	switch args[0] {
	case "status":
		return statusCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q (see ingest help)", errUsage, args[0])
}
