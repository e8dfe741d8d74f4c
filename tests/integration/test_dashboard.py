#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: the Grafana dashboard in examples/grafana/.

- The JSON parses; every panel and every target uses the ${datasource}
  variable; the templating has datasource, instance, namespace, pod and
  cgroup (multi, include All as .*); panel ids are unique; every selector of
  a per-cgroup family filters on the four variables, the exporter's own
  families on $instance; rates use $__rate_interval.
- Two real Prometheus servers scrape the exporter every second, one with
  native histograms (protobuf) and one without (text), while a known workload
  runs in a test cgroup and network namespace (connects with bytes, refused
  connects, a connect whose SYNs are dropped so it retransmits and times
  out, a close with SO_LINGER 0). Then every panel query, its variables set
  to match all, must be accepted by /api/v1/query and return at least one
  series with a number (EMPTY_OK lists the exceptions, with the reason).
  The variables' label_values queries must find this instance and cgroup.
  Both servers must give every panel data, and every recording rule of
  examples/prometheus/rules.yml is accepted by both; the histogram rules
  (which read classic buckets or native histograms) and the failure ratio
  per peer group give numbers on both.

Run as root:  EXPORTER=build/cgroup_tcp_exporter PROMETHEUS=$(which prometheus) \\
              /usr/bin/python3 tests/integration/test_dashboard.py
The JSON checks need no root; the rest skips without root (exit 77), or
fails when CI=true. About 25 s.
"""

import json
import math
import os
import re
import sys
import unittest
import urllib.error

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DASHBOARD = os.path.join(harness.SOURCE, "examples", "grafana",
                         "cgroup_tcp_exporter.json")
NEEDS_ROOT = harness.NEEDS_ROOT

VARIABLES = ("instance", "namespace", "pod", "cgroup")
# What each template variable becomes in the queries sent to Prometheus:
# every query variable set to All, and Grafana's built-in intervals.
SUBSTITUTIONS = {name: ".*" for name in VARIABLES}
SUBSTITUTIONS.update({"__rate_interval": "1m", "__interval": "15s",
                      "__range": "5m"})
# Panel queries allowed to return nothing, by panel title, with the reason.
# The workload makes every event the dashboard shows, so none is needed.
EMPTY_OK = {}
RULES = os.path.join(harness.SOURCE, "examples", "prometheus", "rules.yml")
# Recording rules that must give the test cgroup a number on both servers:
# those that read histograms, the classic or the native way, and the
# failure ratio per peer group (the workload's connects go to `loopback`).
HISTOGRAM_RULES = ("cgroup_tcp:rtt_samples:rate5m", "cgroup_tcp:rtt_seconds:p99_5m",
                   "cgroup_tcp:handshake_seconds:p99_5m",
                   "cgroup_tcp:peer_connect_failure_ratio:rate5m")

# The workload's rare events, exactly: REFUSED refused connects (each
# gets a reset, sent without a socket, so in no cgroup), one connect timed
# out after one SYN retransmit, one reset sent by SO_LINGER 0 and received
# by the server, both in the cgroup.
RARE_WANT_KEYS = (("cgroup_tcp_connect_failures_total", 'reason=refused'),
                  ("cgroup_tcp_connect_failures_total", 'reason=timeout'),
                  ("cgroup_tcp_retransmits_total", ""),
                  ("cgroup_tcp_resets_sent_total", ""),
                  ("cgroup_tcp_resets_received_total", ""))

PER_CGROUP = re.compile(r"\b(cgroup_tcp_(?!exporter_)\w+)(\{[^}]*\})?")
SELF = re.compile(r"\b((?:cgroup_tcp_exporter_|process_)\w+|up)\b(\{[^}]*\})?")
VAR_REF = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)")

# The workload (workload.py, run in one cgroup; ports inside the test's own
# network namespace).
CONNS, NBYTES, REFUSED = 5, 20000, 2
PORTS, OPENED = harness.PORTS, harness.OPENED
RARE_WANT = {'cgroup_tcp_connect_failures_total{reason=refused}': REFUSED,
             'cgroup_tcp_connect_failures_total{reason=timeout}': 1,
             'cgroup_tcp_retransmits_total{}': 1,
             'cgroup_tcp_resets_sent_total{}': 1,
             'cgroup_tcp_resets_received_total{}': REFUSED + 1}


def expand(expr):
    """The query with every template variable replaced (KeyError names an
    unknown one)."""
    return VAR_REF.sub(lambda m: SUBSTITUTIONS[m.group(1) or m.group(2)], expr)


def load_dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def all_panels(dashboard):
    """Every panel, those inside collapsed rows included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def targets(dashboard):
    """[(panel title, target)] of every query in the dashboard."""
    return [(p.get("title", ""), t) for p in all_panels(dashboard)
            for t in p.get("targets", [])]


