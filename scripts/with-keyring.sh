#!/usr/bin/env bash
# Usage: scripts/with-keyring.sh CMD [ARG...]
#
# Runs CMD with a throwaway Secret Service: a private D-Bus session bus (dbus-run-session) and a
# gnome-keyring-daemon whose "login" keyring is created and unlocked with a random password, in a
# temporary folder. Nothing touches the real keyring of whoever runs it, even inside a desktop
# session: the script always starts its own bus rather than reuse DBUS_SESSION_BUS_ADDRESS.
# CMD sees WAASCTL_TEST_KEYRING=private, which is what lets the Secret Service tests write.
#
# Works headless and as root (no X, no prompter: --unlock creates the keyring without asking).
# Where dbus-run-session or gnome-keyring-daemon is missing (a Mac), CMD runs without the
# daemon and those tests skip; under WAASCTL_REQUIRE_KEYRING=1 (make test sets it on Linux) or
# CI=true that is an error instead.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi

# Stage 1: get a private bus, then come back as stage 2 inside it.
if [[ ${WAASCTL_WITH_KEYRING_STAGE:-} != inside ]]; then
	missing=()
	for c in dbus-run-session dbus-send gnome-keyring-daemon; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	if [[ ${#missing[@]} -gt 0 ]]; then
		if [[ ${CI:-} == true || ${WAASCTL_REQUIRE_KEYRING:-} == 1 ]]; then
			echo "with-keyring: ${missing[*]} not found, and a Secret Service is required (WAASCTL_REQUIRE_KEYRING=1 or CI=true): scripts/install-test-deps.sh installs them" >&2
			exit 1
		fi
		echo "with-keyring: ${missing[*]} not found; running without a Secret Service (its tests skip)" >&2
		exec "$@"
	fi
	export WAASCTL_WITH_KEYRING_STAGE=inside
	exec dbus-run-session -- "$0" "$@"
fi
unset WAASCTL_WITH_KEYRING_STAGE

tmp=$(mktemp -d "${TMPDIR:-/tmp}/waasctl-keyring.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -m 0700 "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/run"

# Only the daemon gets the temporary HOME and XDG folders: its keyrings go to
# $XDG_DATA_HOME/keyrings, its control socket to $XDG_RUNTIME_DIR/keyring.
# The password goes in on stdin, never in argv.
password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
out=$(printf '%s' "$password" | env HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
	XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run" \
	gnome-keyring-daemon --unlock --components=secrets)
unset password
# It may print VAR=value lines (GNOME_KEYRING_CONTROL, ...): export them, and nothing else.
while IFS= read -r line; do
	if [[ $line =~ ^[A-Z_][A-Z0-9_]*=.*$ ]]; then
		export "${line?}"
	fi
done <<<"$out"

# Wait until the daemon owns its bus name. Asking it anything before then would make the bus
# start a second, locked daemon by D-Bus activation.
owned() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'
}
for _ in $(seq 100); do
	owned && break
	sleep 0.1
done
if ! owned; then
	echo "with-keyring: gnome-keyring-daemon did not come up on the private bus" >&2
	exit 1
fi
alias=$(dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
	org.freedesktop.Secret.Service.ReadAlias string:default)
if [[ $alias != *'/org/freedesktop/secrets/collection/login"'* ]]; then
	echo "with-keyring: the daemon has no unlocked login keyring as its default collection:" >&2
	echo "$alias" >&2
	exit 1
fi

export WAASCTL_TEST_KEYRING=private
# Not exec: the temporary folder is removed when CMD ends. dbus-run-session then stops the bus,
# and the daemon with it.
status=0
"$@" || status=$?
exit "$status"
