#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: native histograms over the protobuf format, end to end.

- A known workload (connections sending known sizes, held known times) in a
  test cgroup and network namespace; two real Prometheus servers scrape the
  exporter every second: one with --enable-feature=native-histograms (it
  asks for protobuf first), one without (it gets text).
- On the native one, for every histogram series of the test cgroups:
  histogram_count and histogram_sum equal the exporter's text _count and
  _sum; every native bucket above the first classic bound holds exactly
  the classic buckets' difference, the buckets below it and the zero
  bucket add up to the first classic bucket; histogram_quantile equals the
  classic histogram_quantile of the other Prometheus wherever both read the
  same bucket (not the first classic bucket, which merges native ones, nor
  +Inf). The I/O sizes' counts are the workload's calls.
- The classic Prometheus has the _bucket series and no native histogram;
  the native one no _bucket series.
- Series per cgroup, counted by Prometheus itself: at most 40 native (30),
  and the classic count (210), printed.
- protoc --decode_raw, which knows nothing of the exporter's .proto, reads a
  protobuf scrape: every family of the text format, in its order, with the
  published field numbers: names, types, labels, schema 0, the zero
  threshold of each family's bucket unit, a span on every histogram, deltas
  that add up to the count.

Run as root:  EXPORTER=build/cgroup_tcp_exporter PROMETHEUS=$(which prometheus) \\
              /usr/bin/python3 tests/integration/test_native.py
