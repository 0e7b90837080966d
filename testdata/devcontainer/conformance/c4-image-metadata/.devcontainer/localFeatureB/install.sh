#!/bin/sh
set -e
touch /localFeatureB
