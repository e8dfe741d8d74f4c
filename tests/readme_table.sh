#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README's generated tables must be exactly what their generators print.
# Each NAME=GENERATOR names the table between the README's lines
# `<!-- NAME-table:begin ... -->` and `<!-- NAME-table:end -->`.
# Usage: readme_table.sh README [--update] NAME=GENERATOR...
set -euo pipefail
readme=$1
shift
update=
if [[ ${1:-} == --update ]]; then
	update=1
	shift
fi
status=0
for table in "$@"; do
	name=${table%%=*} generator=${table#*=}
	begin="^<!-- $name-table:begin.*-->\$"
	end="^<!-- $name-table:end -->\$"
	want=$("$generator")
	have=$(sed -n "\|$begin|,\|$end|p" "$readme" | sed '1d;$d')
	if [[ $update ]]; then
		/usr/bin/python3 - "$readme" "$name" "$want" <<'PY'
import re, sys
path, name, table = sys.argv[1:]
text = open(path).read()
begin = re.search(r"^<!-- %s-table:begin.*-->\n" % re.escape(name), text, re.M)
end = re.compile(r"^<!-- %s-table:end -->$" % re.escape(name), re.M).search(text, begin.end())
open(path, "w").write(text[:begin.end()] + table + "\n" + text[end.start():])
PY
	elif [[ $want != "$have" ]]; then
		echo "README.md's $name table differs from what $(basename "$generator") prints; run:"
		echo "  meson compile -C build update-readme"
		diff <(echo "$have") <(echo "$want") || true
		status=1
	else
		echo "README $name table matches $(basename "$generator")"
	fi
done
exit $status
