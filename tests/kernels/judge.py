# SPDX-License-Identifier: GPL-2.0-only
"""Judges one guest run from its console: what the workload did, and every
family the exporter served for the two cgroups, exactly, as the host
integration tests judge them (their constants and parsers are reused).

A check gives one cell of the matrix: "exact", "missing" (no series at
all), "wrong" (series with other values), "limit" (a documented kernel
limit, allowed) or "not run"; and the lines that explain a cell other than
exact. The guest runs two exporters on the same traffic (EXPORTERS); a
cell of the matrix is the worse of their two.
"""

import base64
import gzip
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
import test_counters as host  # noqa: E402
from test_distributions import (CONNECTIONS, HANDSHAKE, IO_SIZE, LIFETIME, RTT,  # noqa: E402
                                STATES)

N, K, M = host.N, host.K, host.M
S = 2  # the client's connects to self: outbound, as ActiveOpens counts them
PARAMS = {"CONNS": N, "BYTES": K, "REFUSED": M, "SELF": S, "PORT": 5001, "CLOSED_PORT": 5002,
          "DROPPED_PORT": 5003, "RESET_PORT": 5004, "HOLD_PORT": 5005,
          "EXPORTER_PORT": 9437, "SHARED_PORT": 9438}
# The guest's exporters, by the suffix of their reports: "" runs with the
# default flags (per-CPU send and receive counters), "shared" with
# --cgroup.max-per-cpu=0 (shared ones, changed with atomic adds).
EXPORTERS = {"": "default flags", "shared": "--cgroup.max-per-cpu=0 --process.attribution"}
RANK = ("exact", "limit", "not run", "missing", "wrong", "fails")
LISTENERS = 4   # the server's exchange, reset, dropped and hold ports
CLIENT, SERVER = "/client", "/server"
FREED = "cgroup_tcp_exporter_cgroups_freed_total"
ATTACHED = "cgroup_tcp_exporter_program_attached"

# The rows of the matrix, in order.
FAMILY_ROWS = list(host.FAMILIES) + [CONNECTIONS, HANDSHAKE, LIFETIME, RTT, IO_SIZE]
START = "starts without a kernel config file"
NO_SOCKET_RESETS = 'resets_sent{cgroup=""} (closed port)'
REMOVAL = "removed cgroup shown, then freed"
RUNAS = "--runas"
SHUTDOWN = "SIGTERM: exit 0, bpffs empty"
EXPOSITION = "exposition format"
PLAN = "workload went to plan"
PEERS = "peer group `loopback` counts as its cgroup"
PROCESSES = "process names sum to their cgroup"
ROWS = ([START] + FAMILY_ROWS
        + [PEERS, PROCESSES, NO_SOCKET_RESETS, REMOVAL, RUNAS, SHUTDOWN, EXPOSITION, PLAN])
# Per-cgroup families and their twins per peer group and per process name.
PEER_TWINS = {host.OPENED: "cgroup_tcp_peer_connections_opened_total",
              host.FAILURES: "cgroup_tcp_peer_connect_failures_total",
              host.RETRANSMITS: "cgroup_tcp_peer_retransmits_total",
              host.RESETS_SENT: "cgroup_tcp_peer_resets_sent_total",
              host.RESETS_RECEIVED: "cgroup_tcp_peer_resets_received_total"}
PROCESS_TWINS = {host.OPENED: "cgroup_tcp_process_connections_opened_total",
                 host.FAILURES: "cgroup_tcp_process_connect_failures_total"}
PASSING = ("exact", "limit")
# Rows of what the kernel offers, below the checks.
SEND_LENGTH = "sock_send_length tracepoint (6.3+)"
NO_SOCKET_RESET_EVENT = "tcp_send_reset fires without a socket"
FEATURES = (SEND_LENGTH, NO_SOCKET_RESET_EVENT)


def parse_console(text):
    """({name: value} of one-line reports, {name: body} of sections)."""
    values, sections, current, packed, body = {}, {}, None, set(), []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        at = line.find("@@ctcp ")
        words = line[at:].split(" ", 2) if at >= 0 else []
        if current is not None:
            if words[:3] == ["@@ctcp", "end", current]:
                sections[current] = unpack(body) if current in packed else "\n".join(body) + "\n"
                current = None
            else:
                body.append(line)
        elif len(words) >= 3 and words[1] in ("begin", "begin-gz"):
            current, body = words[2], []
            if words[1] == "begin-gz":
                packed.add(current)
        elif len(words) >= 2:
            values[words[1]] = words[2] if len(words) > 2 else ""
    return values, sections


def unpack(lines):
    try:
        return gzip.decompress(base64.b64decode("".join(lines))).decode("utf-8", "replace")
    except (ValueError, OSError, EOFError):
        return ""


