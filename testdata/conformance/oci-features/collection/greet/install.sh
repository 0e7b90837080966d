#!/bin/sh
set -e
mkdir -p /opt/conformance
echo "hello $WHO loud=$LOUD home=$GREET_HOME msg=$GREET_MSG" >> /opt/conformance/greet.txt
