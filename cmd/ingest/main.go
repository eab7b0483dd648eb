// Command ingest copies the billing API into the warehouse and reports on it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/billing-warehouse/billing-warehouse/internal/version"
)

const usage = `Usage: ingest COMMAND [flags]

Commands:
  run        one incremental run now: the current billing month (and the
             previous one early in a month)
  backfill   every billing month from --since to --until, oldest first; resumable
  reprocess  rebuild the warehouse tables from the stored raw responses, no API calls
  serve      the long-running worker: runs on a cron schedule, one replica at a
             time, with the cost dashboard at /, /healthz, /readyz and /metrics
  status     the newest runs from the ledger and the warehouse's schema state
  sources    the configured sources (config file or environment), secrets
             shown as (set)
  healthcheck  probe a running serve's /readyz (exit 0 ready, 1 not): the
             health check of container images without curl
  report     list the report views, or show one: report list, report show NAME
             [--month YYYY-MM] [--since/--until YYYY-MM-DD] [--limit N]
             [--format table|csv|json]; report html [--month YYYY-MM]
             [--account NAME] > costs.html writes the cost dashboard as a file
  help       this text

Run "ingest COMMAND --help" for a command's flags; every flag can also be set
by the environment variable named in its help.

Sources: --config FILE (INGEST_CONFIG) lists the sources, many providers and
accounts; without it, the environment describes one source per provider
(its API key variable), account "default"; "ingest sources" shows them. run, backfill and serve run every
source (or each --source NAME), several at once, one run per source at a time.

Exit codes, over all sources: 0 every source succeeded (or another ingest
run holds its lock), 2 any partial (some units failed), 1 any failed,
cancelled or misconfigured, or a run lock held by a session that is not an
ingest run, 64 a command-line mistake (unknown command or flag, a bad or
missing value).

SIGINT or SIGTERM stops starting new work, lets work in flight finish for
--shutdown-grace, then cancels it; the run is recorded as cancelled. A second
signal exits at once.
`

var errUsage = errors.New("usage")

// exitUsage is the exit code of a command-line mistake (sysexits' EX_USAGE):
// 2 means a partial run, and a typo in a CronJob must not look like one.
const exitUsage = 64

// exitError ends the process with a code other than 1.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	if version.Requested(os.Args[1:]) {
		fmt.Println("ingest", version.Get())
		return
	}
	ctx, lc := withSignals(os.Stderr)
	err := run(ctx, lc, os.Args[1:], os.Stdout, os.Stderr)
	var exit *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &exit):
		if exit.msg != "" {
			fmt.Fprintf(os.Stderr, "ingest: %s\n", exit.msg)
		}
		os.Exit(exit.code)
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "ingest: %v\n", err)
		os.Exit(exitUsage)
	default:
		fmt.Fprintf(os.Stderr, "ingest: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, lc lifecycle, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	switch args[0] {
	case "run":
		return crawlCmd(ctx, lc, "run", args[1:], stdout, stderr)
	case "backfill":
		return crawlCmd(ctx, lc, "backfill", args[1:], stdout, stderr)
	case "serve":
		return serveCmd(ctx, lc, args[1:], stdout, stderr)
	case "reprocess":
		return reprocessCmd(ctx, args[1:], stdout, stderr)
	case "status":
		return statusCmd(ctx, args[1:], stdout, stderr)
	case "sources":
		return sourcesCmd(ctx, args[1:], stdout, stderr)
	case "healthcheck":
		return healthcheckCmd(ctx, args[1:], stdout, stderr)
	case "report":
		return reportCmd(ctx, args[1:], stdout, stderr)
	case "fx":
		return fxCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q (see ingest help)", errUsage, args[0])
}
