#!/bin/sh
echo "conformance: failing on purpose" >&2
exit 3
