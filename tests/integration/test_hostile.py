#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: the exporter in a hostile environment.

Below a parent cgroup `ctcp-hostile-<pid>`, with every TCP connect made in a
private network namespace by driver processes that move themselves into the
cgroup to count (workload_identity.py), the test checks:
1. a tree that changes during scrapes: cgroups (and children) made, used and
   removed while another thread scrapes as fast as it can, in both formats:
   every scrape well formed (the checkers, promtool), no duplicate series;
   every connect counted once under its cgroup's name. cgroup2 refuses to
   rename a cgroup directory (EPERM), so renames are checked to be refused.
2. a tree of 100,000 cgroups, traffic in more of them than --cgroup.max, two
   exporters: one started before the tree was made, naming cgroups by the
   paths the kernel reports as they are made, one started after, which must
   walk the tree; summed over every series,
   "(overflow)" included, each family counts every connect; the maps are
   full and say so; scrape times of the walk and resident memory are
   printed; then the whole tree is removed at once.
3. names with every byte a cgroup2 directory name may hold, names longer than
   NAME_MAX, paths up to PATH_MAX and beyond it: valid UTF-8 for Prometheus
   (bytes that are not UTF-8 shown as U+FFFD), accepted by promtool, the
   parsers and a real Prometheus scrape; names shown alike are one series.
4. a flood of short connections from many cgroups with a small
   --cgroup.max: sums exact, overflow counted by the self metrics, no socket
   without state, resident memory bounded, nothing lost per /proc/net/snmp.

Sums over every series include every connection of the machine; they are
taken from /proc/<pid>/net/snmp of each network namespace a process is in.
They cannot be exact while other work on the machine removes cgroups or
network namespaces: the test then says so and skips (fails when CI=true,
where nothing else runs).

Run as root:  EXPORTER=build/cgroup_tcp_exporter \\
              /usr/bin/python3 tests/integration/test_hostile.py
Without root the test is skipped (exit 77), or fails when CI=true. About a
minute; CTCP_SOAK=long runs bigger numbers (several minutes). Figures are
printed on stderr.
"""

import errno
import os
import sys
import threading
import time
import unittest

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (CACHE_ENTRIES, CACHE_MISSES, CONNECTIONS, HANDSHAKE_COUNT,  # noqa: E402
                     MAP_FULL, MIB, OPENMETRICS, OVERFLOW, REMOVALS_LOST, RSS,
                     SCRAPE_SECONDS, TABLE_FULL)

PORT = 5302   # the sink, inside the private namespace
PATH_MAX = 4096
# Maps every connect of a new cgroup takes an entry in (I/O sizes only come
# with payload, which these connects have none of).
CONNECT_MAPS = ("ctcp_conn", "ctcp_rtt")

LONG = os.environ.get("CTCP_SOAK", "") == "long"
CHURN_CGROUPS = 3000 if LONG else 500
FULL_CHECKS = 40   # scrapes of test 1 that get every check
TREE_GROUPS, TREE_PER_GROUP = 100, 1000     # 100,000 cgroups either way
TREE_MAX = 2000 if LONG else 200            # --cgroup.max of that test
TREE_BUSY = TREE_MAX + (1000 if LONG else 100)
FLOOD_CGROUPS, FLOOD_CONNECTS, FLOOD_MAX = (200, 500, 20) if LONG else (64, 200, 8)


def require_root():
    harness.require_root("needs root: creates cgroup2 children and a network namespace "
                         "and runs exporters that load BPF programs")


def decoded(raw):
    """A scrape as text; AssertionError when it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError(f"scrape is not UTF-8: {e}: "
                             f"{raw[max(0, e.start - 80):e.end + 20]!r}") from None


def shown(name):
    """How the exporter shows a name's bytes: U+FFFD for each maximal
    ill-formed subsequence, as Python's decoder does."""
    return name.decode("utf-8", errors="replace")


def family_total(body, name, **labels):
    """Sum of family `name` over every series whose labels include these."""
    return sum(v for _, l, v in harness.samples_of(body, name)
               if all(dict(l).get(k) == want for k, want in labels.items()))


def exposition_problems(body, promtool=None):
    """check_exposition + check_histograms of a text body, and promtool's
    verdict on its bytes when a promtool is given."""
    problems = harness.check_exposition(body) + harness.check_histograms(body)
    if promtool:
        rc, output = harness.promtool_check(promtool, body.encode())
        if rc != 0:
            problems.append(f"promtool check metrics exited {rc}: {output[:2000]}")
    return problems


