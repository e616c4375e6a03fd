#!/usr/bin/env bash
# make release-check: validates .goreleaser.yaml and builds a snapshot of the Linux targets
# (archives, deb and rpm packages, checksums), then checks what came out. It is not part of
# `make test`: the first run installs GoReleaser (a large module, several minutes on a small
# machine) and a snapshot takes a minute or two.
#
# Only the Linux targets are built (WAASCTL_RELEASE_LINUX_ONLY, honoured by .goreleaser.yaml in
# snapshots only): darwin needs a Mac for cgo (the Keychain backend) and windows adds nothing a
# Linux build does not already exercise. Signing is always skipped here: cosign keyless signing
# needs the release workflow's OIDC identity. SBOMs are made when syft is on PATH and skipped,
# with a note, when it is not.
#
# GORELEASER=/path/to/goreleaser uses that binary instead of the pinned one.
set -euo pipefail
cd "$(dirname "$0")/.."

# The newest GoReleaser that builds with go.mod's Go 1.26 (v2.18 needs Go 1.27). Keep it equal to
# the version in .github/workflows/release.yml.
GORELEASER_VERSION=v2.17.0

fail() {
	echo "release-check: $*" >&2
	exit 1
}

goreleaser=${GORELEASER:-}
if [[ -z $goreleaser ]]; then
	goreleaser=$PWD/bin/tools/goreleaser-$GORELEASER_VERSION
	if [[ ! -x $goreleaser ]]; then
		echo "release-check: installing goreleaser $GORELEASER_VERSION with go install (several minutes the first time)"
		gobin=$(mktemp -d)
		trap 'rm -rf "$gobin"' EXIT
		GOBIN=$gobin go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
		mkdir -p bin/tools
		mv "$gobin/goreleaser" "$goreleaser"
	fi
fi
"$goreleaser" --version | grep -m1 -i 'gitversion' || true

echo "release-check: goreleaser check"
"$goreleaser" check

skip=sign
if command -v syft >/dev/null; then
	echo "release-check: syft found: SBOMs are made"
else
	skip+=,sbom
	echo "release-check: syft is not installed: SBOMs skipped (the release workflow installs it)"
fi
echo "release-check: snapshot of the linux targets (--skip=$skip; cosign signing needs the release workflow's identity)"
WAASCTL_RELEASE_LINUX_ONLY=1 "$goreleaser" release --snapshot --clean --skip="$skip"

# What a release of the Linux targets must contain. Package versions spell a pre-release with "~"
# (0.0.1~next), which sorts before 0.0.1 in dpkg and rpm, hence the globs.
shopt -s nullglob
one() {
	local found=("$@")
	((${#found[@]} == 1)) || fail "want exactly one of $1, found ${#found[@]}"
	[[ -s ${found[0]} ]] || fail "${found[0]} is missing or empty"
	echo "${found[0]}"
}
version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
[[ -n $version ]] || fail "no version in dist/metadata.json"
tgz_amd64=$(one "dist/waasctl_${version}_linux_amd64.tar.gz")
tgz_arm64=$(one "dist/waasctl_${version}_linux_arm64.tar.gz")
deb_amd64=$(one dist/waasctl_*_amd64.deb)
deb_arm64=$(one dist/waasctl_*_arm64.deb)
rpm_amd64=$(one dist/waasctl-*.x86_64.rpm)
rpm_arm64=$(one dist/waasctl-*.aarch64.rpm)
want=("$tgz_amd64" "$tgz_arm64" "$deb_amd64" "$deb_arm64" "$rpm_amd64" "$rpm_arm64")
[[ -s dist/checksums.txt ]] || fail "dist/checksums.txt is missing"
others=(dist/waasctl_*_darwin_* dist/waasctl_*_windows_*)
((${#others[@]} == 0)) || fail "only linux targets were asked for, found ${others[*]}"

# Every archive and package is in checksums.txt, and the sums hold.
for f in "${want[@]}"; do
	grep -q "  ${f#dist/}\$" dist/checksums.txt || fail "${f#dist/} is not in checksums.txt"
done
(cd dist && sha256sum --quiet -c checksums.txt) || fail "checksums.txt does not match the files"

# The archive holds the binary, man pages and completions.
listing=$(tar -tzf "$tgz_amd64")
for f in waasctl LICENSE manpages/waasctl.1.gz manpages/waasctl-keys-rotate.1.gz completions/waasctl.bash completions/waasctl.zsh completions/waasctl.fish; do
	grep -qx "$f" <<<"$listing" || fail "the linux archive lacks $f"
done

# The deb installs the binary, man pages and completions where man and the shells look.
if command -v dpkg-deb >/dev/null; then
	listing=$(dpkg-deb -c "$deb_amd64")
	for f in ./usr/bin/waasctl ./usr/share/man/man1/waasctl.1.gz ./usr/share/man/man1/waasctl-keys-rotate.1.gz \
		./usr/share/bash-completion/completions/waasctl ./usr/share/zsh/vendor-completions/_waasctl \
		./usr/share/fish/vendor_completions.d/waasctl.fish ./usr/share/doc/waasctl/copyright; do
		grep -q " $f\$" <<<"$listing" || fail "the deb lacks $f"
	done
	echo "release-check: the deb installs the binary, $(grep -c '/usr/share/man/man1/.*\.1\.gz$' <<<"$listing") man pages and bash, zsh and fish completions"
else
	echo "release-check: dpkg-deb is not installed: the deb's contents were not listed"
fi
if command -v rpm >/dev/null; then
	listing=$(rpm -qlp "$rpm_amd64")
	for f in /usr/bin/waasctl /usr/share/man/man1/waasctl.1.gz /usr/share/zsh/site-functions/_waasctl; do
		grep -qx "$f" <<<"$listing" || fail "the rpm lacks $f"
	done
else
	echo "release-check: rpm is not installed: the rpm's contents were not listed"
fi

# The linux binaries are static (no cgo) and stamped with the version.
bin=(dist/linux_linux_amd64*/waasctl)
((${#bin[@]} == 1)) || fail "no linux/amd64 binary under dist/"
go version -m "${bin[0]}" | grep -q 'CGO_ENABLED=0' || fail "${bin[0]} was built with cgo"
"${bin[0]}" version | grep -qF "$version" || fail "${bin[0]} version does not print $version"
# GoReleaser reads the commit only when the clone has a remote (as in CI); without one it stamps
# "none".
if [[ -n $(git remote) ]]; then
	"${bin[0]}" version | grep -qF "$(git rev-parse --short=7 HEAD)" || fail "${bin[0]} version does not name the commit $(git rev-parse --short=7 HEAD)"
else
	echo "release-check: this clone has no git remote, so the snapshot is stamped with commit \"none\" (a release never is)"
fi

# The cask GoReleaser would push to the tap (not pushed in a snapshot).
cask=dist/homebrew/Casks/waasctl.rb
[[ -s $cask ]] || fail "$cask was not generated"
grep -q 'manpage "manpages/waasctl.1.gz"' "$cask" || fail "$cask installs no man page"
grep -q 'zsh_completion' "$cask" || fail "$cask installs no zsh completion"

echo "release-check: ok: $version"
ls -l "${want[@]}" dist/checksums.txt "$cask"
