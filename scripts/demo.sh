#!/usr/bin/env bash
# The demo: migrate a database, start the billing API simulators, backfill
# their history into the warehouse as accounts of one config file, and show
# what arrived. DATABASE_URL must be set (make demo sets it, finding or
# starting PostgreSQL first). It leaves nothing behind but the database.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL, or run make demo}"

work=$(mktemp -d -t billing-warehouse-demo.XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# start_sim NAME ARGS…: starts a simulator on any free port and prints the
# URL its own log line says it listens at (probing a port could find
# another server there).
start_sim() {
	local name=$1
	shift
	local log="$work/$name.log"
	"bin/$name" --addr 127.0.0.1:0 "$@" >"$log" 2>&1 &
	pids+=($!)
	local url=""
	for _ in $(seq 100); do
		url=$(grep -o 'url=http://[^ ]*' "$log" | head -n 1 | cut -d= -f2) || true
		[ -n "$url" ] && break
		kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log" >&2; exit 1; }
		sleep 0.1
	done
	[ -n "$url" ] || { echo "$name did not start; its log:" >&2; cat "$log" >&2; exit 1; }
	echo "$url"
}

echo "== migrate up"
bin/migrate --create-database up

echo
echo "== starting the billing API simulators"
export DEMO_HYPERSTACK_KEY="demo-$RANDOM$RANDOM" DEMO_SORACOM_KEY_ID="keyId-demo-$RANDOM" DEMO_SORACOM_KEY="secret-demo-$RANDOM$RANDOM" \
	DEMO_CLOUDSIGMA_USER="finops@example.com" DEMO_CLOUDSIGMA_PASSWORD="demo-$RANDOM$RANDOM"
hyperstack=$(start_sim hyperstack-sim --api-key "$DEMO_HYPERSTACK_KEY" --scale small --rate-limit 6000)
echo "hyperstack-sim at $hyperstack"
soracom=$(start_sim soracom-sim --auth-key-id "$DEMO_SORACOM_KEY_ID" --auth-key "$DEMO_SORACOM_KEY" --sims 40 --coverage jp)
echo "soracom-sim at $soracom"
cloudsigma=$(start_sim cloudsigma-sim --user "$DEMO_CLOUDSIGMA_USER" --password "$DEMO_CLOUDSIGMA_PASSWORD" --servers 5 --currency CHF --location zrh)
echo "cloudsigma-sim at $cloudsigma"

cat >"$work/sources.yaml" <<EOF
sources:
  - provider: hyperstack
    account: acme-prod
    display_name: ACME production (simulated)
    api_url: $hyperstack
    api_key: \${DEMO_HYPERSTACK_KEY}
  - provider: soracom
    account: acme-iot
    display_name: ACME IoT fleet (simulated)
    coverage: jp
    api_url: $soracom
    auth_key_id: \${DEMO_SORACOM_KEY_ID}
    auth_key: \${DEMO_SORACOM_KEY}
  - provider: cloudsigma
    account: acme-zrh
    display_name: ACME Zurich (simulated)
    api_url: $cloudsigma
    username: \${DEMO_CLOUDSIGMA_USER}
    password: \${DEMO_CLOUDSIGMA_PASSWORD}
    usage_days: "2"
EOF
export INGEST_CONFIG="$work/sources.yaml" INGEST_RATE=5400 LOG_LEVEL=warn

echo
echo "== ingest sources"
bin/ingest sources

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
echo "== ingest report show account_month_cost (every account, in its own currency)"
bin/ingest report show account_month_cost

echo
echo "== ingest report show month_to_date"
bin/ingest report show month_to_date

echo
echo "== ingest report show top_resources --month $(date -u +%Y-%m) --limit 5"
bin/ingest report show top_resources --month "$(date -u +%Y-%m)" --limit 5

cat <<EOF

The warehouse is ready. To look around:

  export DATABASE_URL='$DATABASE_URL'
  psql "\$DATABASE_URL" -c 'SELECT * FROM reports.reconciliation_v1 WHERE NOT within_tolerance'
  bin/ingest report list
  bin/ingest report show daily_cost --month $(date -u +%Y-%m)
  bin/ingest report show credit_runway
  bin/ingest report show restatements
  bin/ingest status

The dashboard as one file:  bin/ingest report html > costs.html   (then open costs.html in a browser)
The worker serves it too, at http://127.0.0.1:9090/ (bin/ingest serve, with your sources configured).

(The simulators stop with this script; the database stays.)
EOF
