# SPDX-License-Identifier: GPL-2.0-only
"""The one registry of what a test run made and must undo.

Every resource the harness makes (cgroups, network namespaces, workload
processes, exporters, Prometheus servers, temporary directories, changed
kernel settings) registers its release here when it is made. Releases run
last made, first released; each is idempotent and runs whatever happened
before it. harness.main() releases everything when the tests end, after a
failure, Ctrl-C or SIGTERM too (unittest runs no cleanups after an
interrupt); a test class or test releases its own share earlier with
scope().
"""

import shutil
import sys
import tempfile

_releases = []  # (what, function), in the order they were made


def add(release, what=None):
    """Registers release() (idempotent) and returns it."""
    _releases.append((what or getattr(release, "__qualname__", repr(release)), release))
    return release


def mark():
    """A point to release back to: what is registered after it."""
    return len(_releases)


def release(since=0):
    """Releases, newest first, everything registered after mark `since`;
    a failing release is reported and the others still run."""
    while len(_releases) > since:
        what, function = _releases.pop()
        try:
            function()
        except Exception as e:  # keep going: later releases still matter
            print(f"cleanup: {what} failed: {type(e).__name__}: {e}", file=sys.stderr)


def scope(test):
    """Releases what is registered from now on once `test` (a TestCase,
    or a TestCase class from setUpClass) is done, pass or fail."""
    since = mark()
    if isinstance(test, type):
        test.addClassCleanup(release, since)
    else:
        test.addCleanup(release, since)
    return since


def temp_dir(prefix):
    """A new temporary directory, removed with everything in it."""
    path = tempfile.mkdtemp(prefix=prefix)
    add(lambda: shutil.rmtree(path, ignore_errors=True), f"remove {path}")
    return path
