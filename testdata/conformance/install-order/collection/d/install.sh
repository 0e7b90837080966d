#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "d $_REMOTE_USER" >> /opt/conformance/order.txt