def expected(phase):
    """{cgroup: counters} once the client finished ("live": the held
    connection still open) or once every process ended ("closed")."""
    client, server = host.expected_client(), host.expected_server()
    client["opened{outbound}"] += 1 + S   # the held connection, the connects to self
    client["closed{outbound}"] += S
    server["opened{inbound}"] += 1
    if phase == "closed":
        client["closed{outbound}"] += 1
        server["closed{inbound}"] += 1
    return {CLIENT: client, SERVER: server}


def expected_gauge(phase):
    zero = {s: 0 for s in STATES}
    if phase == "closed":
        return {CLIENT: zero, SERVER: dict(zero)}
    return {CLIENT: {**zero, "established": 1},
            SERVER: {**zero, "established": 1, "listen": LISTENERS}}


def gauge(samples, label):
    return {s: int(harness.value(samples, CONNECTIONS, cgroup=label, state=s)) for s in STATES}


def exporter_view(reports, exporter):
    """The reports of one exporter, under their plain names, with those
    common to both (the kernel's, the workload's)."""
    view = {k: v for k, v in reports.items() if "@" not in k}
    if exporter:
        view = {k: v for k, v in view.items() if f"{k}@{exporter}" not in reports
                and not k.startswith(("exporter-", "baseline", "live-", "closed-", "removed",
                                      "gone-"))}
        view.update({k.split("@")[0]: v for k, v in reports.items()
                     if k.endswith("@" + exporter)})
    return view


def combine(runs):
    """{row: (the worse cell, explanations named by exporter)} over the
    Runs of one guest."""
    out = {}
    for row in ROWS:
        cells = [(run, run.judge()[row]) for run in runs]
        worst = max((cell for _, (cell, _) in cells), key=RANK.index)
        why = [f"{EXPORTERS[run.exporter]}: {line}" for run, (_, lines) in cells
               for line in lines]
        out[row] = (worst, why)
    return out


