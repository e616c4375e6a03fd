#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh CMD [ARG...]
#
# Runs CMD with a throwaway PostgreSQL server: a fresh cluster (initdb) in a temporary folder,
# listening only on a Unix socket in that folder (no TCP port, so it never collides with another
# server or another run), with superuser "waasctl", trust authentication and durability turned
# off for speed. Nothing touches a PostgreSQL server the machine may already run.
# CMD sees WAASCTL_TEST_POSTGRES_DSN (a libpq/pgx URL for database "postgres" as "waasctl"; tests
# make their own databases with CREATE DATABASE), WAASCTL_TEST_POSTGRES_DATA and _LOG (the
# server's data folder and log) and WAASCTL_REQUIRE_POSTGRES=1, which makes the
# PostgreSQL tests fail rather than skip when they cannot connect. On exit the server is stopped
# and the folder removed, and the script exits with CMD's status.
#
# PostgreSQL refuses to run as root, so as root the server runs as the system user waasctl-pg
# (created if missing); otherwise it runs as the current user.
# Where the server binaries are missing (a Mac without PostgreSQL), CMD runs without a server and
# those tests skip; under WAASCTL_REQUIRE_POSTGRES=1 (make test sets it) or CI=true that is an
# error instead.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi

# The server binaries are not on PATH on Debian (they live in /usr/lib/postgresql/<ver>/bin):
# ask pg_config, then take the newest Debian version, then try PATH (Homebrew, Nix, ...).
has_server() {
	[[ -n $1 && -x $1/initdb && -x $1/pg_ctl && -x $1/postgres ]]
}
bindir=
candidates=()
if command -v pg_config >/dev/null 2>&1; then
	candidates+=("$(pg_config --bindir 2>/dev/null || true)")
fi
while IFS= read -r d; do
	candidates+=("$d")
done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -rn)
if command -v initdb >/dev/null 2>&1; then
	candidates+=("$(dirname "$(command -v initdb)")")
fi
for d in "${candidates[@]}"; do
	if has_server "$d"; then
		bindir=$d
		break
	fi
done
if [[ -z $bindir ]]; then
	if [[ ${CI:-} == true || ${WAASCTL_REQUIRE_POSTGRES:-} == 1 ]]; then
		echo "with-postgres: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found, and PostgreSQL is required (WAASCTL_REQUIRE_POSTGRES=1 or CI=true): scripts/install-test-deps.sh installs them" >&2
		exit 1
	fi
	echo "with-postgres: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; running without a server (its tests skip)" >&2
	exec "$@"
fi

# as_pg CMD...: runs CMD as the user the server runs as, from the temporary folder (as root the
# caller's working directory may not be readable by that user).
pg_user=
if [[ $(id -u) -eq 0 ]]; then
	pg_user=waasctl-pg
	# A run started at the same moment may have just created it: only fail if it is still missing.
	if ! id -u "$pg_user" >/dev/null 2>&1 &&
		! useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$pg_user" &&
		! id -u "$pg_user" >/dev/null 2>&1; then
		echo "with-postgres: running as root, and could not create the system user $pg_user to run the server" >&2
		exit 1
	fi
	if command -v runuser >/dev/null 2>&1; then
		as_pg() { (cd "$tmp" && runuser -u "$pg_user" -- "$@"); }
	elif command -v setpriv >/dev/null 2>&1; then
		as_pg() { (cd "$tmp" && setpriv --reuid="$pg_user" --regid="$pg_user" --init-groups -- "$@"); }
	else
		echo "with-postgres: running as root, and neither runuser nor setpriv is there to drop to $pg_user" >&2
		exit 1
	fi
else
	as_pg() { (cd "$tmp" && "$@"); }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/waasctl-pg.XXXXXX")
data=$tmp/data
sock=$tmp/sock
port=5432 # only names the socket file, $sock/.s.PGSQL.5432: there is no TCP listener
started=
# shellcheck disable=SC2317 # called from the trap, which shellcheck 0.9 does not see
cleanup() {
	if [[ -n $started ]]; then
		as_pg "$bindir/pg_ctl" stop -D "$data" -m immediate -s >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# A Unix socket path has room for 107 bytes.
socket_file=$sock/.s.PGSQL.$port
if [[ ${#socket_file} -gt 107 ]]; then
	echo "with-postgres: socket path $socket_file is longer than 107 bytes; set TMPDIR to a shorter folder" >&2
	exit 1
fi

mkdir -m 0700 "$sock"
if [[ -n $pg_user ]]; then
	chown -R "$pg_user:" "$tmp"
	if ! as_pg test -w "$tmp"; then
		echo "with-postgres: $pg_user cannot write to $tmp; set TMPDIR to a folder every user can reach (e.g. /tmp)" >&2
		exit 1
	fi
fi

# --no-locale: the machine's locale may not be generated; -N: a throwaway cluster needs no fsync.
if ! out=$(as_pg "$bindir/initdb" -D "$data" -U waasctl --auth=trust --encoding=UTF8 --no-locale \
	-N --no-instructions 2>&1); then
	echo "with-postgres: initdb failed:" >&2
	echo "$out" >&2
	exit 1
fi

# Settings go in the file, not on the pg_ctl command line, so that no path needs shell quoting.
quote() { printf "'%s'" "${1//\'/\'\'}"; }
cat >>"$data/postgresql.conf" <<EOF

# scripts/with-postgres.sh: a Unix socket only, and no durability.
listen_addresses = ''
port = $port
unix_socket_directories = $(quote "$sock")
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

log=$tmp/postgres.log
started=1
if ! out=$(as_pg "$bindir/pg_ctl" start -D "$data" -l "$log" -w -t 30 -s 2>&1); then
	echo "with-postgres: the server did not start (pg_ctl waits 30 s at most): $out" >&2
	echo "with-postgres: its log:" >&2
	cat "$log" >&2 || true
	exit 1
fi
isready=$bindir/pg_isready
[[ -x $isready ]] || isready=$(command -v pg_isready || true)
if [[ -n $isready ]] && ! "$isready" -q -h "$sock" -p "$port" -U waasctl -d postgres -t 30; then
	echo "with-postgres: the server started but does not accept connections; its log:" >&2
	cat "$log" >&2 || true
	exit 1
fi

# host= takes the socket folder; percent-encode it so that any TMPDIR makes a valid URL.
urlencode() {
	local LC_ALL=C s=$1 out='' c i # byte by byte
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~/-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s' "$out"
}
WAASCTL_TEST_POSTGRES_DSN="postgres://waasctl@/postgres?host=$(urlencode "$sock")&port=$port&sslmode=disable"
export WAASCTL_TEST_POSTGRES_DSN
export WAASCTL_REQUIRE_POSTGRES=1
# The server's data folder (WAL included) and log, for the canary tests that search them for
# key material (they are the server user's; readable when the tests run as root or as that user).
export WAASCTL_TEST_POSTGRES_DATA=$data WAASCTL_TEST_POSTGRES_LOG=$log

# Not exec: the server is stopped and the temporary folder removed when CMD ends.
status=0
"$@" || status=$?
exit "$status"
