#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "id=$(id -un) greeting=$GREETING saw=$FEATURE_SAW remote=$_REMOTE_USER container=$_CONTAINER_USER pwd-is-feature-dir=$(basename $(pwd))" > /opt/conformance/feature.txt
