# SPDX-License-Identifier: GPL-2.0-only
"""cgroup2 for the tests: find the mount, make and remove a subtree, place
commands in it, kill what runs in it, and make a cgroup active without a
process of its own."""

import errno
import os
import re
import signal
import socket
import struct
import time

from . import cleanup
from .system import poll


def _unescape_mountinfo(field):
    # mountinfo escapes space, tab, newline and backslash as \ooo octal.
    raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), field)
    return os.fsdecode(raw)


def find_cgroup2():
    """Return (mount_point, root) of the first cgroup2 mount.

    Hosts differ (pure v2 at /sys/fs/cgroup, hybrid at .../unified), so the
    mount is looked up rather than assumed. root is the path of the mounted
    directory inside the hierarchy ("/" unless in a cgroup namespace).
    """
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            fields = line.split()
            # Optional fields end at "-"; the filesystem type follows it.
            sep = fields.index(b"-")
            if fields[sep + 1] == b"cgroup2":
                return _unescape_mountinfo(fields[4]), _unescape_mountinfo(fields[3])
    raise RuntimeError("no cgroup2 mount in /proc/self/mountinfo")


class Cgroup:
    """A cgroup2 directory and the `cgroup` label the exporter gives it."""

    def __init__(self, path, label):
        self.path = path
        self.label = label

    @classmethod
    def create(cls, mount, root, relative, remove_timeout=3.0):
        """mkdir mount/relative; the label is that path from the root, with a
        leading "/" (e.g. /ctcp-test-1234/client). Registered for cleanup:
        its processes are killed and the subtree removed (remove_timeout:
        see remove())."""
        path = os.path.join(mount, relative)
        os.mkdir(path)
        label = "/" + "/".join(p for p in (root.strip("/"), relative) if p)
        cgroup = cls(path, label)
        cleanup.add(lambda: cgroup.release(remove_timeout), f"remove cgroup {path}")
        return cgroup

    @classmethod
    def make(cls, relative, remove_timeout=3.0):
        """create() under this host's cgroup2 mount."""
        return cls.create(*find_cgroup2(), relative, remove_timeout)

    def child(self, name):
        """A child cgroup; removed with its parent."""
        os.mkdir(os.path.join(self.path, name))
        return Cgroup(os.path.join(self.path, name), self.label + "/" + name)

    # The shell writes its own pid into cgroup.procs, then execs: the
    # command is in the cgroup from its first instruction. The path is
    # passed as $1, not pasted into the script, because cgroup names may
    # contain quotes.
    _PLACE = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"'

    def exec_argv(self, argv):
        """argv wrapped so that it runs inside this cgroup (same pid)."""
        return ["sh", "-c", self._PLACE, "sh", self.path] + list(argv)

    def pids(self):
        """Pids in this cgroup and every cgroup below it (walked by
        directory descriptors: cgroupfs paths may be longer than PATH_MAX)."""
        found = []
        if not os.path.isdir(self.path):
            return found
        for _, _, _, dirfd in os.fwalk(self.path):
            try:
                with open(os.open("cgroup.procs", os.O_RDONLY, dir_fd=dirfd)) as f:
                    found.extend(int(x) for x in f.read().split())
            except FileNotFoundError:
                pass  # removed while walking
        return found

    def kill(self, timeout=3.0):
        """SIGKILL everything in the subtree and wait until it has left.

        cgroup.kill (5.14+) is race-free against forks; otherwise fall back
        to killing the listed pids.
        """
        kill_file = os.path.join(self.path, "cgroup.kill")
        if os.path.exists(kill_file):
            with open(kill_file, "w") as f:
                f.write("1")
        else:
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        poll(self.pids, lambda pids: not pids, timeout, interval=0.05)

    def remove(self, timeout=3.0):
        """rmdir the subtree, children first.

        rmdir fails with EBUSY for a moment after the last process was
        killed (it is still exiting), so each directory is retried briefly.
        """
        if not os.path.isdir(self.path):
            return
        for _, dirs, _, dirfd in os.fwalk(self.path, topdown=False):
            for name in dirs:
                _rmdir_retry(name, timeout, dir_fd=dirfd)
        _rmdir_retry(self.path, timeout)


    def release(self, remove_timeout=3.0):
        """kill(), then remove()."""
        self.kill()
        self.remove(remove_timeout)

def own_cgroup_path(mount):
    """This process's cgroup2 directory, under `mount`."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return os.path.join(mount, line[3:].strip().lstrip("/"))
    raise RuntimeError("this process is in no cgroup2 cgroup (/proc/self/cgroup)")


def enter_cgroup(path):
    """Moves this process into the cgroup2 directory `path`."""
    with open(os.path.join(path, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))


_ABORT = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a RST


def _receive(sock, n):
    got = 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            raise RuntimeError("loopback peer closed early")
        got += len(chunk)


def connect_in_each(paths, home):
    """Makes each cgroup directory in `paths` active without a process of
    its own: this process moves into it and there opens a loopback listener
    and one connection to it, sends 100 bytes one way and 200 back, and
    aborts it. A socket stays counted under the cgroup it was made in, so
    each gets opened and closed counts both ways, resets, the handshake,
    lifetime, RTT and I/O size histograms and byte counters. The abort
    leaves no socket in TIME_WAIT: thousands of them would crowd the
    ephemeral ports (a second run within a minute would take ten times
    longer). Moves back to `home` at the end, failure included."""
    try:
        for path in paths:
            enter_cgroup(path)
            with socket.socket() as listener:
                listener.bind(("127.0.0.1", 0))
                listener.listen(1)
                with socket.create_connection(listener.getsockname()) as client:
                    server, _ = listener.accept()
                    with server:
                        client.sendall(b"q" * 100)
                        _receive(server, 100)
                        server.sendall(b"a" * 200)
                        _receive(client, 200)
                        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _ABORT)
    finally:
        enter_cgroup(home)


def _rmdir_retry(path, timeout, dir_fd=None):
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.rmdir(path, dir_fd=dir_fd)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