def uses_datasource_variable(ref):
    return (isinstance(ref, dict) and ref.get("uid") in ("${datasource}", "$datasource")
            or ref in ("${datasource}", "$datasource"))


class DashboardJsonTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dashboard = load_dashboard()
        cls.variables = {v["name"]: v for v in cls.dashboard["templating"]["list"]}

    def test_schema(self):
        self.assertGreaterEqual(self.dashboard.get("schemaVersion", 0), 36)
        self.assertTrue(self.dashboard.get("title"))
        self.assertTrue(self.dashboard.get("uid"))

    def test_panel_ids_unique(self):
        ids = [p.get("id") for p in all_panels(self.dashboard)]
        self.assertNotIn(None, ids)
        self.assertEqual(len(ids), len(set(ids)), f"duplicate panel ids: {ids}")

    def test_every_panel_and_target_uses_the_datasource_variable(self):
        bad = [p.get("title") for p in all_panels(self.dashboard)
               if not uses_datasource_variable(p.get("datasource"))]
        bad += [f"{title} / {t.get('refId')}" for title, t in targets(self.dashboard)
                if "datasource" in t and not uses_datasource_variable(t["datasource"])]
        self.assertEqual(bad, [], "not using ${datasource}")

    def test_templating(self):
        ds = self.variables.get("datasource")
        self.assertIsNotNone(ds, "no datasource variable")
        self.assertEqual((ds["type"], ds["query"]), ("datasource", "prometheus"))
        for name in VARIABLES:
            with self.subTest(variable=name):
                var = self.variables.get(name)
                self.assertIsNotNone(var, f"no {name} variable")
                self.assertEqual(var["type"], "query")
                self.assertTrue(uses_datasource_variable(var.get("datasource")))
                self.assertTrue(var.get("multi") and var.get("includeAll"))
                self.assertEqual(var.get("allValue"), ".*")
                query = var["query"]["query"] if isinstance(var["query"], dict) \
                    else var["query"]
                self.assertRegex(query, rf"^label_values\(.*,\s*{name}\)$")

    def test_queries_filter_on_the_variables(self):
        problems = []
        for title, t in targets(self.dashboard):
            expr = t.get("expr", "")
            if not expr:
                problems.append(f"{title}: target {t.get('refId')} has no expr")
                continue
            for m in PER_CGROUP.finditer(expr):
                for name in VARIABLES:
                    if f'{name}=~"${name}"' not in (m.group(2) or ""):
                        problems.append(f"{title}: {m.group(1)} not filtered on ${name}")
            for m in SELF.finditer(expr):
                if 'instance=~"$instance"' not in (m.group(2) or ""):
                    problems.append(f"{title}: {m.group(1)} not filtered on $instance")
            if "rate(" in expr and "$__rate_interval" not in expr:
                problems.append(f"{title}: rate without $__rate_interval")
            try:
                expand(expr)
            except KeyError as e:
                problems.append(f"{title}: unknown variable {e}")
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_heatmaps_read_buckets(self):
        heatmaps = [p for p in all_panels(self.dashboard) if p.get("type") == "heatmap"]
        self.assertGreaterEqual(len(heatmaps), 2)
        for p in heatmaps:
            for t in p["targets"]:
                self.assertEqual(t.get("format"), "heatmap", p["title"])
                self.assertRegex(t["expr"], r"^sum by \(le\) \(rate\(\w+_bucket\{",
                                 p["title"])


