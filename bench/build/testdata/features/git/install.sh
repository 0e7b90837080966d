#!/bin/sh
# The official git feature with version=os-provided: Debian's git.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends git >/dev/null
rm -rf /var/lib/apt/lists/*
git config --system core.editor "$EDITOR"
