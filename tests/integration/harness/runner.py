# SPDX-License-Identifier: GPL-2.0-only
"""Running a test module as meson expects: what it needs (root, the
exporter, tools), notes for the log, and main() with its exit status and
the final cleanup."""

import os
import shutil
import signal
import sys
import unittest

from . import cleanup
from .constants import NEEDS_ROOT


def require_root(reason):
    """Skip without root, or fail when CI=true: in CI a skip would hide that
    the test never ran."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI") == "true":
        raise RuntimeError(reason + " (CI=true, so this is a failure)")
    raise unittest.SkipTest(reason)


def require_exporter():
    """The exporter binary named by EXPORTER, as an absolute path."""
    binary = os.environ.get("EXPORTER")
    if not binary:
        raise RuntimeError("EXPORTER is not set: point it at the exporter binary, "
                           "e.g. EXPORTER=build/cgroup_tcp_exporter")
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"EXPORTER={binary} is not an executable file")
    return os.path.abspath(binary)


def require_tool(env, name):
    """The path of a tool named by the environment variable `env` (default:
    `name` on PATH); AssertionError when it is not found."""
    path = os.environ.get(env) or name
    found = shutil.which(path)
    if not found:
        raise AssertionError(f"{name} not found (set {env}); scripts/setup installs "
                             f"it from scripts/packages.txt")
    return found


def note(text):
    """A figure for whoever reads the log (reports quote these)."""
    print(f"\n  {text}", file=sys.stderr, flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    """Runs the calling test module's tests and exits as meson expects: 1 on
    a failure, 77 when tests were skipped for want of root (outside CI),
    else 0. A CI timeout sends SIGTERM: it becomes an exception, so the
    cleanup registry still releases every cgroup, namespace and process
    (unittest runs no cleanups after an interrupt)."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = unittest.main(module="__main__", verbosity=2, exit=False).result
    finally:
        cleanup.release()
    if not result.wasSuccessful():
        sys.exit(1)
    sys.exit(77 if any(reason.startswith(NEEDS_ROOT) for _, reason in result.skipped) else 0)
