#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: what scrapers meet on /metrics.

- Content negotiation: Accept with q-values picks OpenMetrics 1.0 or text
  0.0.4, Accept-Encoding picks gzip, every metrics answer has Vary, HEAD
  has GET's headers and no body; both bodies pass promtool (text),
  prometheus_client's parsers and the harness checks (no series twice).
- A real Prometheus server scrapes the exporter every second: the target is
  up, it negotiated OpenMetrics, and PromQL returns the exact count of a
  known workload (10 connects in a test cgroup and network namespace).
- 100 concurrent scrapers for 10 s (wrk); --web.max-requests gives 503.
- Slowloris (slowhttptest, 200 connections from 127.0.0.1) while the test
  scrapes every 0.5 s from 127.0.0.2: the exporter limits connections per
  client address, so a flood from one address cannot starve another one
  (scrapes from the flooding address itself are reported, not judged).
- A corpus of malformed requests (corpus/http/, one raw request per file):
  each gets a 4xx or a closed connection within 5 s; once more with the
  exporter under valgrind, which must report no error.
- Streaming: bodies are chunked and keep-alive holds; HTTP/1.0 gets the
  body up to the close; clients that stall mid-body hold only their own
  --web.max-requests slot, one that goes away frees it, one that reads on
  gets a whole body.
- --web.listen-address given twice; the exporter's own metrics and
  --web.disable-exporter-metrics; bad --web.max-requests values.

Run as root:  EXPORTER=build/cgroup_tcp_exporter \\
              /usr/bin/python3 tests/integration/test_scrape.py
PROMTOOL, PROMETHEUS, WRK, SLOWHTTPTEST and VALGRIND name the tools (by
default found on PATH; scripts/packages.txt installs them). The flag tests
need no root; the others skip without root (exit 77), or fail when CI=true.
About 60 s.
"""

import concurrent.futures
import gzip
import json
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import unittest

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BPF_STATS, HERE, OPENED, OPENMETRICS, TEXT  # noqa: E402

CORPUS = os.path.join(HERE, "corpus", "http")
WRK_SCRIPT = os.path.join(HERE, "wrk_check.lua")

# What Prometheus 2.x sends.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,"
                     "application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
NEEDS_ROOT = harness.NEEDS_ROOT


def figure(text):
    """Measured figures (requests/s, slowloris outcome...) go to stderr, next
    to unittest's verbose output."""
    print(f"    [figure] {text}", file=sys.stderr, flush=True)


require_tool = harness.require_tool
url_host = harness.url_host
has_ipv6_loopback = harness.has_ipv6_loopback


def body_text(resp):
    """The response body as text, gunzipped when Content-Encoding says so."""
    raw = resp.body
    if (resp.headers.get("Content-Encoding") or "").lower() == "gzip":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def family_names(body, openmetrics):
    """Family names as the text format spells them: OpenMetrics declares
    counters without _total."""
    names = set()
    for name, kind in harness.declared_families(body).items():
        names.add(name + "_total" if openmetrics and kind == "counter" else name)
    return names


# --------------------------------------------------------------------- no root

class FlagsTest(unittest.TestCase):

    def test_bad_max_requests_exit_2(self):
        binary = harness.require_exporter()
        for value in ("0", "-1", "abc", "", "1x", "99999999999999999999"):
            with self.subTest(value=value):
                proc = subprocess.run([binary, f"--web.max-requests={value}"],
                                      stdin=subprocess.DEVNULL, capture_output=True,
                                      text=True, timeout=5, cwd="/")
                self.assertEqual(proc.returncode, 2,
                                 f"--web.max-requests={value!r} is accepted (exit "
                                 f"{proc.returncode}); stderr {proc.stderr!r}")
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                self.assertIn("--web.max-requests", proc.stderr)

    def test_help_lists_new_flags(self):
        binary = harness.require_exporter()
        proc = subprocess.run([binary, "--help"], capture_output=True, text=True,
                              timeout=5)
        self.assertEqual(proc.returncode, 0)
        for flag in ("--web.max-requests", "--web.disable-exporter-metrics"):
            self.assertIn(flag, proc.stdout)


# ------------------------------------------------------------------------ root

class RootTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        harness.require_root(f"{NEEDS_ROOT}: runs an exporter that loads BPF programs")
        cls.binary = harness.require_exporter()
        harness.cleanup.scope(cls)

    def setUp(self):
        # What a test starts is stopped after it, pass or fail.
        harness.cleanup.scope(self)

    @classmethod
    def class_exporter(cls, extra=(), **kwargs):
        """An exporter for the whole class, stopped after it."""
        exporter = harness.Exporter(cls.binary, args=extra, **kwargs)
        exporter.start()
        return exporter

    def exporter(self, extra=(), **kwargs):
        """An exporter for one test (listening on a free port of `host`),
        stopped after it, pass or fail."""
        exporter = harness.Exporter(self.binary, args=extra, **kwargs)
        exporter.start(ready_timeout=60 if exporter.wrapper else 10)
        return exporter

    def assert_alive(self, exporter, what):
        self.assertTrue(exporter.alive(), f"exporter exited "
                        f"{exporter.proc.returncode} {what}:\n{exporter.stderr()}")
        # Right after a load, handlers of connections the client already
        # dropped may still hold the --web.max-requests slots (503), and a
        # flood's stalled connections the per-address slots until the 10 s
        # connection timeout closes them: a moment of either is fair, a
        # lasting one is not.
        deadline = time.monotonic() + 15
        while True:
            try:
                resp = exporter.get(timeout=2)
                if resp.status != 503 or time.monotonic() > deadline:
                    break
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
        self.assertEqual(resp.status, 200, f"scrape {what}")

    def assert_alive_then_clean_exit(self, exporter, what):
        """Still answering, then SIGTERM gives exit 0 (in a sanitizer build
        a leak or memory error report changes the status)."""
        self.assert_alive(exporter, what)
        rc = exporter.stop(timeout=10)
        self.assertEqual(rc, 0, f"exit status after SIGTERM {what} (None: still "
                         f"running 10 s later, killed):\n{exporter.stderr()}")


# ----------------------------------------------------------------- negotiation

