#!/bin/sh
# GoReleaser's post hook for the darwin builds (.goreleaser.yaml): makes sure a released macOS
# binary was built with cgo, so that it has the Keychain keyring backend.
#
#   darwin-binary.sh BINARY ARCH IS_SNAPSHOT COMMIT_TIMESTAMP
#
# - On a Mac, GoReleaser has just built BINARY with CGO_ENABLED=1: check it.
# - Elsewhere, with WAASCTL_DARWIN_BINARIES set (the release workflow's Linux job), replace
#   BINARY with $WAASCTL_DARWIN_BINARIES/ARCH/waasctl, built by the macOS job, and check that.
# - Elsewhere in a snapshot, keep the cgo-less binary and say what it lacks.
# - Elsewhere in a release, fail: shipping a macOS binary without the Keychain is the bug this
#   script exists to prevent.
#
# The check reads the build information the Go toolchain records in every binary
# (`go version -m`), which works on any OS: the binary must be darwin/ARCH, built with
# CGO_ENABLED=1, and link github.com/99designs/go-keychain, which only the Keychain backend
# (99designs/keyring's keychain.go, `//go:build darwin && cgo`) imports.
set -eu

if [ $# -ne 4 ]; then
	echo "usage: $0 BINARY ARCH IS_SNAPSHOT COMMIT_TIMESTAMP" >&2
	exit 2
fi
bin=$1 arch=$2 snapshot=$3 mtime=$4

check() {
	info=$(go version -m "$1") || { echo "darwin-binary: cannot read the build information of $1" >&2; exit 1; }
	for want in "build	GOOS=darwin" "build	GOARCH=$arch" "build	CGO_ENABLED=1" "dep	github.com/99designs/go-keychain"; do
		case $info in
		*"$want"*) ;;
		*)
			echo "darwin-binary: $1 lacks \"$want\" in its build information, so it has no Keychain backend; build it on macOS with CGO_ENABLED=1 (docs/releasing.md)" >&2
			exit 1
			;;
		esac
	done
	echo "darwin-binary: $1 is darwin/$arch, built with cgo, with the Keychain backend"
}

if [ "$(uname -s)" = Darwin ]; then
	check "$bin"
elif [ -n "${WAASCTL_DARWIN_BINARIES:-}" ]; then
	src=$WAASCTL_DARWIN_BINARIES/$arch/waasctl
	if [ ! -f "$src" ]; then
		echo "darwin-binary: $src is missing; WAASCTL_DARWIN_BINARIES must hold amd64/waasctl and arm64/waasctl from the macOS job" >&2
		exit 1
	fi
	check "$src"
	# Artifact downloads lose the executable bit and the time stamp: restore both, so the archive
	# has the same mode and time as the other targets'.
	cp "$src" "$bin"
	chmod 0755 "$bin"
	touch -d "@$mtime" "$bin"
	echo "darwin-binary: $bin replaced with the macOS build $src"
elif [ "$snapshot" = true ]; then
	echo "darwin-binary: warning: $bin was cross-compiled without cgo and has no Keychain backend (only the file backend); fine for a snapshot, never for a release" >&2
else
	echo "darwin-binary: refusing to release $bin: it was built on $(uname -s) without cgo and has no Keychain backend; build darwin on macOS and set WAASCTL_DARWIN_BINARIES (see docs/releasing.md)" >&2
	exit 1
fi
