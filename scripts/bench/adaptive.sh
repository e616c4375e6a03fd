#!/usr/bin/env bash
# Adaptive-rate benchmark: waasctl with no flags against the sandbox's rate-limit shapes, next to
# the former fixed defaults (--no-adapt --rate 50 --concurrency 8). Results and their
# reading: docs/benchmarks.md ("Adaptive rate").
#
#   scripts/bench/adaptive.sh                      # or: make bench-adaptive
#   SECONDS_AT_LIMIT=5 scripts/bench/adaptive.sh   # a smaller estate: each limited run ~5 s at its limit
#
# For each limit shape and latency, an estate of (limit x SECONDS_AT_LIMIT) pools of one wallet
# each is seeded, so that `wallets list --all` makes about that many requests (one per pool, plus
# the pool pages) and `operations list --all` (the pending operations of every device group: the
# enumeration under `audit operations`, which also needs a ledger) about twice as many. Each command runs with no flags and
# with the former defaults; the sandbox's own counters (the totals it logs on stderr when it
# stops, the same as GET BASE/sandbox/v1/stats) give the requests it saw and the 429s it answered. Every run starts cold: its own
# empty state folder, so no learned rate carries over. Then two waasctl processes share one
# organisation limit (scope=org) and must both finish, together within it.
#
# Knobs (environment): SECONDS_AT_LIMIT (default 30, as the issue asks), LATENCIES (default
# "20ms 100ms"), SHAPES (space-separated --rate-limit specs; default the four below; "" for none),
# ONLY_NOFLAGS=1 (skip the former-defaults runs), FIXED_FLAGS (the flags of the runs beside
# the no-flags ones; default the former defaults, "--no-adapt --rate 50 --concurrency 8"), ENUM=0 (skip the enumeration bar), ENUM_RUNS
# (runs per row of it, default 3), SHARED=0 (skip the two processes), RESULTS (also append the Markdown table to this file),
# KEEP=1 (keep the temporary directory). The estate is a parameter so that a short session can
# run a reduced size; docs/benchmarks.md says which size its numbers are for.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."

SECONDS_AT_LIMIT=${SECONDS_AT_LIMIT:-30}
LATENCIES=${LATENCIES:-"20ms 100ms"}
SHAPES=${SHAPES-"3/1s 30/1s 25/1s,burst=50 100/1s,penalty=30s 2000/1s"}
FIXED_FLAGS=${FIXED_FLAGS:-"--no-adapt --rate 50 --concurrency 8"}

