#!/usr/bin/env bash
# Makes sure a Chromium is installed for the browser test and `make
# screenshot`, installing Debian's chromium package when it is missing and
# we may (root, apt-get), as scripts/pg.sh does for PostgreSQL. Prints its path.
set -euo pipefail

find_chromium() {
	local name
	for name in chromium chromium-browser google-chrome google-chrome-stable; do
		if command -v "$name" >/dev/null 2>&1; then
			command -v "$name"
			return 0
		fi
	done
	return 1
}

if find_chromium; then
	exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
	echo "chromium.sh: no Chromium found; installing Debian's chromium package" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq chromium fonts-dejavu-core >&2
	find_chromium && exit 0
fi
echo "chromium.sh: no Chromium found. Install it: 'sudo apt-get install chromium' (Debian/Ubuntu)." >&2
exit 1
