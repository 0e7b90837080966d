#!/bin/sh
set -e
echo "${GREETING}, $(whoami)${PUNCTUATION}" > /usr/local/bin/hello
