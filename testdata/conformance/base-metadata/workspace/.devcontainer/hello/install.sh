#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "hello as $(id -un), remote=$_REMOTE_USER" > /opt/conformance/hello.txt
