#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every source file names its licence in an SPDX line near its top, the
# licence meson.build declares and LICENSE holds. Source: C, Python, shell,
# Lua, meson, YAML, the Containerfile and the systemd unit, and any other
# file that starts with #!; test corpora are data, not source.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
want="SPDX-License-Identifier: GPL-2.0-only"
grep -q "license: 'GPL-2.0-only'" meson.build
grep -q "GNU GENERAL PUBLIC LICENSE" LICENSE
grep -q "Version 2, June 1991" LICENSE
missing=0 checked=0
while IFS= read -r f; do
	case $f in
	*/corpus/* | *.md | *.json | *.dict | *.http | *.gitignore | LICENSE) continue ;;
	*.c | *.h | *.py | *.sh | *.lua | *.build | *.h.in | *.yaml | *.yml | *.service | \
		*.txt | *Containerfile) ;;
	*) [[ $(head -c 2 "$f") == '#!' ]] || continue ;;
	esac
	checked=$((checked + 1))
	if ! head -n 3 "$f" | grep -qF "$want"; then
		echo "no '$want' in the first 3 lines: $f" >&2
		missing=$((missing + 1))
	fi
done < <(git ls-files)
((missing == 0)) || exit 1
echo "$checked source files carry $want"
