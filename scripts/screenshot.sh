#!/usr/bin/env bash
# make screenshot: backfill two months of the simulated billing API into
# DATABASE_URL (make screenshot sets it to a database of its own), write the
# dashboard with `ingest report html`, and photograph it with headless
# Chromium into docs/dashboard.png.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL, or run make screenshot}"
chromium=$(scripts/chromium.sh)

work=$(mktemp -d -t billing-warehouse-shot.XXXXXX)
sim=""
cleanup() {
	[[ -n $sim ]] && kill "$sim" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

bin/migrate --create-database up >/dev/null
export HYPERSTACK_API_KEY="shot-$RANDOM$RANDOM"
bin/hyperstack-sim --addr 127.0.0.1:0 --api-key "$HYPERSTACK_API_KEY" --scale small --seed 7 --rate-limit 60000 >"$work/sim.log" 2>&1 &
sim=$!
url=""
for _ in $(seq 100); do
	url=$(grep -o 'url=http://[^ ]*' "$work/sim.log" | head -n 1 | cut -d= -f2) || true
	[[ -n $url ]] && break
	sleep 0.1
done
[[ -n $url ]] || { cat "$work/sim.log" >&2; exit 1; }
export HYPERSTACK_API_URL=$url INGEST_RATE=50000 LOG_LEVEL=warn
bin/ingest backfill --since "$(date -u -d "$(date -u +%Y-%m-01) -2 months" +%Y-%m)" >/dev/null
bin/ingest report html >"$work/costs.html"

mkdir -p docs
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --user-data-dir="$work/profile" --hide-scrollbars \
	--window-size=1032,1560 --screenshot="$PWD/docs/dashboard.png" "file://$work/costs.html" 2>"$work/chromium.log" ||
	{ cat "$work/chromium.log" >&2; exit 1; }
echo "wrote docs/dashboard.png"
