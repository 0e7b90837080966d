#!/bin/sh
set -e
mkdir -p /opt/conformance
env | grep -v -e '^HOSTNAME=' -e '^TRACEPARENT=' -e '^OTEL_' | sort > /opt/conformance/env.txt
