#!/usr/bin/env bash
# install.sh: installs a docker-devcache release as a docker CLI plugin, the
# devcache Action's install step (also usable on its own).
#
#   install.sh VERSION        e.g. install.sh v1.2.3
#
# Downloads docker-devcache_VERSION_<os>_<arch>[.exe] and SHA256SUMS from
# the release, checks the binary against SHA256SUMS (a mismatch installs
# nothing), keeps it in the tool cache and links it into the plugin
# directory. A version already in the tool cache is not downloaded again.
#
# Environment:
#   DEVCACHE_RELEASE_URL  releases base (default
#                         https://github.com/devcache/devcache/releases/download);
#                         files are read from $DEVCACHE_RELEASE_URL/VERSION/
#   RUNNER_TOOL_CACHE     tool cache (default ~/.cache/devcache-tools); the
#                         binary goes to RUNNER_TOOL_CACHE/devcache/X.Y.Z/<arch>/
#                         with an <arch>.complete marker, as @actions/tool-cache
#   RUNNER_OS, RUNNER_ARCH  the runner's (Linux|macOS|Windows, X64|ARM64);
#                         default: uname
#   DEVCACHE_PLUGIN_DIR   default ${DOCKER_CONFIG:-~/.docker}/cli-plugins
# Prints the installed plugin's path.
set -euo pipefail

die() {
	echo "devcache install: $*" >&2
	exit 1
}

(($# == 1)) || die "usage: install.sh VERSION (e.g. v1.2.3)"
version=$1
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
	die "version \"$version\" is not a release version (vMAJOR.MINOR.PATCH); to build a branch or commit, set the Action's ref input instead"

os=${RUNNER_OS:-$(uname -s)}
case $os in
Linux | linux) os=linux ;;
macOS | Darwin) os=darwin ;;
Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
*) die "no devcache release for OS $os (releases: Linux, macOS, Windows); set the Action's ref input to build from source" ;;
esac
arch=${RUNNER_ARCH:-$(uname -m)}
case $arch in
X64 | x86_64 | amd64) arch=amd64 cachearch=x64 ;;
ARM64 | aarch64 | arm64) arch=arm64 cachearch=arm64 ;;
*) die "no devcache release for architecture $arch (releases: X64, ARM64); set the Action's ref input to build from source" ;;
esac
ext=
[[ $os == windows ]] && ext=.exe
asset=docker-devcache_${version}_${os}_${arch}${ext}

cache=${RUNNER_TOOL_CACHE:-$HOME/.cache/devcache-tools}/devcache/${version#v}
plugins=${DEVCACHE_PLUGIN_DIR:-${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins}
cached=$cache/$cachearch/docker-devcache$ext

sha256() {
	if command -v sha256sum >/dev/null; then
		sha256sum "$1" | cut -d' ' -f1
	else
		shasum -a 256 "$1" | cut -d' ' -f1
	fi
}

# download fetches the asset and SHA256SUMS into a temporary directory,
# checks the asset and moves it into the tool cache.
download() {
	local base=${DEVCACHE_RELEASE_URL:-https://github.com/devcache/devcache/releases/download}/$version
	local want got
	tmp=$(mktemp -d) # global: the EXIT trap removes it
	trap 'rm -rf "$tmp"' EXIT
	curl -fsSL --retry 3 -o "$tmp/SHA256SUMS" "$base/SHA256SUMS" ||
		die "release $version not found: $base/SHA256SUMS could not be downloaded (is $version a published devcache release?)"
	want=$(awk -v f="$asset" '$2 == f || $2 == "*" f {print $1}' "$tmp/SHA256SUMS")
	[[ -n $want ]] || die "$base/SHA256SUMS lists no $asset: release $version has no binary for $os/$arch"
	curl -fsSL --retry 3 -o "$tmp/$asset" "$base/$asset" || die "downloading $base/$asset failed"
	got=$(sha256 "$tmp/$asset")
	[[ $got == "$want" ]] || die "$asset: sha256 $got does not match SHA256SUMS ($want); nothing installed"
	chmod +x "$tmp/$asset"
	rm -rf "$cache/$cachearch" "$cache/$cachearch.complete"
	mkdir -p "$cache/$cachearch"
	mv "$tmp/$asset" "$cached"
	touch "$cache/$cachearch.complete"
	echo "devcache install: $asset checked against SHA256SUMS, cached in $cache/$cachearch" >&2
}

if [[ -f $cache/$cachearch.complete && -x $cached ]]; then
	echo "devcache install: $version found in the tool cache ($cache/$cachearch)" >&2
else
	download
fi
mkdir -p "$plugins"
cp "$cached" "$plugins/docker-devcache$ext.tmp"
mv -f "$plugins/docker-devcache$ext.tmp" "$plugins/docker-devcache$ext"
echo "$plugins/docker-devcache$ext"