class Run:
    """One exporter in one guest run: its part of the console, its checks
    made on demand."""

    def __init__(self, name, console, exporter=""):
        self.name = name
        self.exporter = exporter
        values, sections = parse_console(console)
        self.values = exporter_view(values, exporter)
        self.sections = exporter_view(sections, exporter)
        self.verdicts = None
        self.notes = []
        self.scrapes = {}
        for key, body in self.sections.items():
            try:
                self.scrapes[key] = harness.parse_samples(body)
            except Exception:
                pass

    def started(self):
        return "exporter-started" in self.values

    def workload(self, role):
        try:
            return json.loads(self.sections.get(role, "").strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {}

    def phase(self, name):
        """The first of a phase's scrapes where both cgroups' counters are
        right (close transitions land a little after the workload), else the
        last one; None when there is none."""
        names = sorted((k for k in self.scrapes if k.startswith(name + "-")),
                       key=lambda k: int(k.rsplit("-", 1)[1]))
        want = expected(name)
        for key in names:
            s = self.scrapes[key]
            if all(host.observed(s, label) == want[label] for label in want):
                return key
        return names[-1] if names else None

    # ------------------------------------------------------------ cells

    def judge(self):
        """{row: (cell, [explanations])}"""
        if self.verdicts is None:
            self.verdicts = self.checks()
        return self.verdicts

    def checks(self):
        if not self.started():
            if "exporter-start-failed" in self.values:
                why = f"exit status {self.values['exporter-start-failed']}"
            elif "vm-timeout" in self.values:
                why = f"the guest was killed after {self.values['vm-timeout']} s"
            else:
                why = "the guest never reported the start"
            log = self.sections.get("exporter-log", "").strip().splitlines()[-4:]
            out = {row: ("not run", []) for row in ROWS}
            out[START] = ("fails", [why, *log])
            return out
        out = {START: self.cell([] if "has-kernel-config" not in self.values else
                                  ["a kernel config file was present in the guest"])}
        live, closed = self.phase("live"), self.phase("closed")
        if not live or not closed:
            self.notes.append(f"scrapes missing: live {live}, closed {closed}; "
                              f"reports {self.values}")
        for family in host.FAMILIES:
            out[family] = self.counter_family(family, live, closed)
        out[CONNECTIONS] = self.gauge_family(live, closed)
        out.update(self.histograms(closed))
        out[PEERS] = self.twins(closed, PEER_TWINS, peer="loopback")
        out[PROCESSES] = (self.twins(closed, PROCESS_TWINS) if self.exporter == "shared"
                          else ("exact", []))
        out[NO_SOCKET_RESETS] = self.no_socket_resets(closed)
        out[REMOVAL] = self.removal(closed)
        out[RUNAS] = self.runas()
        out[SHUTDOWN] = self.shutdown()
        out[EXPOSITION] = self.exposition()
        out[PLAN] = self.plan()
        return out

    @staticmethod
    def cell(problems, missing=False):
        if not problems:
            return ("exact", [])
        return ("missing" if missing else "wrong", problems)

    def samples(self, key):
        return self.scrapes.get(key) or []

    def counter_family(self, family, *phases):
        problems, missing = [], True
        keys = [k for k, name, _ in host.COUNTERS if name == family]
        for phase in phases:
            samples = self.samples(phase)
            if not phase:
                return ("wrong", ["no scrape"])
            kind = phase.rsplit("-", 1)[0]
            for label, want in expected(kind).items():
                if harness.has_series(samples, family, cgroup=label):
                    missing = False
                got = host.observed(samples, label)
                diff = {k: (got[k], want[k]) for k in keys if got[k] != want[k]}
                if diff:
                    problems.append(f"{phase} {label}: (got, want) {diff}")
        return self.cell(problems, missing and bool(problems))

    def gauge_family(self, *phases):
        problems, missing = [], True
        for phase in phases:
            samples = self.samples(phase)
            kind = phase.rsplit("-", 1)[0] if phase else ""
            for label, want in expected_gauge(kind or "live").items():
                if harness.has_series(samples, CONNECTIONS, cgroup=label):
                    missing = False
                got = gauge(samples, label)
                if got != want:
                    problems.append(f"{phase} {label}: got "
                                    f"{ {s: v for s, v in got.items() if v} }, want "
                                    f"{ {s: v for s, v in want.items() if v} }")
        return self.cell(problems, missing and bool(problems))

    def histograms(self, closed):
        """On the last scrape of the closed phase: handshake and lifetime
        counts equal the opened and closed counters; RTT has one sample per
        connection leaving ESTABLISHED and at most one more per connection
        (a segment in a new second); I/O sizes sum to the bytes, one sample
        per call that moved bytes."""
        samples = self.samples(closed)
        want = expected("closed")
        calls = {CLIENT: [self.workload("client"), self.workload("hold")],
                 SERVER: [self.workload("server")]}
        found = {name: False for name in (HANDSHAKE, LIFETIME, RTT, IO_SIZE)}
        problems = {name: [] for name in found}

        def check(name, label, count, total=None, **labels):
            h = harness.histogram(samples, name, cgroup=label, **labels)
            found[name] |= bool(h["buckets"])
            ok = count(h["count"]) if callable(count) else h["count"] == count
            if not ok or (total is not None and h["sum"] != total):
                problems[name].append(f"{label} {labels}: count {h['count']:g}, sum "
                                      f"{h['sum']:g}; want count {getattr(count, 'want', count)}"
                                      + (f", sum {total}" if total is not None else ""))

        for label, counters in want.items():
            for d in ("outbound", "inbound"):
                check(HANDSHAKE, label, counters[f"opened{{{d}}}"], direction=d)
                check(LIFETIME, label, counters[f"closed{{{d}}}"], direction=d)
            # exchanges, the reset one and the held one (and the client's
            # connects to self, which may hold no round trip)
            left = N + 2
            most = 2 * left + (2 * S if label == CLIENT else 0)
            in_range = lambda c, left=left, most=most: left <= c <= most  # noqa: E731
            in_range.want = f"{left}..{most}"
            check(RTT, label, in_range)
            tallies = calls[label]
            for op, key in (("send", "sent"), ("receive", "received")):
                n = sum(t.get(f"{'send' if op == 'send' else 'recv'}_calls", 0) for t in tallies)
                check(IO_SIZE, label, n, counters[f"{key}_bytes"], op=op)
        return {name: self.cell(problems[name], not found[name]) for name in found}

    def twins(self, closed, twins, **extra):
        """Each counter of a per-cgroup family equals its twin's series of
        the cgroup (all traffic here is on loopback) summed over the extra
        label (those matching `extra`)."""
        samples, problems, missing = self.samples(closed), [], True
        for label in (CLIENT, SERVER):
            for family, twin in twins.items():
                for _, labels, v in [s for s in samples if s[0] == family
                                     and s[1].get("cgroup") == label]:
                    keys = {k: x for k, x in labels.items() if k != "cgroup"}
                    got = harness.value(samples, twin, cgroup=label, **keys, **extra)
                    missing &= not harness.has_series(samples, twin, cgroup=label)
                    if got != v:
                        problems.append(f"{label} {twin} {keys}: {got:g}, want {v:g}")
        return self.cell(problems, missing and bool(problems))

    def no_socket_resets(self, closed):
        before = harness.value(self.samples("baseline"), host.RESETS_SENT, cgroup="")
        after = harness.value(self.samples(closed), host.RESETS_SENT, cgroup="")
        got = int(after - before)
        if got == M:
            return ("exact", [])
        # The kernel's tracepoint fired only for the SO_LINGER reset (the one
        # with a socket): nothing a BPF program on it could count.
        fired = self.values.get("kernel-send-reset-events")
        if got == 0 and fired == "1":
            return ("limit", ["the kernel's tcp_send_reset fires only with a socket "
                              "(it fired once: the SO_LINGER reset)"])
        return ("wrong", [f"{got} resets sent without a socket, want {M} (the kernel's "
                          f"tcp_send_reset fired {fired} times in the workload)"])

    def removal(self, closed):
        removed = self.samples("removed")
        problems = []
        if self.values.get("client-removed") != "0":
            return ("wrong", ["rmdir of the client cgroup failed"])
        last, shown = host.observed(self.samples(closed), CLIENT), host.observed(removed, CLIENT)
        if not any(shown.values()) or shown != last:
            problems.append("the first scrape after the removal does not show the "
                            f"client's last values: {shown}, before: {last}")
        freed_before = harness.value(removed, FREED)
        gone = [k for k in sorted((k for k in self.scrapes if k.startswith("gone-")),
                                  key=lambda k: int(k.split("-")[1]))
                if not any(l.get("cgroup") == CLIENT for _, l, _ in self.scrapes[k])]
        if not gone:
            problems.append("the removed cgroup is still shown 10 scrapes (3 s) later")
        else:
            freed = harness.value(self.scrapes[gone[0]], FREED) - freed_before
            if freed != 1:
                problems.append(f"{FREED} went up by {freed:g} when it left, want 1")
            self.notes.append(f"removed cgroup gone at scrape {gone[0]}")
        return self.cell(problems)

    def runas(self):
        uid = self.values.get("exporter-uid", "").split()
        if uid[1:] == ["1000"] * 4:
            return ("exact", [])
        return ("wrong", [f"exporter's ids: {' '.join(uid)}"])

    def shutdown(self):
        problems = []
        if self.values.get("exporter-exit") != "0":
            problems.append(f"exit status after SIGTERM: {self.values.get('exporter-exit')}")
        if self.values.get("bpffs-left") != "0":
            problems.append(f"{self.values.get('bpffs-left')} entries left in /sys/fs/bpf")
        return self.cell(problems)

    def exposition(self):
        problems = []
        for key, body in self.sections.items():
            if key == "baseline" or key.split("-")[0] in ("live", "closed", "removed", "gone"):
                if key not in self.scrapes:
                    problems.append(f"{key}: prometheus_client cannot parse it")
                    continue
                problems += [f"{key}: {p}" for p in
                             harness.check_exposition(body) + harness.check_histograms(body)]
        return self.cell(problems[:5])

    def plan(self):
        """The workload and the kernel's own counters, before the exporter is
        judged: the environment, not the exporter, when this is wrong."""
        c, s, h = self.workload("client"), self.workload("server"), self.workload("hold")
        problems = []
        if not (c.get("ok") == N and c.get("refused") == M and c.get("timed_out") == 1
                and c.get("resets_sent") == 1 and c.get("self") == S and c.get("errors") == 0
                and c.get("bytes_sent") == N * K and c.get("bytes_received") == N * K):
            problems.append(f"client: {c}")
        if not (s.get("accepted") == N + 2 and s.get("resets_seen") == 1
                and s.get("errors") == 0 and s.get("bytes_sent") == N * K
                and s.get("bytes_received") == N * K):
            problems.append(f"server: {s}")
        if h.get("held") != 1 or h.get("errors") != 0:
            problems.append(f"hold: {h}")
        try:
            snmp = harness.snmp_delta(harness.parse_snmp(self.sections["snmp-before"]),
                                      harness.parse_snmp(self.sections["snmp-after"]))
        except (KeyError, IndexError):
            snmp = "not reported"
        plan = {"ActiveOpens": N + M + 3 + S, "PassiveOpens": N + 2, "AttemptFails": M + 1,
                "RetransSegs": 1, "OutRsts": M + 1}
        if snmp != plan:
            problems.append(f"/proc/net/snmp deltas {snmp}, want {plan}")
        return self.cell(problems)

    def programs(self):
        """{program: (tracepoint, attached)} as the exporter reports them."""
        return {l.get("program", "?"): (l.get("tracepoint", "?"), v == 1)
                for n, l, v in self.samples(self.phase("closed")) if n == ATTACHED}

    def features(self):
        """What the kernel offers that decides the programs, for the table."""
        fired = self.values.get("kernel-send-reset-events")
        known = "kernel" in self.values
        return {SEND_LENGTH:
                "-" if not known else "yes" if "has-sock-send-length" in self.values else "no",
                NO_SOCKET_RESET_EVENT: "-" if fired is None else "yes" if fired != "1" else "no"}