class DashboardQueryTest(unittest.TestCase):
    """Every panel query against a real Prometheus with workload data."""

    @classmethod
    def setUpClass(cls):
        harness.require_root(f"{NEEDS_ROOT}: runs an exporter that loads BPF programs")
        binary = harness.require_exporter()
        prometheus = harness.require_tool("PROMETHEUS", "prometheus")
        cls.dashboard = load_dashboard()
        run_id = f"ctcp-dashboard-{os.getpid()}"
        harness.cleanup.scope(cls)
        cls.cgroup = harness.Cgroup.make(run_id)
        cls.netns = harness.workload_netns(run_id)

        cls.exp = harness.Exporter(binary)
        cls.exp.start()
        cls.prom = harness.Prometheus(prometheus, f"127.0.0.1:{cls.exp.port}")
        cls.native = harness.Prometheus(prometheus, f"127.0.0.1:{cls.exp.port}",
                                        args=["--enable-feature=native-histograms"])
        cls.prom.wait_ready()
        cls.native.wait_ready()
        cls.run_workload()

    @classmethod
    def wait_for(cls, expr, done, timeout, what, prom=None):
        prom = prom or cls.prom
        value = harness.poll(lambda: prom.scalar(expr), done, timeout, 0.25)
        if not done(value):
            raise AssertionError(f"{what}: {expr} = {value} after {timeout}s\n"
                                 f"--- prometheus ---\n{prom.log()}\n"
                                 f"--- exporter ---\n{cls.exp.stderr()}")

    @classmethod
    def run_workload(cls):
        args = harness.flags(**PORTS, conns=CONNS, bytes=NBYTES, refused=REFUSED)
        # The server's listeners make the cgroup appear with zeros, and a
        # connection to itself its (cgroup, loopback) pair; a few samples
        # of both first, so that rate() sees the workload's increase.
        server = harness.Workload(cls.cgroup, cls.netns, "server", *args)
        server.wait_for_line("ready", timeout=5)
        harness.Workload(cls.cgroup, cls.netns, "pair", "--bytes", 1000).finish(timeout=10)
        label = json.dumps(cls.cgroup.label)
        series = f'{OPENED}{{cgroup={label},direction="outbound"}}'
        pair = f'cgroup_tcp_peer_connect_failures_total{{cgroup={label},reason="refused"}}'
        cls.wait_for(f"min(count_over_time({series}[1m])) and min(count_over_time({pair}[1m]))",
                     lambda v: v is not None and v >= 3, 20,
                     "the test cgroup and its peer pair never reached Prometheus")
        client = harness.Workload(cls.cgroup, cls.netns, "client", *args)
        summary = client.finish(timeout=20)
        server.finish(timeout=5)
        if (summary["ok"], summary["refused"], summary["timed_out"],
                summary["resets_sent"], summary["errors"]) != (CONNS, REFUSED, 1, 1, []):
            raise RuntimeError(f"workload did not go to plan: {summary}")
        # What the exporter itself says of the rare events, before
        # Prometheus: a rate of 0 below is then told apart from a count
        # the exporter never made.
        cls.rare = harness.poll(cls.rare_counts, lambda got: got == RARE_WANT, 10)
        for prom in (cls.prom, cls.native):
            cls.wait_for(series, lambda v: v == CONNS + 2, 10,
                         "the workload's connects never showed in PromQL", prom)
        # About 10 s of scrapes after the workload.
        samples = cls.prom.scalar(f"count_over_time({series}[1m])")
        cls.wait_for(f"count_over_time({series}[1m])",
                     lambda v: v is not None and v >= samples + 10, 20,
                     "Prometheus stopped scraping")

    @classmethod
    def rare_counts(cls):
        samples = harness.parse_samples(cls.exp.scrape().body)
        return {f"{family}{{{labels}}}": int(harness.value(samples, family,
                                                           cgroup=cls.cgroup.label,
                                                           **dict([labels.split("=")])
                                                           if labels else {}))
                for family, labels in RARE_WANT_KEYS}

    @staticmethod
    def numbers(prom, expr):
        """(error or None, [numbers] of the result): a sample's value, or a
        native histogram's count (heatmap cells)."""
        try:
            reply = prom.get("/api/v1/query", query=expr)
        except urllib.error.HTTPError as e:  # 400 for a bad query
            reply = json.loads(e.read() or b"{}")
        if reply.get("status") != "success":
            return f"{reply.get('errorType')}: {reply.get('error')}", []
        return None, [float(r["value"][1]) if "value" in r else float(r["histogram"][1]["count"])
                      for r in reply["data"]["result"]]

    def test_every_panel_query_returns_data(self):
        problems, lines = [], []
        for server, prom in (("classic", self.prom), ("native", self.native)):
            for title, t in targets(self.dashboard):
                expr = expand(t["expr"])
                error, values = self.numbers(prom, expr)
                if error:
                    problems.append(f"{server}: {title}: {error}\n    {expr}")
                    continue
                finite = [v for v in values if not math.isnan(v)]
                lines.append(f"{server}: {title} [{t['refId']}]: {len(values)} series, "
                             f"max {max(finite) if finite else float('nan'):.4g}")
                if not finite and title not in EMPTY_OK:
                    problems.append(f"{server}: {title} [{t['refId']}]: no data "
                                    f"({len(values)} series, all NaN)\n    {expr}")
        print("\n" + "\n".join(f"    {line}" for line in lines), file=sys.stderr)
        self.assertEqual(problems, [], "\n" + "\n".join(problems)
                         + f"\n--- prometheus ---\n{self.prom.log()}"
                         + f"\n--- native ---\n{self.native.log()}")

    def test_recording_rules_on_both_servers(self):
        """rules.yml's recording rules: accepted by both servers; those that
        read histograms give this cgroup a number on both."""
        import yaml
        with open(RULES) as f:
            rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]
                     if "record" in r]
        problems, lines = [], []
        recorded = {r["record"]: r["expr"] for r in rules}

        def inline(expr):
            """The expression with the rules it reads written out: the
            servers here load no rules."""
            for _ in range(len(recorded)):
                expr = re.sub(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9]+\b",
                              lambda m: f"({recorded[m.group(0)]})"
                              if m.group(0) in recorded else m.group(0), expr)
            return expr
        for rule in rules:
            expr = inline(rule["expr"])
            for server, prom in (("classic", self.prom), ("native", self.native)):
                error, _ = self.numbers(prom, expr)
                if error:
                    problems.append(f"{server}: {rule['record']}: {error}")
                elif rule["record"] in HISTOGRAM_RULES:
                    values = [v for labels, v in prom.query(expr)
                              if labels.get("cgroup") == self.cgroup.label
                              and not math.isnan(v)]
                    lines.append(f"{server}: {rule['record']}: {values}")
                    if not values:
                        problems.append(f"{server}: {rule['record']}: {values} for "
                                        f"{self.cgroup.label}")
        print("\n" + "\n".join(f"    {line}" for line in lines), file=sys.stderr)
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_failures_retransmits_and_resets_are_counted(self):
        """The exporter counted the workload's rare events exactly (the
        timeout and its SYN retransmit happen in the kernel's timer)."""
        self.assertEqual(self.rare, RARE_WANT, self.exp.stderr())

    def test_failures_retransmits_and_resets_are_seen(self):
        """The workload's rare events reach the panels as non-zero rates,
        per cgroup and per peer group; on failure, the raw samples
        Prometheus holds say when the series moved."""
        label = json.dumps(self.cgroup.label)
        loopback = 'peer="loopback"'
        for family, extra in (("cgroup_tcp_connect_failures_total", 'reason="refused"'),
                              ("cgroup_tcp_connect_failures_total", 'reason="timeout"'),
                              ("cgroup_tcp_retransmits_total", ""),
                              ("cgroup_tcp_resets_sent_total", ""),
                              ("cgroup_tcp_resets_received_total", ""),
                              ("cgroup_tcp_peer_connect_failures_total",
                               f'{loopback},reason="refused"'),
                              ("cgroup_tcp_peer_connect_failures_total",
                               f'{loopback},reason="timeout"'),
                              ("cgroup_tcp_peer_retransmits_total", loopback),
                              ("cgroup_tcp_peer_resets_sent_total", loopback),
                              ("cgroup_tcp_peer_resets_received_total", loopback)):
            with self.subTest(family=family, labels=extra):
                sel = ",".join(filter(None, [f"cgroup={label}", extra]))
                rate = self.prom.scalar(f"sum(rate({family}{{{sel}}}[1m]))")
                if not (rate and rate > 0):
                    raw = self.prom.api("/api/v1/query", query=f"{family}{{{sel}}}[2m]")
                    self.fail(f"{family}{{{sel}}}: rate {rate}; the exporter said "
                              f"{self.rare}; samples over 2m: {json.dumps(raw['result'])}")

    def test_variable_queries_find_this_target(self):
        values = {}
        for var in self.dashboard["templating"]["list"]:
            if var["type"] != "query":
                continue
            query = var["query"]["query"] if isinstance(var["query"], dict) \
                else var["query"]
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", expand(query))
            self.assertIsNotNone(m, query)
            series = self.prom.api("/api/v1/series", **{"match[]": m.group(1)})
            values[var["name"]] = {s.get(m.group(2), "") for s in series}
        self.assertIn(f"127.0.0.1:{self.exp.port}", values["instance"])
        self.assertIn(self.cgroup.label, values["cgroup"])
        print(f"\n    variables: " + ", ".join(f"{k} {len(v)} values"
                                              for k, v in values.items()),
              file=sys.stderr)


if __name__ == "__main__":
    harness.main()
