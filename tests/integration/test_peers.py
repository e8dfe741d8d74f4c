#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: the peer-group families from real traffic, exactly.

Two network namespaces joined by a veth pair carry addresses in the
test's own ranges: the client's namespace 10.77.0.1 and fd77::1, the
server's 10.77.0.2 and fd77::2 plus 198.51.100.10, 192.0.2.10 and
2001:db8::10 on its loopback. Three cgroups: `client` connects to each
address (and to 127.0.0.2 and ::1 in its own namespace, where `local`
listens), `server` echoes. A --peer.config file names `lab`
(10.77.0.0/24), `db` (192.0.2.0/24, port PORT only) and `office`
(2001:db8::/32); the rest falls in the built-in groups. The counts of
every (cgroup, group) pair must be exact. Then: --peer.max-pairs=2 (the
overflow series, its self metric, sums equal to the per-cgroup families)
and bad config files (one line, exit 1).

Run as root:  EXPORTER=build/cgroup_tcp_exporter \\
              /usr/bin/python3 tests/integration/test_peers.py
About 15 s.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FAILURES, OPENED, OVERFLOW  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "workload_peers.py")
PORT, PORT2, LOCAL_PORT, CLOSED_PORT = 5101, 5102, 5103, 5104
K = 3000   # bytes each way per connection

P_OPENED = "cgroup_tcp_peer_connections_opened_total"
P_FAILURES = "cgroup_tcp_peer_connect_failures_total"
P_RETRANSMITS = "cgroup_tcp_peer_retransmits_total"
P_RESETS_SENT = "cgroup_tcp_peer_resets_sent_total"
P_RESETS_RECEIVED = "cgroup_tcp_peer_resets_received_total"
P_SENT = "cgroup_tcp_peer_sent_bytes_total"
P_RECEIVED = "cgroup_tcp_peer_received_bytes_total"
P_HANDSHAKE_COUNT = "cgroup_tcp_peer_handshake_duration_seconds_count"
P_RTT_COUNT = "cgroup_tcp_peer_rtt_seconds_count"
PAIRS_FULL = "cgroup_tcp_exporter_peer_pairs_full_events_total"

CONFIG = f"""groups:
  lab: {{cidrs: [10.77.0.0/24]}}
  db: {{cidrs: [192.0.2.0/24], ports: [{PORT}]}}
  office:
    cidrs: ['2001:db8::/32']
"""

# (address, port, connections) the client makes, and the group each is in.
PLAN = [("10.77.0.2", PORT, 3, "lab"),
        ("198.51.100.10", PORT, 2, "public"),
        ("192.0.2.10", PORT, 4, "db"),
        ("192.0.2.10", PORT2, 1, "public"),    # not db's port: the built-in group
        ("2001:db8::10", PORT, 2, "office"),
        ("fd77::2", PORT, 2, "private"),
        ("127.0.0.2", LOCAL_PORT, 2, "loopback"),
        ("::1", LOCAL_PORT, 1, "loopback")]
REFUSED = [("198.51.100.10", CLOSED_PORT, 3, "public")]
REASONS = ("refused", "timeout", "unreachable", "aborted", "other")


def pair_counts(samples, cgroup, peer):
    """The counters of one (cgroup, peer) pair; missing series read 0."""
    def v(name, **labels):
        x = harness.value(samples, name, cgroup=cgroup, peer=peer, **labels)
        return int(x) if float(x).is_integer() else x
    counts = {"out": v(P_OPENED, direction="outbound"),
              "in": v(P_OPENED, direction="inbound"),
              "retransmits": v(P_RETRANSMITS), "resets_sent": v(P_RESETS_SENT),
              "resets_received": v(P_RESETS_RECEIVED),
              "sent": v(P_SENT), "received": v(P_RECEIVED),
              "handshakes": v(P_HANDSHAKE_COUNT)}
    counts.update({r: v(P_FAILURES, reason=r) for r in REASONS})
    return counts


