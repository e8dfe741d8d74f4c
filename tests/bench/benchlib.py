# SPDX-License-Identifier: GPL-2.0-only
"""Shared parts of the benchmark commands in tests/bench (prog_cost,
workload_cost, run): the build directories and building them, stopping
processes, the kernel's per-program BPF statistics, timed GETs, tables and a
main() that turns Ctrl-C, SIGTERM and SIGHUP into an orderly cleanup.
Cgroups, the exporter launcher and HTTP requests come from the integration
tests' harness (the package tests/integration/harness), importable once this module
is.
"""

import contextlib
import ctypes
import json
import os
import signal
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
# The commands import the integration tests' harness after this module.
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))

BPF_STATS_RUN_TIME = 0  # enum bpf_stats_type

# The tracepoints of the exporter's hot path (every segment, socket call,
# state change or reset), in table order; tests/bench/empty.bpf.c has an
# empty program on each.
TRACEPOINTS = ("tcp_probe", "sock_send_length", "sock_recv_length", "inet_sock_set_state",
               "tcp_retransmit_skb", "tcp_send_reset", "tcp_receive_reset")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Failure(Exception):
    """A reason to stop, already worded for the user."""


class Stop(Exception):
    """SIGINT, SIGTERM or SIGHUP: clean up and exit."""


