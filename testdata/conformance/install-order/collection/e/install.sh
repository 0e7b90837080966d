#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "e $_REMOTE_USER" >> /opt/conformance/order.txt
