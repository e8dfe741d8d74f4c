#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: who a series belongs to, which cgroups are shown, and
what happens to removed cgroups.

Test "containers" are cgroup2 children named the way container runtimes
and the kubelet name theirs (Docker, containerd and CRI-O under Kubernetes
with the systemd and the cgroupfs drivers, Podman, a CRI-O conmon helper),
below a parent `ctcp-id-<pid>`, plus a fake kubelet log directory. Every
TCP connect is made by one driver process in a private network namespace,
which moves itself into a cgroup, connects to a sink process in a cgroup of
its own, and moves back; so the test can make thousands of short-lived
cgroups quickly. The test checks:
- the identity labels (container_id, pod_uid, namespace, pod, container)
  of each cgroup exactly (those without a value left out), their order,
  and that every family carries them;
- --cgroup.include / --cgroup.exclude;
- a removed cgroup: shown once more with its last values, then gone, its
  kernel map entries freed, its slot reused by a new cgroup that starts from
  zero; a cgroup created, used and removed between two scrapes is still
  shown;
- churn: 1000 cgroups made, used once and removed (CTCP_SOAK=long: 10000,
  CTCP_SOAK=N: N), every connect counted once, map entries and resident
  memory flat;
- --cgroup.max=2: events of further cgroups in the cgroup="(overflow)"
  series, every family's sum still exact.

Run as root:  EXPORTER=build/cgroup_tcp_exporter \\
              /usr/bin/python3 tests/integration/test_identity.py
