# SPDX-License-Identifier: GPL-2.0-only
"""tests/bench/run --quick makes a complete, sane report: every section of
its BENCH_JSON filled, in the documented shape, with positive figures.
Whether the figures meet their targets is for the report to say, never for
a test: timing on a shared machine is no pass/fail criterion.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import harness  # noqa: E402  (after the path is set)

RUN = os.path.join(HERE, "run")
SCRAPE_COUNTS = [10, 100, 1000, 10000]


def positive_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class QuickRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_root(f"{harness.NEEDS_ROOT}: runs the exporter, makes cgroups "
                             "and reads the BPF statistics")
        with tempfile.TemporaryDirectory(prefix="bench-test.") as tmp:
            path = os.path.join(tmp, "bench.json")
            proc = subprocess.run([RUN, "--quick"], env=dict(os.environ, BENCH_JSON=path),
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True)
            print(proc.stdout)
            print(proc.stderr, file=sys.stderr)
            if proc.returncode != 0:
                raise AssertionError(f"{RUN} --quick exited {proc.returncode}")
            with open(path) as f:
                cls.report = json.load(f)

    def check_fields(self, entry, fields):
        for name, kind in fields.items():
            self.assertIn(name, entry)
            self.assertTrue(kind(entry[name]), f"{name}={entry[name]!r} in {entry}")

    def test_programs(self):
        programs = self.report["programs"]
        self.assertTrue(programs)
        for p in programs:
            self.check_fields(p, {"program": str, "tracepoint": str,
                                  "ns_per_event": positive_number,
                                  "empty_ns_per_event": positive_number,
                                  "ratio": positive_number})
        # The workload reaches every socket-level hook of the hot path.
        self.assertLessEqual({"tcp_probe", "sock_send_length", "sock_recv_length",
                              "inet_sock_set_state"}, {p["tracepoint"] for p in programs})

    def test_workloads(self):
        workloads = self.report["workloads"]
        self.assertEqual(["churn", "keepalive", "bulk"], [w["workload"] for w in workloads])
        for w in workloads:
            self.check_fields(w, {"unit": str, "off": positive_number, "on": positive_number,
                                  "ratio": positive_number, "empty": positive_number,
                                  "floor_ratio": positive_number, "own_ratio": positive_number,
                                  "bpf_ns_per_unit": positive_number})
            self.assertLessEqual(w["ci_low"], w["ratio"])
            self.assertLessEqual(w["ratio"], w["ci_high"])

    def test_scrape(self):
        scrape = self.report["scrape"]
        self.assertEqual(SCRAPE_COUNTS, [s["cgroups"] for s in scrape])
        for s in scrape:
            self.check_fields(s, {"cgroups": positive_int, "series": positive_int,
                                  "ms": positive_number, "bytes": positive_int,
                                  "gzip_ms": positive_number, "gzip_bytes": positive_int,
                                  "rss_bytes": positive_int, "map_bytes": positive_int})
            self.assertGreaterEqual(s["series"], s["cgroups"])
            self.assertLess(s["gzip_bytes"], s["bytes"])
        series = [s["series"] for s in scrape]
        self.assertEqual(sorted(series), series, "more cgroups, fewer series")
        for s in scrape:
            self.assertEqual(sorted(s["formats"]), ["openmetrics", "protobuf", "text"])
            for f in s["formats"].values():
                self.check_fields(f, {"ms": positive_number, "bytes": positive_int,
                                      "gzip_ms": positive_number, "gzip_bytes": positive_int})
            # Native histograms keep the protobuf body well below the text one.
            self.assertLess(s["formats"]["protobuf"]["bytes"], s["formats"]["text"]["bytes"])
        budget = scrape[0]["prometheus_series_per_cgroup"]
        self.assertLess(budget["native"], budget["classic"])

    def test_node_exporter(self):
        self.check_fields(self.report["node_exporter"],
                          {"series": positive_int, "ms": positive_number,
                           "gzip_ms": positive_number})


if __name__ == "__main__":
    harness.main()
