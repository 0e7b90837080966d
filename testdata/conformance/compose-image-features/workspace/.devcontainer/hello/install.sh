#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "id=$(id -un) greeting=$GREETING feature=$HELLO_FEATURE remote=$_REMOTE_USER container=$_CONTAINER_USER" > /opt/conformance/feature.txt
