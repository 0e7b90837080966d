#!/bin/sh
# The packages the official common-utils feature installs on Debian
# bookworm (its install-debian.sh), without the ones that need a
# non-Debian source.
set -e
export DEBIAN_FRONTEND=noninteractive
packages="apt-utils openssh-client gnupg2 dirmngr iproute2 procps lsof htop net-tools psmisc curl wget rsync ca-certificates unzip bzip2 xz-utils zip nano vim-tiny less jq lsb-release apt-transport-https dialog libc6 libgcc-s1 libkrb5-3 libgssapi-krb5-2 libicu72 liblttng-ust1 libstdc++6 zlib1g locales sudo ncdu man-db strace manpages manpages-dev init-system-helpers"
if [ "$INSTALLZSH" = "true" ]; then packages="$packages zsh"; fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends $packages >/dev/null
rm -rf /var/lib/apt/lists/*
if ! id "$USERNAME" >/dev/null 2>&1; then
  groupadd --gid 1000 "$USERNAME"
  useradd -s /bin/bash --uid 1000 --gid "$USERNAME" -m "$USERNAME"
  echo "$USERNAME ALL=(root) NOPASSWD:ALL" > "/etc/sudoers.d/$USERNAME"
  chmod 0440 "/etc/sudoers.d/$USERNAME"
fi
