#!/bin/sh
set -e
mkdir -p /opt/conformance
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$PACKAGE" >/dev/null
rm -rf /var/lib/apt/lists/*
echo "$(hello --version | head -n1) as $(id -un) home=$_REMOTE_USER_HOME" > /opt/conformance/apt.txt
