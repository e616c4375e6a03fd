#!/usr/bin/env bash
# Times `waasctl keys rotate PROFILE --yes` against a local sandbox with no latency and no grace:
# waasctl's own cost of a whole rotation (create, verify, deliver to a .env, promote, revoke
# and confirm the 401, journal and audit log). Prints one line per run. Loopback only.
# Usage: scripts/bench/rotation.sh [RUNS]   (needs GNU time: apt-get install time)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
command -v /usr/bin/time >/dev/null || { echo "rotation.sh: GNU time missing: apt-get install time" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/waasctl" ./cmd/waasctl
"$tmp/waasctl" sandbox serve --pools 3 --wallets-per-pool 10 --bootstrap-key-file "$tmp/key.json" >"$tmp/url" 2>/dev/null &
sandbox_pid=$!
for _ in $(seq 100); do [[ -s $tmp/key.json && -s $tmp/url ]] && break; sleep 0.05; done
url=$(head -1 "$tmp/url")
export WAASCTL_KEYRING_BACKEND=file WAASCTL_KEYRING_DIR=$tmp/keyring WAASCTL_KEYRING_PASSPHRASE=bench \
	WAASCTL_CONFIG=$tmp/config.yaml WAASCTL_STATE_DIR=$tmp/state
printf 'profiles:\n  bench:\n    issuer: {type: sandbox}\n    sinks:\n      - {type: envfile, path: %s/proxy.env}\n' "$tmp" >"$tmp/config.yaml"
"$tmp/waasctl" --endpoint "$url" auth add bench --key-file "$tmp/key.json" 2>/dev/null
for i in $(seq "$runs"); do
	/usr/bin/time -f "rotation $i: %e s wall, %U s user, %S s sys, %M KiB peak RSS" \
		"$tmp/waasctl" keys rotate bench --yes 2>&1 >/dev/null | tail -1
done
"$tmp/waasctl" log verify | head -1