def blank():
    out = {"out": 0, "in": 0, "retransmits": 0, "resets_sent": 0, "resets_received": 0,
           "sent": 0, "received": 0, "handshakes": 0}
    out.update(dict.fromkeys(REASONS, 0))
    return out


def expected():
    """{(role, group): counts} of every pair the workload makes."""
    want = {}

    def add(role, group, **delta):
        counts = want.setdefault((role, group), blank())
        for k, n in delta.items():
            counts[k] += n
    for addr, port, n, group in PLAN:
        add("client", group, out=n, handshakes=n, sent=n * K, received=n * K)
        # Inbound connections are grouped by the client's address: the
        # IPv4 ones arrive at a dual-stack listener as ::ffff:10.77.0.1.
        if port == LOCAL_PORT:
            add("local", "loopback", **{"in": n, "handshakes": n, "sent": n * K,
                                        "received": n * K})
        else:
            source = "private" if ":" in addr else "lab"
            add("server", source, **{"in": n, "handshakes": n, "sent": n * K,
                                     "received": n * K})
    for addr, port, n, group in REFUSED:
        add("client", group, refused=n, resets_received=n)
    return want


def dump(map_id, key_format, value_format):
    """[(key, value)] of a BPF map, unpacked with struct formats (value
    None: not unpacked)."""
    out = json.loads(harness.run(["bpftool", "-j", "map", "dump", "id", str(map_id)]).stdout)
    rows = []
    for entry in out:
        key = struct.unpack(key_format, bytes(int(b, 16) for b in entry["key"]))
        value = entry["value"]
        if value_format:
            value = struct.unpack(value_format, bytes(int(b, 16) for b in value))[0]
        rows.append((key[0] if len(key) == 1 else key, value))
    return rows


def require_root():
    harness.require_root("needs root: creates cgroup2 children and network namespaces "
                         "and runs an exporter that loads BPF programs")


class PeerGroupsTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        require_root()
        cls.binary = harness.require_exporter()
        cls.run_id = f"ctcp-peers-{os.getpid()}"
        harness.cleanup.scope(cls)
        cls.make_network()
        cls.parent = harness.Cgroup.make(cls.run_id)
        cls.cgroups = {r: cls.parent.child(r) for r in ("client", "server", "local")}
        cls.config = tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="peers-")
        harness.cleanup.add(cls.config.close, "remove the peer config file")
        cls.config.write(CONFIG)
        cls.config.flush()
        cls.exporter = harness.Exporter(cls.binary, args=[f"--peer.config={cls.config.name}"])
        cls.exporter.start(ready_timeout=15)
        cls.summaries = cls.run_workload()
        cls.scrape = cls.wait_for(cls.exporter, lambda s: cls.observed(s) == expected())

    @classmethod
    def make_network(cls):
        a = cls.ns_a = harness.Netns(f"{cls.run_id}-a")
        b = cls.ns_b = harness.Netns(f"{cls.run_id}-b")
        harness.run(["ip", "-n", a.name, "link", "add", "a0", "type", "veth", "peer", "name",
                     "b0", "netns", b.name])
        for ns, dev, v4, v6 in ((a, "a0", "10.77.0.1/24", "fd77::1/64"),
                                (b, "b0", "10.77.0.2/24", "fd77::2/64")):
            ns.run(["ip", "addr", "add", v4, "dev", dev])
            ns.run(["ip", "addr", "add", v6, "dev", dev, "nodad"])
            ns.run(["ip", "link", "set", dev, "up"])
        for addr in ("198.51.100.10/32", "192.0.2.10/32", "2001:db8::10/128"):
            b.run(["ip", "addr", "add", addr, "dev", "lo"])
        a.run(["ip", "addr", "add", "127.0.0.2/8", "dev", "lo"])
        for prefix in ("198.51.100.0/24", "192.0.2.0/24"):
            a.run(["ip", "route", "add", prefix, "via", "10.77.0.2"])
        a.run(["ip", "-6", "route", "add", "2001:db8::/32", "via", "fd77::2"])

    @classmethod
    def run_workload(cls, client="client", exporter_wait=None):
        remote = sum(n for _, p, n, _ in PLAN if p != LOCAL_PORT)
        local = sum(n for _, p, n, _ in PLAN if p == LOCAL_PORT)
        server = harness.Workload(cls.cgroups["server"], cls.ns_b, "server", "--listen",
                                  f"[::]:{PORT},[::]:{PORT2}", "--accepts", remote,
                                  "--bytes", K, script=WORKLOAD)
        lserver = harness.Workload(cls.cgroups["local"], cls.ns_a, "server", "--listen",
                                   f"[::]:{LOCAL_PORT}", "--accepts", local, "--bytes", K,
                                   script=WORKLOAD)
        server.wait_for_line("ready", timeout=5)
        lserver.wait_for_line("ready", timeout=5)
        plan = ";".join(f"{a} {p} {n}" for a, p, n, _ in PLAN)
        refused = ";".join(f"{a} {p} {n}" for a, p, n, _ in REFUSED)
        c = harness.Workload(cls.cgroups[client], cls.ns_a, "client", "--plan", plan,
                             "--refused", refused, "--bytes", K, script=WORKLOAD)
        out = {"client": c.finish(timeout=30), "server": server.finish(timeout=10),
               "local": lserver.finish(timeout=10)}
        ok = (out["client"]["ok"] == remote + local and not out["client"]["errors"]
              and out["client"]["refused"] == sum(n for _, _, n, _ in REFUSED))
        if not ok:
            raise RuntimeError("workload did not go to plan:\n" + json.dumps(out, indent=1))
        return out

    @classmethod
    def label(cls, role):
        return cls.cgroups[role].label

    @classmethod
    def observed(cls, scrape):
        try:
            samples = harness.parse_samples(scrape.body)
        except Exception:
            return None
        seen = {}
        for name, labels, v in samples:
            if name.startswith("cgroup_tcp_peer_") and v:
                for role in cls.cgroups:
                    if labels.get("cgroup") == cls.label(role):
                        seen[(role, labels["peer"])] = None
        return {pair: pair_counts(samples, cls.label(pair[0]), pair[1]) for pair in seen}

    @staticmethod
    def wait_for(exporter, done, timeout=10):
        return harness.poll(exporter.scrape, done, timeout=timeout, interval=0.2)

    def test_1_pairs_exact(self):
        """Every (cgroup, group) pair the traffic made, with exact counts,
        and no other pair of these cgroups."""
        self.assertEqual(self.observed(self.scrape), expected(),
                         "\n" + "\n".join(l for l in self.scrape.body.splitlines()
                                          if self.run_id in l and "peer=" in l
                                          and "_bucket" not in l))

    def test_2_rtt_and_formats(self):
        """Each connection gave its peer an RTT sample (when it left
        ESTABLISHED); the peer series pass the format checks in text,
        OpenMetrics and protobuf."""
        samples = harness.parse_samples(self.scrape.body)
        for (role, group), counts in expected().items():
            rtt = harness.value(samples, P_RTT_COUNT, cgroup=self.label(role), peer=group)
            self.assertGreaterEqual(rtt, counts["out"] + counts["in"], (role, group))
        self.assertEqual(harness.check_exposition(self.scrape.body), [])
        self.assertEqual(harness.check_histograms(self.scrape.body), [])
        scraper = harness.KeepAliveScraper(self.exporter)
        self.addCleanup(scraper.close)
        om = scraper.scrape({"Accept": harness.OPENMETRICS})
        self.assertEqual(om.content_type, harness.OPENMETRICS)
        self.assertEqual(harness.check_openmetrics(om.body), [])
        proto = scraper.scrape({"Accept": harness.PROMETHEUS_NATIVE_ACCEPT})
        self.assertEqual(proto.content_type, harness.PROTOBUF)

    def test_3_pair_limit(self):
        """--peer.max-pairs=2: at most two pairs by name, the rest in the
        overflow series and its self metric, and each peer family's sum over
        all series equal to its per-cgroup family's (exact, host noise
        included: both count the same events)."""
        exporter = harness.Exporter(self.binary, args=[f"--peer.config={self.config.name}",
                                                       "--peer.max-pairs=2"])
        exporter.start(ready_timeout=15)
        self.addCleanup(exporter.close)
        body0 = exporter.scrape().body
        self.run_workload()

        def totals(body):
            s = harness.parse_samples(body)
            return {"opened": sum(v for n, _, v in s if n == OPENED),
                    "peer_opened": sum(v for n, _, v in s if n == P_OPENED),
                    "failures": sum(v for n, _, v in s if n == FAILURES),
                    "peer_failures": sum(v for n, _, v in s if n == P_FAILURES)}
        t0 = totals(body0)
        want = sum(n for _, _, n, _ in PLAN)

        def settled(scrape):
            t = totals(scrape.body)
            return (t["peer_opened"] - t0["peer_opened"] >= 2 * want
                    and t["opened"] == t["peer_opened"] and t["failures"] == t["peer_failures"])
        scrape = self.wait_for(exporter, settled)
        t = totals(scrape.body)
        samples = harness.parse_samples(scrape.body)
        pairs = {(l["cgroup"], l["peer"]) for n, l, _ in samples if n == P_OPENED}
        named = pairs - {(OVERFLOW, OVERFLOW)}
        overflow = harness.value(samples, P_OPENED, cgroup=OVERFLOW, peer=OVERFLOW)
        full = harness.scalar(scrape.body, PAIRS_FULL)
        harness.note(f"max-pairs 2: pairs shown {sorted(named)}; overflow opened "
                     f"{overflow:g}; pairs_full {full:g}; totals {t}")
        self.assertLessEqual(len(named), 2, "pairs shown by name")
        self.assertLessEqual(harness.scalar(scrape.body, "cgroup_tcp_exporter_peer_pairs"), 3,
                             "pairs in the kernel: two and the overflow pair")
        self.assertEqual((t["opened"], t["failures"]), (t["peer_opened"], t["peer_failures"]),
                         "per-cgroup and per-peer sums")
        self.assertGreater(overflow, 0, "overflow series")
        self.assertGreaterEqual(full, overflow, f"{PAIRS_FULL} vs the overflow's opened")

    def test_5_pairs_freed_with_their_cgroup(self):
        """Once `local` is removed, its pair series leave
        the scrape with its other series, and its slot's pairs leave the
        kernel map before the slot is handed to another cgroup."""
        maps = harness.held_bpf_maps(self.exporter.proc.pid)
        cgroup_id = os.stat(self.cgroups["local"].path).st_ino
        slot = next(v for k, v in dump(maps["ctcp_slots"], "<Q", "<I") if k == cgroup_id)
        self.assertIn(slot, {k[0] for k, _ in dump(maps["ctcp_pairs"], "<II", None)})
        self.cgroups["local"].remove()
        label = self.label("local")

        def gone(scrape):
            pairs = [k for k, _ in dump(maps["ctcp_pairs"], "<II", None)]
            owners = {v for _, v in dump(maps["ctcp_slots"], "<Q", "<I")}
            return (f'cgroup="{label}"' not in scrape.body
                    and all(k[0] != slot or slot in owners for k in pairs))
        scrape = harness.poll(self.exporter.scrape, gone, timeout=10, interval=0.5)
        self.assertTrue(gone(scrape), f"{label}'s series or slot {slot}'s pairs remain")
        pairs = harness.value(harness.parse_samples(scrape.body), "cgroup_tcp_exporter_peer_pairs")
        self.assertGreaterEqual(pairs, 1, "pairs in the kernel (the overflow pair at least)")

    def test_4_process_names(self):
        """--process.attribution: two programs that connect and one that
        listens, all in one cgroup, each counted under its own command name
        (accepted connections under the listener's); with
        --process.max-per-cgroup=2 the third name goes to comm="(other)"."""
        duo = self.parent.child("duo")
        exporters = {limit: harness.Exporter(self.binary, args=[
            "--process.attribution", f"--process.max-per-cgroup={limit}"]) for limit in (8, 2)}
        for e in exporters.values():
            e.start(ready_timeout=15)
            self.addCleanup(e.close)
        server = harness.Workload(duo, self.ns_a, "server", "--listen", f"[::]:{PORT2}",
                                  "--accepts", 5, "--bytes", K, "--comm", "alpha-srv",
                                  script=WORKLOAD)
        server.wait_for_line("ready", timeout=5)
        for comm, n, refused in (("beta-cli", 3, 2), ("gamma-cli", 2, 0)):
            c = harness.Workload(duo, self.ns_a, "client", "--plan", f"127.0.0.1 {PORT2} {n}",
                                 "--refused", f"127.0.0.1 {CLOSED_PORT} {refused}",
                                 "--bytes", K, "--comm", comm, script=WORKLOAD)
            summary = c.finish(timeout=20)
            self.assertEqual((summary["ok"], summary["refused"], summary["errors"]),
                             (n, refused, []), comm)
        server.finish(timeout=10)
        blank = {"out": 0, "in": 0, "refused": 0}
        named = {"alpha-srv": dict(blank, **{"in": 5}),
                 "beta-cli": dict(blank, out=3, refused=2),
                 "gamma-cli": dict(blank, out=2)}
        want = {8: named,
                2: {"alpha-srv": named["alpha-srv"], "beta-cli": named["beta-cli"],
                    "(other)": named["gamma-cli"]}}

        def observed(scrape):
            samples = harness.parse_samples(scrape.body)
            comms = {l["comm"] for n, l, _ in samples
                     if n.startswith("cgroup_tcp_process_") and l["cgroup"] == duo.label}
            return {c: {"out": harness.value(samples, "cgroup_tcp_process_connections_opened_total",
                                             cgroup=duo.label, comm=c, direction="outbound"),
                        "in": harness.value(samples, "cgroup_tcp_process_connections_opened_total",
                                            cgroup=duo.label, comm=c, direction="inbound"),
                        "refused": harness.value(samples,
                                                 "cgroup_tcp_process_connect_failures_total",
                                                 cgroup=duo.label, comm=c, reason="refused")}
                    for c in comms}
        for limit, e in exporters.items():
            scrape = self.wait_for(e, lambda s: observed(s) == want[limit])
            self.assertEqual(observed(scrape), want[limit], f"--process.max-per-cgroup={limit}")

    def test_6_bad_config(self):
        """A bad file: one line on stderr naming the file and the line,
        exit status 1, nothing loaded."""
        cases = {"groups:\n  lab: {cidrs: [10.77.0.0/33]}\n":
                 "line 2: cidrs: '10.77.0.0/33' is not an IPv4 or IPv6 address or CIDR",
                 "groups:\n  lab: {cidr: [10.0.0.0/8]}\n":
                 "line 2: group 'lab': unknown key 'cidr' (want cidrs, ports)"}
        for text, want in cases.items():
            with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
                f.write(text)
                f.flush()
                proc = subprocess.run([self.binary, "--web.listen-address=127.0.0.1:0",
                                       f"--peer.config={f.name}"], capture_output=True,
                                      text=True, timeout=10)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertEqual(proc.stderr.splitlines(),
                             [f"cgroup_tcp_exporter: error: peer config file {f.name}: {want}"])


if __name__ == "__main__":
    harness.main()