log() { printf 'adaptive: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
command -v jq >/dev/null 2>&1 || die "jq is needed (apt-get install jq)"

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[[ ${KEEP:-} == 1 ]] && log "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/waasctl" ./cmd/waasctl
W=$tmp/waasctl

# start_sandbox POOLS LATENCY SPEC...: serve, set URL, KEYFILE and SB_PID, SB_ERR.
start_sandbox() {
	local pools=$1 lat=$2
	shift 2
	local args=()
	for spec in "$@"; do args+=(--rate-limit "$spec"); done
	KEYFILE=$tmp/key-$RANDOM.json SB_ERR=$tmp/sandbox-$RANDOM.err
	"$W" sandbox serve --pools "$pools" --wallets-per-pool 1 --latency "$lat" "${args[@]}" \
		--bootstrap-key-file "$KEYFILE" >"$tmp/url" 2>"$SB_ERR" &
	SB_PID=$!
	pids+=("$SB_PID")
	for _ in $(seq 600); do [[ -s $tmp/url && -s $KEYFILE ]] && break; sleep 0.1; done
	URL=$(head -1 "$tmp/url")
	[[ -n $URL ]] || die "sandbox did not start: $(cat "$SB_ERR")"
}

stop_sandbox() {
	kill -INT "$SB_PID"
	wait "$SB_PID" 2>/dev/null || true
}

# totals: the counts the sandbox logged at its stop.
totals() {
	sed -nE 's/.*msg="sandbox stopped" requests=([0-9]+) throttled=([0-9]+) penalties=([0-9]+).*/\1 \2 \3/p' "$SB_ERR"
}

# run_cmd NAME FLAGS...: time one command with its own empty state folder (or STATE's); sets T,
# LINES, RC.
run_cmd() {
	local name=$1
	shift
	local state=${STATE:-$tmp/state-$RANDOM}
	local start end
	start=$(date +%s.%N)
	set +e
	WAASCTL_STATE_DIR=$state "$W" --endpoint "$URL" --key-file "$KEYFILE" "$@" >"$tmp/out" 2>"$tmp/err"
	RC=$?
	set -e
	end=$(date +%s.%N)
	T=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
	LINES=$(wc -l <"$tmp/out")
	if [[ $RC -ne 0 ]]; then log "$name exited $RC: $(tail -2 "$tmp/err")"; fi
}

# limit_of SPEC: sustained requests per second; burst_of SPEC: what passes at once; penalty_of.
limit_of() { awk -F'[/,]' '{ n=$1; p=$2; sub(/^1?s$/, "1", p); if (p ~ /s$/) { sub(/s$/, "", p) } print n / p }' <<<"$1"; }
burst_of() { if [[ $1 == *burst=* ]]; then sed -E 's/.*burst=([0-9]+).*/\1/' <<<"$1"; else awk -F/ '{print $1}' <<<"$1"; fi; }
penalty_of() { if [[ $1 == *penalty=* ]]; then sed -E 's/.*penalty=([0-9]+)s.*/\1/' <<<"$1"; else echo 0; fi; }

echo "| limit | latency | command | flags | pools | time | bound | time / bound | requests at the sandbox | 429s (share) | penalties | exit, lines |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
row() { echo "$*" | tee -a "${RESULTS:-/dev/null}"; }

for spec in $SHAPES; do
	limit=$(limit_of "$spec")
	burst=$(burst_of "$spec")
	penalty=$(penalty_of "$spec")
	pools=$(awk -v l="$limit" -v s="$SECONDS_AT_LIMIT" 'BEGIN { printf "%d", l * s }')
	for lat in $LATENCIES; do
		for cmd in "wallets list --all -o jsonl" "operations list --all -o jsonl"; do
			for mode in noflags fixed; do
				[[ $mode == fixed && ${ONLY_NOFLAGS:-} == 1 ]] && continue
				flags=()
				# shellcheck disable=SC2206
				[[ $mode == fixed ]] && flags=($FIXED_FLAGS)
				start_sandbox "$pools" "$lat" "$spec"
				# shellcheck disable=SC2086
				run_cmd "$cmd" "${flags[@]}" $cmd
				stop_sandbox
				read -r req thr pen <<<"$(totals)"
				bound=$(awk -v r="$req" -v thr="$thr" -v l="$limit" -v b="$burst" -v p="$penalty" -v lat="${lat%ms}" \
					'BEGIN { n = r - thr; t = (n - b) / l; if (t < 0) t = 0; lb = n * lat / 1000 / 64; if (lb > t) t = lb; printf "%.1f", t + p }')
				ratio=$(awk -v t="$T" -v b="$bound" 'BEGIN { if (b > 0) printf "%.2fx", t / b; else print "-" }')
				share=$(awk -v r="$req" -v t="$thr" 'BEGIN { if (r > 0) printf "%.1f%%", 100 * t / r }')
				label=${flags[*]:-no flags}
				row "| \`$spec\` | $lat | ${cmd%% -o*} | $label | $pools | $(printf '%.1f' "$T") s | $bound s | $ratio | $req | $thr ($share) | $pen | $RC, $LINES |"
			done
		done
	done
done

# The enumeration bar, no limiter: 200 pools x 250 wallets at 20 ms, no flags against every fixed
# --rate 0 --no-adapt --concurrency N and the former defaults (median of ENUM_RUNS).
if [[ ${ENUM:-1} == 1 ]]; then
	start_sandbox_wallets() {
		KEYFILE=$tmp/key-enum.json SB_ERR=$tmp/sandbox-enum.err
		"$W" sandbox serve --pools 200 --wallets-per-pool 250 --latency 20ms --bootstrap-key-file "$KEYFILE" >"$tmp/url" 2>"$SB_ERR" &
		SB_PID=$!
		pids+=("$SB_PID")
		for _ in $(seq 600); do [[ -s $tmp/url && -s $KEYFILE ]] && break; sleep 0.1; done
		URL=$(head -1 "$tmp/url")
	}
	start_sandbox_wallets
	row ""
	row "| enumeration, no limiter, 200 pools x 250 wallets, 20 ms | flags | median of ${ENUM_RUNS:-3} | runs | lines |"
	row "|---|---|---|---|---|"
	# "warm": no flags, every run with the state folder of one untimed run before (the rate an
	# unlimited run reached is remembered, and the next slow-starts from an eighth of it).
	warm=$tmp/state-warm
	STATE=$warm run_cmd prime wallets list --all -o jsonl
	for flags in "" warm "--no-adapt --rate 50 --concurrency 8" "--rate 0 --no-adapt --concurrency 4" "--rate 0 --no-adapt --concurrency 8" \
		"--rate 0 --no-adapt --concurrency 16" "--rate 0 --no-adapt --concurrency 32" "--rate 0 --no-adapt --concurrency 64"; do
		times=()
		for _ in $(seq "${ENUM_RUNS:-3}"); do
			if [[ $flags == warm ]]; then
				STATE=$warm run_cmd enum wallets list --all -o jsonl
			else
				# shellcheck disable=SC2086
				run_cmd enum $flags wallets list --all -o jsonl
			fi
			times+=("$T")
		done
		median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
		label=${flags:-no flags}
		[[ $flags == warm ]] && label="no flags, after a run (rates.json)"
		row "| wallets list --all | $label | $(printf '%.3f' "$median") s | $(printf '%.3f ' "${times[@]}")| $LINES |"
	done
	stop_sandbox
fi

# Two processes sharing one organisation's limit.
[[ ${SHARED:-1} == 1 ]] || exit 0
spec=${SHARED_LIMIT:-"30/1s,scope=org"}
limit=$(limit_of "$spec")
pools=$(awk -v l="$limit" -v s="$SECONDS_AT_LIMIT" 'BEGIN { printf "%d", l * s }')
start_sandbox "$pools" 20ms "$spec"
start=$(date +%s.%N)
for i in 1 2; do
	WAASCTL_STATE_DIR=$tmp/shared-$i "$W" --endpoint "$URL" --key-file "$KEYFILE" wallets list --all -o jsonl >"$tmp/shared-$i.out" 2>"$tmp/shared-$i.err" &
	spids[$i]=$!
done
rc1=0 rc2=0
wait "${spids[1]}" || rc1=$?
wait "${spids[2]}" || rc2=$?
end=$(date +%s.%N)
stop_sandbox
read -r req thr pen <<<"$(totals)"
T=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
bound=$(awk -v r="$req" -v thr="$thr" -v l="$limit" 'BEGIN { printf "%.1f", (r - thr) / l }')
row ""
row "| two processes, \`$spec\` | 20ms | wallets list --all, twice at once | no flags | $pools | $(printf '%.1f' "$T") s (both) | $bound s | $(awk -v t="$T" -v b="$bound" 'BEGIN { printf "%.2fx", t / b }') | $req | $thr ($(awk -v r="$req" -v t="$thr" 'BEGIN { printf "%.1f%%", 100 * t / r }')) | $pen | $rc1 and $rc2, $(wc -l <"$tmp/shared-1.out") and $(wc -l <"$tmp/shared-2.out") |"
