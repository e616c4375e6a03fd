#!/usr/bin/env bash
# Inventory benchmarks: waasctl against the WaaS sandbox on loopback, and against Coinbase's
# official Go client on the same estate. Results and their interpretation: docs/benchmarks.md.
#
#   scripts/bench/inventory.sh            # or: make bench-inventory
#
# Sections (ONLY=a,b,c,d,e runs a subset; all by default):
#   a  enumerate 200 pools x 250 wallets (--latency 20ms): waasctl at --concurrency 8 and 16 vs
#      the official client, sequential (scripts/bench/official-enumerate), same sandbox; the
#      outputs must hold the same 50,000 names
#   b  operations list --all over 10,000 device groups under a sandbox --rate-limit, with
#      waasctl's --rate set to the same value; 429s that reach the user must be 0
#   c  peak RSS of waasctl streaming 1,000,000 wallets as JSONL to /dev/null
#   d  startup: waasctl version, waasctl pools list (hyperfine)
#   e  sandbox seeding of 1,000,000 wallets (go test -bench SeedMillion)
#
# Knobs (environment): REV (benchmark waasctl as of this commit instead of the working tree,
# e.g. REV=HEAD while internal/ is mid-edit), RUNS (waasctl repetitions in a, default 5),
# OFFICIAL_RUNS (default 1), OPS_RATE (default 500), OPS_VARIANTS (latency:concurrency pairs
# for b, default "0:8 20ms:16 20ms:8"), MILLION_RUNS (default 3), STARTUP_RUNS (default 30),
# RESULTS (also write the Markdown table to this file), KEEP=1 (keep the temporary directory).
#
# Everything is on 127.0.0.1; each sandbox is stopped, and the temporary directory removed, on
# exit. Missing tools (GNU time, hyperfine, jq, ss, strace) are installed with apt-get.
# A full run takes about 3 minutes on 2 cores and needs about 3 GiB of free memory (section c).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."

ONLY=${ONLY:-a,b,c,d,e}
RUNS=${RUNS:-5}
OFFICIAL_RUNS=${OFFICIAL_RUNS:-1}
OPS_RATE=${OPS_RATE:-500}
OPS_VARIANTS=${OPS_VARIANTS:-"0:8 20ms:16 20ms:8"}
MILLION_RUNS=${MILLION_RUNS:-3}
STARTUP_RUNS=${STARTUP_RUNS:-30}

