#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "version=$VERSION" > /opt/conformance/versioned.txt
