#!/bin/sh
set -e
echo "installing e"
