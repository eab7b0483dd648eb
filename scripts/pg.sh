#!/usr/bin/env bash
# Finds a PostgreSQL server for the tests and the demo, or starts one.
#
#   scripts/pg.sh url [DB]             print a connection URL (to DB, default postgres)
#   scripts/pg.sh with VAR [DB] -- CMD run CMD with VAR set to that URL, unless VAR is already set
#   scripts/pg.sh stop                 stop the project's own throwaway cluster, if it runs
#   scripts/pg.sh binaries             make sure initdb and pg_ctl are installed (the database
#                                      outage test starts and stops a cluster of its own)
#
# Where the server comes from, in order:
#   1. a server on 127.0.0.1:5432 that lets user postgres in (BW_PG_SKIP_LOCAL=1 skips this);
#   2. a throwaway cluster of this project (.pg/ beside this script's folder, port $BW_PG_PORT,
#      default 54329), created with initdb from the installed server binaries and started with
#      pg_ctl, as a non-root user when run as root;
#   3. when run as root on Debian/Ubuntu: apt-get install postgresql, then 2.
# Otherwise it says what to install. Messages go to stderr; only the URL goes to stdout.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${BW_PG_PORT:-54329}

say() { echo "pg.sh: $*" >&2; }

# accepts HOST PORT: true when user postgres can run a query there.
accepts() {
	if command -v psql >/dev/null 2>&1; then
		PGCONNECT_TIMEOUT=3 psql "postgresql://postgres@$1:$2/postgres?sslmode=disable" -XAtqc 'select 1' >/dev/null 2>&1
	elif command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h "$1" -p "$2" -t 3
	else
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
	fi
}

# bindir prints the directory of the newest installed initdb/pg_ctl pair.
bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r) /usr/local/pgsql/bin \
		"$(pg_config --bindir 2>/dev/null || true)" "$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")"; do
		if [[ -n $d && -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# as_owner runs a command as the user owning the throwaway cluster.
as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u "$owner" -- "$@"
	else
		"$@"
	fi
}

# cluster_dir picks where the throwaway cluster lives: the project's .pg/,
# unless the cluster's owner cannot reach it (a checkout under /root, say).
cluster_dir() {
	local dir=$root/.pg
	if [[ $(id -u) -eq 0 ]] && ! runuser -u "$owner" -- test -x "$root"; then
		dir=${TMPDIR:-/tmp}/billing-warehouse-pg-$(echo "$root" | cksum | cut -d' ' -f1)
	fi
	echo "$dir"
}

start_cluster() {
	local bin=$1
	owner=$(id -un)
	if [[ $(id -u) -eq 0 ]]; then
		owner=postgres
		getent passwd postgres >/dev/null || owner=nobody
	fi
	local dir
	dir=$(cluster_dir)
	mkdir -p "$dir"
	[[ $(id -u) -eq 0 ]] && chown "$owner" "$dir"
	if [[ ! -s $dir/data/PG_VERSION ]]; then
		say "creating a throwaway cluster in $dir (owner $owner, $bin)"
		rm -rf "$dir/data"
		as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; return 1; }
	fi
	if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		say "starting it on 127.0.0.1:$port (log: $dir/postgres.log)"
		# Throwaway data: durability is traded for speed (fsync off).
		as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start \
			-o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200" >/dev/null ||
			{ tail -n 20 "$dir/postgres.log" >&2; return 1; }
	fi
	echo "$dir"
}

# binaries prints the server binaries' directory, installing Debian's
# postgresql package first when they are missing and we may.
binaries() {
	if bindir; then
		return
	fi
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		say "no PostgreSQL server binaries found; installing Debian's postgresql package"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq postgresql >&2
		bindir || { say "postgresql installed but initdb/pg_ctl not found"; exit 1; }
		return
	fi
	say "no PostgreSQL server binaries found. Install the server: 'sudo apt-get install postgresql'"
	say "(Debian/Ubuntu), 'sudo dnf install postgresql-server' (Fedora), 'brew install postgresql@16' (macOS)."
	exit 1
}

find_server() {
	if [[ ${BW_PG_SKIP_LOCAL:-} != 1 ]] && accepts 127.0.0.1 5432; then
		echo 5432
		return
	fi
	local bin
	bin=$(binaries)
	start_cluster "$bin" >/dev/null
	echo "$port"
}

stop_cluster() {
	local bin
	bin=$(bindir) || return 0
	owner=$(id -un)
	if [[ $(id -u) -eq 0 ]]; then
		owner=postgres
		getent passwd postgres >/dev/null || owner=nobody
	fi
	local dir
	dir=$(cluster_dir)
	[[ -d $dir/data ]] || { say "no throwaway cluster at $dir"; return 0; }
	as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >&2 || true
}

case ${1:-} in
url)
	p=$(find_server)
	echo "postgres://postgres@127.0.0.1:$p/${2:-postgres}?sslmode=disable"
	;;
with)
	var=${2:?usage: pg.sh with VAR [DB] -- CMD}
	shift 2
	db=postgres
	if [[ ${1:-} != -- ]]; then db=$1; shift; fi
	[[ ${1:-} == -- ]] && shift
	if [[ -z ${!var:-} ]]; then
		p=$(find_server)
		export "$var=postgres://postgres@127.0.0.1:$p/$db?sslmode=disable"
	fi
	exec "$@"
	;;
stop) stop_cluster ;;
binaries) binaries >/dev/null ;;
*)
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
