#!/bin/sh
set -e
echo "java $VERSION"
