#!/usr/bin/env bash
# Benchmark of `waasctl scan` against gitleaks on one generated corpus, in one run.
#
#   scripts/bench/scan.sh            # prints a Markdown table
#
# Knobs: PER=6 (keys planted per encoding), RUNS=3 (waasctl runs; the best is kept),
# GITLEAKS=path (default: go install github.com/zricethezav/gitleaks/v8@v8.30.1 into the
# temporary folder; GITLEAKS=none: waasctl alone, its column says "not run"), FILLER=dir (real source files used as filler; default: Go's own src),
# KEEP=1 (keep the temporary folder). Needs GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/../.."
PER=${PER:-6}
RUNS=${RUNS:-3}
FILLER=${FILLER:-$(go env GOROOT)/src}
tmp=$(mktemp -d)
if [ "${KEEP:-}" != 1 ]; then trap 'rm -rf "$tmp"' EXIT; else echo "keeping $tmp" >&2; fi

go build -o "$tmp/waasctl" ./cmd/waasctl
go build -o "$tmp/scan-corpus" ./scripts/bench/scan-corpus
if [ "${GITLEAKS:-}" = none ]; then
	:
elif [ -z "${GITLEAKS:-}" ]; then
	GOBIN="$tmp/bin" go install github.com/zricethezav/gitleaks/v8@v8.30.1
	GITLEAKS="$tmp/bin/gitleaks"
fi

mkdir -p "$tmp/c"
"$tmp/scan-corpus" gen -out "$tmp/c/corpus" -filler "$FILLER" -per "$PER"
mv "$tmp/c/corpus/truth.json" "$tmp/truth.json"
cd "$tmp/c"
bytes=$(du -sb corpus | cut -f1)
# Warm the page cache, and write the new corpus out first (its pages would otherwise be written
# back while the runs are timed): the numbers are for scanning, not for the disk.
sync
find corpus -type f -print0 | xargs -0 cat >/dev/null

best=
for _ in $(seq "$RUNS"); do
	/usr/bin/time -f '%e %M %U %S' -o "$tmp/w.time" "$tmp/waasctl" scan --no-keyring -o jsonl corpus >"$tmp/w.jsonl" 2>/dev/null || true
	read -r wall rss user sys < <(tail -n 1 "$tmp/w.time") # GNU time first notes a non-zero exit
	echo "$wall" >>"$tmp/walls"
	if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; wrss=$rss; wcpu=$(awk "BEGIN{print $user+$sys}"); fi
done
if [ "${GITLEAKS:-}" = none ]; then
	echo '[]' >"$tmp/g.json"
	echo '0 0 0 0' >"$tmp/g.time"
else
	/usr/bin/time -f '%e %M %U %S' -o "$tmp/g.time" "$GITLEAKS" dir --max-archive-depth 4 --no-banner --exit-code 0 -f json -r "$tmp/g.json" corpus >/dev/null 2>&1 || true
fi
read -r gwall grss guser gsys < <(tail -n 1 "$tmp/g.time")
gcpu=$(awk "BEGIN{print $guser+$gsys}")

"$tmp/scan-corpus" score -truth "$tmp/truth.json" -waasctl "$tmp/w.jsonl" >"$tmp/w.score"
"$tmp/scan-corpus" score -truth "$tmp/truth.json" -gitleaks "$tmp/g.json" >"$tmp/g.score"
load=$(cut -d' ' -f1 /proc/loadavg)

mbps() { awk "BEGIN{if ($1 == 0) print \"-\"; else printf \"%.1f\", $bytes/1e6/$1}"; }
field() { jq -r "$2" "$1"; }
# With GITLEAKS=none, its column says so rather than show zeros.
notrun() {
	if [ "${GITLEAKS:-}" = none ]; then
		awk -F'|' 'BEGIN { OFS = "|" } NF >= 4 && $3 !~ /^-/ && $4 !~ /gitleaks/ { $4 = " not run " } { print }'
	else
		cat
	fi
}
{
echo "Corpus: $((bytes / 1000000)) MB, $(field "$tmp/w.score" .planted) keys planted, $(field "$tmp/w.score" .decoys) decoys; $(nproc) CPUs, load average $load at the end"
echo
echo "| | waasctl scan | gitleaks v8.30.1 |"
echo "|---|---:|---:|"
median=$(sort -n "$tmp/walls" | awk '{ w[NR] = $1 } END { print (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2 }')
echo "| wall time (warm cache; waasctl: the best of $RUNS runs) | ${best} s | ${gwall} s |"
echo "| throughput (wall) | $(mbps "$best") MB/s | $(mbps "$gwall") MB/s |"
echo "| waasctl's median of $RUNS runs | ${median} s, $(mbps "$median") MB/s | |"
echo "| CPU time (user+sys) | ${wcpu} s | ${gcpu} s |"
echo "| throughput per CPU-second | $(mbps "$wcpu") MB/s | $(mbps "$gcpu") MB/s |"
echo "| peak RSS | $((wrss / 1024)) MiB | $((grss / 1024)) MiB |"
echo "| keys found | $(field "$tmp/w.score" .found)/$(field "$tmp/w.score" .planted) | $(field "$tmp/g.score" .found)/$(field "$tmp/g.score" .planted) |"
echo "| decoys reported | $(field "$tmp/w.score" .decoysReported)/$(field "$tmp/w.score" .decoys) | $(field "$tmp/g.score" .decoysReported)/$(field "$tmp/g.score" .decoys) |"
echo "| other files reported (keys in the filler) | $(field "$tmp/w.score" .otherFilesReported) | $(field "$tmp/g.score" .otherFilesReported) |"
echo
echo "| encoding | waasctl | gitleaks |"
echo "|---|---:|---:|"
jq -r '.perEncoding | to_entries[] | "\(.key) \(.value)"' "$tmp/w.score" | while read -r enc w; do
	echo "| $enc | $w | $(jq -r ".perEncoding[\"$enc\"]" "$tmp/g.score") |"
done
} | notrun
