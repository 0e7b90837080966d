#!/bin/sh
set -e
mkdir -p /opt/x/bin
