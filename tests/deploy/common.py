# SPDX-License-Identifier: GPL-2.0-only
"""What the deployment tests share: root or a skip, figures on stderr, and a
main that cleans up after an interrupt too (the harness of the integration
tests does the same for them)."""

import os
import signal
import sys
import unittest


def note(text):
    print(text, file=sys.stderr, flush=True)


def require_root(why):
    """Skip without root, except in CI (CI=true), where it is a failure."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            raise AssertionError(f"CI=true but not root: this test needs root ({why})")
        raise unittest.SkipTest(f"needs root ({why})")


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(cleanup):
    """Runs the module's tests, then cleanup() whatever happened (a CI
    timeout's SIGTERM included); exits 1 on a failure, 77 when skipped for
    want of root, else 0, as meson expects."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = unittest.main(module="__main__", verbosity=2, exit=False).result
    finally:
        cleanup()
    if not result.wasSuccessful():
        sys.exit(1)
    sys.exit(77 if os.geteuid() != 0 and result.skipped else 0)
