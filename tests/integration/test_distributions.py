#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: the live-connection gauge and the histograms.

Known TCP workloads run in test cgroup pairs (client and server cgroups in
private network namespaces) while the exporter runs on the host, and the
test checks, per cgroup:
- cgroup_tcp_connections{state}: live sockets by state, through opening,
  partly closing and closing 50 connections, and for sockets that existed
  before the exporter started (in a namespace of their own);
- connection lifetimes and handshake times land in the right buckets and
  their counts agree with the opened/closed counters; a connect whose first
  SYN is dropped counts the second it waited for the retry;
- the smoothed RTT histogram agrees with `ss -ti`, measured through a
  userspace delay line (this kernel has no netem) of about 9 ms;
- bytes per send/receive call, buckets and sums exact;
- --histogram.bucket-factor=4 and 8 merge buckets without changing counts;
- a socket table too small for the sockets (--socket.max=64): the ones left
  out are counted, the gauge never goes negative and comes back to zero;
- on every scrape: histogram invariants (harness.check_histograms), and
  once promtool and the exposition checks.

Run as root:  EXPORTER=build/cgroup_tcp_exporter \\
              /usr/bin/python3 tests/integration/test_distributions.py
PROMTOOL names promtool (default `promtool`). Without root the test is
skipped (exit 77), or fails when CI=true. About 10 s.
"""

import math
import os
import re
import sys
import time
import unittest

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (CLOSED, CONNECTIONS, HANDSHAKE, IO_SIZE, LIFETIME,  # noqa: E402
                     OPENED, RECEIVED_BYTES, RTT, SENT_BYTES, TABLE_FULL)

HISTOGRAMS = (HANDSHAKE, LIFETIME, RTT, IO_SIZE)
STATES = ("established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2",
          "close_wait", "last_ack", "closing", "listen")
DIRECTIONS = ("outbound", "inbound")
INF = float("inf")

# Default bucket bounds, as the exporter documents them: powers of two of a
# second (native histogram buckets) and of a byte.
LIFETIME_LE = [2.0 ** (k - 10) for k in range(25)]    # 2^-10 .. 2^14 s
RTT_LE = [2.0 ** (k - 20) for k in range(3, 25)]      # 2^-17 .. 16 s
IO_LE = [float(2 ** k) for k in range(25)]            # .. 16777216 bytes
DEFAULT_LE = {LIFETIME: LIFETIME_LE, HANDSHAKE: RTT_LE, RTT: RTT_LE, IO_SIZE: IO_LE}

# Server ports, one per test, all inside private namespaces.
PORTS = {"lifetimes": 5201, "gauge": 5202, "pre": 5203, "rtt": 5204,
         "io": 5205, "edges": 5206, "factor": 5207, "table": 5208,
         "synretry": 5209}
SHORT_HOLD, LONG_HOLD = 0.18, 1.5   # in (0.125, 0.25] and (1, 2]
# Each way: RTT ~9.5 ms, le=0.015625. The line only adds delay, so an RTT
# is never below 9 ms (le 0.0078125); the 6.6 ms above it absorb the relay's
# scheduling on a loaded machine (the handshake is a single sample).
DELAY = 0.0045


def require_root():
    harness.require_root(("needs root: creates cgroup2 children and network namespaces "
              "and runs exporters that load BPF programs"))


require_exporter = harness.require_exporter


def at(hist, le):
    """Cumulative count of the bucket `le` (None when there is none)."""
    for bound, count in hist["buckets"].items():
        if bound == le or (le != INF and abs(bound - le) <= 1e-9 * le):
            return int(count)
    return None


def bucket_counts(hist):
    """Non-cumulative counts of the non-empty buckets, for messages."""
    out, prev = {}, 0
    for le, cum in hist["buckets"].items():
        if cum != prev:
            out["+Inf" if le == INF else f"{le:g}"] = int(cum - prev)
        prev = cum
    return out


def median_bucket(hist):
    """The le of the bucket holding the median sample (rank ceil(n/2))."""
    rank = math.ceil(hist["count"] / 2)
    for le, cum in hist["buckets"].items():
        if cum >= rank:
            return le
    return None


def bucket_of(les, x):
    """The bound of the bucket a value x falls in: the smallest le >= x."""
    return next((le for le in les if x <= le), INF)


def states(samples, label):
    return {s: int(harness.value(samples, CONNECTIONS, cgroup=label, state=s))
            for s in STATES}


def expect_states(**nonzero):
    want = dict.fromkeys(STATES, 0)
    want.update(nonzero)
    return want


def ss_rtt_ms(text, peer):
    """srtt in ms from `ss -tin` output for the connection to peer
    ("addr:port"): the line after the socket's line has rtt:SRTT/RTTVAR."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if peer in line.split() and i + 1 < len(lines):
            m = re.search(r"(?<![a-z])rtt:([0-9.]+)/([0-9.]+)", lines[i + 1])
            if m:
                return float(m.group(1))
    return None


