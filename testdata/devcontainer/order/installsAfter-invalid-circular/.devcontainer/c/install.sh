#!/bin/sh
set -e
echo "installing c"
