#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: a connection's direction is the kernel's.

The kernel counts a connect in ActiveOpens and a listener's child in
PassiveOpens. A connect that meets a SYN instead of a SYN-ACK (a
simultaneous open, and a connect of a socket to its own address, which is
one) goes SYN_SENT->SYN_RECV->ESTABLISHED on the connecting socket: it is
still an active open, and the exporter must count it outbound.

In a test cgroup and network namespace: N connects to self, M simultaneous
opens made deterministic by an nftables rule that drops one side's SYN (the
other side's SYN then reaches a socket in SYN_SENT), and one ordinary
accepted connection; all closed again. The exporter's opened and closed
counters by direction must equal the namespace's /proc/net/snmp deltas.

Run as root:  EXPORTER=build/cgroup_tcp_exporter \\
              /usr/bin/python3 tests/integration/test_opens.py
Without root the test is skipped, or fails when CI=true. About 3 s.
"""

import os
import sys
import unittest

# Importing the helpers must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import CLOSED, OPENED  # noqa: E402

N = 5  # connects to self
M = 3  # simultaneous opens (two active opens each)

# Runs in the cgroup and the namespace; prints "done" when every socket is
# closed. The SYN-drop rule is per pair and removed before the next.
WORKLOAD = r"""
import socket, subprocess, sys

def nft(script):
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)

def bound():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s

def connect_to_self():
    s = bound()
    s.connect(s.getsockname())
    return [s]

def simultaneous_open():
    a, b = bound(), bound()
    pa, pb = a.getsockname()[1], b.getsockname()[1]
    nft("add table inet opens\n"
        "add chain inet opens out { type filter hook output priority 0; }\n"
        f"add rule inet opens out tcp sport {pa} tcp dport {pb} tcp flags == syn drop\n")
    a.setblocking(False)
    try:
        a.connect(b.getsockname())  # its SYN is dropped: a stays in SYN_SENT
    except BlockingIOError:
        pass
    b.connect(a.getsockname())  # b's SYN meets a in SYN_SENT
    a.setblocking(True)
    a.getpeername()  # raises unless a is connected
    nft("delete table inet opens\n")
    return [a, b]

def accepted():
    listener = bound()
    listener.listen()
    c = socket.create_connection(listener.getsockname())
    s, _ = listener.accept()
    listener.close()
    return [c, s]

n, m = int(sys.argv[1]), int(sys.argv[2])
socks = [s for _ in range(n) for s in connect_to_self()]
socks += [s for _ in range(m) for s in simultaneous_open()]
socks += accepted()
for s in socks:
    s.close()
print("done", flush=True)
"""


def require_root():
    harness.require_root(f"{harness.NEEDS_ROOT}: creates a cgroup and a network namespace "
                         "and runs the exporter, which loads BPF programs")


class DirectionTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        require_root()
        binary = harness.require_exporter()
        harness.cleanup.scope(cls)
        run_id = f"ctcp-opens-{os.getpid()}"
        cls.cgroup = harness.Cgroup.make(run_id)
        cls.netns = harness.Netns(run_id)
        cls.exporter = harness.Exporter(binary)
        cls.exporter.start()
        before = cls.netns.read_snmp()
        out = harness.run(cls.cgroup.exec_argv(cls.netns.exec_argv(
            [harness.PYTHON, "-c", WORKLOAD, str(N), str(M)])))
        if out.stdout.strip() != "done":
            raise RuntimeError(f"workload: {out.stdout}{out.stderr}")
        cls.snmp = harness.snmp_delta(before, cls.netns.read_snmp())
        cls.want = {"opened{outbound}": N + 2 * M + 1, "opened{inbound}": 1,
                    "closed{outbound}": N + 2 * M + 1, "closed{inbound}": 1}
        cls.seen = harness.poll(cls.counts, lambda seen: seen == cls.want, timeout=10)

    @classmethod
    def counts(cls):
        samples = harness.parse_samples(cls.exporter.scrape().body)
        return {f"{kind}{{{d}}}": int(harness.value(samples, family, cgroup=cls.cgroup.label,
                                                     direction=d))
                for kind, family in (("opened", OPENED), ("closed", CLOSED))
                for d in ("outbound", "inbound")}

    def test_snmp_plan(self):
        """The kernel saw what the workload meant: every connect an active
        open, only the accepted child a passive one."""
        self.assertEqual(self.snmp, {"ActiveOpens": N + 2 * M + 1, "PassiveOpens": 1,
                                     "AttemptFails": 0, "OutRsts": 0,
                                     "RetransSegs": 0})

    def test_directions_equal_snmp(self):
        self.assertEqual(
            {"outbound": self.seen["opened{outbound}"], "inbound": self.seen["opened{inbound}"]},
            {"outbound": self.snmp["ActiveOpens"] - self.snmp["AttemptFails"],
             "inbound": self.snmp["PassiveOpens"]})

    def test_exact_counts(self):
        self.assertEqual(self.seen, self.want, self.exporter.stderr())


if __name__ == "__main__":
    harness.main()