Without root the test is skipped (exit 77), or fails when CI=true. A few
seconds by default, about 15 s with CTCP_SOAK=long. Figures (churn, limit,
filters) are printed on stderr.
"""

import os
import re
import secrets
import sys
import time
import unittest
import uuid

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (CACHE_ENTRIES, CLOSED, CONNECTIONS, FAILURES, HANDSHAKE_COUNT,  # noqa: E402
                     IO_SIZE, LIFETIME, MAP_CAPACITY, MAP_ENTRIES, MAP_FULL, MIB, OPENED,
                     OVERFLOW, RECEIVED_BYTES, RESETS_RECEIVED, RESETS_SENT, RETRANSMITS,
                     RSS, RTT, SENT_BYTES)

PORT = 5301   # the sink, inside the private namespace

IDENTITY = ("container_id", "pod_uid", "namespace", "pod", "container")
# Every family with a `cgroup` label; a cgroup that did anything has all.
PER_CGROUP_FAMILIES = (
    OPENED, FAILURES, CLOSED, RETRANSMITS, RESETS_SENT, RESETS_RECEIVED, SENT_BYTES,
    RECEIVED_BYTES, CONNECTIONS, HANDSHAKE_COUNT, LIFETIME + "_count", RTT + "_count",
    IO_SIZE + "_count")

SOAK = os.environ.get("CTCP_SOAK", "")
SOAK_CGROUPS = 10000 if SOAK == "long" else int(SOAK) if SOAK.isdigit() else 1000
SOAK_SCRAPE_EVERY = 100


def hex_id():
    return secrets.token_hex(32)   # 64 lowercase hex digits, like a runtime's


def require_root():
    harness.require_root(("needs root: creates cgroup2 children and a network namespace "
                          "and runs exporters that load BPF programs"))


note = harness.note


# ---------------------------------------------------------------- parsing

opened_series = harness.opened_series


def identity_of(labels):
    """The identity labels a series carries (those without a value are
    left out of it)."""
    d = dict(labels)
    return {k: d[k] for k in IDENTITY if k in d}


def opened(body, label, direction="outbound"):
    entry = opened_series(body).get(label, {}).get(direction)
    return None if entry is None else entry[0]


successful_connects = harness.successful_connects
opened_total = harness.opened_total


def gauge(body, name):
    """{labels tuple: value} of a family without cgroup label."""
    return {tuple(l): v for _, l, v in harness.samples_of(body, name)}


scalar = harness.scalar
map_entries = harness.map_entries


def cgroup_labels(body):
    """Every cgroup label of OPENED (every shown cgroup has that family)."""
    return {dict(l).get("cgroup") for _, l, _ in harness.samples_of(body, OPENED)}


def shows(body, label):
    """True when any series of the body carries cgroup=label (labels of
    this test need no escaping)."""
    return f'cgroup="{label}"' in body


def body_lines_of(body, label, limit=40):
    lines = [l for l in body.splitlines() if f'cgroup="{label}"' in l
             and "_bucket{" not in l]
    return "\n".join(lines[:limit])


class IdentityTest(harness.ClassResources, unittest.TestCase):
    maxDiff = None

    # ------------------------------------------------------------ setup

    @classmethod
    def setUpClass(cls):
        require_root()
        cls.binary = harness.require_exporter()
        cls.run_id = f"ctcp-id-{os.getpid()}"
        harness.cleanup.scope(cls)
        cls.parent = harness.Cgroup.make(cls.run_id)
        cls.netns = harness.Netns(cls.run_id)
        cls.logdir = harness.cleanup.temp_dir("ctcp-id-logs-")
        cls.server = cls.parent.child("server")
        cls.home = cls.parent.child("driver")
        deadline = 120 + SOAK_CGROUPS // 20
        cls.sink = cls.start_sink(cls.server, PORT, deadline)
        cls.driver = cls.start_driver(cls.home, PORT, deadline)
        cls.make_runtime_cgroups()
        cls.exporter = cls.start_exporter()

    @classmethod
    def descend(cls, relative):
        """mkdir -p below the parent; the Cgroup of the last component."""
        cgroup = cls.parent
        for name in relative.split("/"):
            path = os.path.join(cgroup.path, name)
            os.makedirs(path, exist_ok=True)
            cgroup = harness.Cgroup(path, cgroup.label + "/" + name)
        return cgroup

    @classmethod
    def make_runtime_cgroups(cls):
        """Cgroups named like the runtimes name theirs; {key: (Cgroup,
        expected identity labels)}. Kubelet names come from log links made
        by the test that needs them."""
        ids = {k: hex_id() for k in ("docker", "containerd", "cgroupfs", "podman",
                                     "conmon", "flash")}
        uids = {k: str(uuid.uuid4()) for k in ("containerd", "cgroupfs", "conmon")}
        cls.ids, cls.uids = ids, uids
        u_ = {k: u.replace("-", "_") for k, u in uids.items()}
        layout = {
            "docker": (f"system.slice/docker-{ids['docker']}.scope",
                       {"container_id": ids["docker"]}),
            "containerd": (
                "kubepods.slice/kubepods-burstable.slice/"
                f"kubepods-burstable-pod{u_['containerd']}.slice/"
                f"cri-containerd-{ids['containerd']}.scope",
                {"container_id": ids["containerd"], "pod_uid": uids["containerd"],
                 "namespace": "shop", "pod": "web-7d4b9c-x2x", "container": "nginx"}),
            "cgroupfs": (
                f"kubepods/besteffort/pod{uids['cgroupfs']}/{ids['cgroupfs']}",
                {"container_id": ids["cgroupfs"], "pod_uid": uids["cgroupfs"],
                 "namespace": "payments", "pod": "api-0", "container": "app"}),
            "podman": (f"machine.slice/libpod-{ids['podman']}.scope",
                       {"container_id": ids["podman"]}),
            # A runtime helper: in the pod, but not a container.
            "conmon": (
                "kubepods.slice/kubepods-besteffort.slice/"
                f"kubepods-besteffort-pod{u_['conmon']}.slice/"
                f"crio-conmon-{ids['conmon']}.scope",
                {"pod_uid": uids["conmon"]}),
        }
        cls.runtime = {}
        for key, (relative, identity) in layout.items():
            cls.runtime[key] = (cls.descend(relative), identity)

    # ------------------------------------------------------------ helpers

    def connect_from(self, cgroup, connects=1):
        """`connects` connects from `cgroup` (None: the driver's home);
        they must all succeed (else the environment is at fault)."""
        request = {"connects": connects}
        if cgroup is not None:
            request.update(cgroup=cgroup.path, label=cgroup.label)
        answer = self.driver.request(request, timeout=10 + connects)
        if answer["ok"] != connects or answer["errors"]:
            raise RuntimeError(f"driver in {cgroup and cgroup.label}: {answer}")

    def scrape(self, exporter=None, scraper=None):
        """A 200 scrape's body."""
        scrape = (scraper or exporter or self.exporter).scrape()
        self.assertEqual(scrape.status, 200, f"scrape status\n{scrape.body[:2000]}")
        return scrape.body

    def poll(self, done, exporter=None, timeout=5.0):
        return harness.poll(lambda: self.scrape(exporter), done, timeout)

    def wait_gone(self, exporter, label, baseline, scrapes=10, interval=0.3):
        """Scrape until no series of `label` is shown and every map holds no
        more entries than in `baseline`. Returns (scrapes it took, or None,
        the last body)."""
        for n in range(1, scrapes + 1):
            body = self.scrape(exporter)
            entries = map_entries(body)
            if not shows(body, label) and all(entries.get(m, 0) <= v
                                              for m, v in baseline.items()):
                return n, body
            time.sleep(interval)
        return None, body

    def assert_clean_exit(self, exporter):
        """SIGTERM: exit 0 and no sanitizer report (a sanitized build
        reports leaks only at exit)."""
        rc = exporter.stop(timeout=10)
        err = exporter.stderr(tail=20000)
        self.assertEqual(rc, 0, f"exit code after SIGTERM (None: killed)\n{err}")
        self.assertNotRegex(err, "Sanitizer|runtime error:", "sanitizer report")

    def temp_cgroup(self, relative):
        cgroup = self.descend(relative)
        self.addCleanup(cgroup.remove)
        self.addCleanup(cgroup.kill)
        return cgroup

    def make_log_links(self):
        """The kubelet's log links for the containerd container (a plain
        file) and the cgroupfs one (a symlink into a pods directory, as the
        kubelet makes them), plus names that are not ours or not links."""
        ids, uids = self.ids, self.uids
        open(os.path.join(self.logdir, f"web-7d4b9c-x2x_shop_nginx-{ids['containerd']}.log"),
             "w").close()
        target = os.path.join(self.logdir, "pods", f"payments_api-0_{uids['cgroupfs']}", "app")
        os.makedirs(target)
        open(os.path.join(target, "0.log"), "w").close()
        os.symlink(os.path.join(target, "0.log"),
                   os.path.join(self.logdir, f"api-0_payments_app-{ids['cgroupfs']}.log"))
        open(os.path.join(self.logdir, f"other_kube-system_proxy-{hex_id()}.log"), "w").close()
        open(os.path.join(self.logdir, "README"), "w").close()

    # ------------------------------------------------------------ tests

    def test_1_identity_labels(self):
        """One connect from each runtime-named cgroup: each series carries
        exactly the expected identity labels, in order, in every family."""
        exporter = self.start_exporter(f"--kubelet.log-dir={self.logdir}")
        self.addCleanup(exporter.close)
        # Links appear while the exporter runs, as the kubelet makes them.
        self.make_log_links()
        self.connect_from(None)   # the driver's and the sink's cgroups
        for cgroup, _ in self.runtime.values():
            self.connect_from(cgroup)

        def want(cgroup, identity, direction):
            return [("cgroup", cgroup.label)] \
                + [(k, identity[k]) for k in IDENTITY if k in identity] \
                + [("direction", direction)]

        def settled(body):
            series = opened_series(body)
            return all(
                {d: e for d, e in series.get(c.label, {}).items()}
                == {"outbound": (1, want(c, i, "outbound")),
                    "inbound": (0, want(c, i, "inbound"))}
                for c, i in self.runtime.values())

        body = self.poll(settled, exporter=exporter)
        series = opened_series(body)
        for key, (cgroup, identity) in self.runtime.items():
            with self.subTest(runtime=key):
                info = f"\n{body_lines_of(body, cgroup.label)}"
                got = {d: (v, dict(l)) for d, (v, l) in series.get(cgroup.label, {}).items()}
                self.assertEqual(got, {
                    "outbound": (1, dict(want(cgroup, identity, "outbound"))),
                    "inbound": (0, dict(want(cgroup, identity, "inbound")))},
                    f"{OPENED} of {cgroup.label}" + info)
                # Every family of this cgroup, same identity.
                families, wrong = set(), []
                for name, labels, _ in harness.samples_of(body, *PER_CGROUP_FAMILIES):
                    d = dict(labels)
                    if d.get("cgroup") != cgroup.label:
                        continue
                    families.add(name)
                    if identity_of(labels) != identity:
                        wrong.append((name, d))
                self.assertEqual(wrong, [], f"series of {cgroup.label} with other "
                                 f"identity labels than {identity}")
                self.assertEqual(sorted(set(PER_CGROUP_FAMILIES) - families), [],
                                 f"families missing for {cgroup.label}" + info)
        # The sink's and the driver's cgroups are nobody's containers.
        for cgroup in (self.server, self.home):
            with self.subTest(cgroup=cgroup.label):
                got = {d: identity_of(l)
                       for d, (_, l) in series.get(cgroup.label, {}).items()}
                self.assertEqual(got, {"outbound": {}, "inbound": {}})
        # Order: cgroup, the identity labels it has, then the family's own.
        misordered = []
        for line in body.splitlines():
            if not line.startswith("cgroup_tcp_") or 'cgroup="' not in line:
                continue
            names = [n for n, _ in harness.parse_sample_line_ordered(line)[1]]
            present = [k for k in IDENTITY if k in names]
            if names[:1 + len(present)] != ["cgroup", *present]:
                misordered.append(line)
        self.assertEqual(misordered[:5], [], f"{len(misordered)} series whose labels do "
                         "not start with cgroup, then " + ", ".join(IDENTITY)
                         + " (those it has)")
        problems = harness.check_exposition(body) + harness.check_histograms(body)
        self.assertEqual(problems[:20], [], "exposition problems")
        promtool = os.environ.get("PROMTOOL", "promtool")
        try:
            rc, output = harness.promtool_check(promtool, body)
        except FileNotFoundError:
            self.fail(f"promtool not found ({promtool}); set PROMTOOL")
        self.assertEqual(rc, 0, f"`{promtool} check metrics` exited {rc}:\n{output}")
        self.assert_clean_exit(exporter)

    def test_2_include_exclude(self):
        """--cgroup.exclude='.*docker.*' hides the Docker cgroup only;
        --cgroup.include of the machine.slice subtree shows only Podman's."""
        excluding = self.start_exporter("--cgroup.exclude=.*docker.*")
        including = self.start_exporter(r"--cgroup.include=/ctcp-id-[0-9]+/machine\.slice/.*")
        for exporter in (excluding, including):
            self.addCleanup(exporter.close)
        for cgroup, _ in self.runtime.values():
            self.connect_from(cgroup)
        docker = self.runtime["docker"][0]
        podman = self.runtime["podman"][0]
        others = [c for k, (c, _) in self.runtime.items() if k != "docker"]

        body = self.poll(lambda b: all(opened(b, c.label) == 1 for c in others)
                         and opened(b, self.server.label, "inbound") == len(self.runtime),
                         exporter=excluding)
        labels = cgroup_labels(body)
        self.assertEqual(sorted(l for l in labels if re.fullmatch(".*docker.*", l or "")), [],
                         "--cgroup.exclude=.*docker.* still shows these")
        self.assertFalse(shows(body, docker.label))
        for cgroup in others:
            self.assertEqual(opened(body, cgroup.label), 1,
                             f"{cgroup.label} on the excluding exporter")
        # Hidden cgroups' events are dropped, not folded into the overflow.
        self.assertEqual(opened(body, OVERFLOW) or 0, 0, f'{OPENED}{{cgroup="{OVERFLOW}"}}')
        note(f"exclude: series shown for cgroup='' {'' in labels}, "
             f"'{OVERFLOW}' {OVERFLOW in labels}; overflow opened outbound "
             f"{opened(body, OVERFLOW)}; excluded gauge "
             f"{scalar(body, 'cgroup_tcp_exporter_cgroups_excluded')}")

        body = self.poll(lambda b: opened(b, podman.label) == 1, exporter=including)
        labels = cgroup_labels(body)
        self.assertEqual(opened(body, podman.label), 1, f"{podman.label} on the "
                         "including exporter\n" + body_lines_of(body, podman.label))
        self.assertEqual(sorted(labels - {podman.label, "", OVERFLOW}), [],
                         "cgroups outside the --cgroup.include regex are shown")
        folded = sum(opened(body, OVERFLOW, d) or 0 for d in ("outbound", "inbound"))
        self.assertEqual(folded, 0, f'{OPENED}{{cgroup="{OVERFLOW}"}}: hidden cgroups '
                         "folded in")
        note(f"include: labels shown {sorted(labels)}; cgroup='' opened "
             f"{opened(body, '')}/{opened(body, '', 'inbound')}, overflow opened "
             f"{opened(body, OVERFLOW)}/{opened(body, OVERFLOW, 'inbound')}; excluded gauge "
             f"{scalar(body, 'cgroup_tcp_exporter_cgroups_excluded')}")
        for exporter in (excluding, including):
            self.assert_clean_exit(exporter)

    def test_3_removed_cgroup(self):
        """A cgroup seen alive with 3 connects, then removed: the next scrape
        still shows it with 3, then it leaves /metrics and its map entries
        are freed. A cgroup made once its slot can be reused (a second
        later) shows its own 2 connects only."""
        self.connect_from(None)   # the sink's and the driver's entries exist
        baseline = map_entries(self.scrape())
        cgroup = self.temp_cgroup("gone")
        self.connect_from(cgroup, 3)
        body = self.poll(lambda b: opened(b, cgroup.label) == 3)
        self.assertEqual(opened(body, cgroup.label), 3, "alive, before the removal\n"
                         + body_lines_of(body, cgroup.label))
        self.assertGreater(sum(map_entries(body).values()), sum(baseline.values()),
                           "the new cgroup took no map entry (baseline "
                           f"{baseline}, now {map_entries(body)})")
        cgroup.remove()

        body = self.scrape()
        self.assertEqual(opened(body, cgroup.label), 3, "first scrape after the "
                         "removal\n" + body_lines_of(body, cgroup.label))
        took, body = self.wait_gone(self.exporter, cgroup.label, baseline)
        self.assertIsNotNone(took, f"{cgroup.label} still shown or map entries "
                             f"{map_entries(body)} above {baseline} 10 scrapes "
                             "after its removal\n" + body_lines_of(body, cgroup.label))
        self.assertEqual(map_entries(body), baseline)
        note(f"removed cgroup: gone {took} scrape(s) after the first one that "
             f"showed it removed; map entries {baseline}")

        time.sleep(1.1)
        self.scrape()   # gives the freed slot back to the programs
        successor = self.temp_cgroup("successor")
        self.connect_from(successor, 2)
        body = self.poll(lambda b: opened(b, successor.label) == 2)
        series = opened_series(body).get(successor.label, {})
        self.assertEqual({d: v for d, (v, _) in series.items()},
                         {"outbound": 2, "inbound": 0},
                         "the successor's own connects only\n"
                         + body_lines_of(body, successor.label))

    def test_4_short_lived_cgroup(self):
        """A (Docker-named) cgroup created, used for 2 connects and removed
        with no scrape in between is in the next scrape, named, with its
        identity, then leaves."""
        self.connect_from(None)
        baseline = map_entries(self.scrape())
        cgroup = self.temp_cgroup(f"system.slice/docker-{self.ids['flash']}.scope")
        self.connect_from(cgroup, 2)
        cgroup.remove()
        body = self.scrape()
        series = opened_series(body).get(cgroup.label, {})
        self.assertEqual({d: v for d, (v, _) in series.items()},
                         {"outbound": 2, "inbound": 0},
                         f"{OPENED} of {cgroup.label} in the next scrape; cgroup labels "
                         f"shown: {sorted(cgroup_labels(body))}")
        self.assertEqual(identity_of(series["outbound"][1]),
                         {"container_id": self.ids["flash"]})
        took, body = self.wait_gone(self.exporter, cgroup.label, baseline)
        self.assertIsNotNone(took, f"{cgroup.label} still shown or map entries "
                             f"{map_entries(body)} above {baseline}")

    def test_5_churn(self):
        """SOAK_CGROUPS cgroups, each made, used for one connect and removed,
        a scrape every SOAK_SCRAPE_EVERY: every connect is counted once under
        its cgroup's name, the removed cgroups leave, map entries return to
        the baseline, resident memory stays flat."""
        exporter = self.start_exporter()
        self.addCleanup(exporter.close)
        soak = self.temp_cgroup("soak")
        self.connect_from(None)
        for _ in range(2):
            body = self.scrape(exporter)
        maps0, rss0 = map_entries(body), scalar(body, RSS)
        cache0 = scalar(body, CACHE_ENTRIES)
        overflow0, unattributed0 = opened(body, OVERFLOW) or 0, opened(body, "") or 0
        full0 = scalar(body, MAP_FULL)

        made, seen, strays, scrapes = set(), {}, set(), 0
        rss_trace, biggest = [], 0
        prefix = soak.label + "/"

        def record(body):
            nonlocal scrapes, biggest
            scrapes += 1
            rss_trace.append(scalar(body, RSS))
            biggest = max(biggest, len(body))
            for label, by_direction in opened_series(body).items():
                if label in ("", OVERFLOW) or label.startswith("/") and \
                        not label.startswith(prefix):
                    continue
                if label not in made:
                    strays.add(label)
                    continue
                v = by_direction.get("outbound", (0, None))[0]
                seen[label] = max(seen.get(label, 0), v)

        start = time.monotonic()
        for i in range(SOAK_CGROUPS):
            cgroup = soak.child(f"c{i}")
            made.add(cgroup.label)
            self.connect_from(cgroup)
            cgroup.remove()
            if (i + 1) % SOAK_SCRAPE_EVERY == 0:
                record(self.scrape(exporter))
        churn_seconds = time.monotonic() - start
        # The last ones are shown at least once more, then leave.
        for _ in range(10):
            body = self.scrape(exporter)
            record(body)
            if not any(l.startswith(prefix) for l in cgroup_labels(body)) \
                    and all(map_entries(body).get(m, 0) <= v for m, v in maps0.items()):
                break
            time.sleep(0.3)
        maps1, rss1 = map_entries(body), scalar(body, RSS)
        left = sorted(l for l in cgroup_labels(body) if l.startswith(prefix))
        counted = sum(seen.values())
        not_one = {l: v for l, v in seen.items() if v != 1}
        asan = harness.built_with_asan(self.binary)
        note(f"churn: {SOAK_CGROUPS} cgroups / connects in {churn_seconds:.1f} s, "
             f"{scrapes} scrapes; counted {counted:g} under {len(seen)} names "
             f"({len(not_one)} not 1); overflow opened +"
             f"{(opened(body, OVERFLOW) or 0) - overflow0:g}, cgroup='' opened +"
             f"{(opened(body, '') or 0) - unattributed0:g}, map_full "
             f"{full0} -> {scalar(body, MAP_FULL)}; map entries {maps0} -> {maps1}; "
             f"RSS {rss0 / MIB:.2f} -> {rss1 / MIB:.2f} MiB (x{rss1 / rss0:.3f}, "
             f"{(rss1 - rss0) / SOAK_CGROUPS:.0f} B per cgroup){' ASan' if asan else ''}; "
             f"RSS at 10/25/50/75/100% of the scrapes "
             + "/".join(f"{rss_trace[(len(rss_trace) - 1) * q // 100] / MIB:.2f}"
                        for q in (10, 25, 50, 75, 100))
             + f" MiB; biggest body {biggest / MIB:.2f} MiB; "
             f"cgroup cache entries {cache0} -> {scalar(body, CACHE_ENTRIES)}; "
             f"freed {scalar(body, 'cgroup_tcp_exporter_cgroups_freed_total')}")

        self.assertEqual(sorted(strays)[:10], [], "series of cgroups this test never made "
                         "(an id, or a cut or wrong path)")
        self.assertEqual((counted, len(seen)), (SOAK_CGROUPS, SOAK_CGROUPS),
                         "connects counted under their cgroup's name, and names seen; "
                         f"not 1: {dict(list(not_one.items())[:10])}; never seen: "
                         f"{sorted(made - set(seen))[:10]}")
        self.assertEqual(left[:10], [], "removed cgroups still shown at the end")
        for m, v in maps0.items():
            self.assertLessEqual(maps1.get(m, 0), v + 2,
                                 f"{MAP_ENTRIES}{{map={m}}} after the churn")
        if asan:
            note("churn: resident memory bound not applied (AddressSanitizer build)")
        else:
            self.assertTrue(rss1 / rss0 < 1.5 or rss1 - rss0 < 8 * MIB,
                            f"resident memory {rss0 / MIB:.2f} -> {rss1 / MIB:.2f} MiB")
        self.assert_clean_exit(exporter)

    def test_6_cgroup_limit(self):
        """--cgroup.max=2 and 5 busy cgroups: at most 2 cgroups shown, the
        rest in cgroup="(overflow)", and each family's sum over all series
        still equals the connects made (host noise accounted for by its
        /proc/net/snmp; scraping over one kept-alive connection adds none)."""
        limit = 2
        exporter = self.start_exporter(f"--cgroup.max={limit}")
        self.addCleanup(exporter.close)
        scraper = harness.KeepAliveScraper(exporter)
        self.addCleanup(scraper.close)
        plan = {f"busy-{k}": 2 * k for k in range(1, 6)}   # 30 connects
        busy = {name: self.temp_cgroup(name) for name in plan}

        body0 = self.scrape(scraper=scraper)
        host0, ns0 = harness.host_snmp(), self.netns.read_snmp()
        for round_ in range(max(plan.values())):
            for name, connects in plan.items():
                if round_ < connects:
                    self.connect_from(busy[name])
        total = sum(plan.values())
        inbound0 = opened_total(body0, "inbound")
        body = harness.poll(lambda: self.scrape(scraper=scraper),
                            lambda b: opened_total(b, "inbound") - inbound0 >= total, timeout=5)
        host1, ns1 = harness.host_snmp(), self.netns.read_snmp()
        connects_before = scraper.connects
        body = self.scrape(scraper=scraper)
        reconnects = scraper.connects - connects_before

        self.assertEqual(successful_connects(ns0, ns1), total,
                         "successful connects in the namespace (environment)")
        host_out = successful_connects(host0, host1) + reconnects
        host_in = host1["PassiveOpens"] - host0["PassiveOpens"] + reconnects
        want = {"outbound": total + host_out, "inbound": total + host_in}
        got = {d: opened_total(body, d) - opened_total(body0, d) for d in want}
        handshakes = {d: sum(v for _, l, v in harness.samples_of(body, HANDSHAKE_COUNT)
                             if dict(l).get("direction") == d) for d in want}
        series = opened_series(body)
        real = sorted(l for l in series if l not in ("", OVERFLOW))
        overflow = {d: v for d, (v, _) in series.get(OVERFLOW, {}).items()}
        overflow0 = {d: v for d, (v, _) in opened_series(body0).get(OVERFLOW, {}).items()}
        full = (scalar(body, MAP_FULL) or 0) - (scalar(body0, MAP_FULL) or 0)
        overflow_new = sum(overflow.get(d, 0) - overflow0.get(d, 0) for d in want)
        note(f"limit {limit}: {total} connects from {len(plan)} cgroups; opened deltas "
             f"{got} (want {want}; host noise out {host_out} in {host_in}, "
             f"scrape reconnects {scraper.connects - 1}); real cgroups shown {real}; "
             f"overflow opened {overflow}; map_full_events +{full:g}; map entries "
             f"{map_entries(body)} of capacity "
             f"{ {dict(l)['map']: v for l, v in gauge(body, MAP_CAPACITY).items()} }")

        self.assertEqual(got, want, f"{OPENED} summed over every series, change during "
                         "the test")
        self.assertEqual(handshakes, {d: opened_total(body, d) for d in want},
                         f"{HANDSHAKE_COUNT} summed over every series vs {OPENED}")
        self.assertLessEqual(len(real), limit, f"cgroups shown with --cgroup.max={limit}")
        for name, cgroup in busy.items():
            shown = opened(body, cgroup.label)
            if shown is not None:
                self.assertEqual(shown, plan[name], f"{cgroup.label}, shown by name")
        self.assertGreater(overflow.get("outbound", 0), 0, f'{OPENED}{{cgroup="{OVERFLOW}"}}')
        identities = [identity_of(l)
                      for _, l, _ in harness.samples_of(body, *PER_CGROUP_FAMILIES)
                      if dict(l).get("cgroup") == OVERFLOW]
        self.assertTrue(identities, "no overflow series")
        self.assertEqual([i for i in identities if i], [],
                         "identity labels of the overflow series")
        self.assertGreater(full, 0, f"{MAP_FULL} did not move")
        self.assertGreaterEqual(full, overflow_new, f"{MAP_FULL} counts fewer events "
                                "than the overflow series' opened_total gained")
        for m, v in map_entries(body).items():
            self.assertLessEqual(v, limit + 2, f"{MAP_ENTRIES}{{map={m}}}: --cgroup.max="
                                 f"{limit} plus the unattributed and overflow keys")
        scraper.close()
        self.assert_clean_exit(exporter)

    def test_7_clean_exit(self):
        """Last (by name): the exporter that saw tests 3 and 4 exits cleanly."""
        self.assert_clean_exit(self.exporter)


if __name__ == "__main__":
    harness.main()
