#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: the start-up census finds a network namespace that no
process is in and no /run/netns name holds.

A process in a test cgroup enters a named namespace, makes a listener and
an established pair there, and goes back to the host's namespace keeping
the three sockets; then the name is deleted. The namespace now lives on
through those sockets alone. An exporter started then must count them
exactly (`listen` 1, `established` 2 in the cgroup), reaching the namespace
through the process's socket fds, and say so in its log.

Run as root:  EXPORTER=build/cgroup_tcp_exporter \\
              /usr/bin/python3 tests/integration/test_census.py
Without root the test is skipped, or fails when CI=true. About 2 s.
"""

import os
import subprocess
import sys
import unittest

# Importing the helpers must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import CONNECTIONS  # noqa: E402

# argv[1]: the namespace's bind mount. Prints its inode and "ready" once
# back home, then holds the sockets until stdin closes.
HOLDER = r"""
import ctypes, os, socket, sys

libc = ctypes.CDLL(None, use_errno=True)

def enter(path):
    fd = os.open(path, os.O_RDONLY)
    if libc.setns(fd, 0x40000000):  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns " + path)
    os.close(fd)

home = os.open("/proc/self/ns/net", os.O_RDONLY)
enter(sys.argv[1])
ino = os.stat("/proc/thread-self/ns/net").st_ino
lo = socket.socket()
lo.bind(("127.0.0.1", 0))
lo.listen()
client = socket.create_connection(lo.getsockname())
server, _ = lo.accept()
enter(f"/proc/self/fd/{home}")
print(ino, flush=True)
print("ready", flush=True)
sys.stdin.read()
"""


def require_root():
    harness.require_root(f"{harness.NEEDS_ROOT}: creates a cgroup and a network namespace "
                         "and runs the exporter, which loads BPF programs")


class HiddenNamespaceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root()
        binary = harness.require_exporter()
        harness.cleanup.scope(cls)
        run_id = f"ctcp-census-{os.getpid()}"
        cls.cgroup = harness.Cgroup.make(run_id)
        netns = harness.Netns(run_id)
        cls.proc = subprocess.Popen(
            cls.cgroup.exec_argv([harness.PYTHON, "-c", HOLDER, f"/run/netns/{run_id}"]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        harness.cleanup.add(cls.stop_holder, "stop the socket holder")
        cls.ino = int(cls.proc.stdout.readline())
        if cls.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the socket holder did not get ready")
        netns.delete()
        cls.exporter = harness.Exporter(binary)
        cls.exporter.start()
        samples = harness.parse_samples(cls.exporter.scrape().body)
        cls.gauge = {s: int(harness.value(samples, CONNECTIONS, cgroup=cls.cgroup.label,
                                          state=s))
                     for s in ("listen", "established")}

    @classmethod
    def stop_holder(cls):
        if cls.proc.poll() is None:
            cls.proc.stdin.close()
            cls.proc.wait(5)

    def test_0_namespace_hidden(self):
        """No process is in the namespace and no name holds it."""
        self.assertNotIn(self.ino, harness.machine_netns())
        names = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
        self.assertNotIn(self.ino, [os.stat(f"/run/netns/{n}").st_ino for n in names])
        self.assertIsNone(self.proc.poll())

    def test_1_sockets_counted(self):
        self.assertEqual(self.gauge, {"listen": 1, "established": 2}, self.exporter.stderr())

    def test_2_log_says_how(self):
        self.assertIn("reached through their sockets", self.exporter.stderr())

    def test_3_refusal_named(self):
        """Without CAP_SYS_PTRACE a root exporter cannot inspect a root
        process holding capabilities it has not: the warning names that
        process, its uid (the exporter's own), the errno and the missing
        capability, not "other users"."""
        hidden = subprocess.Popen(["unshare", "--net", "sleep", "60"])
        harness.cleanup.add(lambda: (hidden.kill(), hidden.wait()), "stop the hidden sleeper")
        harness.poll(lambda: os.stat(f"/proc/{hidden.pid}/ns/net").st_ino,
                     lambda ino: ino != os.stat("/proc/self/ns/net").st_ino, timeout=5,
                     interval=0.02)
        exporter = harness.Exporter(harness.require_exporter(),
                                    wrapper=["setpriv", "--bounding-set=-sys_ptrace"])
        exporter.start()
        lines = [line for line in exporter.stderr().splitlines()
                 if "warning: census" in line]
        self.assertEqual(len(lines), 1, exporter.stderr())
        for words in (f"pid {hidden.pid} (uid 0, the exporter's)", "Permission denied",
                      "lacks CAP_SYS_PTRACE", "capabilities it has not"):
            self.assertIn(words, lines[0])
        self.assertNotIn("other users", lines[0])
        exporter.close()


if __name__ == "__main__":
    harness.main()
