#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "b $_REMOTE_USER" >> /opt/conformance/order.txt
