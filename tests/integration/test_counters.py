#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: exact per-cgroup TCP counters from real traffic.

Two test "containers" (cgroup2 children `client` and `server` sharing one
private network namespace) run a known TCP workload on 127.0.0.1 while the
exporter runs on the host. The test then checks the exporter's counters for
both cgroups exactly, cross-checks them against the namespace's
/proc/net/snmp, checks the exposition format (promtool, duplicates, family
contiguity, label escaping with odd cgroup names) and that SIGTERM leaves no
BPF programs or maps behind.

Run as root:  EXPORTER=build/cgroup_tcp_exporter \
              /usr/bin/python3 tests/integration/test_counters.py
PROMTOOL names promtool (default `promtool`). Without root the test is
skipped, or fails when CI=true.

The exporter runs with --cgroup.max-per-cpu=0, so that these exact counts
check the shared I/O counters; test_distributions checks the per-CPU ones.

setUpClass drives all the traffic once (about 4 s); the test methods only
judge what it recorded. They are numbered because unittest runs methods in
name order and the shutdown check must come last.
"""

import errno
import json
import os
import sys
import unittest

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (CLOSED, FAILURES, OPENED, PORTS, RECEIVED_BYTES,  # noqa: E402
                     RESETS_RECEIVED, RESETS_SENT, RETRANSMITS, SENT_BYTES, TEXT)

N = 20      # successful connections client -> server
K = 10000   # bytes each way per connection
M = 7       # connects refused (nothing listens)
ODD_NAME = 'odd "name" \\ é'
NEWLINE_NAME = "new\nline"

FAMILIES = (OPENED, FAILURES, CLOSED, RETRANSMITS, RESETS_SENT,
            RESETS_RECEIVED, SENT_BYTES, RECEIVED_BYTES)
REASONS = ("refused", "timeout", "unreachable", "aborted", "other")

# (readable key, sample name, labels besides `cgroup`)
COUNTERS = (
    [("opened{outbound}", OPENED, {"direction": "outbound"}),
     ("opened{inbound}", OPENED, {"direction": "inbound"})]
    + [(f"failures{{{r}}}", FAILURES, {"reason": r}) for r in REASONS]
    + [("closed{outbound}", CLOSED, {"direction": "outbound"}),
       ("closed{inbound}", CLOSED, {"direction": "inbound"}),
       ("resets_sent", RESETS_SENT, {}),
       ("resets_received", RESETS_RECEIVED, {}),
       ("retransmits", RETRANSMITS, {}),
       ("sent_bytes", SENT_BYTES, {}),
       ("received_bytes", RECEIVED_BYTES, {})])


def zeros():
    return {key: 0 for key, _, _ in COUNTERS}


def expected_client():
    want = zeros()
    want.update({
        # The reset-port connect is established too, hence N + 1.
        "opened{outbound}": N + 1,
        "failures{refused}": M,
        "failures{timeout}": 1,
        "closed{outbound}": N + 1,
        "resets_sent": 1,          # SO_LINGER 0 close
        "resets_received": M,      # one RST per refused connect
        "retransmits": 1,          # the dropped connect's one SYN retry
        "sent_bytes": N * K,
        "received_bytes": N * K,
    })
    return want


def expected_server():
    want = zeros()
    want.update({
        "opened{inbound}": N + 1,
        "closed{inbound}": N + 1,
        "resets_received": 1,      # the client's SO_LINGER 0 close
        "sent_bytes": N * K,
        "received_bytes": N * K,
    })
    return want


def expected_pair():
    """The odd-named cgroup's single self-connection."""
    want = zeros()
    want.update({"opened{outbound}": 1, "opened{inbound}": 1,
                 "closed{outbound}": 1, "closed{inbound}": 1,
                 "sent_bytes": 2 * K, "received_bytes": 2 * K})
    return want


def observed(samples, label):
    """The COUNTERS of one cgroup label, missing series read as 0.

    Values become ints when integral so failure diffs read 21, not 21.0.
    """
    counts = {}
    for key, name, labels in COUNTERS:
        v = harness.value(samples, name, cgroup=label, **labels)
        counts[key] = int(v) if float(v).is_integer() else v
    return counts


def failures(counts):
    return sum(counts[f"failures{{{r}}}"] for r in REASONS)


def unattributed_resets(samples):
    return harness.value(samples, RESETS_SENT, cgroup="")


