#!/bin/sh
set -e
mkdir -p /opt/conformance
printf '%s\n' "$VALUE" > /opt/conformance/value
