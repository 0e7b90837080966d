#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "running as $(id -un); remote=$_REMOTE_USER ($_REMOTE_USER_HOME) container=$_CONTAINER_USER ($_CONTAINER_USER_HOME)" > /opt/conformance/users.txt
