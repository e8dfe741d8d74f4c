# SPDX-License-Identifier: GPL-2.0-only
"""Debian's stock kernels for the matrix, fetched once and cached.

Each release gets a private apt configuration under the cache (its own
sources list, lists and archives; the machine's apt sources are never read
or changed), the newest linux-image-*-amd64-unsigned of its suites is
downloaded, and only its /boot is kept (about 30 MB for the three). A cached kernel is used as it is;
`refresh` fetches again and keeps the newest.
"""

import fcntl
import glob
import os
import re
import shutil
import subprocess
import tarfile
import tempfile

DEFAULT_CACHE = "/var/cache/cgroup_tcp_exporter/kernels"
MIRROR = "http://deb.debian.org/debian"
SECURITY = "http://deb.debian.org/debian-security"

# name: (codename, suites, security suite, the release's own kernel series:
# its suites also carry backported kernels and other flavours)
RELEASES = {
    "debian-11": ("bullseye", ["bullseye", "bullseye-updates"], "bullseye-security", "5.10"),
    "debian-12": ("bookworm", ["bookworm", "bookworm-updates"], "bookworm-security", "6.1"),
    "debian-13": ("trixie", ["trixie", "trixie-updates"], "trixie-security", "6.12"),
}


def package_pattern(series, codename_number):
    """linux-image-5.10.0-36-amd64-unsigned, linux-image-6.12.43+deb13-amd64-unsigned"""
    return re.compile(rf"^linux-image-{re.escape(series)}\.\d+(-\d+|\+deb{codename_number})"
                      r"-amd64-unsigned$")


def cache_dir():
    return os.environ.get("CTCP_KERNEL_CACHE", DEFAULT_CACHE)


class Kernel:
    """A cached kernel: its vmlinuz and the version string it reports."""

    def __init__(self, release, vmlinuz):
        self.release = release
        self.vmlinuz = vmlinuz
        self.version = os.path.basename(vmlinuz)[len("vmlinuz-"):]

    def __repr__(self):
        return f"{self.release} ({self.version})"


def cached(release):
    """The newest vmlinuz kept for the release, or None."""
    found = glob.glob(os.path.join(cache_dir(), release, "boot", "vmlinuz-*"))
    if not found:
        return None
    return Kernel(release, max(found, key=version_key))


def version_key(path):
    return [int(n) if n.isdigit() else n
            for n in re.split(r"(\d+)", os.path.basename(path))]


def kernel(release, refresh=False, log=print):
    """The release's kernel, fetched if the cache has none (or refresh).
    Runs on the same machine take turns fetching."""
    have = cached(release)
    if have and not refresh:
        return have
    os.makedirs(cache_dir(), exist_ok=True)
    with open(os.path.join(cache_dir(), ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        have = cached(release)
        if not have or refresh:
            fetch(release, log)
    return cached(release)


def apt(root, program, *args, capture=False, cwd=None):
    """apt-get or apt-cache on the release's own sources, lists and cache."""
    opts = ["-o", f"Dir::Etc::sourcelist={root}/sources.list",
            "-o", "Dir::Etc::sourceparts=/dev/null",
            "-o", f"Dir::State::Lists={root}/lists",
            "-o", f"Dir::Cache={root}/cache",
            "-o", "Dir::Etc::preferencesparts=/dev/null",
            "-o", "Acquire::Languages=none",
            "-o", "APT::Sandbox::User=root", "-q"]
    return subprocess.run([program, *opts, *args], check=True, text=True,
                          stdout=subprocess.PIPE if capture else None, cwd=cwd)


def fetch(release, log):
    codename, suites, security, series = RELEASES[release]
    pattern = package_pattern(series, release.split("-")[1])
    root = os.path.join(cache_dir(), release, "apt")
    os.makedirs(os.path.join(root, "lists", "partial"), exist_ok=True)
    os.makedirs(os.path.join(root, "cache", "archives", "partial"), exist_ok=True)
    with open(os.path.join(root, "sources.list"), "w") as f:
        for suite in suites:
            f.write(f"deb {MIRROR} {suite} main\n")
        f.write(f"deb {SECURITY} {security} main\n")
    log(f"kernels: fetching the newest {codename} kernel into {cache_dir()}")
    apt(root, "apt-get", "update")
    names = [n for n in apt(root, "apt-cache", "pkgnames", "linux-image-",
                            capture=True).stdout.split()
             if pattern.match(n)]
    if not names:
        raise RuntimeError(f"no linux-image-*-amd64-unsigned in {codename}")
    newest = max(names, key=lambda n: DebVersion(candidate(root, n)))
    with tempfile.TemporaryDirectory(dir=os.path.join(cache_dir(), release)) as tmp:
        apt(root, "apt-get", "download", newest, cwd=tmp)
        deb = glob.glob(os.path.join(tmp, "*.deb"))[0]
        boot = os.path.join(cache_dir(), release, "boot")
        shutil.rmtree(boot, ignore_errors=True)   # the kernel it replaces
        extract_boot(deb, boot)
    # Only the kernel is kept: a refresh reads the suites again anyway.
    shutil.rmtree(root)
    log(f"kernels: {release} is {newest}")


def candidate(root, name):
    out = apt(root, "apt-cache", "policy", name, capture=True).stdout
    return re.search(r"Candidate:\s*(\S+)", out).group(1)


class DebVersion:
    """Orders Debian versions as dpkg does."""

    def __init__(self, version):
        self.version = version

    def __lt__(self, other):
        return subprocess.run(["dpkg", "--compare-versions", self.version, "lt",
                               other.version]).returncode == 0


def extract_boot(deb, dest):
    """Only the files of ./boot/ in the package: the kernel, its config and
    System.map."""
    os.makedirs(dest, exist_ok=True)
    fsys = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    with tarfile.open(fileobj=fsys.stdout, mode="r|") as tar:
        for member in tar:
            if os.path.dirname(os.path.normpath(member.name)) == "boot" and member.isfile():
                target = os.path.join(dest, os.path.basename(member.name))
                with open(target + ".part", "wb") as out:
                    shutil.copyfileobj(tar.extractfile(member), out)
                os.replace(target + ".part", target)
    if fsys.wait() != 0:
        raise RuntimeError(f"dpkg-deb --fsys-tarfile {deb} failed")
