#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "PATH=$PATH AFTER=$AFTER tool=$(tool)" > /opt/conformance/after.txt