# (Accept header or None, Content-Type wanted)
ACCEPT_CASES = [
    (None, TEXT),
    ("*/*", TEXT),
    ("text/plain", TEXT),
    ("text/plain;version=0.0.4", TEXT),
    ("text/html", TEXT),
    ("application/json", TEXT),
    ("garbage", TEXT),
    (";;q=,,=;", TEXT),
    ("application/openmetrics-text", OPENMETRICS),
    ("application/openmetrics-text; version=1.0.0", OPENMETRICS),
    ("application/openmetrics-text;version=1.0.0;charset=utf-8", OPENMETRICS),
    (PROMETHEUS_ACCEPT, OPENMETRICS),
    ("application/openmetrics-text;q=0.001", OPENMETRICS),
    ("text/plain;q=0.5, application/openmetrics-text;q=0.9", OPENMETRICS),
    ("text/plain;version=0.0.4;q=0.1,application/openmetrics-text; version=1.0.0; q=0.8",
     OPENMETRICS),
    ("application/openmetrics-text;q=0", TEXT),
    ("application/openmetrics-text;q=0.0, */*", TEXT),
    ("application/openmetrics-text;version=1.0.0;q=0, text/plain", TEXT),
    ("text/plain;q=0.9, application/openmetrics-text;q=0.5", TEXT),
    ("application/openmetrics-text;version=0.0.1", TEXT),
    ("application/openmetrics-text;version=2.0.0", TEXT),
    (harness.PROMETHEUS_NATIVE_ACCEPT, harness.PROTOBUF),
    ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
     "encoding=delimited", harness.PROTOBUF),
    ("APPLICATION/VND.GOOGLE.PROTOBUF; PROTO=io.prometheus.client.MetricFamily; "
     "ENCODING=delimited;q=0.9, text/plain;q=0.5", harness.PROTOBUF),
    ("application/vnd.google.protobuf", TEXT),
    ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
     "encoding=text", TEXT),
    ("application/vnd.google.protobuf;proto=io.prometheus.client.Metric;"
     "encoding=delimited", TEXT),
    ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
     "encoding=delimited;q=0.5,application/openmetrics-text;q=0.6", OPENMETRICS),
    ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
     "encoding=delimited;q=0,*/*", TEXT),
]

# (Accept-Encoding header or None, gzip wanted)
ENCODING_CASES = [
    (None, False),
    ("gzip", True),
    ("gzip;q=0.5", True),
    ("*", True),
    ("br, gzip;q=0.8", True),
    ("gzip, deflate", True),
    ("gzip;q=0", False),
    ("gzip;q=0.0", False),
    ("*, gzip;q=0", False),
    ("identity", False),
    ("deflate, br", False),
]