def duplicate_series(body):
    """The quick check: sample lines (name and labels) that come twice."""
    seen, problems = set(), []
    for line in body.split("\n"):
        if line and line[0] != "#":
            series = line.rsplit(" ", 1)[0]
            if series in seen:
                problems.append(f"duplicate series {line!r}")
            seen.add(series)
    return problems


def mkdir_deep(top, names):
    """mkdir top/names[0]/names[1]/..., one directory descriptor at a time,
    so the path may be longer than PATH_MAX."""
    fd = os.open(top, os.O_PATH | os.O_DIRECTORY)
    try:
        for name in names:
            os.mkdir(name, dir_fd=fd)
            parent, fd = fd, os.open(name, os.O_PATH | os.O_DIRECTORY, dir_fd=fd)
            os.close(parent)
    finally:
        os.close(fd)


def machine_busy(reason):
    """Other work on the machine hides what the test must count exactly:
    skip, or fail in CI, where nothing else runs."""
    reason = f"machine busy, exact sums cannot be checked: {reason}"
    if os.environ.get("CI") == "true":
        raise AssertionError(reason)
    raise unittest.SkipTest(reason)


class Traffic:
    """Sums of the opened connections over every series between two scrapes,
    against what every network namespace of the machine says happened
    meanwhile. Each of the two scrapes is taken while no connection starts
    anywhere (retried until so), so the counts bracket the same events."""

    def __init__(self, test, scrapers):
        self.test, self.scrapers = test, scrapers
        self.ns0 = test.netns.read_snmp()
        self.bodies0, self.machine0 = self.quiet_scrapes()
        # A namespace that comes and goes between the two readings takes its
        # counters with it; looking often enough sees it.
        self.namespaces, self.stop = set(), threading.Event()
        self.watcher = threading.Thread(target=self.watch_namespaces, daemon=True)
        self.watcher.start()
        test.addCleanup(self.stop.set)

    def watch_namespaces(self):
        while not self.stop.wait(0.05):
            self.namespaces |= harness.machine_netns()

    def quiet_scrapes(self, attempts=400):
        for _ in range(attempts):
            before = harness.machine_snmp()
            bodies = [decoded(s.scrape().raw) for s in self.scrapers]
            after = harness.machine_snmp()
            moved = harness.machine_delta(before, after)
            if not moved["ActiveOpens"] and not moved["PassiveOpens"]:
                return bodies, after
            time.sleep(0.05)
        machine_busy(f"connections started elsewhere on the machine during each of "
                     f"{attempts} scrapes")

    def finish(self, made):
        """Scrape until every scraper's inbound sum grew by `made`, then check
        both directions of each scraper against `made` plus the machine's
        other connects. Returns the bodies."""
        for s, body0 in zip(self.scrapers, self.bodies0):
            inbound0 = harness.opened_total(body0, "inbound")
            harness.poll(lambda: decoded(s.scrape().raw),
                         lambda b: harness.opened_total(b, "inbound") - inbound0 >= made,
                         timeout=10)
        self.test.assertEqual(harness.successful_connects(self.ns0, self.test.netns.read_snmp()),
                              made, "connects in the test's namespace (environment)")
        bodies, machine1 = self.quiet_scrapes()
        self.stop.set()
        self.watcher.join()
        gone = (set(self.machine0) | self.namespaces) - set(machine1)
        if gone:
            machine_busy(f"{len(gone)} network namespace(s) went away with their counters")
        for body0, body in zip(self.bodies0, bodies):
            left = set(harness.opened_series(body0)) - set(harness.opened_series(body))
            if left:
                machine_busy(f"cgroups elsewhere were removed and left /metrics with their "
                             f"counts: {sorted(left)[:3]}")
        machine = harness.machine_delta(self.machine0, machine1)
        others_out = machine["ActiveOpens"] - machine["AttemptFails"] - made
        others_in = machine["PassiveOpens"] - made
        want = {"outbound": made + others_out, "inbound": made + others_in}
        for body0, body in zip(self.bodies0, bodies):
            got = {d: harness.opened_total(body, d) - harness.opened_total(body0, d)
                   for d in want}
            self.test.assertEqual(got, want, "opened connections summed over every "
                                  f"series (the machine's others: out {others_out}, "
                                  f"in {others_in})")
            for d in want:
                self.test.assertEqual(family_total(body, HANDSHAKE_COUNT, direction=d),
                                      harness.opened_total(body, d),
                                      f"handshake _count vs opened, {d}, every series")
        return bodies


