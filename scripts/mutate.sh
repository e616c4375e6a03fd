#!/usr/bin/env bash
# Mutation testing with gremlins (docs/testing.md): each package's tests are run against small
# changes to its code (a < turned into <=, a condition negated, a + into a -); a change that no test
# notices is a "surviving mutant": a missing test, or a change that cannot alter behaviour.
#
#   scripts/mutate.sh                        every package in PACKAGES below
#   scripts/mutate.sh ./internal/auditlog    only the ones named
#   scripts/mutate.sh ./internal/sandbox:jwtverify.go   only those files of a package
#   WORKERS=2 scripts/mutate.sh              more mutants at once (default 1: CPU is shared)
#
# Not part of `make test`: one mutant costs one run of the package's tests. Each mutant's status is
# printed as it is decided (KILLED, LIVED, TIMED OUT, NOT COVERED); the results go to
# mutate-out/<package>.json and a summary per package to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

GREMLINS_VERSION=v0.6.0
# `go install` at the pinned version every time: it is a no-op when that build is cached, and a
# gremlins already on PATH may be another version (a go-installed one reports only "dev").
if [ -z "${GREMLINS:-}" ]; then
	GOBIN_DIR="$(go env GOPATH)/bin"
	GOBIN="$GOBIN_DIR" go install "github.com/go-gremlins/gremlins/cmd/gremlins@$GREMLINS_VERSION"
	GREMLINS="$GOBIN_DIR/gremlins"
fi

PACKAGES=(
	./internal/auditlog
	./internal/rotation
	./internal/credentials
	./internal/reconcile
	./internal/waas
	./internal/sandbox:jwtverify.go # only the JWT verification: the rest is test scaffolding
)
if [ $# -gt 0 ]; then
	PACKAGES=("$@")
fi

WORKERS="${WORKERS:-1}"
mkdir -p mutate-out
status=0
for spec in "${PACKAGES[@]}"; do
	pkg="${spec%%:*}"
	name="$(basename "$pkg")"
	exclude=()
	# gremlins descends into subpackages; each package is measured by its own tests only.
	for d in "$pkg"/*/; do
		[ -d "$d" ] && [ "$(basename "$d")" != testdata ] && exclude+=(--exclude-files "$(basename "$d")/")
	done
	if [ "$spec" != "$pkg" ]; then
		# PKG:FILE,FILE: mutate only those files (gremlins can only exclude, by path regexp).
		IFS=, read -r -a keep <<<"${spec#*:}"
		for f in "$pkg"/*.go; do
			base="$(basename "$f")"
			case "$base" in *_test.go) continue ;; esac
			if ! printf '%s\n' "${keep[@]}" | grep -qxF "$base"; then
				exclude+=(--exclude-files "${base//./\\.}\$")
			fi
		done
		name="$name-$(IFS=-; echo "${keep[*]%.go}")"
	fi
	echo "== $spec" >&2
	# --timeout-coefficient: a mutant that makes a test loop is stopped and counted TIMED OUT. The
	# limit is that many times the coverage run's duration: generous, so that a loaded machine does
	# not turn slow runs into false timeouts.
	"$GREMLINS" unleash "$pkg" \
		--workers "$WORKERS" --test-cpu 1 --timeout-coefficient "${TIMEOUT_COEFFICIENT:-30}" \
		--output "mutate-out/$name.json" \
		--threshold-efficacy "${THRESHOLD:-0}" \
		"${exclude[@]}" || status=1
done
exit $status
