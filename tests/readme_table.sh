#!/usr/bin/env bash
# The README's metric table must be exactly what the catalogue generates.
# Usage: readme_table.sh METRICS_TABLE README [--update]
set -euo pipefail
generator=$1 readme=$2
begin='<!-- metrics-table:begin (generated from metrics/catalogue.c) -->'
end='<!-- metrics-table:end -->'
want=$("$generator")
have=$(sed -n "\|^$begin\$|,\|^$end\$|p" "$readme" | sed '1d;$d')
if [[ ${3:-} == --update ]]; then
	/usr/bin/python3 - "$readme" "$begin" "$end" "$want" <<'PY'
import sys
path, begin, end, table = sys.argv[1:]
text = open(path).read()
head, rest = text.split(begin + "\n", 1)
_, tail = rest.split(end, 1)
open(path, "w").write(head + begin + "\n" + table + "\n" + end + tail)
PY
	exit 0
fi
if [[ $want != "$have" ]]; then
	echo "README.md's metric table differs from the catalogue; run:"
	echo "  meson compile -C build update-readme"
	diff <(echo "$have") <(echo "$want") || true
	exit 1
fi
echo "README metric table matches the catalogue"