class HostileTest(harness.ClassResources, unittest.TestCase):
    maxDiff = None

    # ------------------------------------------------------------ setup

    @classmethod
    def setUpClass(cls):
        require_root()
        cls.binary = harness.require_exporter()
        cls.promtool = harness.require_tool("PROMTOOL", "promtool")
        cls.asan = harness.built_with_asan(cls.binary)
        cls.run_id = f"ctcp-hostile-{os.getpid()}"
        harness.cleanup.scope(cls)
        cls.mount, root = harness.find_cgroup2()
        cls.parent = harness.Cgroup.create(cls.mount, root, cls.run_id, remove_timeout=30)
        cls.netns = harness.Netns(cls.run_id)
        deadline = 600 if LONG else 240
        cls.sink = cls.start_sink(cls.parent.child("server"), PORT, deadline)
        cls.drivers = [cls.start_driver(cls.parent.child(f"driver{n}"), PORT, deadline)
                       for n in range(2)]

    def setUp(self):
        # What a test starts is stopped after it, pass or fail.
        harness.cleanup.scope(self)

    # ------------------------------------------------------------ helpers

    def start_exporter(self, *args):
        """An exporter with these flags."""
        exporter = harness.Exporter(self.binary, args=args)
        exporter.start(ready_timeout=30)
        return exporter

    def scraper(self, exporter):
        scraper = harness.KeepAliveScraper(exporter, timeout=60)
        self.addCleanup(scraper.close)
        return scraper

    def temp_cgroup(self, name):
        cgroup = self.parent.child(name)
        self.addCleanup(cgroup.remove, timeout=30)
        self.addCleanup(cgroup.kill)
        return cgroup

    def connect_from(self, path, connects=1, label=None, driver=0):
        """`connects` connects from the cgroup directory `path` (str or
        bytes); all must succeed, else the environment is at fault."""
        request = {"cgroup": os.fsdecode(path), "connects": connects}
        if label is not None:
            request["label"] = label
        answer = self.drivers[driver].request(request, timeout=10 + connects)
        if answer["ok"] != connects or answer["errors"]:
            raise RuntimeError(f"driver in {path!r}: {answer}")

    def in_parallel(self, jobs):
        """Runs jobs[n] (a list of (path, connects)) on driver n, together."""
        failures = []

        def run(n):
            try:
                for path, connects in jobs[n]:
                    self.connect_from(path, connects, driver=n)
            except Exception as e:  # reported by the main thread
                failures.append(e)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise failures[0]

    def label_of(self, relative):
        """The cgroup label of a path (bytes) below the parent."""
        return self.parent.label + "/" + shown(relative)

    def assert_overflow_counted(self, exporter, body0, body):
        """The maps are full, every event that found them so is counted,
        and sockets never went without state."""
        full = (harness.scalar(body, MAP_FULL) or 0) - (harness.scalar(body0, MAP_FULL) or 0)
        overflow = sum(family_total(body, harness.OPENED, cgroup=OVERFLOW, direction=d)
                       - family_total(body0, harness.OPENED, cgroup=OVERFLOW, direction=d)
                       for d in ("outbound", "inbound"))
        entries, capacity = harness.map_entries(body), harness.map_capacity(body)
        self.assertGreater(overflow, 0, f'{harness.OPENED}{{cgroup="{OVERFLOW}"}} did not grow')
        self.assertGreaterEqual(full, overflow, f"{MAP_FULL} counts fewer events than the "
                                "overflow series' opened connections gained")
        for m in CONNECT_MAPS:
            self.assertEqual(entries.get(m), capacity.get(m), f"map {m}: entries vs capacity")
        self.assertEqual(harness.scalar(body, TABLE_FULL), harness.scalar(body0, TABLE_FULL),
                         f"{TABLE_FULL} moved")
        self.assertTrue(exporter.alive(), "exporter died")
        return full, overflow

    # ------------------------------------------------------------ tests

    def test_1_tree_changes_during_scrapes(self):
        """Cgroups and their children made, used and removed while another
        thread scrapes without pause: every scrape well formed, every
        connect counted once under its cgroup's name."""
        exporter = self.start_exporter()
        text, openmetrics = self.scraper(exporter), self.scraper(exporter)
        churn = self.temp_cgroup("churn")
        # cgroup2 has no renames (cgroup_rename refuses them on the default
        # hierarchy), so a tree changes only by mkdir and rmdir.
        probe = churn.child("rename-me")
        with self.assertRaises(PermissionError):
            os.rename(probe.path, os.path.join(churn.path, "renamed"))
        probe.remove()
        server = self.parent.label + "/server"
        body0 = decoded(text.scrape().raw)
        inbound0 = family_total(body0, harness.OPENED, cgroup=server, direction="inbound")
        ns0 = self.netns.read_snmp()

        stop, scrapes, failures = threading.Event(), [], []

        def scrape_without_pause():
            try:
                while not stop.is_set():
                    om = len(scrapes) % 3 == 2
                    start = time.monotonic()
                    s = (openmetrics.scrape({"Accept": OPENMETRICS}) if om else text.scrape())
                    scrapes.append((om, s.status, s.raw, time.monotonic() - start))
            except Exception as e:  # reported by the main thread
                failures.append(e)

        scraping = threading.Thread(target=scrape_without_pause)
        scraping.start()
        made = []
        start = time.monotonic()
        try:
            for i in range(CHURN_CGROUPS):
                cgroup = churn.child(f"c{i}")
                child = cgroup.child("d")
                self.connect_from(cgroup.path, label=cgroup.label)
                self.connect_from(child.path, label=child.label)
                made += [cgroup.label, child.label]
                cgroup.remove()
        finally:
            churn_seconds = time.monotonic() - start
            # Removed cgroups are shown in the next two scrapes, then leave;
            # the one under way may have read the maps before the last
            # connect, and every third is OpenMetrics.
            n = len(scrapes)
            while not failures and len(scrapes) < n + 6 and scraping.is_alive():
                time.sleep(0.05)
            stop.set()
            scraping.join()
        self.assertEqual(failures, [], "scraping failed")
        ns1 = self.netns.read_snmp()

        seen, strays, problems, unattributed = {}, set(), [], []
        prefix = churn.label + "/"
        # The full checks take 50-250 ms a scrape in Python: every scrape
        # gets the quick ones, FULL_CHECKS spread over the run the full ones.
        full = set(range(0, len(scrapes), max(1, len(scrapes) // FULL_CHECKS)))
        full.add(len(scrapes) - 1)
        for n, (om, status, raw, _) in enumerate(scrapes):
            self.assertEqual(status, 200, f"scrape {n}: status")
            body = decoded(raw)
            if n not in full:
                found = duplicate_series(body)
            elif om:
                found = harness.check_openmetrics(body)
            else:
                found = exposition_problems(body, self.promtool)
            problems += [f"scrape {n} ({'OpenMetrics' if om else 'text'}): {p}"
                         for p in found[:5]]
            if om:
                continue
            for label, by_direction in harness.opened_series(body).items():
                if label == "":
                    unattributed.append(by_direction.get("outbound", (0,))[0])
                if not (label or "").startswith(prefix):
                    continue
                if label not in made:
                    strays.add(label)
                v = by_direction.get("outbound", (0, None))[0]
                seen[label] = max(seen.get(label, 0), v)
        body = decoded(text.scrape().raw)
        inbound = family_total(body, harness.OPENED, cgroup=server, direction="inbound")
        drops = sum(1 for a, b in zip(unattributed, unattributed[1:]) if b < a)
        times = sorted(t for *_, t in scrapes)
        harness.note(
            f"changing tree: {len(made)} cgroups made, used and removed in "
            f"{churn_seconds:.1f} s while {len(scrapes)} scrapes ran (median "
            f"{times[len(times) // 2] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms); "
            f"counted {sum(seen.values()):g} under {len(seen)} names; "
            f"cgroup='' outbound fell {drops} times; {len(full)} scrapes fully checked; "
            f"RSS {harness.scalar(body, RSS) / MIB:.1f} MiB (body {len(body) / MIB:.1f} MiB)"
            f"{' ASan' if self.asan else ''}")

        self.assertEqual(problems[:20], [], f"{len(problems)} problems in scrapes")
        self.assertEqual(sorted(strays)[:10], [], "labels of cgroups never made")
        self.assertEqual(harness.successful_connects(ns0, ns1), len(made),
                         "connects in the test's namespace (environment)")
        not_one = {l: seen.get(l) for l in made if seen.get(l) != 1}
        self.assertEqual(list(not_one.items())[:10], [],
                         f"{len(not_one)} cgroups not shown with their one connect")
        self.assertEqual(inbound - inbound0, len(made), f"inbound connects of {server}")
        # A cgroup named only after its removal had its counts under
        # cgroup="" first: a counter going down, which Prometheus takes for a
        # reset. This churn made it fall 12 to 47 times before cgroups were
        # named from the kernel's removal report in the same scrape, and up
        # to twice more in the short window where a removed cgroup has
        # neither a handle nor a report, until such a cgroup was held back
        # one scrape (src/scrape.c, nameless()).
        self.assertEqual(drops, 0, "times cgroup=\"\" opened connections went down")
        self.assertTrue(exporter.alive(), "exporter died")

    def test_2_hundred_thousand_cgroups(self):
        """100,000 cgroups, TREE_BUSY of them with a connect and
        --cgroup.max=TREE_MAX, on an exporter that saw the tree made (named
        by the kernel's reports) and one started after (names by walking the
        tree): sums exact with the overflow series, maps full and counted;
        scrape times and memory printed; then the tree goes at once."""
        reports = self.start_exporter(f"--cgroup.max={TREE_MAX}")
        tree = self.temp_cgroup("tree")

        def timed_scrapes():
            out = {}
            for k, s in scrapers.items():
                start = time.monotonic()
                raw = s.scrape().raw
                out[k] = (time.monotonic() - start, decoded(raw))
            return out

        def figures(scraped):
            return ", ".join(
                f"{k} {t * 1000:.0f} ms ({len(b) / MIB:.1f} MiB, RSS "
                f"{harness.scalar(b, RSS) / MIB:.1f} MiB, cache "
                f"{harness.scalar(b, CACHE_ENTRIES):g}, misses "
                f"{harness.scalar(b, CACHE_MISSES):g}, previous scrape "
                f"{harness.scalar(b, SCRAPE_SECONDS) * 1000:.0f} ms)"
                for k, (t, b) in scraped.items())

        start = time.monotonic()
        for g in range(TREE_GROUPS):
            group = os.path.join(tree.path, f"g{g}")
            os.mkdir(group)
            for c in range(TREE_PER_GROUP):
                os.mkdir(os.path.join(group, f"c{c}"))
        made_seconds = time.monotonic() - start
        start = time.monotonic()
        walker = self.start_exporter(f"--cgroup.max={TREE_MAX}")
        walker_start = time.monotonic() - start
        exporters = {"reports": reports, "walk": walker}
        scrapers = {k: self.scraper(e) for k, e in exporters.items()}
        idle = timed_scrapes()
        traffic = Traffic(self, list(scrapers.values()))
        bodies0 = dict(zip(scrapers, traffic.bodies0))
        for k, body in bodies0.items():
            if max(harness.map_entries(body).get(m, 0) for m in CONNECT_MAPS) > TREE_MAX // 2:
                machine_busy(f"{k}: other cgroups fill half the maps already: "
                             f"{harness.map_entries(body)}")
        busy = [os.path.join(tree.path, f"g{i % TREE_GROUPS}", f"c{i // TREE_GROUPS}")
                for i in range(TREE_BUSY)]
        self.in_parallel([[(p, 1) for p in busy[n::2]] for n in range(2)])
        first = timed_scrapes()
        harness.note(
            f"100,000 cgroups: made in {made_seconds:.1f} s; walker started in "
            f"{walker_start:.1f} s (its first scrape walks the tree); scrape with the tree "
            f"and no new cgroup: {figures(idle)}; first scrape after {TREE_BUSY} busy "
            f"cgroups (--cgroup.max={TREE_MAX}): {figures(first)}"
            + (" (ASan)" if self.asan else ""))
        made = len(busy)
        bodies = dict(zip(scrapers, traffic.finish(made)))

        tree_label = tree.label + "/"
        busy_labels = {tree.label + p[len(tree.path):] for p in busy}
        for k, body in bodies.items():
            with self.subTest(exporter=k):
                self.assertEqual(exposition_problems(body)[:10], [], "exposition")
                named = {l: by_dir.get("outbound", (0,))[0]
                         for l, by_dir in harness.opened_series(body).items()
                         if (l or "").startswith(tree_label)}
                self.assertLessEqual(len(named), TREE_MAX, "cgroups shown by name")
                wrong = {l: v for l, v in named.items() if v != 1 or l not in busy_labels}
                self.assertEqual(list(wrong.items())[:10], [], "named series")
                self.assert_overflow_counted(exporters[k], bodies0[k], body)
        self.assertGreaterEqual(harness.scalar(bodies["walk"], CACHE_ENTRIES),
                                TREE_GROUPS * TREE_PER_GROUP,
                                "the walking exporter named the tree by walking it")

        start = time.monotonic()
        for g in range(TREE_GROUPS):
            for c in range(TREE_PER_GROUP):
                os.rmdir(os.path.join(tree.path, f"g{g}", f"c{c}"))
        tree.remove(timeout=30)
        removed_seconds = time.monotonic() - start
        after = [timed_scrapes() for _ in range(3)]
        harness.note(
            "100,000 cgroups: overflow "
            + ", ".join(
                f"{k} opened {family_total(b, harness.OPENED, cgroup=OVERFLOW):g} "
                f"map_full {harness.scalar(b, MAP_FULL):g}" for k, b in bodies.items())
            + f"; tree removed in {removed_seconds:.1f} s, then scrapes: "
            + "; ".join(figures(a) for a in after)
            + "; removals lost "
            + ", ".join(f"{k} {harness.scalar(b, REMOVALS_LOST):g}"
                        for k, (_, b) in after[-1].items())
            + "; map entries after "
            + ", ".join(f"{k} {harness.map_entries(b)}" for k, (_, b) in after[-1].items()))
        for k, (_, body) in after[-1].items():
            self.assertEqual(exposition_problems(body)[:10], [], f"{k}: after the removal")
            self.assertTrue(exporters[k].alive(), f"{k}: exporter died")

    def test_3_every_byte_a_name_may_hold(self):
        """Names with each byte a cgroup2 name may hold, names longer than
        NAME_MAX, paths near and beyond PATH_MAX: one connect each; the
        exposition is valid UTF-8, promtool, the parsers and a real
        Prometheus accept it; each connect is counted once under its name as
        shown; names shown alike are one series."""
        names = self.hostile_names()
        exporter = self.start_exporter()
        scraper = self.scraper(exporter)
        top = self.temp_cgroup("names")
        top_path = top.path.encode()
        ns0 = self.netns.read_snmp()
        body0 = decoded(scraper.scrape().raw)
        want, connects = {}, 0
        for name in names:
            path = os.path.join(top_path, name)
            os.mkdir(path)
            self.connect_from(path)
            label = top.label + "/" + shown(name)
            want[label] = want.get(label, 0) + 1
            connects += 1
        # Deep paths: to exactly PATH_MAX - 1 bytes (the longest a path
        # argument may be), and beyond PATH_MAX.
        full = (PATH_MAX - 3 - len(top_path)) // 256
        near = [b"%03d" % i + b"n" * 252 for i in range(full)]
        near.append(b"e" * (PATH_MAX - 2 - len(top_path) - 256 * full))
        mkdir_deep(top_path, near)
        near_path = os.path.join(top_path, *near)
        self.assertEqual(len(near_path), PATH_MAX - 1)
        self.connect_from(near_path)
        want[top.label + "/" + shown(b"/".join(near))] = 1
        beyond = [b"%03d" % i + b"b" * 251 for i in range(PATH_MAX // 256 + 2)]
        mkdir_deep(top_path, beyond)
        self.connect_from(os.path.join(top_path, *beyond))
        connects += 2
        self.assertEqual(harness.successful_connects(ns0, self.netns.read_snmp()), connects,
                         "connects in the test's namespace (environment)")

        # The cgroup beyond PATH_MAX has no name: the first scrape that meets
        # it leaves it out (its removal report might be on its way), the
        # next counts it under cgroup="" (README, "Who a series belongs to").
        scraper.scrape()
        raw = scraper.scrape().raw
        body = decoded(raw)
        openmetrics = scraper.scrape({"Accept": OPENMETRICS})
        got = {l: by_dir.get("outbound", (0,))[0]
               for l, by_dir in harness.opened_series(decoded(raw)).items()
               if (l or "").startswith(top.label + "/")}
        unattributed = (family_total(body, harness.OPENED, cgroup="", direction="outbound")
                        - family_total(body0, harness.OPENED, cgroup="", direction="outbound"))
        self.assertEqual(exposition_problems(decoded(raw), self.promtool), [],
                         "text exposition")
        self.assertEqual(harness.check_openmetrics(decoded(openmetrics.raw)), [],
                         "OpenMetrics exposition")
        harness.parse_samples(decoded(raw))   # prometheus_client's text parser
        self.assertEqual({l: got.get(l) for l in want if got.get(l) != want[l]}, {},
                         "connects per name as shown (missing or wrong)")
        self.assertEqual(sorted(set(got) - set(want)), [], "names never made")
        self.assertGreaterEqual(unattributed, 1, "the cgroup beyond PATH_MAX is "
                                "counted under cgroup=\"\"")
        self.check_prometheus(exporter, top.label, want)
        longest = max(len(l.encode()) for l in want)
        harness.note(f"names: {len(names)} names + 2 deep paths, {len(want)} series "
                     f"(names shown alike merged), longest label {longest} bytes; "
                     f"refused by the kernel: {self.refused}; beyond PATH_MAX counted "
                     f"under cgroup=\"\" (+{unattributed:g})")

    def hostile_names(self):
        """Names for test 3; the ones the kernel refuses go to self.refused."""
        self.refused = {}
        candidates = [b"b%02x-" % b + bytes([b]) + b"-z" for b in range(1, 256)
                      if b != ord("/")]
        candidates += [
            bytes(b for b in range(1, 256) if b not in b"/\n"),  # every byte at once
            b".", b"..", b"cgroup.procs",                        # taken
            b"cpu.max", b"cgroup.x",                             # look like files
            b"a\nb",                                             # refused
            # Not UTF-8: each shown as U+FFFD, so these four are one series,
            # with a real U+FFFD among them.
            b"same-\xff", b"same-\xfe", b"same-\xe2\x9c", b"same-\xef\xbf\xbd",
            b"cut-\xf0\x9f\x98", b"overlong-\xc0\xaf", b"surrogate-\xed\xa0\x80",
            b"high-\xf4\x90\x80\x80", b"stray-\x80\xbf",
            # UTF-8 that some readers take for line ends or marks.
            b"nel-\xc2\x85", b"ls-\xe2\x80\xa8", b"bom-\xef\xbb\xbf", b"emoji-\xf0\x9f\x98\x80",
            # Escaping.
            b'q"\\"\\\\', b"end\\", b"\\n", b"cr\r", b"tab\t", b"del\x7f", b" ",
            # Longer than NAME_MAX (cgroupfs takes up to 4095 bytes).
            b"L" * 255, b"M" * 256, b"N" * 4000,
        ]
        names = []
        probe = self.temp_cgroup("probe")
        for name in candidates:
            path = os.path.join(probe.path.encode(), name)
            try:
                os.mkdir(path)
            except OSError as e:
                self.refused[name[:20]] = errno.errorcode[e.errno]
                continue
            os.rmdir(path)
            names.append(name)
        probe.remove()
        self.assertEqual(self.refused, {b".": "EEXIST", b"..": "EEXIST",
                                        b"cgroup.procs": "EEXIST", b"a\nb": "EINVAL",
                                        b"b0a-\n-z": "EINVAL"},
                         "names the kernel refuses")
        return names

    def check_prometheus(self, exporter, parent_label, want):
        """A real Prometheus scrapes the exporter without error and stores the
        labels as shown. The body is large (hundreds of cgroups, long
        names), so its scrape timeout is generous."""
        binary = harness.require_tool("PROMETHEUS", "prometheus")
        prometheus = harness.Prometheus(binary, f"127.0.0.1:{exporter.port}", interval=5)
        self.addCleanup(prometheus.close)
        prometheus.wait_ready()
        query = f'{harness.OPENED}{{direction="outbound",cgroup=~"{parent_label}/.+"}}'
        stored = harness.poll(lambda: {m["cgroup"]: v for m, v in prometheus.query(query)},
                              lambda got: len(got) >= len(want), timeout=60, interval=0.5)
        target = prometheus.target()
        self.assertEqual(((target or {}).get("health"), target.get("lastError")), ("up", ""),
                         f"Prometheus' target: {target}\n{prometheus.log()}")
        self.assertEqual({l: stored.get(l) for l in want if stored.get(l) != want[l]}, {},
                         "series stored by Prometheus (missing or other values)")

    def test_4_flood_of_short_connections(self):
        """FLOOD_CGROUPS cgroups, FLOOD_CONNECTS short connects each from two
        drivers at once, --cgroup.max=FLOOD_MAX: sums exact with the overflow
        series, the self metrics count the overflow, no socket lost its
        state, resident memory bounded, nothing lost per /proc/net/snmp."""
        exporter = self.start_exporter(f"--cgroup.max={FLOOD_MAX}")
        scraper = self.scraper(exporter)
        flood = self.temp_cgroup("flood")
        cgroups = [flood.child(f"f{i}").path for i in range(FLOOD_CGROUPS)]
        traffic = Traffic(self, [scraper])
        body0 = traffic.bodies0[0]
        rss0 = harness.scalar(body0, RSS)
        # Rounds over all cgroups, so every cgroup is busy all along.
        per_round = 10
        jobs = [[(p, per_round) for _ in range(FLOOD_CONNECTS // per_round)
                 for p in cgroups[n::2]] for n in range(2)]
        start = time.monotonic()
        self.in_parallel(jobs)
        seconds = time.monotonic() - start
        made = FLOOD_CGROUPS * (FLOOD_CONNECTS // per_round) * per_round
        body, = traffic.finish(made)
        self.assertEqual(exposition_problems(body, self.promtool), [], "exposition")
        full, overflow = self.assert_overflow_counted(exporter, body0, body)
        rss1 = harness.scalar(body, RSS)
        harness.note(f"flood: {made} connects from {FLOOD_CGROUPS} cgroups in {seconds:.1f} s "
                     f"({made / seconds:.0f}/s), --cgroup.max={FLOOD_MAX}: overflow opened "
                     f"+{overflow:g}, map_full_events +{full:g}, map entries "
                     f"{harness.map_entries(body)} of {harness.map_capacity(body)}; RSS "
                     f"{rss0 / MIB:.1f} -> {rss1 / MIB:.1f} MiB{' (ASan)' if self.asan else ''}")
        if not self.asan:
            self.assertLess(rss1 - rss0, 16 * MIB, "resident memory growth")

    def test_5_socket_outlives_its_cgroup(self):
        """A connection kept open by a process that left its cgroup, then the
        cgroup removed: the cgroup stays shown with its socket, never with a
        negative gauge; once the socket is closed it leaves."""
        exporter = self.start_exporter()
        scraper = self.scraper(exporter)
        holder = self.temp_cgroup("holder")
        answer = self.drivers[0].request({"cgroup": holder.path, "label": holder.label,
                                          "connects": 1, "hold": True}, timeout=10)
        self.assertEqual((answer["ok"], answer["errors"]), (1, []), "hold a connection")
        self.addCleanup(self.drivers[0].request, {"release": True}, timeout=10)

        def sockets(body):
            return family_total(body, CONNECTIONS, cgroup=holder.label)

        def negative(body):
            return [(dict(l).get("cgroup"), dict(l).get("state"), v)
                    for _, l, v in harness.samples_of(body, CONNECTIONS) if v < 0]

        bodies = [harness.poll(lambda: decoded(scraper.scrape().raw),
                               lambda b: sockets(b) == 1, timeout=5)]
        holder.remove()
        bodies += [decoded(scraper.scrape().raw) for _ in range(6)]
        shown_alive = [sockets(b) for b in bodies]
        self.drivers[0].request({"release": True}, timeout=10)
        for _ in range(10):
            bodies.append(decoded(scraper.scrape().raw))
            if holder.label not in harness.opened_series(bodies[-1]):
                break
            time.sleep(0.1)
        harness.note(f"socket outliving its cgroup: {CONNECTIONS} of the removed cgroup "
                     f"while the socket lived {shown_alive}, then "
                     f"{[sockets(b) for b in bodies[len(shown_alive):]]}")
        self.assertEqual(shown_alive, [1] * len(shown_alive),
                         "the removed cgroup's socket, scrape after scrape")
        self.assertEqual([n for b in bodies for n in negative(b)], [], "negative gauges")
        self.assertNotIn(holder.label, harness.opened_series(bodies[-1]),
                         "the removed cgroup is still shown after its socket closed")


if __name__ == "__main__":
    harness.main()
