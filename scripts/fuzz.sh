#!/usr/bin/env bash
# Runs every fuzz target in the module for a short run (FUZZTIME, default 50000x: 50,000 inputs
# each). Targets are found by grepping *_test.go for `func FuzzXxx(`, so a new one is picked up
# without editing this file. `go test -fuzz` accepts one target per package per run, hence one run
# per target.
#
# The default is a count, not a duration: with a duration, Go 1.26's fuzz coordinator can report a
# spurious "context deadline exceeded" failure as the time runs out on a loaded machine
# (golang/go#75804, fixed in Go 1.27). A count has no deadline to race.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-50000x}
found=0
while IFS=: read -r file line; do
	name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")
	pkg=./$(dirname "$file")
	echo "fuzz: $name in $pkg for $fuzztime"
	go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$pkg"
	found=$((found + 1))
done < <(grep -rE --include='*_test.go' --exclude-dir=testdata --exclude-dir=vendor --exclude-dir=.git \
	'^func Fuzz[A-Za-z0-9_]*\(' . | sed 's|^\./||' | sort)

echo "fuzz: ran $found target(s)"
