#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "a $_REMOTE_USER" >> /opt/conformance/order.txt
