#!/bin/sh
set -e
echo "my favorite color is ${FAVORITE}" > /usr/local/bin/color