class NegotiationTest(RootTest):
    """One exporter with the default flags for all these checks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.exp = cls.class_exporter()

    def get(self, accept=None, encoding=None, method="GET"):
        headers = {}
        if accept is not None:
            headers["Accept"] = accept
        if encoding is not None:
            headers["Accept-Encoding"] = encoding
        return self.exp.get(method=method, headers=headers)

    def mismatch(self, resp, want_type, want_gzip):
        """What is wrong with one answer, or None."""
        got = (resp.status, resp.headers.get("Content-Type"),
               resp.headers.get("Content-Encoding"),
               "accept-encoding" in resp.header_tokens("Vary"))
        want = (200, want_type, "gzip" if want_gzip else None, True)
        if got != want:
            return f"got (status, type, encoding, vary) {got}, want {want}"
        if want_type == harness.PROTOBUF:
            body = gzip.decompress(resp.body) if want_gzip else resp.body
            try:
                names = [m[2:2 + m[1]] for m in harness.split_delimited(body)]
            except (ValueError, IndexError) as e:
                return f"protobuf body does not split into messages: {e}"
            if b"cgroup_tcp_connections_opened_total" not in names:
                return f"protobuf body has no cgroup_tcp_connections_opened_total: {names}"
            return None
        try:
            text = body_text(resp)
        except (OSError, EOFError, UnicodeDecodeError) as e:
            return f"body does not decode: {e}"
        if want_type == OPENMETRICS and not text.endswith("# EOF\n"):
            return f"OpenMetrics body does not end with # EOF: ...{text[-60:]!r}"
        if want_type == TEXT and "# EOF" in text:
            return "text body has an OpenMetrics # EOF line"
        if "# TYPE cgroup_tcp_connections_opened" not in text:
            return "body has no cgroup_tcp_connections_opened family"
        return None

    def test_accept_matrix(self):
        problems = []
        for accept, want in ACCEPT_CASES:
            problem = self.mismatch(self.get(accept), want, False)
            if problem:
                problems.append(f"Accept: {accept!r}: {problem}")
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_accept_encoding_matrix(self):
        problems = []
        for accept, want_type in ((None, TEXT), (PROMETHEUS_ACCEPT, OPENMETRICS),
                                  (harness.PROMETHEUS_NATIVE_ACCEPT, harness.PROTOBUF)):
            for encoding, want_gzip in ENCODING_CASES:
                problem = self.mismatch(self.get(accept, encoding), want_type, want_gzip)
                if problem:
                    problems.append(f"Accept: {accept!r}, Accept-Encoding: "
                                    f"{encoding!r}: {problem}")
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_openmetrics_body(self):
        resp = self.get(PROMETHEUS_ACCEPT)
        self.assertEqual(resp.headers.get("Content-Type"), OPENMETRICS)
        body = body_text(resp)
        problems = harness.check_openmetrics(body)
        self.assertEqual(problems, [], "OpenMetrics problems:\n" + "\n".join(problems[:40]))
        samples = harness.openmetrics_samples(body)
        self.assertTrue(any(n == OPENED for n, _, _ in samples),
                        "OpenMetrics parser found no opened_total samples")

    def test_text_body(self):
        resp = self.get()
        self.assertEqual(resp.headers.get("Content-Type"), TEXT)
        body = body_text(resp)
        problems = harness.check_exposition(body) + harness.check_histograms(body)
        self.assertEqual(problems, [], "text problems:\n" + "\n".join(problems[:40]))
        try:
            harness.parse_samples(body)
        except Exception as e:
            self.fail(f"prometheus_client's text parser: {type(e).__name__}: {e}")
        promtool = require_tool("PROMTOOL", "promtool")
        rc, output = harness.promtool_check(promtool, body)
        self.assertEqual(rc, 0, f"`promtool check metrics` exited {rc}:\n{output}")

    def test_both_formats_have_the_same_families(self):
        text = body_text(self.get())
        om = body_text(self.get(PROMETHEUS_ACCEPT))
        self.assertEqual(family_names(om, True), family_names(text, False))
        om_types = harness.declared_families(om)
        counters = {n for n, k in harness.declared_families(text).items()
                    if k == "counter"}
        wrong = sorted(n for n in counters if om_types.get(n[:-len("_total")]) != "counter")
        self.assertEqual(wrong, [], "text counters not declared as OpenMetrics "
                         "counters without _total")

    def test_gzip_round_trip(self):
        for accept, openmetrics in ((None, False), (PROMETHEUS_ACCEPT, True)):
            with self.subTest(accept=accept):
                plain = self.get(accept)
                packed = self.get(accept, "gzip")
                self.assertEqual(packed.headers.get("Content-Encoding"), "gzip")
                self.assertEqual(packed.body[:2], b"\x1f\x8b", "not gzip data")
                self.assertLess(len(packed.body), len(plain.body) / 3,
                                "gzip hardly compressed the exposition")
                unpacked = gzip.decompress(packed.body).decode("utf-8")
                self.assertEqual(family_names(unpacked, openmetrics),
                                 family_names(plain.body.decode("utf-8"), openmetrics))
                problems = (harness.check_openmetrics(unpacked) if openmetrics
                            else harness.check_exposition(unpacked))
                self.assertEqual(problems, [], "\n".join(problems[:20]))

    def test_head_matches_get(self):
        names = ("Content-Type", "Content-Encoding", "Vary")
        for accept, encoding in ((None, None), (None, "gzip"),
                                 (PROMETHEUS_ACCEPT, None), (PROMETHEUS_ACCEPT, "gzip")):
            with self.subTest(accept=accept, encoding=encoding):
                get = self.get(accept, encoding)
                head = self.get(accept, encoding, method="HEAD")
                self.assertEqual(head.status, 200)
                self.assertEqual({n: head.headers.get(n) for n in names},
                                 {n: get.headers.get(n) for n in names})
                request = "HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n"
                if accept:
                    request += f"Accept: {accept}\r\n"
                if encoding:
                    request += f"Accept-Encoding: {encoding}\r\n"
                raw = harness.raw_exchange(self.exp.host, self.exp.port,
                                           (request + "Connection: close\r\n\r\n").encode())
                head_block, sep, rest = raw.partition(b"\r\n\r\n")
                self.assertTrue(sep and head_block.startswith(b"HTTP/1.1 200"), raw[:200])
                self.assertEqual(rest, b"", "HEAD response carries a body on the wire")

    def test_get_with_body_refused(self):
        for body in (b"x", b"a=1&b=2" * 100):
            with self.subTest(length=len(body)):
                resp = self.exp.get(body=body)
                self.assertTrue(400 <= resp.status < 500,
                                f"GET with a {len(body)}-byte body: {resp.status}")

    def test_unknown_path_and_method_smoke(self):
        self.assertEqual(self.exp.get(path="/nope").status, 404)
        self.assertEqual(self.exp.get(method="POST", body=b"").status, 405)


# ----------------------------------------------------------- a real Prometheus

# Shared with the dashboard test.
Prometheus = harness.Prometheus


class PrometheusTest(RootTest):
    """A known workload in a test cgroup, seen through a real Prometheus."""

    N = 10
    PORT = 5301  # inside the test's own network namespace

    def setUp(self):
        super().setUp()
        self.prometheus_binary = require_tool("PROMETHEUS", "prometheus")
        self.run_id = f"ctcp-scrape-{os.getpid()}"
        self.cgroup = harness.Cgroup.make(self.run_id)
        self.netns = harness.Netns(self.run_id)

    def diagnostics(self, prom):
        try:
            target = json.dumps(prom.target(), indent=1)
        except Exception as e:
            target = f"(targets API: {e})"
        return (f"\n--- target ---\n{target}\n--- prometheus log ---\n{prom.log()}"
                f"\n--- exporter stderr ---\n{self.exp.stderr()}")

    def wait_for(self, prom, expr, done, timeout, what):
        value = harness.poll(lambda: prom.scalar(expr), done, timeout, interval=0.25)
        self.assertTrue(done(value), f"{what}: {expr} = {value} after {timeout}s"
                        + self.diagnostics(prom))
        return value

    def test_prometheus_sees_exact_counts(self):
        self.exp = self.exporter()
        prom = Prometheus(self.prometheus_binary, f"127.0.0.1:{self.exp.port}")
        prom.wait_ready()

        target = harness.poll(prom.target,
                              lambda t: t is not None and t["health"] == "up",
                              timeout=15, interval=0.25)
        self.assertTrue(target and target["health"] == "up" and target["lastError"] == "",
                        "target never up" + self.diagnostics(prom))

        # The server's listening socket makes the cgroup appear with zeros;
        # Prometheus gets a few zero samples before the connects, so that
        # increase() has a start.
        server = harness.Workload(self.cgroup, self.netns, "server", "--port", self.PORT,
                                  "--conns", self.N, script=harness.WORKLOAD_DIST)
        server.wait_for_line("ready", timeout=5)
        series = (f'{OPENED}{{cgroup={json.dumps(self.cgroup.label)},'
                  f'direction="outbound"}}')
        self.wait_for(prom, f"count_over_time({series}[1m])",
                      lambda v: v is not None and v >= 3, 15,
                      "the listening cgroup's zero series never reached Prometheus")
        self.assertEqual(prom.scalar(series), 0, self.diagnostics(prom))

        client = harness.Workload(self.cgroup, self.netns, "io", "--port", self.PORT,
                                  "--conns", self.N, script=harness.WORKLOAD_DIST)
        summary = client.finish(timeout=10)
        self.assertEqual(summary["conns"], self.N, summary)
        server.finish(timeout=5)

        self.wait_for(prom, series, lambda v: v == self.N, 10,
                      f"{self.N} connects never showed in PromQL")
        # A few samples after the step, then increase() over them: it only
        # extrapolates outwards (and not below zero), so it lies in
        # [N, N * (span + 1.1 interval) / span].
        samples = prom.scalar(f"count_over_time({series}[1m])")
        self.wait_for(prom, f"count_over_time({series}[1m])",
                      lambda v: v is not None and v >= samples + 4, 10,
                      "Prometheus stopped scraping")
        increase = prom.scalar(f"increase({series}[1m])")
        self.assertIsNotNone(increase)
        self.assertTrue(self.N <= increase <= self.N * 1.4,
                        f"increase({series}[1m]) = {increase}, want about {self.N}"
                        + self.diagnostics(prom))
        figure(f"prometheus: {series} = {self.N}, increase[1m] = {increase:.3f}")

        target = prom.target()
        self.assertEqual((target["health"], target["lastError"]), ("up", ""),
                         self.diagnostics(prom))
        self.assertEqual(prom.scalar(f'up{{job="{Prometheus.JOB}"}}'), 1)
        scraped = prom.scalar(f'scrape_samples_scraped{{job="{Prometheus.JOB}"}}')
        self.assertTrue(scraped and scraped > 0, f"scrape_samples_scraped = {scraped}")

        # Prometheus keeps # UNIT only from OpenMetrics, and names counter
        # metadata after the family without _total only there too.
        match = f'{{job="{Prometheus.JOB}"}}'
        units = prom.api("/api/v1/targets/metadata", match_target=match,
                         metric="cgroup_tcp_handshake_duration_seconds")
        self.assertEqual([m.get("unit") for m in units], ["seconds"],
                         f"Prometheus did not scrape OpenMetrics (no unit): {units}")
        counters = prom.api("/api/v1/targets/metadata", match_target=match,
                            metric=OPENED[:-len("_total")])
        self.assertEqual([m.get("type") for m in counters], ["counter"], counters)


# ------------------------------------------------------------------------ load

def run_wrk(url, connections, seconds, min_length, marker, threads=2):
    """wrk with wrk_check.lua: (figures dict, whole output)."""
    wrk = require_tool("WRK", "wrk")
    argv = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
            "--timeout", "5s", "-s", WRK_SCRIPT, url, "--", str(min_length), marker]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise AssertionError(f"wrk exited {proc.returncode}:\n{out}")
    figures = {"status": {}, "errors": {"connect": 0, "read": 0, "write": 0,
                                        "timeout": 0}}
    for line in proc.stdout.splitlines():
        m = re.match(r"status (\d+) (\d+)$", line)
        if m:
            figures["status"][int(m.group(1))] = int(m.group(2))
        m = re.match(r"(incomplete) (\d+)$", line)
        if m:
            figures["incomplete"] = int(m.group(2))
        m = re.match(r"(other_type|other_body) ?(.*)$", line)
        if m:
            figures[m.group(1)] = m.group(2)
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                      r"timeout (\d+)", line)
        if m:
            figures["errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                         map(int, m.groups())))
        m = re.search(r"Requests/sec:\s+([\d.]+)", line)
        if m:
            figures["rps"] = float(m.group(1))
        m = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", line)
        if m:
            figures["latency"] = f"avg {m.group(1)}, max {m.group(3)}"
    if "incomplete" not in figures:
        raise AssertionError(f"wrk printed no figures from wrk_check.lua:\n{out}")
    return figures, out


def completeness_marker(exporter):
    """(least length, last # TYPE line) of a whole text body now."""
    body = exporter.get().body.decode("utf-8")
    last = [l for l in body.splitlines() if l.startswith("# TYPE ")][-1]
    return len(body) // 2, last


class LoadTest(RootTest):

    def test_100_concurrent_scrapers(self):
        exp = self.exporter()
        min_length, marker = completeness_marker(exp)
        figures, out = run_wrk(exp.url, connections=100, seconds=10,
                               min_length=min_length, marker=marker)
        total = sum(figures["status"].values())
        figure(f"wrk 100 connections 10 s: {figures.get('rps')} requests/s, "
               f"{total} answers {figures['status']}, latency "
               f"{figures.get('latency')}, socket errors {figures['errors']}")
        self.assert_alive_then_clean_exit(exp, "after 100 concurrent scrapers")
        self.assertLessEqual(set(figures["status"]), {200, 503},
                             f"statuses other than 200 and 503:\n{out}")
        self.assertGreater(figures["status"].get(200, 0), 100, out)
        self.assertEqual(figures["incomplete"], 0, f"truncated 200 bodies:\n{out}")
        self.assertEqual(figures["errors"], {"connect": 0, "read": 0, "write": 0,
                                             "timeout": 0},
                         "socket errors (read: connections closed without an "
                         f"answer, e.g. by a connection limit):\n{out}")

    def test_max_requests_503(self):
        exp = self.exporter(["--web.max-requests=1"])
        min_length, marker = completeness_marker(exp)
        figures, out = run_wrk(exp.url, connections=8, seconds=3,
                               min_length=min_length, marker=marker)
        figure(f"wrk 8 connections 3 s, --web.max-requests=1: {figures['status']}")
        self.assertLessEqual(set(figures["status"]), {200, 503}, out)
        self.assertGreater(figures["status"].get(200, 0), 0, out)
        self.assertGreater(figures["status"].get(503, 0), 0,
                           f"no 503 with 8 concurrent scrapers and "
                           f"--web.max-requests=1:\n{out}")
        self.assertEqual(figures["incomplete"], 0, out)
        self.assertTrue(figures.get("other_type", "").startswith("text/plain"),
                        f"503 Content-Type {figures.get('other_type')!r}")
        self.assertRegex(figures.get("other_body", ""),
                         r"(?i)max-requests|too many|limit|busy", "the 503 body says why")
        self.assertEqual(sum(figures["errors"].values()), 0, out)
        self.assert_alive_then_clean_exit(exp, "after the 503s")


# ------------------------------------------------------------------- streaming

class StalledReader:
    """A GET whose client stops reading after the first bytes. Its tiny
    receive buffer and segment size keep the exporter from putting the body
    in socket buffers: the response stays in flight, mid-body, until the
    client reads on or goes away."""

    def __init__(self, exp):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        sock.settimeout(5)
        sock.connect((exp.host, exp.port))
        self.conn = http.client.HTTPConnection(exp.host, exp.port, timeout=5)
        self.conn.sock = sock
        self.conn.request("GET", "/metrics")
        self.resp = self.conn.getresponse()
        self.first = self.resp.read(1000)

    def rest(self):
        return self.first + self.resp.read()

    def close(self):
        self.conn.close()


def whole_text_body(test, raw, what):
    """A text body that is complete: every family, the last line whole."""
    body = raw.decode("utf-8")
    test.assertTrue(body.endswith("\n") and "# TYPE process_threads gauge" in body,
                    f"{what}: body cut short: ...{body[-200:]!r}")
    problems = harness.check_exposition(body)
    test.assertEqual(problems, [], f"{what}:\n" + "\n".join(problems[:20]))


class StreamingTest(RootTest):

    def test_chunked_keep_alive_and_http_1_0(self):
        exp = self.exporter()
        scraper = harness.KeepAliveScraper(exp)
        self.addCleanup(scraper.close)
        for i in range(3):
            got = scraper.scrape()
            self.assertEqual(got.status, 200)
            whole_text_body(self, got.raw, f"scrape {i + 1} on one connection")
        self.assertEqual(scraper.connects, 1, "the connection was not kept between scrapes")
        resp = exp.get()
        self.assertEqual(resp.headers.get("Transfer-Encoding"), "chunked")
        self.assertIsNone(resp.headers.get("Content-Length"))
        # HTTP/1.0 has no chunked encoding: the body runs to the close.
        raw = harness.raw_exchange(exp.host, exp.port, b"GET /metrics HTTP/1.0\r\n\r\n")
        head, _, body = raw.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200"),
                        head)
        self.assertNotIn(b"chunked", head.lower())
        whole_text_body(self, body, "HTTP/1.0 GET")

    def test_one_slot_back_to_back(self):
        """With --web.max-requests=1, a client that scrapes again as soon as
        it has a whole answer always finds the slot free."""
        exp = self.exporter(["--web.max-requests=1"])
        statuses = [exp.get().status for _ in range(100)]
        self.assertEqual(statuses, [200] * 100)

    def test_stalled_readers_block_nobody(self):
        """Responses render from their own snapshot without the scraper's
        lock: a client that stops reading mid-body holds its --web.max-requests
        slot, not the other scrapes; one that goes away frees the slot; one
        that reads on gets the whole body."""
        exp = self.exporter(["--web.max-requests=2"])
        # Enough active cgroups for a body no socket buffer holds.
        mount, root = harness.find_cgroup2()
        parent = harness.Cgroup.create(mount, root, f"ctcp-stream-{os.getpid()}")
        harness.connect_in_each([parent.child(f"c{i}").path for i in range(40)],
                                harness.own_cgroup_path(mount))
        self.assertGreater(len(exp.get().body), 500000, "body too small for this test")
        first = StalledReader(exp)
        self.addCleanup(first.close)
        for i in range(3):
            resp = exp.get(timeout=5)
            self.assertEqual(resp.status, 200, f"scrape {i + 1} next to a stalled reader")
            self.assertLess(resp.seconds, 2.0, f"scrape {i + 1} next to a stalled reader")
            whole_text_body(self, resp.body, f"scrape {i + 1} next to a stalled reader")
        second = StalledReader(exp)
        self.addCleanup(second.close)
        resp = exp.get(timeout=5)
        self.assertEqual(resp.status, 503, "two responses stalled mid-body should hold "
                         "both --web.max-requests=2 slots (is the body in socket buffers?)")
        first.close()   # gone mid-body
        resp = harness.poll(lambda: exp.get(timeout=5), lambda r: r.status == 200, timeout=5)
        self.assertEqual(resp.status, 200, "the slot of a client gone mid-body came back")
        whole_text_body(self, second.rest(), "the stalled reader, read on")
        self.assert_alive_then_clean_exit(exp, "after stalled readers")


