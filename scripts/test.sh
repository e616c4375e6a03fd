#!/usr/bin/env bash
# Everything CI checks, in the order it checks it. `make test` and .ci/run call this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# make test tests every real part it claims, on a developer's machine as in CI: the wrappers
# below refuse to run without their daemon or server, and each test of a real keyring or
# PostgreSQL fails, saying what is missing, instead of skipping. (A Secret Service and keyctl
# exist on Linux only; elsewhere their tests skip as not applicable.)
export WAASCTL_REQUIRE_POSTGRES=1
if [[ $(uname -s) == Linux ]]; then
	export WAASCTL_REQUIRE_KEYRING=1 WAASCTL_REQUIRE_KEYCTL=1
fi

step "installing missing test dependencies"
scripts/install-test-deps.sh

step "go vet"
go vet ./...

step "gofmt"
# Tracked and untracked (but not ignored) files, so that a new file is checked before it is
# added; outside a git checkout (a source tarball), every .go file.
list_go_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard -- '*.go'
	else
		find . -name '*.go' -not -path './.git/*' -print0
	fi
}
gofiles=()
while IFS= read -r -d '' f; do
	[[ -f $f ]] && gofiles+=("$f") # a deleted but still tracked file is not an error
done < <(list_go_files)
if [[ ${#gofiles[@]} -gt 0 ]]; then
	unformatted=$(gofmt -l "${gofiles[@]}")
	if [[ -n $unformatted ]]; then
		echo "gofmt would change these files (run gofmt -w):" >&2
		echo "$unformatted" >&2
		exit 1
	fi
fi

if [[ $(id -u) != 0 ]]; then
	# Said here, not only in go test's -v output: the refusals of a file or folder that belongs
	# to another user need one to exist, and only root can give one away (CI runs as root).
	echo "note: not root: the tests of files and folders owned by another user skip (fsutil, config, rotation: 'needs root'); run as root, as CI does, to include them" >&2
fi

step "go test -race (with a throwaway Secret Service and PostgreSQL server: scripts/with-keyring.sh, scripts/with-postgres.sh)"
scripts/with-keyring.sh scripts/with-postgres.sh go test -race -count=1 -timeout 30m ./...

step "fuzz (FUZZTIME=${FUZZTIME:-50000x} per target)"
scripts/fuzz.sh

echo
echo "make test: all checks passed"
