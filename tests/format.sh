#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every C source follows .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find bpf src metrics tests -name '*.[ch]')
clang-format --dry-run --Werror "${files[@]}"
echo "${#files[@]} files formatted"