# ------------------------------------------------------------------- slowloris

class SlowlorisTest(RootTest):

    SECONDS = 12
    SOURCE = "127.0.0.2"  # our scrapes; the flood comes from 127.0.0.1

    def scrape_from(self, exp, source):
        try:
            resp = exp.get(timeout=2, source=source)
        except OSError as e:
            return f"{type(e).__name__}: {e}"
        if resp.status != 200:
            return f"status {resp.status}"
        if resp.seconds > 2:
            return f"took {resp.seconds:.2f}s"
        return None

    def test_scrapes_survive_slowloris(self):
        slowhttptest = require_tool("SLOWHTTPTEST", "slowhttptest")
        exp = self.exporter()
        tmp = harness.cleanup.temp_dir("ctcp-slowloris-")
        out = open(os.path.join(tmp, "out"), "w+")
        self.addCleanup(out.close)
        proc = subprocess.Popen(
            [slowhttptest, "-c", "200", "-H", "-i", "1", "-r", "50",
             "-l", str(self.SECONDS), "-g", "-o", os.path.join(tmp, "slow"),
             "-u", exp.url], stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, cwd=tmp)

        def stop():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        harness.cleanup.add(stop, "stop slowhttptest")

        judged, reported = [], []
        deadline = time.monotonic() + self.SECONDS + 10
        finished = threading.Event()

        def every_half_second(source, results):
            while not finished.is_set():
                tick = time.monotonic()
                results.append(self.scrape_from(exp, source))
                finished.wait(max(0.0, 0.5 - (time.monotonic() - tick)))

        # Scrapes from the flooding address run in their own thread, so
        # their timeouts do not slow down the judged ones.
        same = threading.Thread(target=every_half_second, args=(None, reported))
        same.start()
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                tick = time.monotonic()
                judged.append(self.scrape_from(exp, self.SOURCE))
                time.sleep(max(0.0, 0.5 - (time.monotonic() - tick)))
        finally:
            finished.set()
            same.join()
        stop()
        out.seek(0)
        output = out.read()

        stats = self.slowloris_stats(os.path.join(tmp, "slow.csv"))
        failed = [f"#{i}: {p}" for i, p in enumerate(judged) if p]
        failed_same = [p for p in reported if p]
        figure(f"slowloris: {stats}; scrapes from {self.SOURCE}: "
               f"{len(judged) - len(failed)}/{len(judged)} ok; from 127.0.0.1 "
               f"(the flooding address, not judged): "
               f"{len(reported) - len(failed_same)}/{len(reported)} ok"
               + (f", e.g. {failed_same[0]}" if failed_same else ""))
        self.assert_alive_then_clean_exit(exp, "after slowloris")
        self.assertGreaterEqual(len(judged), self.SECONDS, "too few scrapes")
        self.assertIn("connected", stats, f"slowhttptest wrote no statistics:\n{output}")
        self.assertGreaterEqual(stats["connected"] + stats["closed"], 150,
                                f"slowhttptest opened few connections: {stats}")
        self.assertEqual(failed, [], f"scrapes from {self.SOURCE} during slowloris "
                         f"({stats}):\n" + "\n".join(failed) + f"\n{exp.stderr()}")

    @staticmethod
    def slowloris_stats(path):
        """Peak connected/pending and whether slowhttptest's own probe ever
        found the service unavailable, from its CSV."""
        try:
            with open(path) as f:
                rows = [l.strip().split(",") for l in f if l.strip()]
        except FileNotFoundError:
            return {}
        header, rows = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
        col = {name.strip().lower(): i for i, name in enumerate(header)}
        if not rows or "connected" not in col:
            return {}
        return {
            "connected": max(int(r[col["connected"]]) for r in rows),
            "pending": max(int(r[col["pending"]]) for r in rows),
            "closed": max(int(r[col["closed"]]) for r in rows),
            "probe unavailable seconds": sum(
                1 for r in rows if r[col["service available"]].strip() == "0"),
        }


