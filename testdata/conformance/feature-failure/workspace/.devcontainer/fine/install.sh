#!/bin/sh
set -e
mkdir -p /opt/conformance
echo fine > /opt/conformance/fine.txt
