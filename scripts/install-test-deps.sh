#!/usr/bin/env bash
# Installs the system packages the test suite needs, and only those that are missing, so that
# `make test` works on a fresh Debian 12 machine (as root, or with sudo) and costs nothing on a
# machine that already has everything. apt-get update runs only when something must be installed.
set -euo pipefail

# One entry per package: "debian-package" or "debian-package:command". When a command is given
# and found on PATH the package counts as present however it was installed; otherwise dpkg is
# asked. Later work adds what it needs here, e.g. gnome-keyring:gnome-keyring-daemon,
# dbus-x11:dbus-launch, keyutils:keyctl, postgresql.
packages=(
	git:git     # the gofmt check lists files with git ls-files
	gcc:gcc     # go test -race needs cgo
	libc6-dev   # ... and the C library headers
	gnome-keyring:gnome-keyring-daemon # the Secret Service the keyring tests use (scripts/with-keyring.sh)
	dbus-daemon:dbus-run-session       # ... on a private session bus (Debian 12 ships dbus-run-session here)
	dbus-bin:dbus-send                 # ... which with-keyring.sh polls until the daemon is up
	keyutils:keyctl                    # the keyctl test reads back from a second session keyring
	postgresql                         # the server scripts/with-postgres.sh runs (its binaries are not on PATH)
	jq:jq                              # the docs' runbooks use it (TestRunbooks runs them as written)
)

if ! command -v go >/dev/null 2>&1; then
	echo "install-test-deps: Go is not on PATH; install the version in go.mod from https://go.dev/dl/" >&2
	exit 1
fi

has_command() {
	[[ $1 == *:* ]] && command -v "${1#*:}" >/dev/null 2>&1
}

missing=()
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	# Not Debian-like (a Mac, say): check the commands we know of and leave the rest to the
	# developer, rather than fail on package names that mean nothing here.
	for entry in "${packages[@]}"; do
		[[ $entry == *:* ]] && ! has_command "$entry" && missing+=("${entry#*:}")
	done
	if [[ ${#missing[@]} -gt 0 ]]; then
		echo "install-test-deps: not found: ${missing[*]}; install them with your package manager" >&2
		exit 1
	fi
	exit 0
fi

for entry in "${packages[@]}"; do
	pkg=${entry%%:*}
	has_command "$entry" && continue
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) == installed ]] && continue
	missing+=("$pkg")
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
