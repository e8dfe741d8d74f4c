#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: the Debian package, built and installed as a user
would install it.

scripts/package-deb builds cgroup-tcp-exporter_VERSION_ARCH.deb (lintian
clean, or the build fails); then, in a fresh Debian 12 root made by
debootstrap (tests/deploy/rootfs.py, cached outside the source tree),
`apt-get install ./PACKAGE.deb` pulls its dependencies from the Debian
archive and installs it: `cgroup_tcp_exporter --version` runs there, the
unit, the /etc/default flags file and the man page are in place, the unit is
enabled (as Debian's prometheus-node-exporter is), and a purge removes it
all, the enablement included.

Run as root:  /usr/bin/python3 tests/deploy/test_package.py
BUILD_ROOT: where the package's own build directory goes (default: a
temporary one). Without root it is skipped (exit 77), or fails when
CI=true. About a minute; it needs the Debian archive.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import rootfs  # noqa: E402
from common import note  # noqa: E402

NAME = "cgroup-tcp-exporter"
INSTALLED = ("/usr/bin/cgroup_tcp_exporter",
             "/usr/lib/systemd/system/cgroup_tcp_exporter.service",
             "/etc/default/cgroup_tcp_exporter",
             "/usr/share/man/man1/cgroup_tcp_exporter.1.gz",
             "/usr/share/doc/cgroup-tcp-exporter/copyright")
ENABLED = "/etc/systemd/system/multi-user.target.wants/cgroup_tcp_exporter.service"


class Package(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        common.require_root("chroot")
        cls.tmp = tempfile.mkdtemp(prefix="ctcp-package-")
        builddir = os.path.join(os.environ.get("BUILD_ROOT") or cls.tmp, "deb")
        t = time.monotonic()
        proc = subprocess.run(
            [os.path.join(rootfs.SOURCE_ROOT, "scripts", "package-deb"), cls.tmp],
            env=dict(os.environ, BUILDDIR=builddir), capture_output=True, text=True)
        cls.build = proc
        cls.deb = proc.stdout.strip().splitlines()[-1] if proc.returncode == 0 else None
        note(f"scripts/package-deb: {time.monotonic() - t:.0f} s")
        cls.root = os.path.join(cls.tmp, "root")

    @classmethod
    def tearDownClass(cls):
        cleanup()

    def chroot(self, *argv, check=True):
        proc_dir = os.path.join(self.root, "proc")
        subprocess.run(["mount", "-t", "proc", "proc", proc_dir], check=True)
        try:
            proc = subprocess.run(["chroot", self.root] + list(argv), capture_output=True,
                                  text=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive",
                                                      LC_ALL="C"))
        finally:
            subprocess.run(["umount", "-l", proc_dir], check=True)
        if check and proc.returncode:
            self.fail(f"{' '.join(argv)} exited {proc.returncode}:\n"
                      f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        return proc

    def test_1_build(self):
        """scripts/package-deb succeeds, lintian included."""
        self.assertEqual(self.build.returncode, 0, self.build.stdout + self.build.stderr)
        self.assertTrue(os.path.basename(self.deb).startswith(NAME + "_"), self.deb)
        note(f"{os.path.basename(self.deb)}: {os.path.getsize(self.deb)} bytes")

    def test_2_install(self):
        """apt-get install ./PACKAGE.deb in a fresh root, then --version."""
        if not self.deb:
            self.skipTest("no package (test_1_build failed)")
        rootfs.unpack(rootfs.minbase(), self.root)
        shutil.copy(self.deb, os.path.join(self.root, "tmp"))
        t = time.monotonic()
        self.chroot("apt-get", "-q", "update")
        self.chroot("apt-get", "-q", "-y", "install",
                    "./tmp/" + os.path.basename(self.deb))
        note(f"apt-get update and install in a fresh root: {time.monotonic() - t:.0f} s")
        version = self.chroot("cgroup_tcp_exporter", "--version").stdout
        self.assertRegex(version, r"^cgroup_tcp_exporter \d+\.\d+\.\d+ ")
        note(f"in the fresh root: {version.strip()}")
        missing = [p for p in INSTALLED if not os.path.exists(self.root + p)]
        self.assertEqual(missing, [])
        # Enabled, as Debian's prometheus-node-exporter is.
        target = os.readlink(self.root + ENABLED)
        self.assertTrue(target.endswith("/systemd/system/cgroup_tcp_exporter.service")
                        and os.path.exists(self.root + target), target)
        man = self.chroot("sh", "-c", "zcat /usr/share/man/man1/cgroup_tcp_exporter.1.gz").stdout
        self.assertIn("listen-address=ADDR", man.replace("\\-", "-"))

    def test_3_purge(self):
        """apt-get purge leaves none of it, the enablement included."""
        if not os.path.exists(self.root + INSTALLED[0]):
            self.skipTest("not installed (test_2_install failed)")
        self.chroot("apt-get", "-q", "-y", "purge", NAME)
        left = [p for p in INSTALLED + (ENABLED,) if os.path.lexists(self.root + p)]
        self.assertEqual(left, [])


def cleanup():
    if Package.tmp is not None:
        shutil.rmtree(Package.tmp, ignore_errors=True)
        Package.tmp = None


if __name__ == "__main__":
    common.main(cleanup)
