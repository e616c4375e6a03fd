#!/usr/bin/env bash
# Installs the system packages the test suite needs, and only those that are missing, so that
# `make test` works on a fresh Debian 12 machine (as root, or with sudo) and costs nothing on a
# machine that already has everything. apt-get update runs only when something must be installed.
set -euo pipefail

# One entry per package: "debian-package:what-it-provides". A package counts as present when
# what it provides is there, however it was installed (dpkg's word alone is not enough: a
# package can be "installed" with its files gone): a command on PATH, or, for what is not on
# PATH, an absolute path, which may be a glob. After installing, every entry is checked again,
# and a missing one is an error naming it.
packages=(
	git:git     # the gofmt check lists files with git ls-files
	gcc:gcc     # go test -race needs cgo
	libc6-dev:/usr/include/stdio.h # ... and the C library headers
	gnome-keyring:gnome-keyring-daemon # the Secret Service the keyring tests use (scripts/with-keyring.sh)
	dbus-daemon:dbus-run-session       # ... on a private session bus (Debian 12 ships dbus-run-session here)
	dbus-bin:dbus-send                 # ... which with-keyring.sh polls until the daemon is up
	keyutils:keyctl                    # the keyctl test reads back from a second session keyring
	postgresql:/usr/lib/postgresql/*/bin/initdb # the server scripts/with-postgres.sh runs (not on PATH)
	postgresql:/usr/lib/postgresql/*/bin/pg_ctl # ... started and stopped with pg_ctl
	jq:jq                              # the docs' runbooks use it (TestRunbooks runs them as written)
	bsdutils:script                    # prompt_no_answer.txtar runs waasctl under a PTY nothing reads
	bash:bash                          # completion_shells.txtar presses Tab in the real shells
	bash-completion:/usr/share/bash-completion/bash_completion # ... which cobra's bash script needs, as users' shells have it
	zsh:zsh                            # ... bash and zsh
)

if ! command -v go >/dev/null 2>&1; then
	echo "install-test-deps: Go is not on PATH; install the version in go.mod from https://go.dev/dl/" >&2
	exit 1
fi

# provided ENTRY: whether what the entry's package provides is there.
provided() {
	local what=${1#*:} f
	if [[ $what == /* ]]; then
		for f in $what; do # a glob: any match will do
			[[ -e $f ]] && return 0
		done
		return 1
	fi
	command -v "$what" >/dev/null 2>&1
}

# absent: the entries whose command or file is missing, as "package (what)".
absent() {
	local entry
	for entry in "${packages[@]}"; do
		provided "$entry" || echo "${entry%%:*} (${entry#*:})"
	done
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	# Not Debian-like (a Mac, say): say what is missing and leave installing it to the
	# developer, rather than fail on package names that mean nothing here. The Debian paths
	# (the PostgreSQL server, the C headers) are not checked: scripts/with-postgres.sh looks
	# for the server itself, and fails under make test if there is none.
	missing=()
	for entry in "${packages[@]}"; do
		[[ ${entry#*:} == /* ]] && continue
		provided "$entry" || missing+=("${entry#*:}")
	done
	if [[ ${#missing[@]} -gt 0 ]]; then
		echo "install-test-deps: not found: ${missing[*]}; install them with your package manager" >&2
		exit 1
	fi
	exit 0
fi

missing=()
for entry in "${packages[@]}"; do
	pkg=${entry%%:*}
	provided "$entry" && continue
	[[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-test-deps: missing ${missing[*]}; run as root or install sudo" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

still=$(absent)
if [[ -n $still ]]; then
	echo "install-test-deps: installed, yet still missing:" >&2
	echo "$still" | sed 's/^/  /' >&2
	exit 1
fi
