#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Checks the example Prometheus rules: syntax (promtool check rules) and
# their unit tests (promtool test rules).
# Usage: examples_rules.sh PROMTOOL SOURCE_ROOT
set -eu
promtool=$1
root=$2
"$promtool" check rules "$root/examples/prometheus/rules.yml"
cd "$root/examples/prometheus"
"$promtool" test rules rules_test.yml
