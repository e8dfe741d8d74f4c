#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Every relative link in README.md and docs/*.md leads somewhere: the file
or directory exists, and a #fragment names a heading of the target as
GitHub spells its anchors.

Run:  /usr/bin/python3 tests/docs_links.py [SOURCE_ROOT]
"""

import glob
import os
import re
import sys

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")


def anchors(path):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as
    dashes, repeats numbered."""
    seen, out = {}, set()
    with open(path) as f:
        text = FENCE.sub("", f.read())
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def check(root):
    bad = []
    pages = [os.path.join(root, "README.md")]
    pages += sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    for page in pages:
        with open(page) as f:
            text = CODE.sub("", FENCE.sub("", f.read()))
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue  # http:, https:, mailto:
            path, _, fragment = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            where = os.path.relpath(page, root)
            if not os.path.exists(dest):
                bad.append(f"{where}: {target}: no such file")
            elif fragment and (os.path.isdir(dest) or fragment not in anchors(dest)):
                bad.append(f"{where}: {target}: no such heading")
    return len(pages), bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    npages, bad = check(root)
    for line in bad:
        print(line)
    if bad:
        return 1
    print(f"every relative link of {npages} pages resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