# ---------------------------------------------------------- malformed requests

REJECTED = "4xx or closed"
# Every corpus file: (what it is, what else than a 4xx or a plain close is
# fine, whether to shut our sending side after it).
CORPUS_CASES = {
    "bad-method.http": ("unknown method BREW", (), False),
    "lowercase-method.http": ("methods are case-sensitive: get", (), False),
    "control-char-in-method.http": ("a control byte in the method", (), False),
    "huge-header.http": ("one 64 KiB header line", (), False),
    "many-headers.http": ("5000 headers, 58 KB", (), False),
    "request-line-no-target.http": ("request line `GET` alone", (), False),
    "request-line-extra-field.http": ("four fields in the request line", (), False),
    "space-in-target.http": ("a space inside the target", (), False),
    "binary-junk.http": ("4 KiB of random bytes", (), False),
    "bare-cr.http": ("lines ended by CR alone", (), False),
    # RFC 9112 2.2 lets a server accept a bare LF as a line end.
    "bare-lf.http": ("lines ended by LF alone", (200,), False),
    "missing-final-crlf.http": ("no empty line after the headers, then EOF",
                                (), True),
    "partial-headers.http": ("cut in the middle of a header, then EOF", (), True),
    # 505 (HTTP Version Not Supported) is a fine refusal of a version.
    "http-0.9.http": ("HTTP/0.9 request line", (505,), False),
    "unknown-version.http": ("HTTP/9.9", (505,), False),
    "http2-preface.http": ("the HTTP/2 connection preface", (505,), False),
    "no-host-http-1.1.http": ("HTTP/1.1 without Host", (), False),
    "header-without-colon.http": ("a header line without a colon", (), False),
    "absurd-content-length.http": ("Content-Length of 23 digits", (), False),
    "negative-content-length.http": ("Content-Length: -1", (), False),
    "conflicting-content-lengths.http": ("two different Content-Lengths", (), False),
    "get-with-body.http": ("GET with an 11-byte body", (), False),
    "chunked-body-on-get.http": ("GET with a chunked body", (), False),
    "nul-in-target.http": ("a NUL byte in the target", (), False),
    # RFC 9110 lets a recipient replace a NUL in a field value with SP.
    "nul-in-header.http": ("a NUL byte in a header value", (200,), False),
    "very-long-url.http": ("a 100 KB target", (), False),
}


