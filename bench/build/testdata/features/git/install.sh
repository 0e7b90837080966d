#!/bin/sh
# The official git feature with version=os-provided: Debian's git.
set -e
export DEBIAN_FRONTEND=noninteractive
if [ "$VERSION" = "offline" ]; then
  # DEVCACHE_BENCH_QUICK: no Debian mirror.
  cp -a /usr/share /opt/git-payload
  printf '[core]\n\teditor = %s\n' "$EDITOR" > /etc/gitconfig
  exit 0
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends git >/dev/null
rm -rf /var/lib/apt/lists/*
git config --system core.editor "$EDITOR"
