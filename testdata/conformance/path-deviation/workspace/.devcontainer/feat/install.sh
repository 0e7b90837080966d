#!/bin/sh
set -e
mkdir -p /opt/conformance