def send_case(host, port, data, shut, timeout, source):
    """Send one raw request from address `source`; return ("status", code),
    ("closed", detail), ("garbage", bytes) or ("hang", bytes so far) after
    `timeout`."""
    start = time.monotonic()
    sock = socket.create_connection((host, port), timeout=timeout,
                                    source_address=(source, 0))
    got = b""
    try:
        try:
            sock.sendall(data)
            if shut:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed while we were sending: read what it said
        while b"\r\n" not in got:
            sock.settimeout(max(0.01, timeout - (time.monotonic() - start)))
            try:
                chunk = sock.recv(4096)
            except socket.timeout:
                return "hang", got
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            got += chunk
    finally:
        sock.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", got)
    if m:
        return "status", int(m.group(1))
    if not got:
        return "closed", f"after {time.monotonic() - start:.2f}s"
    return "garbage", got[:100]


class CorpusTest(RootTest):

    def test_corpus_is_listed(self):
        files = sorted(f for f in os.listdir(CORPUS) if f.endswith(".http"))
        self.assertEqual(files, sorted(CORPUS_CASES),
                         "corpus/http/ and CORPUS_CASES disagree")

    def run_corpus(self, exp, timeout):
        """Every case once, all at once, each from its own loopback address
        (127.0.0.10 and up): the per-address connection limit plays no
        part, and hangs cost `timeout` once. Returns (problems, one line
        per case)."""
        names = sorted(CORPUS_CASES)

        def send(i, name):
            with open(os.path.join(CORPUS, name), "rb") as f:
                data = f.read()
            return send_case(exp.host, exp.port, data, CORPUS_CASES[name][2],
                             timeout, f"127.0.0.{10 + i}")

        with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
            results = list(pool.map(send, range(len(names)), names))
        problems, lines = [], []
        for name, (kind, detail) in zip(names, results):
            what, also, _ = CORPUS_CASES[name]
            ok = ((kind == "status" and (400 <= detail < 500 or detail in also))
                  or kind == "closed")
            if kind == "hang":
                got = f"no answer, still open after {timeout}s (read {detail!r})"
            else:
                got = f"{kind} {detail!r}"
            lines.append(f"{name}: {got}")
            if not ok:
                problems.append(f"{name} ({what}): {got}, want "
                                f"{REJECTED}" + (f" or {also}" if also else ""))
        if not exp.alive():
            problems.append(f"the exporter exited {exp.proc.returncode}:\n"
                            f"{exp.stderr()}")
        return problems, lines

    def test_malformed_requests(self):
        exp = self.exporter()
        # The exporter closes stalled connections after 10 s: a request that
        # never ends (junk without a line end, a half-closed partial header)
        # must end in a close by then.
        problems, lines = self.run_corpus(exp, timeout=15)
        figure("corpus: " + "; ".join(lines))
        self.assert_alive_then_clean_exit(exp, "after the corpus")
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_malformed_requests_under_valgrind(self):
        """The same corpus with the exporter under memcheck, then SIGTERM:
        valgrind's verdict is judged here, the answers in the test above.

        --undef-value-errors=no: valgrind 3.19 does not model what bpf(2)
        writes (batched map reads, link creation), so every byte read from a
        BPF map looks uninitialised to it and the report drowns in false
        positives. Invalid reads and writes, bad frees and definite leaks
        are still errors.
        """
        with open(self.binary, "rb") as f:
            if b"libasan.so" in f.read():
                self.skipTest("an AddressSanitizer build cannot run under valgrind; "
                              "the plain build's run covers this")
        valgrind = require_tool("VALGRIND", "valgrind")
        tmp = harness.cleanup.temp_dir("ctcp-valgrind-")
        log = os.path.join(tmp, "valgrind.log")
        try:
            exp = self.exporter(wrapper=[valgrind, "--error-exitcode=99",
                                         "--leak-check=full",
                                         "--errors-for-leak-kinds=definite",
                                         "--undef-value-errors=no",
                                         f"--log-file={log}"])
        except RuntimeError as e:
            with open(log, errors="replace") as f:
                self.fail(f"the exporter does not serve under valgrind: {e}\n"
                          f"--- valgrind log ---\n{f.read()[-6000:]}")
        _, lines = self.run_corpus(exp, timeout=20)
        alive = exp.alive()
        rc = exp.stop(timeout=60)
        with open(log, errors="replace") as f:
            report = f.read()
        summary = re.findall(r"ERROR SUMMARY: .*", report)
        figure("corpus under valgrind: " + "; ".join(lines))
        figure(f"valgrind: exit {rc}, {summary[-1] if summary else 'no summary'}")
        self.assertTrue(alive, f"exporter died under valgrind:\n{report[-6000:]}")
        self.assertNotEqual(rc, 99, f"valgrind found errors:\n{report[-6000:]}")
        self.assertEqual(rc, 0, f"exit status under valgrind after SIGTERM (None: "
                         f"killed after 60 s)\n{exp.stderr()}\n{report[-3000:]}")
        self.assertTrue(summary and summary[-1].startswith("ERROR SUMMARY: 0 errors"),
                        report[-6000:])