Skips without root (exit 77), fails instead when CI=true. About 30 s.
"""

import json
import math
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HISTOGRAMS = {  # family: the bucket unit's power of two (zero threshold)
    harness.HANDSHAKE: -20, harness.LIFETIME: -10, harness.RTT: -20, harness.IO_SIZE: 0}
FIRST_LE = {harness.HANDSHAKE: 2.0 ** -17, harness.LIFETIME: 2.0 ** -10,
            harness.RTT: 2.0 ** -17, harness.IO_SIZE: 1.0}
PORT = 5301
CONNS = 4
SIZES = "1,100x3,1000x5,5000x2,70000"
HOLDS = "0.01,0.05,0.3"
QUANTILES = (0.25, 0.5, 0.75, 0.9, 0.99)
SERIES_BUDGET = 40
# MetricType of the format.
TYPES = {"counter": 0, "gauge": 1, "histogram": 4}


def selector(labels):
    return "{" + ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items())) + "}"


class NativeHistogramTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        harness.require_root(f"{harness.NEEDS_ROOT}: runs an exporter that loads BPF programs")
        binary = harness.require_exporter()
        prometheus = harness.require_tool("PROMETHEUS", "prometheus")
        cls.protoc = harness.require_tool("PROTOC", "protoc")
        run_id = f"ctcp-native-{os.getpid()}"
        harness.cleanup.scope(cls)
        parent = harness.Cgroup.make(run_id)
        cls.client, cls.server = parent.child("client"), parent.child("server")
        cls.netns = harness.Netns(run_id)
        cls.exp = harness.Exporter(binary)
        cls.exp.start()
        target = f"127.0.0.1:{cls.exp.port}"
        cls.native = harness.Prometheus(prometheus, target,
                                        args=["--enable-feature=native-histograms"])
        cls.classic = harness.Prometheus(prometheus, target)
        cls.native.wait_ready()
        cls.classic.wait_ready()
        cls.run_workload()

    @classmethod
    def run_workload(cls):
        srv = harness.Workload(cls.server, cls.netns, "server", "--port", PORT, "--conns",
                               CONNS, "--sizes", SIZES, script=harness.WORKLOAD_DIST)
        srv.wait_for_line("ready", timeout=5)
        cli = harness.Workload(cls.client, cls.netns, "io", "--port", PORT, "--conns", CONNS,
                               "--sizes", SIZES, "--holds", HOLDS,
                               script=harness.WORKLOAD_DIST)
        cls.calls = cli.finish(timeout=20)["send_calls"]
        srv.finish(timeout=5)
        total = sum(cls.calls)

        def settled(samples):
            return (harness.value(samples, harness.SENT_BYTES, cgroup=cls.client.label) == total
                    and harness.value(samples, harness.CLOSED, cgroup=cls.server.label,
                                      direction="inbound") == CONNS
                    and harness.value(samples, harness.CLOSED, cgroup=cls.client.label,
                                      direction="outbound") == CONNS)

        cls.samples = harness.poll(lambda: harness.parse_samples(cls.exp.scrape().body),
                                   settled, 10)
        if not settled(cls.samples):
            raise RuntimeError("the workload never showed in the exporter")
        # Nothing moves in the test cgroups any more: wait until both
        # servers have scraped the final values.
        sent = f'{harness.SENT_BYTES}{{cgroup={json.dumps(cls.client.label)}}}'
        for prom in (cls.native, cls.classic):
            value = harness.poll(lambda: prom.scalar(sent), lambda v: v == total, 20, 0.25)
            if value != total:
                raise RuntimeError(f"{sent} = {value}, want {total}\n{prom.log()}"
                                   f"\n{cls.exp.stderr()}")
        # One scrape interval more: the last scrape holds every family.
        harness.poll(lambda: None, lambda v: False, 1.5)

    def series(self):
        """Every histogram series of the test cgroups: (family, labels)."""
        out = []
        for cgroup in (self.client, self.server):
            for family in HISTOGRAMS:
                keys = {tuple(sorted((k, v) for k, v in l.items() if k != "le"))
                        for n, l, _ in self.samples
                        if n == family + "_bucket" and l.get("cgroup") == cgroup.label}
                out += [(family, dict(k)) for k in sorted(keys)]
        return out

    def native_histogram(self, family, labels):
        result = self.native.api("/api/v1/query", query=family + selector(labels))["result"]
        self.assertEqual(len(result), 1, f"{family}{labels}: {result}")
        self.assertIn("histogram", result[0], f"{family}{labels} is not native: {result}")
        return result[0]["histogram"][1]

    def test_count_sum_and_buckets(self):
        checked = 0
        for family, labels in self.series():
            with self.subTest(family=family, **labels):
                text = harness.histogram(self.samples, family, **labels)
                sel = family + selector(labels)
                self.assertEqual(self.native.scalar(f"histogram_count({sel})"), text["count"])
                self.assertEqual(self.native.scalar(f"histogram_sum({sel})"), text["sum"])
                h = self.native_histogram(family, labels)
                classic = text["buckets"]
                first = FIRST_LE[family]
                below = 0
                for _, lower, upper, count in h.get("buckets", []):
                    lower, upper, count = float(lower), float(upper), float(count)
                    if upper <= first:
                        below += count
                        continue
                    self.assertIn(upper, classic, f"native bucket ({lower}, {upper}]")
                    self.assertEqual(count, classic[upper] - classic[lower],
                                     f"native bucket ({lower}, {upper}]")
                    checked += 1
                self.assertEqual(below, classic[first], "zero bucket and those below "
                                 f"le={first}: {h}")
        self.assertGreater(checked, 10, "native buckets compared")

    def test_io_counts_are_the_workload(self):
        for cgroup, op in ((self.client, "send"), (self.server, "receive")):
            sel = harness.IO_SIZE + selector({"cgroup": cgroup.label, "op": op})
            self.assertEqual(self.native.scalar(f"histogram_count({sel})"), len(self.calls))
            self.assertEqual(self.native.scalar(f"histogram_sum({sel})"), sum(self.calls))

    def test_quantiles_equal_classic(self):
        compared = 0
        for family, labels in self.series():
            text = harness.histogram(self.samples, family, **labels)
            bounds = [le for le in text["buckets"] if le != math.inf]
            for q in QUANTILES:
                rank = q * text["count"]
                if not text["count"] or not (text["buckets"][bounds[0]] < rank
                                             <= text["buckets"][bounds[-1]]):
                    continue
                with self.subTest(family=family, q=q, **labels):
                    native = self.native.scalar(
                        f"histogram_quantile({q}, {family}{selector(labels)})")
                    classic = self.classic.scalar(
                        f"histogram_quantile({q}, {family}_bucket{selector(labels)})")
                    self.assertEqual(native, classic)
                    compared += 1
        self.assertGreaterEqual(compared, 10, "quantiles compared")

    def test_classic_server_gets_text(self):
        sel = harness.IO_SIZE + selector({"cgroup": self.client.label, "op": "send"})
        self.assertEqual(self.classic.query(harness.IO_SIZE + "_bucket" + selector(
            {"cgroup": self.client.label, "op": "send", "le": "+Inf"})),
            [(dict(__name__=harness.IO_SIZE + "_bucket", cgroup=self.client.label, op="send",
                   le="+Inf", instance=f"127.0.0.1:{self.exp.port}", job="ctcp"),
              len(self.calls))])
        result = self.classic.api("/api/v1/query", query=sel)["result"]
        self.assertEqual(result, [], "the classic server has no native histogram")
        self.assertEqual(self.native.query(harness.IO_SIZE + "_bucket"), [],
                         "the native server ingests no classic buckets")
        for prom in (self.native, self.classic):
            target = prom.target()
            self.assertEqual((target["health"], target["lastError"]), ("up", ""))

    def test_series_budget(self):
        """The per-cgroup families within the budget; the peer families
        (one pair here: the client's loopback peer) a separate dimension of
        14 series per (cgroup, group) pair natively, 62 classic."""
        expr = ('count by (cgroup) ({__name__=~"cgroup_tcp_.*",__name__!~"cgroup_tcp_peer_.*",'
                'cgroup=%s})')
        peer_expr = 'count by (cgroup) ({__name__=~"cgroup_tcp_peer_.*",cgroup=%s})'
        counts, peers = {}, {}
        for name, prom in (("native", self.native), ("classic", self.classic)):
            counts[name] = prom.scalar(expr % json.dumps(self.client.label))
            peers[name] = prom.scalar(peer_expr % json.dumps(self.client.label))
        print(f"\n    series per cgroup: native {counts['native']:g}, "
              f"classic {counts['classic']:g}; per (cgroup, peer group) pair: native "
              f"{peers['native']:g}, classic {peers['classic']:g}", file=sys.stderr)
        self.assertLessEqual(counts["native"], SERIES_BUDGET)
        self.assertEqual((counts["native"], counts["classic"]), (30, 210))
        self.assertEqual((peers["native"], peers["classic"]), (14, 62))

    def test_wire_format_read_by_protoc(self):
        resp = self.exp.get(headers={"Accept": harness.PROMETHEUS_NATIVE_ACCEPT})
        self.assertEqual(resp.headers.get("Content-Type"), harness.PROTOBUF)
        families = [harness.decode_raw(self.protoc, m)
                    for m in harness.split_delimited(resp.body)]
        text = self.exp.scrape().body
        declared = [line.split()[2:4] for line in text.splitlines()
                    if line.startswith("# TYPE ")]
        self.assertEqual([(f[1][0], f[3][0] if 3 in f else 0) for f in families],
                         [(name, TYPES[kind]) for name, kind in declared])
        histograms = 0
        for f in families:
            name = f[1][0]
            for metric in f.get(4, []):
                labels = {pair[1][0]: pair[2][0] for pair in metric.get(1, [])}
                if name not in HISTOGRAMS or labels.get("cgroup") != self.client.label:
                    continue
                h = metric[7][0]
                unit = HISTOGRAMS[name]
                # sample_count, sample_sum, schema (sint32 0), zero
                # threshold, a positive span (offset, length).
                want = harness.histogram(self.samples, name, **labels)
                self.assertEqual((h[1][0], h[2][0], h[5][0], h[6][0]),
                                 (want["count"], want["sum"], 0, 2.0 ** unit), f"{name}")
                self.assertIn(12, h, f"{name}: no positive span")
                # Deltas (packed sint64) add up to the buckets' counts, which
                # with the zero bucket's are the count; decode_raw shows them
                # as bytes unless they happen to read as a message.
                if isinstance(h.get(13, [None])[0], (bytes, str)):
                    counts, running = [], 0
                    for delta in harness.packed_zigzag(h[13][0]):
                        running += delta
                        counts.append(running)
                    self.assertEqual(sum(counts) + h[7][0], want["count"], f"{name} deltas")
                histograms += 1
        self.assertEqual(histograms, 7)


if __name__ == "__main__":
    harness.main()
