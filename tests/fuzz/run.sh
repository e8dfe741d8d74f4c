#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs one libFuzzer harness for a bounded time on its committed corpus.
# Usage: run.sh NAME HARNESS CORPUS DICT MAX_LEN CRASH_DIR
#   FUZZ_SECONDS     how long to fuzz (default 15)
#   FUZZ_NEW_CORPUS  keep the inputs that found new coverage in
#                    $FUZZ_NEW_CORPUS/NAME (default: a temporary directory,
#                    removed); scripts/fuzz --merge adds them to CORPUS
# The committed corpus is only read: new inputs never land in the source tree.
# Any crash, leak, sanitizer report, timeout or failed property fails the
# run, and the input that caused it is kept in CRASH_DIR.
set -euo pipefail
name=$1 harness=$2 corpus=$3 dict=$4 max_len=$5 crashes=$6
seconds=${FUZZ_SECONDS:-15}

if [[ -n ${FUZZ_NEW_CORPUS:-} ]]; then
	new=$FUZZ_NEW_CORPUS/$name
	mkdir -p "$new"
else
	new=$(mktemp -d -t "fuzz-$name.XXXXXX")
	trap 'rm -rf "$new"' EXIT
fi
# One directory per run, so the inputs printed are this run's.
mkdir -p "$crashes"
found=$(mktemp -d "$crashes/$name.XXXXXX")
args=(-max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len="$max_len"
	-print_final_stats=1 -artifact_prefix="$found/")
[[ -f $dict ]] && args+=(-dict="$dict")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
# New inputs go to the first directory, the committed corpus is the second.
"$harness" "${args[@]}" "$new" "$corpus" || status=$?
if ((status)); then
	echo "fuzz-$name: FAILED (status $status); the failing input is kept:"
	for input in "$found"/*; do
		[[ -e $input ]] && echo "  $input   (reproduce: $harness $input)"
	done
	exit 1
fi
rmdir "$found"
echo "fuzz-$name: ${seconds}s without a failure; $(ls "$new" | wc -l) new inputs"
