#!/usr/bin/env bash
# The demo: migrate a database, start the billing API simulator, backfill its
# history into the warehouse, and show what arrived. DATABASE_URL must be set
# (make demo sets it, finding or starting PostgreSQL first).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL, or run make demo}"

port=${DEMO_SIM_PORT:-18089}
key="demo-$(date +%s)-$RANDOM"
log=$(mktemp -t hyperstack-sim.XXXXXX.log)

echo "== migrate up"
bin/migrate --create-database up

echo
echo "== starting the billing API simulator on 127.0.0.1:$port (log: $log)"
bin/hyperstack-sim --addr "127.0.0.1:$port" --api-key "$key" --scale small --rate-limit 6000 >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
	kill -0 "$sim" 2>/dev/null || { cat "$log" >&2; exit 1; }
	sleep 0.1
done

export HYPERSTACK_API_URL="http://127.0.0.1:$port/v1" HYPERSTACK_API_KEY="$key" INGEST_RATE=5400 LOG_LEVEL=warn
since=$(date -u -d "$(date -u +%Y-%m-01) -2 months" +%Y-%m)
echo
echo "== ingest backfill --since $since"
bin/ingest backfill --since "$since"

echo
echo "== ingest run (an hourly run: only what changed is fetched again)"
bin/ingest run

echo
echo "== ingest status"
bin/ingest status --runs 5

echo
echo "== ingest report show month_to_date_v1"
bin/ingest report show month_to_date_v1

echo
echo "== ingest report show top_resources_v1 --limit 5"
bin/ingest report show top_resources_v1 --month "$(date -u +%Y-%m)" --limit 5

echo
echo "Connect with psql or a BI tool and try: SELECT * FROM reports.reconciliation_v1 WHERE NOT within_tolerance;"
