#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "c $_REMOTE_USER" >> /opt/conformance/order.txt