# ------------------------------------------------------------ listen addresses

class ListenTwiceTest(RootTest):

    def test_two_listen_addresses_both_serve(self):
        first = ("127.0.0.1", harness.free_port("127.0.0.1"))
        second_host = "::1" if has_ipv6_loopback() else "127.0.0.2"
        second = (second_host, harness.free_port(second_host))
        args = [f"--web.listen-address={url_host(h)}:{p}" for h, p in (first, second)]
        exp = harness.Exporter(self.binary, second[1], args, host=second[0], listen=False)
        try:
            exp.start()
        except RuntimeError as e:
            self.fail(f"the second --web.listen-address never served: {e}")
        for host, port in (first, second):
            with self.subTest(address=f"{url_host(host)}:{port}"):
                try:
                    resp = harness.http_request(host, port, timeout=3)
                except OSError as e:
                    self.fail(f"{url_host(host)}:{port} does not serve: {e} "
                              f"(flags {args})")
                self.assertEqual(resp.status, 200)
                self.assertIn(b"# TYPE cgroup_tcp_connections_opened_total", resp.body)


# -------------------------------------------------- the exporter's own metrics

SELF_TYPES = {
    "cgroup_tcp_exporter_build_info": "gauge",
    "cgroup_tcp_exporter_scrape_duration_seconds": "gauge",
    "cgroup_tcp_exporter_program_attached": "gauge",
    "cgroup_tcp_exporter_program_run_seconds_total": "counter",
    "cgroup_tcp_exporter_program_runs_total": "counter",
    "cgroup_tcp_exporter_map_entries": "gauge",
    "cgroup_tcp_exporter_map_capacity": "gauge",
    "cgroup_tcp_exporter_cgroup_cache_entries": "gauge",
    "cgroup_tcp_exporter_http_responses_total": "counter",
    "cgroup_tcp_exporter_cgroup_cache_misses_total": "counter",
    "process_cpu_seconds_total": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_start_time_seconds": "gauge",
    "process_threads": "gauge",
}


def series(samples, name):
    return [(labels, v) for n, labels, v in samples if n == name]


def one(samples, name):
    found = series(samples, name)
    if len(found) != 1:
        raise AssertionError(f"{name}: want one series, got {found}")
    return found[0][1]


def process_start(pid):
    """A process's start as a Unix time, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as f:
        btime = next(int(l.split()[1]) for l in f if l.startswith("btime "))
    return btime + ticks / os.sysconf("SC_CLK_TCK")


def soft_nofile(pid):
    with open(f"/proc/{pid}/limits") as f:
        line = next(l for l in f if l.startswith("Max open files"))
    return int(line.split()[3])


def thread_names(pid):
    """The names of a process's threads (a thread may end meanwhile)."""
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except FileNotFoundError:
            pass
    return names