log() { printf 'inventory: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
want() { [[ ,$ONLY, == *,$1,* ]]; }

# ---- tools ---------------------------------------------------------------------------------

# "debian-package:command-or-path", as in scripts/install-test-deps.sh. GNU time is checked by
# path: `time` is also a shell keyword, so command -v always finds it.
install_deps() {
	local packages=(time:/usr/bin/time hyperfine:hyperfine jq:jq iproute2:ss strace:strace)
	local missing=() entry pkg what
	for entry in "${packages[@]}"; do
		pkg=${entry%%:*} what=${entry#*:}
		if [[ $what == /* ]]; then [[ -x $what ]] && continue; else command -v "$what" >/dev/null 2>&1 && continue; fi
		missing+=("$pkg")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]}; install them with your package manager"
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]}; run as root or install sudo"
		sudo=(sudo)
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ---- temporary directory and sandboxes -------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/waasctl-bench.XXXXXX")
SANDBOX_PIDS=()

cleanup() {
	local pid
	for pid in "${SANDBOX_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${SANDBOX_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [[ ${KEEP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# elapsed T0: seconds since T0 (an $EPOCHREALTIME), to the millisecond.
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
# calc EXPR [DECIMALS]: floating-point arithmetic, to 3 (or DECIMALS) decimals.
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
ceil_div() { echo $((($1 + $2 - 1) / $2)); }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
minimum() { printf '%s\n' "$@" | sort -g | head -n1; }
maximum() { printf '%s\n' "$@" | sort -g | tail -n1; }
yesno() { awk "BEGIN { print ($1) ? \"yes\" : \"**no**\" }"; }
# seconds DURATION: 20ms -> 0.020, 0 -> 0.
seconds() {
	case $1 in
	0) echo 0 ;;
	*ms) calc "${1%ms} / 1000" ;;
	*s) calc "${1%s}" ;;
	*) die "duration $1: want e.g. 20ms" ;;
	esac
}

# start_sandbox NAME [serve flags...]: starts a sandbox and waits until it serves. Sets SB_DIR,
# SB_PID, SB_URL, SB_KEY, SB_PORT and SB_READY (seconds from start to serving, seeding included).
start_sandbox() {
	local name=$1
	shift
	SB_DIR=$TMP/$name
	SB_KEY=$SB_DIR/key.json
	mkdir -p "$SB_DIR"
	local t0=$EPOCHREALTIME
	"$WAASCTL" sandbox serve --bootstrap-key-file "$SB_KEY" "$@" >"$SB_DIR/stdout" 2>"$SB_DIR/stderr" &
	SB_PID=$!
	SANDBOX_PIDS+=("$SB_PID")
	local deadline=$((SECONDS + 300))
	until [[ -s $SB_KEY && $(wc -l <"$SB_DIR/stdout") -ge 1 ]]; do
		if ! kill -0 "$SB_PID" 2>/dev/null; then
			cat "$SB_DIR/stderr" >&2
			die "sandbox $name exited before serving"
		fi
		((SECONDS < deadline)) || die "sandbox $name not serving after 300 s"
		sleep 0.05
	done
	SB_READY=$(elapsed "$t0")
	SB_URL=$(head -n1 "$SB_DIR/stdout")
	SB_PORT=${SB_URL##*:}
	[[ $SB_URL == http://127.0.0.1:* ]] || die "sandbox $name: unexpected base URL $SB_URL"
	log "sandbox $name at $SB_URL (serving after ${SB_READY} s): $*"
}

stop_sandbox() {
	kill -TERM "$SB_PID" 2>/dev/null || true
	wait "$SB_PID" 2>/dev/null || true
	local keep=() pid
	for pid in "${SANDBOX_PIDS[@]}"; do [[ $pid == "$SB_PID" ]] || keep+=("$pid"); done
	SANDBOX_PIDS=("${keep[@]}")
}

# proc_kib PID FIELD: a field of /proc/PID/status in KiB (VmHWM: peak RSS, VmRSS: RSS now).
proc_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# time_wait: TCP connections to or from the current sandbox's port in TIME_WAIT. Every connection
# leaves one for 60 s once closed, whether during the run or when the client exits (a client that
# keeps its connections alive closes them all at exit), so the difference across one run is the
# number of connections that run opened.
time_wait() { ss -Htan state time-wait "( sport = :$SB_PORT or dport = :$SB_PORT )" | wc -l; }

# run_timed OUT ERR CMD...: runs CMD with stdout to OUT and stderr to ERR; sets T (wall
# seconds) and RC.
run_timed() {
	local out=$1 err=$2
	shift 2
	local t0=$EPOCHREALTIME
	set +e
	"$@" >"$out" 2>"$err"
	RC=$?
	set -e
	T=$(elapsed "$t0")
}

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }

# ---- build -----------------------------------------------------------------------------------

install_deps
WAASCTL=$TMP/waasctl
OFFICIAL=$TMP/official-enumerate
# REV=<commit> benchmarks waasctl as of that commit (exported with git archive) instead of the
# working tree, e.g. REV=HEAD while internal/ is mid-edit and does not build. REV is resolved to
# a commit once, here: others may commit while the benchmark runs, and the commit built must be
# the one the results name.
SRC=.
if [[ -n ${REV:-} ]]; then
	commit=$(git rev-parse --short --verify "$REV^{commit}") || die "REV=$REV is not a commit"
	REV=$commit
	SRC=$TMP/src
	mkdir -p "$SRC"
	git archive "$REV" | tar -x -C "$SRC"
fi
log "building waasctl (from ${REV:-the working tree}) and official-enumerate"
(cd "$SRC" && go build -o "$WAASCTL" ./cmd/waasctl) ||
	die "waasctl does not build${REV:+ at $REV}; REV=HEAD $0 benchmarks the last commit"
go build -o "$OFFICIAL" ./scripts/bench/official-enumerate

MACHINE="$(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr), $(go version | awk '{ print $3 }'), waasctl $(if [[ -n ${REV:-} ]]; then git describe --tags --always "$REV"; else git describe --tags --always --dirty 2>/dev/null || echo unknown; fi)"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "machine: $MACHINE; load average $LOAD_START"

# ---- a: full enumeration, waasctl vs the official client -------------------------------------

if want a; then
	P=200 W=250 LAT=20ms PS=1000 OFFICIAL_PS=50
	lat=$(seconds $LAT)
	start_sandbox enum --seed 1 --pools $P --wallets-per-pool $W --latency $LAT
	api=(--endpoint "$SB_URL" --key-file "$SB_KEY")
	want_n=$((P * W))

	log "a: warm-up"
	"$WAASCTL" wallets list --all -o jsonl --rate 0 "${api[@]}" >/dev/null

	pages=$(($(ceil_div $P $PS) + P * $(ceil_div $W $PS)))
	declare -A A_MED A_MIN A_TW
	for c in 8 16; do
		times=()
		for ((i = 1; i <= RUNS; i++)); do
			tw0=$(time_wait)
			run_timed "$TMP/a-waasctl-c$c.jsonl" "$TMP/a-waasctl-c$c.err" "$WAASCTL" wallets list --all -o jsonl --rate 0 --concurrency "$c" "${api[@]}"
			tw1=$(time_wait)
			[[ $RC -eq 0 ]] || die "a: waasctl --concurrency $c exited $RC: $(head -c 500 "$TMP/a-waasctl-c$c.err")"
			n=$(wc -l <"$TMP/a-waasctl-c$c.jsonl")
			[[ $n -eq $want_n ]] || die "a: waasctl --concurrency $c printed $n wallets, want $want_n"
			times+=("$T")
			[[ $i -eq 1 ]] && A_TW[$c]=$((tw1 - tw0))
			log "a: waasctl --concurrency $c run $i: ${T} s"
		done
		A_MED[$c]=$(median "${times[@]}")
		A_MIN[$c]=$(minimum "${times[@]}")
	done

	otimes=()
	for ((i = 1; i <= OFFICIAL_RUNS; i++)); do
		tw0=$(time_wait)
		run_timed "$TMP/a-official.txt" "$TMP/a-official.err" "$OFFICIAL" -endpoint "$SB_URL" -key-file "$SB_KEY"
		tw1=$(time_wait)
		[[ $RC -eq 0 ]] || die "a: official-enumerate exited $RC: $(head -c 500 "$TMP/a-official.err")"
		otimes+=("$T")
		[[ $i -eq 1 ]] && A_TW[official]=$((tw1 - tw0))
		log "a: official-enumerate run $i: ${T} s"
	done
	o_med=$(median "${otimes[@]}")

	# Calibration, same sandbox: --concurrency 1 gives what one page really costs here, one at a
	# time (the injected latency plus timer slack, signing, verifying, encoding, decoding,
	# printing); --concurrency $P asks for every pool at once, so what is left is CPU: the
	# floor that two cores shared by the sandbox and waasctl put under any concurrency.
	run_timed /dev/null "$TMP/a-c1.err" "$WAASCTL" wallets list --all -o jsonl --rate 0 --concurrency 1 "${api[@]}"
	[[ $RC -eq 0 ]] || die "a: waasctl --concurrency 1 exited $RC"
	t_seq=$T
	per_page=$(calc "$t_seq / $pages * 1000" 2)
	log "a: waasctl --concurrency 1: ${t_seq} s (${per_page} ms per page)"
	ftimes=()
	for ((i = 1; i <= 3; i++)); do
		run_timed /dev/null "$TMP/a-cmax.err" "$WAASCTL" wallets list --all -o jsonl --rate 0 --concurrency "$P" "${api[@]}"
		[[ $RC -eq 0 ]] || die "a: waasctl --concurrency $P exited $RC"
		ftimes+=("$T")
	done
	t_floor=$(median "${ftimes[@]}")
	log "a: waasctl --concurrency $P: ${t_floor} s"

	# Same set of names: waasctl's JSONL (each run at each concurrency) against the official list.
	sort "$TMP/a-official.txt" >"$TMP/a-official.sorted"
	o_n=$(wc -l <"$TMP/a-official.sorted")
	o_uniq=$(sort -u "$TMP/a-official.sorted" | wc -l)
	same=yes
	for c in 8 16; do
		jq -r .name "$TMP/a-waasctl-c$c.jsonl" | sort >"$TMP/a-waasctl-c$c.sorted"
		if ! diff -q "$TMP/a-waasctl-c$c.sorted" "$TMP/a-official.sorted" >/dev/null; then
			same=no
			log "a: waasctl --concurrency $c and the official client differ:"
			diff "$TMP/a-waasctl-c$c.sorted" "$TMP/a-official.sorted" | head -n 10 >&2 || true
		fi
	done
	[[ $o_n -eq $want_n && $o_uniq -eq $want_n ]] || same=no

	# One more run under strace, to count write(2) calls on stdout (not timed).
	writes=n/a
	if command -v strace >/dev/null 2>&1; then
		strace -f -qq -e trace=write -o "$TMP/a-strace.txt" "$WAASCTL" wallets list --all -o jsonl --rate 0 "${api[@]}" >/dev/null 2>&1 || true
		writes=$(grep -c 'write(1,' "$TMP/a-strace.txt" || true)
	fi

	official_calls=$(($(ceil_div $P $OFFICIAL_PS) + P * $(ceil_div $W $OFFICIAL_PS)))
	official_floor=$(calc "$official_calls * $lat")
	per_call=$(calc "$o_med / $official_calls * 1000" 2)
	speedup=$(calc "$o_med / ${A_MED[8]}" 1)
	row "a. enumerate $((P * W)) wallets ($P pools x $W, latency $LAT): official client, sequential, default page size ($OFFICIAL_PS)" \
		"${o_med} s ($OFFICIAL_RUNS run(s)): ${per_call} ms per call" \
		"$official_calls calls x $LAT = ${official_floor} s" "$(calc "$o_med / $official_floor" 2)x floor" "(baseline)"
	for c in 8 16; do
		bound=$(calc "$pages * $lat / $c")
		ratio=$(calc "${A_MED[$c]} / $bound" 2)
		path=$(calc "($(ceil_div $P $PS) + $(ceil_div $P $c) * $(ceil_div $W $PS)) * $lat")
		real=$(calc "$t_seq / $c")
		row "a. same, waasctl --concurrency $c --rate 0" \
			"${A_MED[$c]} s median, ${A_MIN[$c]} s best ($RUNS runs)" \
			"bound $pages pages x $LAT / $c = ${bound} s; target <= 1.3x (with ListPools first, a critical path of $(($(ceil_div $P $PS) + $(ceil_div $P $c) * $(ceil_div $W $PS))) latencies: ${path} s; the --concurrency 1 time / $c: ${real} s)" \
			"${ratio}x bound ($(calc "${A_MED[$c]} / $real" 2)x the c=1 time / $c); $(calc "$o_med / ${A_MED[$c]}" 1)x faster than official" \
			"bound: $(yesno "$ratio <= 1.3"); >=10x: $(yesno "$o_med / ${A_MED[$c]} >= 10")"
	done
	row "a. calibration: waasctl --concurrency 1; --concurrency $P" \
		"${t_seq} s (${per_page} ms per page against $LAT injected); ${t_floor} s (median of 3)" \
		"--concurrency 1: $pages x $LAT = $(calc "$pages * $lat") s; --concurrency $P: 2 x $LAT + CPU" "" "info"
	row "a. same set of $want_n names (sort \\| diff)" "$same (official: $o_n names, $o_uniq distinct)" "identical" "" "$([[ $same == yes ]] && echo yes || echo '**no**')"
	row "a. TCP connections opened (TIME_WAIT after one run)" "waasctl c=8: ${A_TW[8]}, c=16: ${A_TW[16]}, official: ${A_TW[official]}" "($pages requests per waasctl run)" "" "info"
	row "a. write(2) calls on stdout, one waasctl run" "$writes" "($want_n lines)" "" "info"
	A_SPEEDUP=$speedup
	stop_sandbox
fi

# ---- b: operations fan-out under a rate limit ------------------------------------------------

if want b; then
	P=40 W=250 PS=1000
	groups=$((P * W))
	requests=$(($(ceil_div $P $PS) + P * $(ceil_div $W $PS) + groups))
	rate_bound=$(calc "$requests / $OPS_RATE")
	for v in $OPS_VARIANTS; do
		LAT=${v%%:*} c=${v#*:}
		lat=$(seconds "$LAT")
		start_sandbox "ops-$LAT-$c" -v --seed 1 --pools $P --wallets-per-pool $W --operations-per-group 1 \
			--latency "$LAT" --rate-limit "$OPS_RATE/1s"
		tw0=$(time_wait)
		run_timed "$TMP/b.jsonl" "$TMP/b.err" "$WAASCTL" operations list --all -o jsonl --rate "$OPS_RATE" --concurrency "$c" \
			--endpoint "$SB_URL" --key-file "$SB_KEY"
		tw1=$(time_wait)
		lines=$(wc -l <"$TMP/b.jsonl")
		user429=$(grep -ciE '429|RESOURCE_EXHAUSTED|rate limit' "$TMP/b.err" || true)
		sleep 0.2 # let the sandbox finish logging the last requests
		srv429=$(grep -c 'status=429' "$SB_DIR/stderr" || true)
		srv200=$(grep -c 'status=200' "$SB_DIR/stderr" || true)
		stop_sandbox
		log "b: latency $LAT --concurrency $c: ${T} s, exit $RC, $lines operations, 429s: $srv429 at the server, $user429 reported"
		ok=$([[ $RC -eq 0 && $lines -eq $groups && $user429 -eq 0 ]] && echo yes || echo '**no**')
		conc_bound=$(calc "$requests * $lat / $c")
		note=""
		if awk "BEGIN { exit !($conc_bound > $rate_bound) }"; then
			note=" (here concurrency, not rate, bounds it: $requests x $LAT / $c = ${conc_bound} s; $(calc "$T / $conc_bound" 2)x that)"
		fi
		row "b. operations list --all, $groups groups, sandbox --rate-limit $OPS_RATE/1s, latency $LAT, --rate $OPS_RATE --concurrency $c" \
			"${T} s; exit $RC; $lines operations; 429s answered by the sandbox: $srv429, reaching the user: $user429; $srv200 requests OK; connections opened (TIME_WAIT): $((tw1 - tw0))" \
			"$requests requests / $OPS_RATE/s = ${rate_bound} s; target <= 1.15x$note" \
			"$(calc "$T / $rate_bound" 2)x" \
			"time: $(yesno "$T / $rate_bound <= 1.15"); no 429 to user, all printed: $ok"
	done
fi

# ---- c: streaming a million wallets ----------------------------------------------------------

if want c; then
	P=100 W=10000
	# gctrace: the sandbox's garbage collections, to tell its pauses from waasctl's time.
	GODEBUG=gctrace=1 start_sandbox million --seed 1 --pools $P --wallets-per-pool $W
	seed_rss=$(proc_kib "$SB_PID" VmRSS)
	gc0=$(grep -c '^gc ' "$SB_DIR/stderr" || true)
	api=(--endpoint "$SB_URL" --key-file "$SB_KEY")
	# Once into a pipe, to count the lines (and to see what writing into a pipe costs).
	n=$(/usr/bin/time -f '%e %U %S' -o "$TMP/c.pipe" "$WAASCTL" wallets list --all -o jsonl --rate 0 "${api[@]}" | wc -l)
	[[ $n -eq $((P * W)) ]] || die "c: waasctl printed $n wallets, want $((P * W))"
	read -r pipe_wall pipe_user pipe_sys <"$TMP/c.pipe"
	log "c: into a pipe: $n lines, ${pipe_wall} s, user ${pipe_user} s, system ${pipe_sys} s"
	for c in 8 16; do
		rss=() times=() users=() syss=()
		for ((i = 1; i <= MILLION_RUNS; i++)); do
			run_timed /dev/null "$TMP/c.time" /usr/bin/time -v "$WAASCTL" wallets list --all -o jsonl --rate 0 --concurrency "$c" "${api[@]}"
			[[ $RC -eq 0 ]] || die "c: waasctl exited $RC: $(head -c 500 "$TMP/c.time")"
			rss+=("$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/c.time")")
			users+=("$(awk -F': ' '/User time/ { print $2 }' "$TMP/c.time")")
			syss+=("$(awk -F': ' '/System time/ { print $2 }' "$TMP/c.time")")
			times+=("$T")
			log "c: --concurrency $c run $i: ${T} s, peak RSS ${rss[-1]} KiB, user ${users[-1]} s, system ${syss[-1]} s"
		done
		peak=$(maximum "${rss[@]}")
		med=$(median "${times[@]}")
		row "c. stream $((P * W)) wallets as JSONL to /dev/null, --concurrency $c" \
			"peak RSS $(calc "$peak / 1024" 1) MiB (worst of $MILLION_RUNS); ${med} s median, $(minimum "${times[@]}")-$(maximum "${times[@]}") s ($(calc "$P * $W / $med / 1000" 0)k wallets/s); CPU user $(median "${users[@]}") s, system $(median "${syss[@]}") s" \
			"< 64 MiB" "$(calc "$peak / 1024 / 64" 2)x target" "$(yesno "$peak < 65536")"
	done
	row "c. same, --concurrency 8, into a pipe (\\| wc -l)" "${pipe_wall} s; CPU user ${pipe_user} s, system ${pipe_sys} s" "" "" "info"
	srv_hwm=$(proc_kib "$SB_PID" VmHWM)
	# "gc N @Ts P%: a+b+c ms clock, d+e/f/g+h ms cpu, ...": wall time of the mark phase, CPU.
	gcs=$(awk -v skip="$gc0" '/^gc / && ++n > skip { split($5, w, "+"); wall += w[2]; gsub(/\//, "+", $8); k = split($8, u, "+"); for (i = 1; i <= k; i++) cpu += u[i]; cycles++ }
		END { printf "%d GC cycles, %.1f s of marking, %.1f CPU-s", cycles, wall / 1000, cpu / 1000 }' "$SB_DIR/stderr")
	row "c. the sandbox itself, $((P * W)) wallets" \
		"serving after ${SB_READY} s; RSS $(calc "$seed_rss / 1048576" 2) GiB after seeding, peak $(calc "$srv_hwm / 1048576" 2) GiB; during the $((2 * MILLION_RUNS + 1)) enumerations: $gcs" \
		"(docs/sandbox.md: about 1.4 GiB seeded, 2.9 GiB serving)" "" "info"
	stop_sandbox
fi

# ---- d: startup ------------------------------------------------------------------------------

if want d; then
	start_sandbox small --seed 1
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine -N --style basic --warmup 3 --runs "$STARTUP_RUNS" --export-json "$TMP/d.json" \
			"$WAASCTL version" "$WAASCTL pools list --endpoint $SB_URL --key-file $SB_KEY" >"$TMP/d.txt" 2>&1 ||
			die "d: hyperfine failed: $(tail -n 20 "$TMP/d.txt")"
		mapfile -t means < <(jq -r '.results[] | "\(.mean * 1000 | . * 100 | round / 100) ms ± \(.stddev * 1000 | . * 100 | round / 100) ms"' "$TMP/d.json")
		how="hyperfine -N, $STARTUP_RUNS runs, 3 warm-up"
	else
		means=()
		for cmd in version pools; do
			total=0
			for ((i = 1; i <= STARTUP_RUNS; i++)); do
				if [[ $cmd == version ]]; then
					run_timed /dev/null /dev/null "$WAASCTL" version
				else
					run_timed /dev/null /dev/null "$WAASCTL" pools list --endpoint "$SB_URL" --key-file "$SB_KEY"
				fi
				total=$(calc "$total + $T")
			done
			means+=("$(calc "$total / $STARTUP_RUNS * 1000" 2) ms")
		done
		how="mean of $STARTUP_RUNS runs"
	fi
	row "d. startup: waasctl version" "${means[0]} mean" "($how)" "" "info"
	row "d. startup: waasctl pools list (3 pools, no latency)" "${means[1]} mean" "($how)" "" "info"
	stop_sandbox
fi

# ---- e: sandbox seeding ----------------------------------------------------------------------

if want e; then
	log "e: go test -run '^\$' -bench SeedMillion -benchtime 1x ./internal/sandbox/"
	bench=(go test -run '^$' -bench SeedMillion -benchtime 1x ./internal/sandbox/)
	where=${REV:+$REV}
	where=${where:-the working tree}
	if ! (cd "$SRC" && "${bench[@]}") >"$TMP/e.txt" 2>&1; then
		# internal/ may be mid-edit; the seeding code at HEAD is the next best thing.
		log "e: the working tree's internal/sandbox tests failed ($(grep -m1 -v '^#' "$TMP/e.txt")); benchmarking HEAD instead"
		where="HEAD $(git rev-parse --short HEAD) (the working tree's tests did not build)"
		mkdir -p "$TMP/head"
		git archive HEAD | tar -x -C "$TMP/head"
		(cd "$TMP/head" && "${bench[@]}") >"$TMP/e.txt" 2>&1 || where=failed
	fi
	if [[ $where != failed ]]; then
		seed=$(awk '/^BenchmarkSeedMillion/ { for (i = 1; i <= NF; i++) { if ($i == "ns/op") s = $(i - 1) / 1e9; if ($i == "heap-MiB") h = $(i - 1) } } END { printf "%.2f s, %.0f MiB (%.2f GiB) heap", s, h, h / 1024 }' "$TMP/e.txt")
		seed="$seed, at $where"
	else
		seed="failed: $(tail -n 3 "$TMP/e.txt" | tr '\n' ' ')"
	fi
	row "e. sandbox seeding, 1,000,000 wallets (go test -bench SeedMillion -benchtime 1x)" "$seed" "(docs: ~10 s, ~1.3 GiB)" "" "info"
fi

# ---- results ---------------------------------------------------------------------------------

{
	echo
	echo "## waasctl inventory benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	echo "Machine: $MACHINE"
	echo
	echo "Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| benchmark | measured | bound / target | ratio | target met |"
	echo "|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
	if [[ -n ${A_SPEEDUP:-} ]]; then
		echo
		echo "waasctl (--concurrency 8, median) is ${A_SPEEDUP}x faster than the official client enumerating sequentially."
	fi
} | tee "${RESULTS:-/dev/null}"