def log(name, msg):
    print(f"{name}: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------- builds

class Build:
    """A meson build directory and the binaries the benchmarks run from it."""

    HELPERS = ("tests/bench/empty_loader", "tests/bench/workload")

    def __init__(self, path, buildtype=None):
        self.path = os.path.abspath(path)
        self.buildtype = buildtype  # only used when the directory is set up here
        self.exporter = os.path.join(self.path, "cgroup_tcp_exporter")
        self.empty_loader = os.path.join(self.path, "tests", "bench", "empty_loader")
        self.workload = os.path.join(self.path, "tests", "bench", "workload")

    def build(self, exporter=True):
        """The benchmarks' helpers, and the exporter unless told not to."""
        if not os.path.exists(os.path.join(self.path, "build.ninja")):
            setup = ["meson", "setup", self.path, SOURCE]
            if self.buildtype:
                setup.append(f"--buildtype={self.buildtype}")
            _run_build(setup)
        targets = self.HELPERS + (("cgroup_tcp_exporter",) if exporter else ())
        _run_build(["ninja", "-C", self.path, *targets])


def _run_build(argv):
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise Failure(f"{' '.join(argv)} failed:\n" + "\n".join(
            (proc.stdout + proc.stderr).rstrip().splitlines()[-25:]))


# --------------------------------------------------------------- processes

def stop_process(proc, name, timeout=10):
    """SIGTERM, then SIGKILL if it does not exit in time; return the status."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log("bench", f"{name} (pid {proc.pid}) ignored SIGTERM, killing it")
            proc.kill()
            proc.wait()
    return proc.returncode


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return ""


# --------------------------------------------------------------- bpf stats

def bpf_prog_ids(pid):
    """Ids of the BPF programs a process holds (from its fds' fdinfo)."""
    ids = set()
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass  # closed meanwhile
    return ids


def bpftool_json(*args):
    out = subprocess.run(["bpftool", "-j", *args], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out or "[]")


def tracepoints_of(prog_ids):
    """prog id -> tracepoint, from the raw_tracepoint links tp_btf programs use."""
    return {link["prog_id"]: link.get("tp_name", "?")
            for link in bpftool_json("link", "show") if link.get("prog_id") in prog_ids}


def prog_stats(prog_ids):
    """prog id -> (name, run_time_ns, run_cnt, recursion_misses)."""
    stats = {}
    for p in bpftool_json("prog", "show"):
        if p["id"] in prog_ids:
            stats[p["id"]] = (p.get("name", "?"), p.get("run_time_ns", 0), p.get("run_cnt", 0),
                              p.get("recursion_misses", 0))
    missing = prog_ids - stats.keys()
    if missing:
        raise Failure(f"BPF programs {sorted(missing)} went away")
    return stats


@contextlib.contextmanager
def bpf_stats_enabled():
    """The kernel's per-program run-time statistics (what
    kernel.bpf_stats_enabled=1 turns on) on inside. They are turned on
    through libbpf's bpf_enable_stats(): the kernel counts its users, so
    nothing global is changed or has to be put back, nobody else's setting
    is disturbed, and the stats go off by themselves if this process dies.
    They add two clock reads to every program run, so throughput is never
    measured inside."""
    libbpf = ctypes.CDLL("libbpf.so.1", use_errno=True)
    fd = libbpf.bpf_enable_stats(BPF_STATS_RUN_TIME)
    if fd < 0:
        raise Failure(f"cannot turn on the BPF run-time statistics: {os.strerror(-fd)}")
    try:
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------- scrapes

def curl_get(url, gzipped):
    """(seconds, bytes) of one GET on a new connection, as curl measures it
    (time_total: connect to the last byte; a gzip body is not unpacked)."""
    argv = ["curl", "-s", "--noproxy", "*", "-o", "/dev/null", "--max-time", "120",
            "-w", "%{http_code} %{time_total} %{size_download}"]
    if gzipped:
        argv += ["-H", "Accept-Encoding: gzip"]
    proc = subprocess.run(argv + [url], capture_output=True, text=True)
    fields = proc.stdout.split()
    if proc.returncode != 0 or len(fields) != 3 or fields[0] != "200":
        raise Failure(f"curl {url} (gzip {gzipped}) failed: status {proc.returncode}, "
                      f"{proc.stdout!r} {proc.stderr.strip()!r}")
    return float(fields[1]), int(fields[2])


def timed_gets(url, runs=7):
    """`runs` plain and `runs` gzip GETs, alternating: the medians of
    (ms, bytes) plain, then of (gzip ms, gzip bytes)."""
    plain, packed = [], []
    for _ in range(runs):
        plain.append(curl_get(url, False))
        packed.append(curl_get(url, True))
    return (statistics.median(s for s, _ in plain) * 1000,
            int(statistics.median(b for _, b in plain)),
            statistics.median(s for s, _ in packed) * 1000,
            int(statistics.median(b for _, b in packed)))


def sample_lines(body):
    """Series in a text exposition: lines that are neither empty nor comments."""
    return sum(1 for line in body.splitlines() if line and not line.startswith("#"))


# --------------------------------------------------------------- tables

def table(header, lines, left=2, markdown=False):
    """Rows of strings as aligned text: the first `left` columns flush left,
    the others (figures) flush right; with markdown, as a Markdown table that
    reads as well in a terminal."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]

    def cells(line):
        return [c.ljust(w) if j < left else c.rjust(w)
                for j, (c, w) in enumerate(zip(line, widths))]

    if markdown:
        rule = [("-" * w) if j < left else ("-" * (w - 1) + ":") for j, w in enumerate(widths)]
        rows = [cells(header), rule] + [cells(line) for line in lines]
        return "\n".join("| " + " | ".join(row) + " |" for row in rows)
    rows = [cells(header), ["-" * w for w in widths]] + [cells(line) for line in lines]
    return "\n".join("  ".join(row).rstrip() for row in rows)


# --------------------------------------------------------------- main

def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def main(name, body):
    """Run body(cleanups) with SIGINT, SIGTERM and SIGHUP raising Stop, and
    return the exit status: body's, 1 on a Failure, 130 when stopped.
    `cleanups` is a contextlib.ExitStack, unwound with those signals ignored
    so that a second Ctrl-C cannot cut the cleanup short."""
    # Also when started with SIGINT ignored (e.g. in the background).
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stop)
    cleanups = contextlib.ExitStack()
    status = 0
    try:
        status = body(cleanups) or 0
    except Failure as e:
        log(name, str(e))
        status = 1
    except subprocess.CalledProcessError as e:
        log(name, f"{' '.join(map(str, e.cmd))} failed with status {e.returncode}: "
            f"{(e.stderr or '').strip()}")
        status = 1
    except (KeyboardInterrupt, Stop) as e:
        log(name, f"interrupted ({e or 'SIGINT'}), cleaning up")
        status = 130
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        cleanups.close()
    return status
