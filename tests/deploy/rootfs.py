# SPDX-License-Identifier: GPL-2.0-only
"""Debian 12 root filesystems for the deployment tests, made once and kept.

No image registry is reachable from the machines that run the tests, but
the Debian archive is: `debootstrap --variant=minbase bookworm` makes the
base (what debian:12-slim is made from), and the same base with every
package of the [build] section of scripts/packages.txt makes the build
stage's base, so the Containerfile's `PACKAGES=build scripts/setup` finds
nothing to install. Both are tarballs
under $CTCP_CACHE (default /var/cache/cgroup_tcp_exporter/deploy), outside
the source tree, so that reruns skip the downloads; the build base is named
after a hash of that list and remade when it changes.

Run alone to fill the cache:  /usr/bin/python3 tests/deploy/rootfs.py
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
SETUP = os.path.join(SOURCE_ROOT, "scripts", "setup")
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
# Daemons installed into a chroot must not start on the host's kernel.
POLICY_RC_D = "#!/bin/sh\nexit 101\n"


def cache_dir():
    path = os.environ.get("CTCP_CACHE") or "/var/cache/cgroup_tcp_exporter/deploy"
    os.makedirs(path, exist_ok=True)
    return path


def run(argv, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv!r} exited {proc.returncode}:\n"
                           f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc.stdout


def _tar(root, path):
    """root's tree as a tarball at path, written under a temporary name so
    an interrupted run leaves no half tarball behind."""
    partial = f"{path}.{os.getpid()}.partial"
    run(["tar", "-C", root, "--numeric-owner", "--xattrs", "-cf", partial, "."])
    os.replace(partial, path)


def packages():
    """What building needs: the [build] section, as scripts/setup reads it."""
    out = subprocess.run([SETUP, "--list"], env=dict(os.environ, PACKAGES="build"),
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def minbase():
    """The tarball of a minbase bookworm root (made when missing)."""
    path = os.path.join(cache_dir(), f"{SUITE}-minbase.tar")
    if os.path.exists(path):
        return path
    with tempfile.TemporaryDirectory(prefix="ctcp-debootstrap-") as tmp:
        root = os.path.join(tmp, "root")
        run(["debootstrap", "--variant=minbase", SUITE, root, MIRROR])
        # What debian:12-slim has too: the archive in apt's sources.
        with open(os.path.join(root, "etc/apt/sources.list"), "w") as f:
            f.write(f"deb {MIRROR} {SUITE} main\n")
        shutil.rmtree(os.path.join(root, "var/cache/apt/archives"), ignore_errors=True)
        os.makedirs(os.path.join(root, "var/cache/apt/archives/partial"))
        _tar(root, path)
    return path


def unpack(tarball, root):
    """Extracts a cached tarball into the (new) directory root."""
    os.makedirs(root)
    run(["tar", "-C", root, "--numeric-owner", "--xattrs", "-xf", tarball])


def chroot_apt(root, argv):
    """apt-get in the chroot root, with /proc mounted and services kept
    from starting."""
    policy = os.path.join(root, "usr/sbin/policy-rc.d")
    with open(policy, "w") as f:
        f.write(POLICY_RC_D)
    os.chmod(policy, 0o755)
    proc = os.path.join(root, "proc")
    run(["mount", "-t", "proc", "proc", proc])
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
        return run(["chroot", root, "apt-get", "-q", "-y"] + argv, env=env)
    finally:
        run(["umount", "-l", proc])
        os.unlink(policy)


def build_base():
    """The tarball of a minbase root with what building needs (made when
    missing or when that list changed)."""
    digest = hashlib.sha256(" ".join(packages()).encode()).hexdigest()[:12]
    path = os.path.join(cache_dir(), f"{SUITE}-build-{digest}.tar")
    if os.path.exists(path):
        return path
    base = minbase()
    with tempfile.TemporaryDirectory(prefix="ctcp-build-base-") as tmp:
        root = os.path.join(tmp, "root")
        unpack(base, root)
        chroot_apt(root, ["update"])
        chroot_apt(root, ["install", "--no-install-recommends"] + packages())
        chroot_apt(root, ["clean"])
        shutil.rmtree(os.path.join(root, "var/lib/apt/lists"), ignore_errors=True)
        os.makedirs(os.path.join(root, "var/lib/apt/lists/partial"))
        _tar(root, path)
    # Tarballs of older package lists are no use any more.
    for name in os.listdir(cache_dir()):
        if (name.startswith(f"{SUITE}-build-") and name.endswith(".tar")
                and name != os.path.basename(path)):
            os.unlink(os.path.join(cache_dir(), name))
    return path


if __name__ == "__main__":
    for make in (minbase, build_base):
        print(make())
    sys.exit(0)
