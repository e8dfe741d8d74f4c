# SPDX-License-Identifier: GPL-2.0-only
"""Network namespaces: a named one with loopback up, the host's as a
stand-in, the kernel's TCP counters (/proc/net/snmp) of one or of every
namespace, and two namespaces joined through a delay line."""

import json
import os

from . import cleanup
from .constants import NFT_RULESET, WORKLOAD_DIST
from .system import run
from .workloads import Workload


class Netns:
    """A named network namespace with loopback up; deleted at cleanup."""

    def __init__(self, name):
        self.name = name
        run(["ip", "netns", "add", name])
        cleanup.add(self.delete, f"delete netns {name}")
        run(["ip", "-n", name, "link", "set", "lo", "up"])

    def exec_argv(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, input=None):
        return run(self.exec_argv(argv), input=input)

    def nft(self, ruleset):
        """Load an nftables ruleset into this namespace only; it disappears
        with the namespace."""
        self.run(["nft", "-f", "-"], input=ruleset)

    def set_sysctl(self, key, value):
        """Set a per-namespace sysctl; False if this kernel does not have it."""
        path = "/proc/sys/" + key.replace(".", "/")
        script = 'test -e "$1" || exit 3; echo "$2" > "$1"'
        proc = run(self.exec_argv(["sh", "-c", script, "sh", path, str(value)]),
                   check=False)
        if proc.returncode == 3:
            return False
        if proc.returncode != 0:
            raise RuntimeError(f"setting {key}={value} in {self.name}: {proc.stderr}")
        return True

    def read_snmp(self):
        return parse_snmp(self.run(["cat", "/proc/net/snmp"]).stdout)

    def delete(self):
        run(["ip", "netns", "delete", self.name], check=False)


def workload_netns(name):
    """A Netns where workload.py's client goes to plan: SYNs to its dropped
    port vanish (NFT_RULESET), and that connect retransmits its SYN once.

    With net.ipv4.tcp_syn_linear_timeouts (newer kernels, default 4) the
    first SYN retries come every 1 s instead of backing off, and
    TCP_SYNCNT=1 then gives two retransmits (0, 1, 2 s; timeout at 3 s) on
    this kernel. Turned off in this namespace so the count is the classic
    single retry; older kernels lack it and need nothing."""
    ns = Netns(name)
    ns.nft(NFT_RULESET)
    ns.set_sysctl("net.ipv4.tcp_syn_linear_timeouts", 0)
    return ns


SNMP_FIELDS = ("ActiveOpens", "PassiveOpens", "AttemptFails", "OutRsts",
               "RetransSegs")


def parse_snmp(text):
    """The Tcp: counters of /proc/net/snmp as a dict of ints.

    The file pairs a header line with a value line per protocol.
    """
    lines = [l.split() for l in text.splitlines() if l.startswith("Tcp:")]
    header, values = lines[0][1:], lines[1][1:]
    return {k: int(v) for k, v in zip(header, values)}


def snmp_delta(before, after):
    return {k: after[k] - before[k] for k in SNMP_FIELDS}


def machine_netns():
    """The inodes of the network namespaces processes are in now."""
    found = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                found.add(os.stat(f"/proc/{pid}/ns/net").st_ino)
            except OSError:
                pass  # gone meanwhile, or a kernel thread
    return found


def machine_snmp():
    """{network namespace inode: Tcp: counters} of every namespace a process
    is in: the whole machine's connects, other tests' included."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            ino = os.stat(f"/proc/{pid}/ns/net").st_ino
            if ino not in found:
                with open(f"/proc/{pid}/net/snmp") as f:
                    found[ino] = parse_snmp(f.read())
        except OSError:
            pass  # gone meanwhile, or a kernel thread
    return found


def machine_delta(before, after):
    """Summed counters of two machine_snmp() readings; a namespace made
    meanwhile counts from zero (one gone meanwhile cannot be counted)."""
    zero = dict.fromkeys(SNMP_FIELDS, 0)
    return {k: sum(counters[k] - before.get(ino, zero)[k] for ino, counters in after.items())
            for k in zero}


def successful_connects(before, after):
    """Outbound connects that completed, from two /proc/net/snmp readings."""
    return (after["ActiveOpens"] - before["ActiveOpens"]) \
        - (after["AttemptFails"] - before["AttemptFails"])


def host_snmp():
    """The Tcp: counters of /proc/net/snmp in this process's namespace."""
    with open("/proc/net/snmp") as f:
        return parse_snmp(f.read())




class DelayLine:
    """Two network namespaces joined through a userspace delay line.

    This kernel has no netem, so latency is made by hand: namespaces `a`
    (A_ADDR/24 on a0) and `b` (B_ADDR/24 on b0) each get one veth whose
    other end (wa, wb) sits in a private `wire` namespace, where the relay
    of workload_dist.py copies every frame from one end to the other after
    `delay` seconds. Round trips are then 2 * delay plus a fraction of a
    millisecond. The addresses exist only inside these namespaces and
    nothing touches the host's network. Neighbour entries are static, so
    the first handshake does not also wait for an ARP round trip.

    The relay runs in `cgroup`, stops by itself after `duration` seconds,
    and close() kills it and deletes the namespaces (idempotent; both are
    registered for cleanup as they are made).
    """

    A_ADDR = "10.200.0.1"
    B_ADDR = "10.200.0.2"

    def __init__(self, prefix, cgroup, delay=0.006, duration=20.0):
        self.namespaces, self.relay = [], None
        self.a, self.b, self.wire = (self._netns(f"{prefix}-{n}")
                                     for n in ("a", "b", "wire"))
        for ns, end, peer, addr in ((self.a, "wa", "a0", self.A_ADDR),
                                    (self.b, "wb", "b0", self.B_ADDR)):
            # Created from the wire namespace, so no name is ever
            # taken in the host's.
            self.wire.run(["ip", "link", "add", end, "type", "veth",
                           "peer", "name", peer, "netns", ns.name])
            ns.run(["ip", "addr", "add", f"{addr}/24", "dev", peer])
            ns.run(["ip", "link", "set", peer, "up"])
            self.wire.run(["ip", "link", "set", end, "up"])
        mac_a, mac_b = self._mac(self.a, "a0"), self._mac(self.b, "b0")
        self.a.run(["ip", "neigh", "replace", self.B_ADDR, "lladdr", mac_b,
                    "dev", "a0", "nud", "permanent"])
        self.b.run(["ip", "neigh", "replace", self.A_ADDR, "lladdr", mac_a,
                    "dev", "b0", "nud", "permanent"])
        self.relay = Workload(cgroup, self.wire, "relay", "--a", "wa",
                              "--b", "wb", "--delay", delay,
                              "--duration", duration,
                              "--deadline", int(duration) + 5,
                              script=WORKLOAD_DIST)
        self.relay.wait_for_line("ready", timeout=5)

    def _netns(self, name):
        ns = Netns(name)
        self.namespaces.append(ns)
        # No IPv6: no router solicitations or DAD frames on the wire.
        for key in ("net.ipv6.conf.all.disable_ipv6",
                    "net.ipv6.conf.default.disable_ipv6"):
            ns.set_sysctl(key, 1)
        return ns

    @staticmethod
    def _mac(ns, dev):
        return json.loads(ns.run(["ip", "-j", "link", "show", dev]).stdout)[0]["address"]

    def close(self):
        if self.relay is not None:
            self.relay.close()
        for ns in self.namespaces:
            ns.delete()
        self.namespaces = []


