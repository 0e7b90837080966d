#!/bin/sh
set -e
echo "installing d"