class ExporterMetricsTest(RootTest):

    def scrape(self, exp):
        resp = exp.get()
        self.assertEqual(resp.status, 200)
        body = resp.body.decode("utf-8")
        return body, harness.parse_samples(body)

    def test_self_metrics(self):
        exp = self.exporter()
        for _ in range(5):  # scrapes are TCP connections: programs run
            exp.get()
        # The threads of those connections end a moment after them:
        # libmicrohttpd names them, so the wait is for none to be left.
        names = harness.poll(lambda: thread_names(exp.proc.pid),
                             lambda names: "MHD-connection" not in names, timeout=5,
                             interval=0.02)
        self.assertNotIn("MHD-connection", names, "connection threads left")
        idle_threads = len(names)
        body, samples = self.scrape(exp)
        types = harness.declared_families(body)
        self.assertEqual({n: types.get(n) for n in SELF_TYPES}, SELF_TYPES,
                         "families and types of the exporter's own metrics")

        labels, v = series(samples, "cgroup_tcp_exporter_build_info")[0]
        self.assertEqual(len(series(samples, "cgroup_tcp_exporter_build_info")), 1)
        self.assertEqual(sorted(labels), ["kernel", "libbpf", "revision", "version"])
        self.assertEqual(v, 1)
        self.assertTrue(all(labels.values()), f"empty build_info label: {labels}")
        self.assertEqual(labels["kernel"], os.uname().release)
        version = subprocess.run([self.binary, "--version"], capture_output=True,
                                 text=True).stdout
        self.assertIn(labels["version"], version)

        duration = one(samples, "cgroup_tcp_exporter_scrape_duration_seconds")
        self.assertTrue(0 <= duration < 5, duration)

        attached = series(samples, "cgroup_tcp_exporter_program_attached")
        self.assertTrue(attached, "no program_attached series")
        programs = {l["program"] for l, _ in attached}
        for l, v in attached:
            self.assertEqual(v, 1, l)
            self.assertTrue(l["program"].startswith("ctcp_"), l)
            self.assertTrue(l.get("tracepoint"), l)
        self.assertIn("ctcp_set_state", programs)
        loaded = set()
        for prog in json.loads(harness.run(["bpftool", "-j", "prog", "show"]).stdout):
            loaded.add(prog.get("name", ""))
        # The kernel keeps 15 characters of a name; bpftool shows the whole
        # one from BTF when it can.
        missing = sorted(p for p in programs if p not in loaded and p[:15] not in loaded)
        self.assertEqual(missing, [], "program_attached names no loaded program")
        for name in ("cgroup_tcp_exporter_program_run_seconds_total",
                     "cgroup_tcp_exporter_program_runs_total"):
            found = series(samples, name)
            self.assertEqual({l["program"] for l, _ in found}, programs, name)
            self.assertTrue(all(v >= 0 for _, v in found), found)

        entries = {l["map"]: v
                   for l, v in series(samples, "cgroup_tcp_exporter_map_entries")}
        capacity = {l["map"]: v
                    for l, v in series(samples, "cgroup_tcp_exporter_map_capacity")}
        self.assertTrue(capacity, "no map_capacity series")
        self.assertEqual(set(entries), set(capacity))
        for m in capacity:
            self.assertTrue(capacity[m] > 0 and 0 <= entries[m] <= capacity[m],
                            f"map {m}: {entries[m]} entries of {capacity[m]}")

        cache = one(samples, "cgroup_tcp_exporter_cgroup_cache_entries")
        misses = one(samples, "cgroup_tcp_exporter_cgroup_cache_misses_total")
        named = {l.get("cgroup") for _, l, _ in samples} - {None, "", "/"}
        self.assertTrue(cache >= (1 if named else 0) and float(cache).is_integer(),
                        f"cache entries {cache} with cgroups {sorted(named)[:5]}")
        self.assertTrue(misses >= 0 and float(misses).is_integer(), misses)

        pid = exp.proc.pid
        now = time.time()
        rss = one(samples, "process_resident_memory_bytes")
        vsz = one(samples, "process_virtual_memory_bytes")
        fds = one(samples, "process_open_fds")
        max_fds = one(samples, "process_max_fds")
        start = one(samples, "process_start_time_seconds")
        threads = one(samples, "process_threads")
        self.assertTrue(0 < rss < 2 ** 30, f"RSS {rss}")
        self.assertGreaterEqual(vsz, rss)
        self.assertTrue(one(samples, "process_cpu_seconds_total") >= 0)
        self.assertTrue(3 <= fds <= max_fds, f"open fds {fds}, max {max_fds}")
        self.assertLessEqual(abs(fds - len(os.listdir(f"/proc/{pid}/fd"))), 4,
                             f"open fds {fds}")
        self.assertEqual(max_fds, soft_nofile(pid))
        self.assertTrue(now - 3600 < start <= now, f"start time {start}, now {now}")
        self.assertLess(abs(start - process_start(pid)), 2, "start time vs /proc")
        # Read while the scrape's own connection thread runs.
        self.assertIn(threads, (idle_threads, idle_threads + 1),
                      f"process_threads with {idle_threads} threads between scrapes")

    def test_bpf_program_stats(self):
        with open(BPF_STATS) as f:
            before = f.read().strip()

        def set_stats(value):
            with open(BPF_STATS, "w") as f:
                f.write(value)
        harness.cleanup.add(lambda: set_stats(before), f"restore {BPF_STATS}")

        set_stats("0")
        exp = self.exporter()
        for _ in range(5):
            exp.get()
        _, samples = self.scrape(exp)
        runs = series(samples, "cgroup_tcp_exporter_program_runs_total")
        self.assertTrue(runs, "no program_runs_total series")
        nonzero = [(l, v) for l, v in runs if v]
        self.assertEqual(nonzero, [], "runs counted with kernel.bpf_stats_enabled=0")

        set_stats("1")
        for _ in range(5):
            exp.get()
        _, samples = self.scrape(exp)
        runs = {l["program"]: v for l, v in
                series(samples, "cgroup_tcp_exporter_program_runs_total")}
        seconds = {l["program"]: v for l, v in
                   series(samples, "cgroup_tcp_exporter_program_run_seconds_total")}
        self.assertGreater(runs.get("ctcp_set_state", 0), 0, runs)
        self.assertGreater(seconds.get("ctcp_set_state", 0), 0, seconds)
        self.assertLess(seconds["ctcp_set_state"] / runs["ctcp_set_state"], 1e-3,
                        "more than 1 ms per run: units wrong?")

    def test_disable_exporter_metrics(self):
        exp = self.exporter(["--web.disable-exporter-metrics"])
        for accept, openmetrics in ((None, False), (PROMETHEUS_ACCEPT, True)):
            with self.subTest(openmetrics=openmetrics):
                resp = exp.get(headers={"Accept": accept} if accept else {})
                self.assertEqual(resp.status, 200)
                body = resp.body.decode("utf-8")
                names = family_names(body, openmetrics)
                own = sorted(n for n in names if n.startswith(("cgroup_tcp_exporter_",
                                                                "process_")))
                self.assertEqual(own, [], "exporter metrics despite "
                                 "--web.disable-exporter-metrics")
                self.assertIn(OPENED, names)
                problems = (harness.check_openmetrics(body) if openmetrics
                            else harness.check_exposition(body))
                self.assertEqual(problems, [], "\n".join(problems[:20]))


if __name__ == "__main__":
    harness.main()
