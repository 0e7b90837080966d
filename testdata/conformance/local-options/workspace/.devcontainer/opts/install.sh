#!/bin/sh
set -e
mkdir -p /opt/conformance
for v in GREETING FLAVOR PROPOSALS ENABLED VERBOSE NODEFAULT MY_VERSION_X UNDECLARED _REMOTE_USER _CONTAINER_USER _REMOTE_USER_HOME _CONTAINER_USER_HOME; do
  eval "printf '%s=[%s] set=%s\n' \"\$v\" \"\${$v}\" \"\${$v+yes}\"" >> /opt/conformance/opts.txt
done
env | grep -v -e '^HOSTNAME=' -e '^TRACEPARENT=' -e '^OTEL_' | sort > /opt/conformance/opts.env
