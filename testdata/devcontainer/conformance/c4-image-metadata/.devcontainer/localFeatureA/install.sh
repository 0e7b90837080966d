#!/bin/sh
set -e
touch /localFeatureA