def safe_samples(scrape):
    """Parsed samples, or None if the body does not parse (polling only)."""
    try:
        return harness.parse_samples(scrape.body) if scrape.status == 200 else None
    except Exception:
        return None


def require_root():
    harness.require_root(("needs root: creates cgroup2 children and network namespaces "
              "and runs an exporter that loads BPF programs"))


require_exporter = harness.require_exporter


class CgroupTcpCountersTest(unittest.TestCase):
    maxDiff = None  # show whole counter dicts on failure

    # ------------------------------------------------------------ setup

    @classmethod
    def setUpClass(cls):
        require_root()
        binary = require_exporter()
        cls.run_id = f"ctcp-test-{os.getpid()}"
        cls.workload_json = {}
        cls.snmp = {}
        harness.cleanup.scope(cls)
        cls.drive_traffic(binary)

    @classmethod
    def drive_traffic(cls, binary):
        cls.make_containers()
        cls.start_exporter(binary)
        cls.snmp_before = cls.netns.read_snmp()
        cls.baseline = cls.exporter.scrape()
        if cls.baseline.status != 200:
            raise RuntimeError(f"baseline scrape answered {cls.baseline.status}")

        cls.run_main_workload()
        cls.scrape = cls.wait_for_main_counters()
        # After the counters settled; nothing else runs in the namespace
        # until this is read, so the deltas belong to the main workload.
        cls.snmp = harness.snmp_delta(cls.snmp_before, cls.netns.read_snmp())

        cls.run_odd_name_workloads()
        cls.final = cls.wait_for_odd_counters()
        # Programs and maps are loaded at start; look again in case some
        # are created lazily.
        progs, maps = harness.held_bpf_objects(cls.exporter.proc.pid)
        cls.bpf_progs |= progs
        cls.bpf_maps |= maps

    @classmethod
    def make_containers(cls):
        cls.parent = harness.Cgroup.make(cls.run_id)
        cls.client = cls.parent.child("client")
        cls.server = cls.parent.child("server")
        cls.odd = cls.parent.child(ODD_NAME)
        try:
            cls.newline = cls.parent.child(NEWLINE_NAME)
            cls.newline_skip = None
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
            # cgroup_mkdir() refuses "\n": it would break /proc/PID/cgroup.
            cls.newline = None
            cls.newline_skip = "kernel rejects a newline in a cgroup name (EINVAL)"
        cls.netns = harness.workload_netns(cls.run_id)

    @classmethod
    def start_exporter(cls, binary):
        # Process attribution on, so that every family of the catalogue is served.
        cls.exporter = harness.Exporter(binary, args=["--cgroup.max-per-cpu=0",
                                                      "--process.attribution"])
        cls.exporter.start(ready_timeout=15)
        # What this exporter holds: other loaders may come and go meanwhile.
        cls.bpf_progs, cls.bpf_maps = harness.held_bpf_objects(cls.exporter.proc.pid)

    @classmethod
    def workload_args(cls):
        return harness.flags(**PORTS, conns=N, bytes=K, refused=M)

    @classmethod
    def run_main_workload(cls):
        server = harness.Workload(cls.server, cls.netns, "server", *cls.workload_args())
        server.wait_for_line("ready", timeout=5)
        client = harness.Workload(cls.client, cls.netns, "client", *cls.workload_args())
        cls.workload_json["client"] = client.finish(timeout=20)
        cls.workload_json["server"] = server.finish(timeout=5)
        cls.check_workload_plan()

    @classmethod
    def check_workload_plan(cls):
        """The workload must have done what it meant to before the exporter
        is judged on it."""
        c, s = cls.workload_json["client"], cls.workload_json["server"]
        ok = (c["ok"] == N and c["refused"] == M and c["timed_out"] == 1
              and c["resets_sent"] == 1 and not c["errors"]
              and c["bytes_sent"] == N * K and c["bytes_received"] == N * K
              and s["accepted"] == N and s["reset_accepted"] == 1
              and s["resets_seen"] == 1 and not s["reset_errors"]
              and s["bytes_sent"] == N * K and s["bytes_received"] == N * K)
        if not ok:
            raise RuntimeError("workload did not go to plan:\n"
                               + json.dumps(cls.workload_json, indent=1))

    @classmethod
    def wait_for_main_counters(cls):
        """Scrape until both cgroups show the expected values (close
        transitions can land a few ms after the processes exit); 10 s max,
        then the tests report whatever the last scrape said."""
        before = unattributed_resets(safe_samples(cls.baseline) or [])

        def settled(scrape):
            samples = safe_samples(scrape)
            return (samples is not None
                    and observed(samples, cls.client.label) == expected_client()
                    and observed(samples, cls.server.label) == expected_server()
                    and unattributed_resets(samples) - before >= M)

        return harness.poll(cls.exporter.scrape, settled, timeout=10, interval=0.2)

    @classmethod
    def run_odd_name_workloads(cls):
        for cgroup in filter(None, (cls.odd, cls.newline)):
            pair = harness.Workload(cgroup, cls.netns, "pair", "--bytes", K)
            cls.workload_json[cgroup.label] = pair.finish(timeout=10)

    @classmethod
    def wait_for_odd_counters(cls):
        labels = [c.label for c in (cls.odd, cls.newline) if c]

        def settled(scrape):
            samples = safe_samples(scrape)
            return samples is not None and all(
                observed(samples, label) == expected_pair() for label in labels)

        return harness.poll(cls.exporter.scrape, settled, timeout=5, interval=0.2)

    # ------------------------------------------------------------ helpers

    @classmethod
    def diagnostics(cls, scrape=None):
        scrape = scrape or cls.scrape
        lines = [l for l in scrape.body.splitlines()
                 if cls.run_id in l or 'cgroup=""' in l]
        return "\n".join([
            "",
            "--- workload JSON ---",
            json.dumps(cls.workload_json, indent=1, sort_keys=True),
            "--- /proc/net/snmp Tcp deltas in the netns ---",
            json.dumps(cls.snmp, sort_keys=True),
            f"--- scraped lines for {cls.run_id} and cgroup=\"\" ---",
            *lines,
            "--- exporter stderr (tail) ---",
            cls.exporter.stderr(),
        ])

    def samples(self, scrape=None):
        scrape = scrape or self.scrape
        self.assertEqual(scrape.status, 200, f"scrape status\n{scrape.body[:2000]}")
        try:
            return harness.parse_samples(scrape.body)
        except Exception as e:
            self.fail(f"prometheus_client cannot parse the body: {e}\n"
                      f"{scrape.body[:4000]}")

    def assert_all_families(self, samples, label):
        """An active cgroup gets every family, zeros included."""
        missing = [f for f in FAMILIES
                   if not harness.has_series(samples, f, cgroup=label)]
        self.assertEqual(missing, [], f"families missing for cgroup {label!r}"
                         + self.diagnostics())

    # ------------------------------------------------------------ tests

    def test_0_workload_and_baseline(self):
        """The kernel saw the planned traffic, and the new cgroups started
        at zero."""
        plan = {"ActiveOpens": N + M + 2, "PassiveOpens": N + 1,
                "AttemptFails": M + 1, "RetransSegs": 1, "OutRsts": M + 1}
        self.assertEqual(self.snmp, plan, "netns /proc/net/snmp deltas differ "
                         "from the workload's plan (environment, not exporter)"
                         + self.diagnostics())
        labels = (self.client.label, self.server.label)
        nonzero = [(n, l, v) for n, l, v in self.samples(self.baseline)
                   if l.get("cgroup") in labels and v != 0]
        self.assertEqual(nonzero, [], "baseline scrape has non-zero series "
                         "for cgroups that had no traffic yet")

    def test_1_client_counters(self):
        samples = self.samples()
        self.assertEqual(observed(samples, self.client.label), expected_client(),
                         f"client cgroup {self.client.label}" + self.diagnostics())
        self.assert_all_families(samples, self.client.label)

    def test_2_server_counters(self):
        samples = self.samples()
        self.assertEqual(observed(samples, self.server.label), expected_server(),
                         f"server cgroup {self.server.label}" + self.diagnostics())
        self.assert_all_families(samples, self.server.label)

    def test_3_unattributed_resets(self):
        """The RSTs answering connects to a closed port have no socket, so
        they land in cgroup=""."""
        before = unattributed_resets(self.samples(self.baseline))
        after = unattributed_resets(self.samples())
        self.assertGreaterEqual(after - before, M,
                                f'resets_sent{{cgroup=""}} went {before} -> {after}'
                                + self.diagnostics())

    def test_4_snmp_cross_check(self):
        """The exporter's view of the namespace agrees with the kernel's own
        counters (every socket in the netns belongs to the two cgroups)."""
        samples = self.samples()
        c = observed(samples, self.client.label)
        s = observed(samples, self.server.label)
        from_exporter = {
            "ActiveOpens": c["opened{outbound}"] + s["opened{outbound}"]
                           + failures(c) + failures(s),
            "PassiveOpens": c["opened{inbound}"] + s["opened{inbound}"],
            "AttemptFails": failures(c) + failures(s),
            "RetransSegs": c["retransmits"] + s["retransmits"],
            # + M: the kernel's RSTs for the refused connects (no socket).
            "OutRsts": c["resets_sent"] + s["resets_sent"] + M,
        }
        self.assertEqual(from_exporter, self.snmp,
                         "exporter-derived totals vs netns /proc/net/snmp deltas"
                         + self.diagnostics())

    def test_5_label_escaping(self):
        """A cgroup named with a quote, a backslash, a space and UTF-8 comes
        back as the exact path after escaping and parsing."""
        samples = self.samples(self.final)
        labels = {l.get("cgroup") for _, l, _ in samples}
        self.assertIn(self.odd.label, labels,
                      f"no series with cgroup={self.odd.label!r}"
                      + self.diagnostics(self.final))
        self.assertEqual(observed(samples, self.odd.label), expected_pair(),
                         self.diagnostics(self.final))

    def test_5_label_escaping_newline(self):
        if self.newline is None:
            self.skipTest(self.newline_skip)
        samples = self.samples(self.final)
        self.assertEqual(observed(samples, self.newline.label), expected_pair(),
                         self.diagnostics(self.final))

    def test_6_exposition_rules(self):
        """HELP/TYPE per family, contiguous families, no duplicate series,
        on a body that includes the odd cgroup names."""
        scrape = self.exporter.scrape()
        self.assertEqual(scrape.status, 200)
        self.assertEqual(scrape.content_type, TEXT)
        try:
            scrape.raw.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail(f"body is not valid UTF-8: {e}")
        problems = harness.check_exposition(scrape.body)
        problems += harness.check_histograms(scrape.body)
        self.assertEqual(problems, [], "exposition problems:\n" + "\n".join(problems))

    def test_7_promtool(self):
        promtool = os.environ.get("PROMTOOL", "promtool")
        scrape = self.exporter.scrape()
        try:
            rc, output = harness.promtool_check(promtool, scrape.body)
        except FileNotFoundError:
            self.fail(f"promtool not found ({promtool}); set PROMTOOL")
        self.assertEqual(rc, 0, f"`{promtool} check metrics` exited {rc}:\n{output}")

    def test_8_families_match_catalogue(self):
        """The scrape serves exactly the families of the catalogue (as the
        `metrics-table` generator prints them), and the names this test
        asserts on are among them."""
        table = os.environ.get("METRICS_TABLE")
        if not table:
            self.skipTest("METRICS_TABLE is not set (meson sets it)")
        rows = harness.run([table]).stdout.splitlines()
        catalogue = {line.split("`")[1] for line in rows if line.startswith("| `")}
        scrape = self.exporter.scrape()
        served = {line.split()[2] for line in scrape.body.splitlines()
                  if line.startswith("# TYPE ")}
        self.assertEqual(served, catalogue)
        self.assertLessEqual(set(FAMILIES), catalogue)

    def test_9_shutdown_releases_bpf_objects(self):
        """Last (by name): SIGTERM, exit 0, and every BPF program and map
        the exporter held is gone."""
        rc = self.exporter.stop(timeout=5)
        self.assertEqual(rc, 0, f"exit code after SIGTERM: {rc} (None: still "
                         f"running 5 s later, killed)\n{self.exporter.stderr()}")
        self.assertTrue(self.bpf_progs, "saw no ctcp_ BPF programs while the "
                        "exporter ran, so the release check would prove nothing")

        # Freeing is asynchronous in places (RCU); give it a moment.
        def leftovers():
            progs, maps = harness.bpf_objects()
            return progs & self.bpf_progs, maps & self.bpf_maps

        progs, maps = harness.poll(leftovers, lambda r: not r[0] and not r[1],
                                   timeout=3, interval=0.1)
        self.assertEqual((sorted(progs), sorted(maps)), ([], []),
                         "BPF program ids / map ids still loaded after exit")


if __name__ == "__main__":
    harness.main()
