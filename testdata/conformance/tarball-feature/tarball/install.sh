#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "tarball hello $WHO tarball=$TARBALL" > /opt/conformance/tarball.txt
