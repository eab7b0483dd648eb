#!/usr/bin/env bash
# The demo: migrate a database, start the billing API simulator, backfill its
# history into the warehouse, and show what arrived. DATABASE_URL must be set
# (make demo sets it, finding or starting PostgreSQL first).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL, or run make demo}"

port=${DEMO_SIM_PORT:-0} # 0: any free port
key="demo-$(date +%s)-$RANDOM"
log=$(mktemp -t hyperstack-sim.XXXXXX.log)

echo "== migrate up"
bin/migrate --create-database up

echo
echo "== starting the billing API simulator (log: $log)"
bin/hyperstack-sim --addr "127.0.0.1:$port" --api-key "$key" --scale small --rate-limit 6000 >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
# Its own line says where it listens; probing the port could find another
# server there.
url=""
for _ in $(seq 100); do
	url=$(grep -o 'url=http://[^ ]*' "$log" | head -n 1 | cut -d= -f2) || true
	[ -n "$url" ] && break
	kill -0 "$sim" 2>/dev/null || { cat "$log" >&2; exit 1; }
	sleep 0.1
done
[ -n "$url" ] || { echo "the simulator did not start; its log:" >&2; cat "$log" >&2; exit 1; }
echo "listening at $url"

export HYPERSTACK_API_URL="$url" HYPERSTACK_API_KEY="$key" INGEST_RATE=5400 LOG_LEVEL=warn
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