class DistributionsTest(unittest.TestCase):
    maxDiff = None

    # ------------------------------------------------------------ setup

    @classmethod
    def setUpClass(cls):
        require_root()
        cls.binary = require_exporter()
        cls.run_id = f"ctcp-dist-{os.getpid()}"
        harness.cleanup.scope(cls)
        cls.parent = harness.Cgroup.make(cls.run_id)
        cls.netns = harness.Netns(cls.run_id)
        # Sockets that exist before the exporter starts, in a namespace
        # of their own (not the host's, where the exporter runs).
        cls.start_preexisting()
        cls.exporter = cls.start_exporter()
        cls.check_new_families()

    def setUp(self):
        # What a test starts is stopped after it, pass or fail.
        harness.cleanup.scope(self)

    @classmethod
    def start_exporter(cls, *args):
        exporter = harness.Exporter(cls.binary, args=args)
        exporter.start(ready_timeout=15)
        return exporter

    @classmethod
    def start_preexisting(cls):
        cls.pre_netns = harness.Netns(cls.run_id + "-pre")
        cls.pre_client = cls.parent.child("pre-client")
        cls.pre_server = cls.parent.child("pre-server")
        cls.pre_srv = harness.Workload(
            cls.pre_server, cls.pre_netns, "server", "--port", PORTS["pre"],
            "--conns", 5, "--wait-signal", "--deadline", 50,
            script=harness.WORKLOAD_DIST)
        cls.pre_srv.wait_for_line("ready", timeout=5)
        cls.pre_cli = harness.Workload(
            cls.pre_client, cls.pre_netns, "gauge", "--port", PORTS["pre"],
            "--conns", 5, "--batches", 5, "--deadline", 50,
            script=harness.WORKLOAD_DIST)
        cls.pre_cli.wait_for_line("holding", timeout=5)

        # Both ends of all 5 connections, seen by the kernel, before start.
        def established():
            out = cls.pre_netns.run(["ss", "-Htn", "state", "established"]).stdout
            return len(out.splitlines())

        n = harness.poll(established, lambda n: n == 10, timeout=3, interval=0.05)
        if n != 10:
            raise RuntimeError(f"pre-existing sockets: ss shows {n} established, "
                               "want 10 (5 connections, both ends)")

    @classmethod
    def check_new_families(cls):
        """A clear message when the exporter predates these metrics."""
        body = cls.exporter.scrape().body
        missing = [f for f in (CONNECTIONS,) + HISTOGRAMS
                   if f"# TYPE {f} " not in body]
        if missing:
            raise RuntimeError(f"the exporter serves no {', '.join(missing)}: "
                               "is the build up to date?")

    # ------------------------------------------------------------ helpers

    def scrape(self, exporter=None):
        """Scrape, check the invariants of every histogram and gauge, and
        return the parsed samples. Every scrape of this test goes here."""
        exporter = exporter or self.exporter
        scrape = exporter.scrape()
        self.assertEqual(scrape.status, 200, f"scrape status\n{scrape.body[:2000]}")
        problems = harness.check_histograms(scrape.body)
        if problems:
            self.fail(f"invariants broken on a scrape of {exporter.url}:\n"
                      + "\n".join(problems[:40]))
        try:
            return harness.parse_samples(scrape.body)
        except Exception as e:
            self.fail(f"prometheus_client cannot parse the body: {e}")

    def poll(self, done, timeout=5.0, exporter=None):
        return harness.poll(lambda: self.scrape(exporter), done, timeout)

    def pair(self, name):
        """client and server cgroups for one test; their processes die at
        the end of the test whatever happens."""
        client = self.parent.child(name + "-client")
        server = self.parent.child(name + "-server")
        self.addCleanup(client.kill)
        self.addCleanup(server.kill)
        return client, server

    def workload(self, cgroup, netns, role, *args):
        """A workload_dist.py role, killed at the end of the test."""
        return harness.Workload(cgroup, netns, role, *args, script=harness.WORKLOAD_DIST)

    def lines(self, samples, *cgroups):
        """The scraped non-zero series of some cgroups, for failure
        messages; a histogram takes one line (non-empty buckets only)."""
        out, seen = [], set()
        for n, l, v in samples:
            if l.get("cgroup") not in cgroups:
                continue
            family = next((f for f in HISTOGRAMS if n.startswith(f + "_")), None)
            if family is None:
                if v != 0:
                    out.append(f"{n}{l} {v:g}")
                continue
            key = (family, tuple(sorted((k, x) for k, x in l.items() if k != "le")))
            if key in seen:
                continue
            seen.add(key)
            hist = harness.histogram(samples, family, **dict(key[1]))
            if hist["count"]:
                out.append(f"{family}{dict(key[1])} count {hist['count']:g} sum "
                           f"{hist['sum']:g} buckets {bucket_counts(hist)}")
        return "\n".join(out)

    # ------------------------------------------------------------ tests

    def test_1_lifetimes(self):
        """3 connections held 0.18 s and 3 held 1.5 s: lifetimes in
        (0.125, 0.25] and (1, 2], outbound in the client cgroup
        and inbound in the server cgroup; counts match the counters."""
        client, server = self.pair("life")
        port = PORTS["lifetimes"]
        srv = self.workload(server, self.netns, "server", "--port", port,
                            "--conns", 6)
        srv.wait_for_line("ready", timeout=5)
        holds = [SHORT_HOLD] * 3 + [LONG_HOLD] * 3
        cli = self.workload(client, self.netns, "hold", "--port", port,
                            "--holds", ",".join(map(str, holds)))
        c = cli.finish(timeout=10)
        srv.finish(timeout=5)
        held = c["held"]
        # The workload itself must have held them as planned.
        self.assertTrue(all(0.128 < h < 0.23 for h in held[:3])
                        and all(1.024 < h < 1.9 for h in held[3:]),
                        f"workload hold times off plan (environment): {held}")

        samples = self.poll(lambda s: s and harness.value(
            s, CLOSED, cgroup=client.label, direction="outbound") == 6
            and harness.value(s, CLOSED, cgroup=server.label, direction="inbound") == 6)
        info = "\n" + self.lines(samples, client.label, server.label)
        want = {0.125: 0, 0.25: 3, 1.0: 3, 2.0: 6, INF: 6}
        for cgroup, direction in ((client, "outbound"), (server, "inbound")):
            hist = harness.histogram(samples, LIFETIME, cgroup=cgroup.label,
                                     direction=direction)
            where = f"{LIFETIME}{{cgroup={cgroup.label},direction={direction}}}"
            self.assertEqual({le: at(hist, le) for le in want}, want,
                             f"{where} cumulative buckets (held {held})" + info)
            self.assertEqual(hist["count"], harness.value(
                samples, CLOSED, cgroup=cgroup.label, direction=direction),
                f"{where} _count vs {CLOSED}" + info)
            # Each lifetime is at least the measured hold (less a little:
            # ESTABLISHED precedes connect()'s return only by microseconds)
            # and at most 50 ms more (FIN exchange, scheduling).
            low, high = sum(held) - 0.01, sum(held) + 6 * 0.05
            self.assertTrue(low <= hist["sum"] <= high,
                            f"{where} _sum {hist['sum']} not in [{low:.3f}, "
                            f"{high:.3f}] (holds {held})" + info)
        for cgroup in (client, server):
            for direction in DIRECTIONS:
                labels = {"cgroup": cgroup.label, "direction": direction}
                for family, counter in ((LIFETIME, CLOSED), (HANDSHAKE, OPENED)):
                    self.assertEqual(
                        harness.histogram(samples, family, **labels)["count"],
                        harness.value(samples, counter, **labels),
                        f"{family}_count vs {counter} for {labels}" + info)
        # Loopback handshakes take microseconds: all well under 125 ms (a
        # unit slip of 1000x would not be).
        for cgroup, direction in ((client, "outbound"), (server, "inbound")):
            hist = harness.histogram(samples, HANDSHAKE, cgroup=cgroup.label,
                                     direction=direction)
            self.assertEqual((hist["count"], at(hist, 0.125)), (6, 6),
                             f"{HANDSHAKE} {direction} (count, le=0.125): "
                             f"{bucket_counts(hist)}" + info)

    def test_2_gauge(self):
        """50 connections held, 20 closed, then the rest: the gauge follows
        in both cgroups and comes back to zero; the listener counts until
        the server exits."""
        client, server = self.pair("gauge")
        port = PORTS["gauge"]
        missed_before = harness.state_runs_missed(self.scrape())
        srv = self.workload(server, self.netns, "server", "--port", port,
                            "--conns", 50, "--wait-signal")
        srv.wait_for_line("ready", timeout=5)
        cli = self.workload(client, self.netns, "gauge", "--port", port,
                            "--conns", 50, "--batches", "20,30")
        cli.wait_for_line("holding", timeout=10)

        def check(step, want_client, want_server):
            def done(s):
                return (states(s, client.label) == want_client
                        and states(s, server.label) == want_server)
            samples = self.poll(done, timeout=5)
            info = "\n" + self.lines(samples, client.label, server.label)
            # A state change the kernel skipped leaves its socket's unit in
            # the old state until the next one (README): each skip may put
            # one unit off, and only then is the gauge not exact.
            skipped = harness.state_runs_missed(samples) - missed_before
            off = sum(abs(states(samples, cg.label)[st] - want[st])
                      for cg, want in ((client, want_client), (server, want_server))
                      for st in STATES)
            if off and off <= skipped:
                harness.note(f"{step}: {off} units off after {skipped:g} skipped state "
                             f"changes (README, \"Events the kernel skips\")")
                return
            for cgroup in (client, server):
                missing = [st for st in STATES if not harness.has_series(
                    samples, CONNECTIONS, cgroup=cgroup.label, state=st)]
                self.assertEqual(missing, [], f"{step}: states without a series "
                                 f"for {cgroup.label}" + info)
            self.assertEqual(states(samples, client.label), want_client,
                             f"{step}: client cgroup {client.label}" + info)
            self.assertEqual(states(samples, server.label), want_server,
                             f"{step}: server cgroup {server.label}" + info)

        check("50 open", expect_states(established=50),
              expect_states(established=50, listen=1))
        cli.send_signal()
        cli.wait_for_line("closed 20", timeout=5)
        check("20 closed", expect_states(established=30),
              expect_states(established=30, listen=1))
        cli.send_signal()
        cli.wait_for_line("closed 50", timeout=5)
        srv.wait_for_line("served", timeout=5)
        check("all closed", expect_states(), expect_states(listen=1))
        srv.send_signal()
        srv.finish(timeout=5)
        cli.finish(timeout=5)
        check("server gone", expect_states(), expect_states())

    def test_3_preexisting_sockets(self):
        """5 connections made before the exporter started, in another
        network namespace: counted once at start, and back to 0 when
        closed. Their closes are not counted (opened before the start)."""
        client, server = self.pre_client, self.pre_server

        def check(step, want_client, want_server, settle=0.0):
            def done(s):
                return (states(s, client.label) == want_client
                        and states(s, server.label) == want_server)
            samples = self.poll(done, timeout=5)
            if settle:
                # Still the same a moment later: nothing counted twice.
                time.sleep(settle)
                samples = self.scrape()
            info = "\n" + self.lines(samples, client.label, server.label)
            self.assertEqual(states(samples, client.label), want_client,
                             f"{step}: client cgroup {client.label}" + info)
            self.assertEqual(states(samples, server.label), want_server,
                             f"{step}: server cgroup {server.label}" + info)
            return samples

        check("at start", expect_states(established=5),
              expect_states(established=5, listen=1), settle=0.5)
        self.pre_cli.send_signal()
        self.pre_cli.wait_for_line("closed 5", timeout=5)
        self.pre_srv.wait_for_line("served", timeout=5)
        check("closed", expect_states(), expect_states(listen=1))
        self.pre_srv.send_signal()
        self.pre_srv.finish(timeout=5)
        self.pre_cli.finish(timeout=5)
        samples = check("server gone", expect_states(), expect_states())
        # README: connections open at start are not counted when they
        # close, and then their lifetimes are not known either.
        for cgroup, direction in ((client, "outbound"), (server, "inbound")):
            labels = {"cgroup": cgroup.label, "direction": direction}
            self.assertEqual(
                (harness.value(samples, CLOSED, **labels),
                 harness.histogram(samples, LIFETIME, **labels)["count"]),
                (0, 0), f"{CLOSED} and {LIFETIME}_count for {labels}")

    def test_4_rtt_matches_ss(self):
        """Through a ~9 ms delay line: the client's RTT histogram puts its
        median sample in the bucket of ss's srtt; samples are throttled;
        handshakes take one round trip."""
        relay_cgroup = self.parent.child("relay")
        line = harness.DelayLine(self.run_id, relay_cgroup, delay=DELAY, duration=20)
        client, server = self.pair("rtt")
        port = PORTS["rtt"]
        srv = self.workload(server, line.b, "server", "--host", line.B_ADDR,
                            "--port", port, "--conns", 1, "--echo", 64)
        srv.wait_for_line("ready", timeout=5)
        start = time.monotonic()
        cli = self.workload(client, line.a, "pingpong", "--host", line.B_ADDR,
                            "--port", port, "--msg", 64, "--interval", 0.2,
                            "--duration", 3.2)
        cli.wait_for_line("exchanged", timeout=10)

        peer = f"{line.B_ADDR}:{port}"
        ss_text = line.a.run(["ss", "-tin"]).stdout
        samples = self.scrape()
        elapsed = time.monotonic() - start
        srtt_ms = ss_rtt_ms(ss_text, peer)
        self.assertIsNotNone(srtt_ms, f"no rtt for {peer} in ss -tin:\n{ss_text}")
        # The delay line must do its job before the exporter is judged.
        self.assertTrue(2 * DELAY * 1e3 <= srtt_ms <= 2 * DELAY * 1e3 + 3,
                        f"ss srtt {srtt_ms} ms: the delay line is off (environment)")
        hist = harness.histogram(samples, RTT, cgroup=client.label)
        info = (f"\nss srtt {srtt_ms} ms; {RTT}{{cgroup={client.label}}} buckets "
                f"{bucket_counts(hist)}, _sum {hist['sum']}, _count {hist['count']}; "
                f"open {elapsed:.1f} s\n" + self.lines(samples, client.label))
        self.assertGreaterEqual(hist["count"], 3, "RTT samples while open" + info)
        # One at the first segment, then at most one a second.
        self.assertLessEqual(hist["count"], 2 + int(elapsed),
                             "RTT samples not throttled to one a second" + info)
        self.assertEqual(median_bucket(hist), bucket_of(RTT_LE, srtt_ms / 1e3),
                         "bucket of the median RTT sample vs ss's srtt" + info)
        # The handshake takes one round trip through the delay line.
        for cgroup, direction in ((client, "outbound"), (server, "inbound")):
            h = harness.histogram(samples, HANDSHAKE, cgroup=cgroup.label,
                                  direction=direction)
            self.assertEqual((h["count"], median_bucket(h)),
                             (1, bucket_of(RTT_LE, srtt_ms / 1e3)),
                             f"{HANDSHAKE} {direction}: {bucket_counts(h)} "
                             f"(ss srtt {srtt_ms} ms)")

        # Leaving ESTABLISHED adds exactly one more sample.
        open_count = hist["count"]
        cli.send_signal()
        cli.finish(timeout=5)
        srv.finish(timeout=5)
        samples = self.poll(lambda s: harness.value(
            s, CLOSED, cgroup=client.label, direction="outbound") == 1)
        closed = harness.histogram(samples, RTT, cgroup=client.label)
        self.assertEqual(closed["count"], open_count + 1,
                         f"RTT samples after the close: {bucket_counts(closed)}" + info)

    def test_5_invariants_and_promtool(self):
        """Every scrape of this test is checked by check_histograms (see
        scrape()); one more after the traffic above also passes promtool and
        the exposition checks, and serves the documented types and bounds."""
        scrape = self.exporter.scrape()
        self.assertEqual(harness.check_histograms(scrape.body), [])
        self.assertEqual(harness.check_exposition(scrape.body), [])
        promtool = os.environ.get("PROMTOOL", "promtool")
        try:
            rc, output = harness.promtool_check(promtool, scrape.body)
        except FileNotFoundError:
            self.fail(f"promtool not found ({promtool}); set PROMTOOL")
        self.assertEqual(rc, 0, f"`{promtool} check metrics` exited {rc}:\n{output}")
        types = {line.split()[2]: line.split()[3] for line in scrape.body.splitlines()
                 if line.startswith("# TYPE ")}
        self.assertEqual({f: types.get(f) for f in (CONNECTIONS,) + HISTOGRAMS},
                         {CONNECTIONS: "gauge", **{f: "histogram" for f in HISTOGRAMS}})
        # The default bounds are the documented ones.
        samples = harness.parse_samples(scrape.body)
        for family, les in DEFAULT_LE.items():
            got = sorted({float(l["le"]) for n, l, _ in samples
                          if n == family + "_bucket"})
            self.assertEqual([round(le, 9) for le in got],
                             [round(le, 9) for le in les + [INF]],
                             f"{family} le set")

    def io_pair(self, name, sizes):
        """One connection in its own cgroup pair: the client sends `sizes`
        (one send() each), the server receives them (one MSG_WAITALL recv()
        each). Returns (client, server, samples once the bytes are in, the
        sizes send() returned)."""
        client, server = self.pair(name)
        port = PORTS[name]
        srv = self.workload(server, self.netns, "server", "--port", port,
                            "--conns", 1, "--sizes", sizes)
        srv.wait_for_line("ready", timeout=5)
        cli = self.workload(client, self.netns, "io", "--port", port,
                            "--sizes", sizes)
        c, s = cli.finish(timeout=5), srv.finish(timeout=5)
        self.assertEqual(s["recv_calls"], [c["send_calls"]],
                         "workload: receives differ from sends (environment)")
        total = sum(c["send_calls"])
        samples = self.poll(lambda s: harness.value(
            s, SENT_BYTES, cgroup=client.label) == total and harness.value(
            s, RECEIVED_BYTES, cgroup=server.label) == total
            and harness.value(s, CLOSED, cgroup=server.label) == 1)
        return client, server, samples, c["send_calls"]

    def assert_io(self, samples, client, server, calls):
        """Send sizes in the client cgroup, receive sizes in the server
        cgroup, exactly; no calls the other way; sums equal the byte
        counters."""
        info = "\n" + self.lines(samples, client.label, server.label)
        bounds = sorted({bucket_of(IO_LE, n) for n in calls} | {1.0, 512.0, INF})
        expected = {le: sum(1 for n in calls if n <= le) for le in bounds}
        for cgroup, op, other in ((client, "send", "receive"),
                                  (server, "receive", "send")):
            hist = harness.histogram(samples, IO_SIZE, cgroup=cgroup.label, op=op)
            where = f"{IO_SIZE}{{cgroup={cgroup.label},op={op}}}"
            self.assertEqual({le: at(hist, le) for le in bounds}, expected,
                             f"{where} cumulative buckets for calls {calls}" + info)
            self.assertEqual((hist["count"], hist["sum"]), (len(calls), sum(calls)),
                             f"{where} (_count, _sum)" + info)
            for o, counter in (("send", SENT_BYTES), ("receive", RECEIVED_BYTES)):
                self.assertEqual(
                    harness.histogram(samples, IO_SIZE, cgroup=cgroup.label, op=o)["sum"],
                    harness.value(samples, counter, cgroup=cgroup.label),
                    f"{IO_SIZE}_sum{{op={o}}} vs {counter} for {cgroup.label}" + info)
            self.assertEqual(harness.histogram(samples, IO_SIZE, cgroup=cgroup.label,
                                               op=other)["count"], 0,
                             f"{IO_SIZE}{{op={other}}} _count for {cgroup.label}" + info)

    def test_6_io_size(self):
        """10 sends of 1000 bytes, 10 receives of 1000: all in le=1024."""
        client, server, samples, calls = self.io_pair("io", "1000x10")
        self.assertEqual(calls, [1000] * 10)
        self.assert_io(samples, client, server, calls)

    def test_6_io_size_bucket_edges(self):
        """Sizes on the bounds: 1 in le=1, 1024 in le=1024 (le means <=),
        1025 in le=2048."""
        client, server, samples, calls = self.io_pair("edges", "1,1024x2,1025x3")
        self.assertEqual(calls, [1, 1024, 1024, 1025, 1025, 1025])
        self.assert_io(samples, client, server, calls)

    def test_7_bucket_factor(self):
        """Exporters with --histogram.bucket-factor=4 and =8 next to the
        default one: every 2nd / 3rd default bound (the first kept) plus
        +Inf, and the same cumulative counts, _count and _sum as the
        default exporter at those bounds.

        Each exporter times connections with clock reads in its own
        programs, which run one after the other on every event: the times
        they measure differ by a few microseconds. So the sums of
        exporter-timed histograms (lifetimes, outbound handshakes) are
        compared with a tolerance, and the buckets of outbound handshakes
        (about 20 us on loopback, right at the 15 and 31 us bounds) are not
        compared; the lifetimes are held mid-bucket (10, 50, 300 ms). RTT,
        inbound handshakes (measured by the kernel) and I/O sizes are
        compared exactly."""
        merged = {4: self.start_exporter("--histogram.bucket-factor=4"),
                  8: self.start_exporter("--histogram.bucket-factor=8")}
        client, server = self.pair("factor")
        port = PORTS["factor"]
        sizes = "1,100,1000,5000,70000"
        srv = self.workload(server, self.netns, "server", "--port", port,
                            "--conns", 3, "--sizes", sizes)
        srv.wait_for_line("ready", timeout=5)
        cli = self.workload(client, self.netns, "io", "--port", port, "--conns", 3,
                            "--sizes", sizes, "--holds", "0.01,0.05,0.3")
        cli.finish(timeout=10)
        srv.finish(timeout=5)

        def settled(exporter):
            def done(s):
                return (harness.value(s, CLOSED, cgroup=client.label,
                                      direction="outbound") == 3
                        and harness.value(s, CLOSED, cgroup=server.label,
                                          direction="inbound") == 3)
            return self.poll(done, exporter=exporter)

        for exporter in [self.exporter] + list(merged.values()):
            settled(exporter)
        # Nothing moves in these cgroups any more: one scrape of each.
        base = self.scrape()
        compared = 0
        for factor, exporter in merged.items():
            other = self.scrape(exporter)
            step = {4: 2, 8: 3}[factor]
            for family in HISTOGRAMS:
                keys = {tuple(sorted((k, v) for k, v in l.items() if k != "le"))
                        for n, l, _ in base if n == family + "_bucket"
                        and l.get("cgroup") in (client.label, server.label)}
                self.assertTrue(keys, f"no {family} series for the factor cgroups")
                for key in sorted(keys):
                    labels = dict(key)
                    h2 = harness.histogram(base, family, **labels)
                    hn = harness.histogram(other, family, **labels)
                    where = (f"factor {factor}: {family}{labels}\n"
                             f"default: {bucket_counts(h2)} sum {h2['sum']}\n"
                             f"factor {factor}: {bucket_counts(hn)} sum {hn['sum']}\n")
                    self.assertEqual([round(le, 9) for le in hn["buckets"]],
                                     [round(le, 9) for le in DEFAULT_LE[family][::step]]
                                     + [INF], f"{where} le set")
                    timed = family == LIFETIME or (family == HANDSHAKE and
                                                   labels.get("direction") == "outbound")
                    if not (family == HANDSHAKE and timed):
                        self.assertEqual(
                            {le: at(hn, le) for le in hn["buckets"]},
                            {le: at(h2, le) for le in hn["buckets"]},
                            f"{where} cumulative counts at the kept bounds")
                    self.assertEqual(hn["count"], h2["count"], f"{where} _count")
                    if timed:
                        self.assertLessEqual(abs(hn["sum"] - h2["sum"]),
                                             50e-6 * h2["count"], f"{where} _sum")
                    else:
                        self.assertEqual(hn["sum"], h2["sum"], f"{where} _sum")
                    compared += hn["count"]
        self.assertGreater(compared, 0, "no samples compared")

    def test_8_socket_table_full(self):
        """--socket.max=64 and 200 connections held in one namespace (401
        sockets with the listener): sockets that find no entry are counted
        in TABLE_FULL and left out of the gauge, which stays within the
        table and never negative, and is exactly zero once every socket is
        gone; the opened counters do not need the table and stay exact.
        The default exporter, next to it, follows every socket."""
        n = 200
        small = self.start_exporter("--socket.max=64")
        before = harness.scalar(small.scrape().body, TABLE_FULL)
        self.assertIsNotNone(before, f"no {TABLE_FULL}")
        client, server = self.pair("table")
        port = PORTS["table"]
        srv = self.workload(server, self.netns, "server", "--port", port, "--conns", n,
                            "--wait-signal")
        srv.wait_for_line("ready", timeout=5)
        cli = self.workload(client, self.netns, "gauge", "--port", port, "--conns", n,
                            "--batches", n)
        cli.wait_for_line("holding", timeout=20)
        want = (expect_states(established=n), expect_states(established=n, listen=1))

        def held(s):
            return (states(s, client.label), states(s, server.label))
        full = self.poll(lambda s: held(s) == want, timeout=10)
        self.assertEqual(held(full), want, "default exporter, connections held")

        def opened(s):
            return (harness.value(s, OPENED, cgroup=client.label, direction="outbound"),
                    harness.value(s, OPENED, cgroup=server.label, direction="inbound"))
        samples = self.poll(lambda s: opened(s) == (n, n), exporter=small)
        self.assertEqual(opened(samples), (n, n), "opened, small table")
        body = small.scrape().body
        samples = harness.parse_samples(body)
        counted = held(samples)
        info = f"\nsmall table: {counted}"
        self.assertTrue(all(v >= 0 for side in counted for v in side.values()),
                        "negative gauge" + info)
        self.assertLessEqual(sum(sum(side.values()) for side in counted), 64,
                             "more sockets counted than the table holds" + info)
        self.assertGreater(harness.scalar(body, TABLE_FULL), before,
                           f"{TABLE_FULL} did not grow" + info)

        cli.send_signal()
        cli.wait_for_line(f"closed {n}", timeout=10)
        srv.wait_for_line("served", timeout=10)
        srv.send_signal()
        srv.finish(timeout=5)
        cli.finish(timeout=5)
        gone = (expect_states(), expect_states())
        for exporter in (self.exporter, small):
            samples = self.poll(lambda s: held(s) == gone, timeout=10, exporter=exporter)
            self.assertEqual(held(samples), gone, f"{exporter.url}: every socket gone")

    def test_9_handshake_with_syn_retransmit(self):
        """The first SYN is dropped (an nftables rule in the namespace,
        removed once its counter shows the drop): the kernel retransmits
        it after its 1 s
        initial timeout and the connect completes. The outbound handshake
        counts that second: in (0.5, 1] or (1, 2], as its sum says; the
        server's inbound one is the SYN-ACK round trip, microseconds."""
        client, server = self.pair("synretry")
        port = PORTS["synretry"]
        # Only this test's port; the table goes with the namespace if the
        # test stops early.
        self.netns.nft(f"""
table inet ctcp_synretry {{
    chain input {{
        type filter hook input priority 0; policy accept;
        tcp dport {port} tcp flags syn counter drop
    }}
}}
""")
        srv = self.workload(server, self.netns, "server", "--port", port, "--conns", 1)
        srv.wait_for_line("ready", timeout=5)
        started = time.monotonic()
        cli = self.workload(client, self.netns, "hold", "--port", port, "--holds", 0.05)
        # The rule goes once it dropped the first SYN, well before the
        # retry a second later: no earlier (the SYN would pass), no later.
        dropped = harness.poll(
            lambda: self.netns.run(["nft", "list", "table", "inet", "ctcp_synretry"]).stdout,
            lambda rules: "packets 0 " not in rules, timeout=5, interval=0.01)
        self.netns.run(["nft", "delete", "table", "inet", "ctcp_synretry"])
        self.assertNotIn("packets 0 ", dropped, "the first SYN never reached the rule")
        self.assertIn("packets 1 ", dropped, dropped)
        cli.finish(timeout=10)
        srv.finish(timeout=5)
        waited = time.monotonic() - started
        self.assertGreater(waited, 0.9, "the connect did not wait for a SYN retry")

        samples = self.poll(lambda s: harness.value(
            s, OPENED, cgroup=client.label, direction="outbound") == 1
            and harness.value(s, OPENED, cgroup=server.label, direction="inbound") == 1)
        info = "\n" + self.lines(samples, client.label, server.label)
        out = harness.histogram(samples, HANDSHAKE, cgroup=client.label, direction="outbound")
        self.assertTrue(0.95 <= out["sum"] <= 1.05, f"outbound handshake sum {out['sum']}" + info)
        # About 1 s, counted in ticks: on either side of the le=1 bound, and
        # the one sample's sum says which.
        le = bucket_of(RTT_LE, out["sum"])
        self.assertEqual((out["count"], at(out, le / 2), at(out, le)), (1, 0, 1),
                         f"outbound handshake (count, le={le / 2:g}, le={le:g}): "
                         f"{bucket_counts(out)}" + info)
        inb = harness.histogram(samples, HANDSHAKE, cgroup=server.label, direction="inbound")
        self.assertEqual((inb["count"], at(inb, 0.125)), (1, 1),
                         f"inbound handshake: {bucket_counts(inb)}" + info)


if __name__ == "__main__":
    harness.main()
