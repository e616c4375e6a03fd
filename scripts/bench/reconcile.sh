#!/usr/bin/env bash
# Reconciliation at scale: `waasctl audit resources` and `waasctl audit operations` on a sandbox
# estate of 1,000,000 wallets in 100,000 device groups (by default), against a ledger in
# PostgreSQL and a CSV ledger of the same estate, after an adversary planted a few wallets and
# pending signatures. Prints a Markdown table: wall time, waasctl's peak RSS, the requests the
# sandbox served, and the bound the sandbox's rate limit sets. Results and their
# interpretation: docs/benchmarks.md, "Reconciliation at scale".
#
#   scripts/bench/reconcile.sh [FLAGS]        # or: make bench-reconcile [ARGS='FLAGS']
#   scripts/bench/reconcile.sh -pools 2 -wallets-per-pool 1000            # a quick check
#   scripts/bench/reconcile.sh -rate-limit 1000/1s -concurrency 16        # --rate follows the limit
#
# FLAGS go to scripts/bench/reconcile (go run ./scripts/bench/reconcile -h lists them): -pools,
# -wallets-per-pool, -wallets-per-group, -ops-per-group, -rate-limit N/PERIOD, -concurrency,
# -rate, -plant-wallets, -plant-signatures, -runs, -csv=false, -only resources|operations,
# -godebug gctrace=1, -keep.
#
# It builds bin/waasctl from the working tree (go build -o), or, with REV=COMMIT (e.g. REV=HEAD
# while internal/ is mid-edit), waasctl as of that commit (git archive) into the temporary
# directory; WAASCTL=PATH measures that binary instead, e.g. to run several configurations with
# one build. It builds the benchmark program (always from the working tree) into a temporary
# directory, then runs the program under scripts/with-postgres.sh (a throwaway
# PostgreSQL server on a Unix socket, removed at the end). The sandbox runs inside the program,
# waasctl as a child process under GNU time, so that waasctl's peak RSS is its own. Everything
# is on 127.0.0.1. The default estate needs about 2 GiB of free memory (the benchmark process,
# sandbox and ledgers, peaks at 1.6 GiB; waasctl at about 85 MiB) and, with no rate limit, about
# a minute and a half on 2 cores (-runs 3: 4 minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."

[[ -x /usr/bin/time ]] || {
	echo "reconcile.sh: GNU time (/usr/bin/time) is missing: apt-get install time" >&2
	exit 1
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/waasctl-bench-reconcile-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
rev=()
if [[ -n ${WAASCTL:-} ]]; then
	rev=(-waasctl-rev "$WAASCTL")
elif [[ -n ${REV:-} ]]; then
	commit=$(git rev-parse --short --verify "$REV^{commit}") || {
		echo "reconcile.sh: REV=$REV is not a commit" >&2
		exit 1
	}
	echo "reconcile.sh: building waasctl as of $commit (git archive)" >&2
	mkdir -p "$tmp/src"
	git archive "$commit" | tar -x -C "$tmp/src"
	(cd "$tmp/src" && go build -o "$tmp/waasctl" ./cmd/waasctl)
	WAASCTL=$tmp/waasctl
	rev=(-waasctl-rev "$commit (REV=$REV)")
else
	echo "reconcile.sh: building bin/waasctl" >&2
	go build -o bin/waasctl ./cmd/waasctl
	WAASCTL=bin/waasctl
fi
echo "reconcile.sh: building scripts/bench/reconcile" >&2
go build -o "$tmp/reconcile" ./scripts/bench/reconcile
scripts/with-postgres.sh "$tmp/reconcile" -waasctl "$WAASCTL" "${rev[@]}" "$@"
