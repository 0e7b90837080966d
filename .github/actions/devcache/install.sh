#!/usr/bin/env bash
# install.sh: installs a devcache release as a docker CLI plugin, the
# devcache Action's install step (also usable on its own).
#
#   install.sh VERSION        e.g. install.sh v1.2.3
#
# A release has two binaries per platform, installed side by side into the
# plugin directory: docker-devcache (the plugin the docker CLI runs) and
# devcache (the engine the plugin hands most commands to; the docker CLI
# does not list it, its name lacks the docker- prefix). Downloads
# docker-devcache_VERSION_<os>_<arch>[.exe], devcache_VERSION_<os>_<arch>[.exe]
# and SHA256SUMS from the release, checks both binaries against SHA256SUMS (a
# mismatch of either installs nothing), keeps them in the tool cache and
# copies them into the plugin directory. A version already in the tool cache
# is not downloaded again.
#
# Environment:
#   DEVCACHE_RELEASE_URL  releases base (default
#                         https://github.com/devcache/devcache/releases/download);
#                         files are read from $DEVCACHE_RELEASE_URL/VERSION/
#   RUNNER_TOOL_CACHE     tool cache (default ~/.cache/devcache-tools); the
#                         binaries go to RUNNER_TOOL_CACHE/devcache/X.Y.Z/<arch>/
#                         with an <arch>.complete marker, as @actions/tool-cache
#   RUNNER_OS, RUNNER_ARCH  the runner's (Linux|macOS|Windows, X64|ARM64);
#                         default: uname
#   DEVCACHE_PLUGIN_DIR   default ${DOCKER_CONFIG:-~/.docker}/cli-plugins
# Prints the installed plugin's path (the engine is beside it).
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
# bins are the release's binaries, each installed as BIN$ext: the engine
# first, so the plugin never runs without it.
bins=(devcache docker-devcache)

cache=${RUNNER_TOOL_CACHE:-$HOME/.cache/devcache-tools}/devcache/${version#v}
plugins=${DEVCACHE_PLUGIN_DIR:-${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins}
cached=$cache/$cachearch

sha256() {
	if command -v sha256sum >/dev/null; then
		sha256sum "$1" | cut -d' ' -f1
	else
		shasum -a 256 "$1" | cut -d' ' -f1
	fi
}

# download fetches SHA256SUMS and every binary into a temporary directory,
# checks each binary, and only when all match moves them into the tool cache
# (the .complete marker last).
download() {
	local base=${DEVCACHE_RELEASE_URL:-https://github.com/devcache/devcache/releases/download}/$version
	local bin asset want got
	tmp=$(mktemp -d) # global: the EXIT trap removes it
	trap 'rm -rf "$tmp"' EXIT
	curl -fsSL --retry 3 -o "$tmp/SHA256SUMS" "$base/SHA256SUMS" ||
		die "release $version not found: $base/SHA256SUMS could not be downloaded (is $version a published devcache release?)"
	for bin in "${bins[@]}"; do
		asset=${bin}_${version}_${os}_${arch}${ext}
		want=$(awk -v f="$asset" '$2 == f || $2 == "*" f {print $1}' "$tmp/SHA256SUMS")
		[[ -n $want ]] || die "$base/SHA256SUMS lists no $asset: release $version has no $bin binary for $os/$arch; nothing installed"
		curl -fsSL --retry 3 -o "$tmp/$bin$ext" "$base/$asset" || die "downloading $base/$asset failed; nothing installed"
		got=$(sha256 "$tmp/$bin$ext")
		[[ $got == "$want" ]] || die "$asset: sha256 $got does not match SHA256SUMS ($want); nothing installed"
		chmod +x "$tmp/$bin$ext"
	done
	rm -rf "$cached" "$cached.complete"
	mkdir -p "$cached"
	for bin in "${bins[@]}"; do
		mv "$tmp/$bin$ext" "$cached/$bin$ext"
	done
	touch "$cached.complete"
	echo "devcache install: ${bins[*]} $version checked against SHA256SUMS, cached in $cached" >&2
}

# cache_hit: the tool cache holds every binary of version, completely.
cache_hit() {
	local bin
	[[ -f $cached.complete ]] || return 1
	for bin in "${bins[@]}"; do
		[[ -x $cached/$bin$ext ]] || return 1
	done
}

if cache_hit; then
	echo "devcache install: $version found in the tool cache ($cached)" >&2
else
	download
fi
mkdir -p "$plugins"
for bin in "${bins[@]}"; do
	cp "$cached/$bin$ext" "$plugins/$bin$ext.tmp"
	mv -f "$plugins/$bin$ext.tmp" "$plugins/$bin$ext"
done
echo "$plugins/docker-devcache$ext"
