#!/usr/bin/env bash
# Runs every fuzz target in the module for a short time (FUZZTIME, default 10s each). Targets are
# found by grepping *_test.go for `func FuzzXxx(`, so a new one is picked up without editing this
# file. `go test -fuzz` accepts one target per package per run, hence one run per target.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-10s}
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
