#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: once started, the exporter holds no privilege, and
still does its whole job.

Two exporters are started as root, one staying root and one with
--runas=nobody. Every thread of each must show empty effective, permitted,
inheritable, bounding and ambient capability sets and no_new_privs in
/proc/PID/task/TID/status, and the second one nobody's uid, gid and groups.
Then both must still: count a known workload in a test cgroup exactly and
name the cgroup (file handles would need a capability: by the path the
kernel reported when it was made), free a removed cgroup's slot (bpf()
deletes on the maps they hold), show program run statistics and map entries
(bpf_obj_get_info_by_fd, batch lookups), and release every BPF object on
SIGTERM.

A start that cannot drop what it holds is refused: exit 1 and one error line
naming the capability that dropping needs. (A start without the privilege
to load the programs is tested in test_cli.py.)

Run as root:  EXPORTER=build/cgroup_tcp_exporter \\
              /usr/bin/python3 tests/integration/test_privileges.py
Without root the test is skipped, or fails when CI=true.
"""

import os
import pwd
import shutil
import subprocess
import sys
import unittest

# Importing the helpers must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_counters  # noqa: E402  (the exact counts of the "pair" workload)

CAP_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
RUNAS = "nobody"
# The maps keyed by cgroup id: its slot in the value arrays, its removal.
ID_MAPS = ("ctcp_slots", "ctcp_removed")


def require_root():
    harness.require_root(f"{harness.NEEDS_ROOT}: creates cgroups and a network namespace "
                         "and runs exporters that load BPF programs")


def thread_status(pid):
    """{tid: {field: value}} of /proc/PID/task/*/status: capabilities are
    per thread, so each one is judged."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                threads[int(tid)] = dict(line.rstrip("\n").split(":\t", 1)
                                         for line in f if ":\t" in line)
        except FileNotFoundError:
            pass  # a connection thread that just ended
    return threads


def samples_of(exporter):
    scrape = exporter.scrape()
    if scrape.status != 200:
        raise AssertionError(f"scrape answered {scrape.status}: {scrape.body[:300]}")
    return harness.parse_samples(scrape.body)


def by_label(samples, name, label):
    return {l[label]: v for n, l, v in samples if n == name}


class DroppedTest(unittest.TestCase):
    """Both exporters see the same workloads; the tests run in name order
    and the last one stops them."""

    maxDiff = None
    exporters = {}

    @classmethod
    def setUpClass(cls):
        require_root()
        binary = harness.require_exporter()
        harness.cleanup.scope(cls)
        harness.enable_bpf_stats()
        run_id = f"ctcp-privs-{os.getpid()}"
        cls.parent = harness.Cgroup.make(run_id)
        cls.netns = harness.Netns(run_id)
        for name, extra in (("root", []), (RUNAS, [f"--runas={RUNAS}"])):
            exporter = harness.Exporter(binary, args=["--log.level=debug"] + extra)
            cls.exporters[name] = exporter
            exporter.start()
            exporter.maps = harness.held_bpf_maps(exporter.proc.pid)
            exporter.held = harness.held_bpf_objects(exporter.proc.pid)

    def run_pair(self, cgroup):
        """One self-connection of K bytes each way in `cgroup`, and the
        scrapes of both exporters once they show exactly that."""
        pair = harness.Workload(cgroup, self.netns, "pair", "--bytes", test_counters.K)
        pair.finish(timeout=10)
        want = test_counters.expected_pair()
        samples = {}
        for name, exporter in self.exporters.items():
            samples[name] = harness.poll(
                lambda: samples_of(exporter),
                lambda s: test_counters.observed(s, cgroup.label) == want, timeout=10)
            self.assertEqual(test_counters.observed(samples[name], cgroup.label), want,
                             f"exporter {name}: counts of {cgroup.label}\n"
                             f"{exporter.stderr()}")
        return samples

    def test_0_no_capabilities_left(self):
        nobody = pwd.getpwnam(RUNAS)
        want_groups = sorted(os.getgrouplist(RUNAS, nobody.pw_gid))
        for name, exporter in self.exporters.items():
            threads = thread_status(exporter.proc.pid)
            self.assertTrue(threads, f"{name}: no threads")
            # Without --runas the groups stay what they were at start.
            ids = ((0, 0, sorted(os.getgroups())) if name == "root"
                   else (nobody.pw_uid, nobody.pw_gid, want_groups))
            for tid, status in threads.items():
                with self.subTest(exporter=name, thread=tid):
                    caps = {k: int(status[k], 16) for k in CAP_SETS}
                    self.assertEqual(caps, dict.fromkeys(CAP_SETS, 0), status)
                    self.assertEqual(status["NoNewPrivs"], "1")
                    self.assertEqual(status["Uid"].split(), [str(ids[0])] * 4)
                    self.assertEqual(status["Gid"].split(), [str(ids[1])] * 4)
                    self.assertEqual(sorted(int(g) for g in status["Groups"].split()),
                                     ids[2])

    def test_1_counts_and_names(self):
        """Exact counts under the exact path. The tree was walked at start;
        a cgroup made later is named by the path the kernel reported, with
        no walk (the debug log names each one)."""
        def walks(exporter):
            return exporter.stderr(tail=1 << 30).count("walked the cgroup tree")

        before = {name: walks(e) for name, e in self.exporters.items()}
        self.assertEqual(set(before.values()), {1}, "one walk at start")
        cgroup = self.parent.child("busy")
        samples = self.run_pair(cgroup)
        for name, exporter in self.exporters.items():
            misses = harness.value(samples[name],
                                   "cgroup_tcp_exporter_cgroup_cache_misses_total")
            self.assertGreaterEqual(misses, 1, f"{name}: the cgroup was never looked up")
            self.assertEqual(walks(exporter), before[name], f"{name}: walked the tree")

    def test_2_removed_cgroup_freed(self):
        """The kernel frees nothing by itself: the exporter's bpf() calls,
        without capabilities, take a removed cgroup's slot and its removal
        record away."""
        cgroup = self.parent.child("gone")
        cgroup_id = os.stat(cgroup.path).st_ino
        self.run_pair(cgroup)
        for name, exporter in self.exporters.items():
            held = [m for m in ID_MAPS
                    if harness.bpf_map_has_key(exporter.maps[m], cgroup_id)]
            self.assertIn("ctcp_slots", held, f"{name}: the cgroup has no slot yet")
        cgroup.kill()
        cgroup.remove()
        for name, exporter in self.exporters.items():
            def left():
                exporter.scrape()
                return [m for m in ID_MAPS
                        if harness.bpf_map_has_key(exporter.maps[m], cgroup_id)]
            self.assertEqual(harness.poll(left, lambda maps: not maps, timeout=10), [],
                             f"{name}: entries of removed cgroup {cgroup_id} still in "
                             f"these maps\n{exporter.stderr()}")
            self.assertFalse(harness.has_series(samples_of(exporter),
                                                test_counters.OPENED, cgroup=cgroup.label),
                             f"{name}: {cgroup.label} still shown")

    def test_3_self_metrics(self):
        """Program statistics come from bpf_obj_get_info_by_fd, map entries
        from batch lookups, open fds from /proc/self/fd (root-owned once the
        uid changed: readable by the process itself)."""
        for name, exporter in self.exporters.items():
            samples = samples_of(exporter)
            runs = by_label(samples, "cgroup_tcp_exporter_program_runs_total", "program")
            seconds = by_label(samples, "cgroup_tcp_exporter_program_run_seconds_total",
                               "program")
            entries = by_label(samples, "cgroup_tcp_exporter_map_entries", "map")
            self.assertGreater(runs.get("ctcp_set_state", 0), 0, f"{name}: {runs}")
            self.assertGreater(seconds.get("ctcp_set_state", 0), 0, f"{name}: {seconds}")
            # The unattributed and overflow keys, and at least the test cgroup.
            self.assertGreaterEqual(entries.get("ctcp_conn", 0), 3, f"{name}: {entries}")
            fds = harness.value(samples, "process_open_fds")
            listed = len(os.listdir(f"/proc/{exporter.proc.pid}/fd"))
            # The scrape's own connection may have closed since.
            self.assertTrue(fds > 3 and abs(fds - listed) <= 2,
                            f"{name}: process_open_fds {fds}, {listed} in /proc")

    def test_9_exit_releases_bpf_objects(self):
        """Closing the fds is all detaching takes: SIGTERM, exit 0, and no
        program or map the exporter held is left."""
        for name, exporter in self.exporters.items():
            self.assertEqual(exporter.stop(timeout=5), 0, f"{name}\n{exporter.stderr()}")
            progs, maps = exporter.held
            self.assertTrue(progs and maps, f"{name}: held no BPF objects")

            def left():
                now = harness.bpf_objects()
                return progs & now[0], maps & now[1]
            left = harness.poll(left, lambda r: not r[0] and not r[1], timeout=3,
                                interval=0.1)
            self.assertEqual(left, (set(), set()), f"{name}: ids left after exit")


class DropRefusedTest(unittest.TestCase):
    """Started as nobody with only the capabilities it loads with, the
    exporter cannot empty the bounding set or switch users: it says so and
    exits 1, rather than run with privileges it meant to give up."""

    def start_as_nobody(self, caps, *flags):
        require_root()
        binary = harness.require_exporter()
        if not shutil.which("setpriv"):
            self.fail("setpriv (util-linux) not found: needed to start as nobody")
        caps = ",".join(["-all"] + [f"+{c}" for c in caps])
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                f"--inh-caps={caps}", f"--ambient-caps={caps}", binary,
                f"--web.listen-address=127.0.0.1:{harness.free_port()}",
                "--log.level=error"] + list(flags)
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=20)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(proc.stderr.count("\n"), 1, f"want one line: {proc.stderr!r}")
        self.assertTrue(proc.stderr.startswith("cgroup_tcp_exporter: error: "), proc.stderr)
        return proc.stderr

    def test_bounding_set_needs_setpcap(self):
        line = self.start_as_nobody(["bpf", "perfmon"])
        self.assertIn("bounding set", line)
        self.assertIn("CAP_SETPCAP", line)

    def test_runas_needs_setuid(self):
        line = self.start_as_nobody(["bpf", "perfmon", "setpcap"], "--runas=65534:65534")
        self.assertIn("--runas", line)
        self.assertIn("CAP_SETUID", line)


if __name__ == "__main__":
    harness.main()
