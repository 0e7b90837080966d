#!/bin/sh
# The packages the official common-utils feature installs on Debian
# bookworm (its install-debian.sh), without the ones that need a
# non-Debian source.
set -e
export DEBIAN_FRONTEND=noninteractive
if [ "$PACKAGES" = "offline" ]; then
  # DEVCACHE_BENCH_QUICK: no Debian mirror; about as many bytes, copied
  # from the base.
  cp -a /usr/lib /opt/utils-payload
else
  packages="$PACKAGES"
  if [ "$INSTALLZSH" = "true" ]; then packages="$packages zsh"; fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  rm -rf /var/lib/apt/lists/*
fi
if ! id "$USERNAME" >/dev/null 2>&1; then
  groupadd --gid 1000 "$USERNAME"
  useradd -s /bin/bash --uid 1000 --gid "$USERNAME" -m "$USERNAME"
  if [ -d /etc/sudoers.d ]; then
    echo "$USERNAME ALL=(root) NOPASSWD:ALL" > "/etc/sudoers.d/$USERNAME"
    chmod 0440 "/etc/sudoers.d/$USERNAME"
  fi
fi
