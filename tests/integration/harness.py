"""Reusable helpers for the exporter's integration tests.

A test "container" here is a cgroup2 child plus a network namespace. This
module creates and removes both, starts processes inside them, runs the
exporter, scrapes and checks its text exposition (histogram invariants
included), reads /proc/net/snmp in a namespace, joins two namespaces
through a delay line and lists the BPF objects the exporter holds. It also
makes single HTTP requests with exactly the headers a test chooses and
checks an OpenMetrics body. Standard library only (plus prometheus_client's
parsers), for Debian's /usr/bin/python3.
"""

import errno
import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString

PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "workload.py")
WORKLOAD_DIST = os.path.join(HERE, "workload_dist.py")
WORKLOAD_IDENTITY = os.path.join(HERE, "workload_identity.py")


# --------------------------------------------------------------- polling

def poll(fetch, done, timeout, interval=0.2):
    """Call fetch() until done(value) or timeout; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# --------------------------------------------------------------- cgroup2

def _unescape_mountinfo(field):
    # mountinfo escapes space, tab, newline and backslash as \ooo octal.
    raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), field)
    return os.fsdecode(raw)


def find_cgroup2():
    """Return (mount_point, root) of the first cgroup2 mount.

    Hosts differ (pure v2 at /sys/fs/cgroup, hybrid at .../unified), so the
    mount is looked up rather than assumed. root is the path of the mounted
    directory inside the hierarchy ("/" unless in a cgroup namespace).
    """
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            fields = line.split()
            # Optional fields end at "-"; the filesystem type follows it.
            sep = fields.index(b"-")
            if fields[sep + 1] == b"cgroup2":
                return _unescape_mountinfo(fields[4]), _unescape_mountinfo(fields[3])
    raise RuntimeError("no cgroup2 mount in /proc/self/mountinfo")


class Cgroup:
    """A cgroup2 directory and the `cgroup` label the exporter gives it."""

    def __init__(self, path, label):
        self.path = path
        self.label = label

    @classmethod
    def create(cls, mount, root, relative):
        """mkdir mount/relative; the label is that path from the root, with a
        leading "/" (e.g. /ctcp-test-1234/client)."""
        path = os.path.join(mount, relative)
        os.mkdir(path)
        label = "/" + "/".join(p for p in (root.strip("/"), relative) if p)
        return cls(path, label)

    def child(self, name):
        os.mkdir(os.path.join(self.path, name))
        return Cgroup(os.path.join(self.path, name), self.label + "/" + name)

    # The shell writes its own pid into cgroup.procs, then execs: the
    # command is in the cgroup from its first instruction. The path is
    # passed as $1, not pasted into the script, because cgroup names may
    # contain quotes.
    _PLACE = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"'

    def exec_argv(self, argv):
        """argv wrapped so that it runs inside this cgroup (same pid)."""
        return ["sh", "-c", self._PLACE, "sh", self.path] + list(argv)

    def pids(self):
        """Pids in this cgroup and every cgroup below it (walked by
        directory descriptors: cgroupfs paths may be longer than PATH_MAX)."""
        found = []
        if not os.path.isdir(self.path):
            return found
        for _, _, _, dirfd in os.fwalk(self.path):
            try:
                with open(os.open("cgroup.procs", os.O_RDONLY, dir_fd=dirfd)) as f:
                    found.extend(int(x) for x in f.read().split())
            except FileNotFoundError:
                pass  # removed while walking
        return found

    def kill(self, timeout=3.0):
        """SIGKILL everything in the subtree and wait until it has left.

        cgroup.kill (5.14+) is race-free against forks; otherwise fall back
        to killing the listed pids.
        """
        kill_file = os.path.join(self.path, "cgroup.kill")
        if os.path.exists(kill_file):
            with open(kill_file, "w") as f:
                f.write("1")
        else:
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        poll(self.pids, lambda pids: not pids, timeout, interval=0.05)

    def remove(self, timeout=3.0):
        """rmdir the subtree, children first.

        rmdir fails with EBUSY for a moment after the last process was
        killed (it is still exiting), so each directory is retried briefly.
        """
        if not os.path.isdir(self.path):
            return
        for _, dirs, _, dirfd in os.fwalk(self.path, topdown=False):
            for name in dirs:
                _rmdir_retry(name, timeout, dir_fd=dirfd)
        _rmdir_retry(self.path, timeout)


def own_cgroup_path(mount):
    """This process's cgroup2 directory, under `mount`."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return os.path.join(mount, line[3:].strip().lstrip("/"))
    raise RuntimeError("this process is in no cgroup2 cgroup (/proc/self/cgroup)")


def enter_cgroup(path):
    """Moves this process into the cgroup2 directory `path`."""
    with open(os.path.join(path, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))


_ABORT = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a RST


def _receive(sock, n):
    got = 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            raise RuntimeError("loopback peer closed early")
        got += len(chunk)


def connect_in_each(paths, home):
    """Makes each cgroup directory in `paths` active without a process of
    its own: this process moves into it and there opens a loopback listener
    and one connection to it, sends 100 bytes one way and 200 back, and
    aborts it. A socket stays counted under the cgroup it was made in, so
    each gets opened and closed counts both ways, resets, the handshake,
    lifetime, RTT and I/O size histograms and byte counters. The abort
    leaves no socket in TIME_WAIT: thousands of them would crowd the
    ephemeral ports (a second run within a minute would take ten times
    longer). Moves back to `home` at the end, failure included."""
    try:
        for path in paths:
            enter_cgroup(path)
            with socket.socket() as listener:
                listener.bind(("127.0.0.1", 0))
                listener.listen(1)
                with socket.create_connection(listener.getsockname()) as client:
                    server, _ = listener.accept()
                    with server:
                        client.sendall(b"q" * 100)
                        _receive(server, 100)
                        server.sendall(b"a" * 200)
                        _receive(client, 200)
                        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _ABORT)
    finally:
        enter_cgroup(home)


def _rmdir_retry(path, timeout, dir_fd=None):
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.rmdir(path, dir_fd=dir_fd)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


# --------------------------------------------------------------- netns

def run(argv, input=None, check=True):
    """Run a command, return its CompletedProcess; raise with its output."""
    proc = subprocess.run(argv, input=input, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{argv!r} exited {proc.returncode}:\n"
                           f"{proc.stdout}{proc.stderr}")
    return proc


class Netns:
    """A named network namespace with loopback up."""

    def __init__(self, name):
        self.name = name
        run(["ip", "netns", "add", name])
        try:
            run(["ip", "-n", name, "link", "set", "lo", "up"])
        except Exception:
            self.delete()  # the caller never gets an object to clean up
            raise

    def exec_argv(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, input=None):
        return run(self.exec_argv(argv), input=input)

    def nft(self, ruleset):
        """Load an nftables ruleset into this namespace only; it disappears
        with the namespace."""
        self.run(["nft", "-f", "-"], input=ruleset)

    def set_sysctl(self, key, value):
        """Set a per-namespace sysctl; False if this kernel does not have it."""
        path = "/proc/sys/" + key.replace(".", "/")
        script = 'test -e "$1" || exit 3; echo "$2" > "$1"'
        proc = run(self.exec_argv(["sh", "-c", script, "sh", path, str(value)]),
                   check=False)
        if proc.returncode == 3:
            return False
        if proc.returncode != 0:
            raise RuntimeError(f"setting {key}={value} in {self.name}: {proc.stderr}")
        return True

    def read_snmp(self):
        return parse_snmp(self.run(["cat", "/proc/net/snmp"]).stdout)

    def delete(self):
        run(["ip", "netns", "delete", self.name], check=False)


SNMP_FIELDS = ("ActiveOpens", "PassiveOpens", "AttemptFails", "OutRsts",
               "RetransSegs")


def parse_snmp(text):
    """The Tcp: counters of /proc/net/snmp as a dict of ints.

    The file pairs a header line with a value line per protocol.
    """
    lines = [l.split() for l in text.splitlines() if l.startswith("Tcp:")]
    header, values = lines[0][1:], lines[1][1:]
    return {k: int(v) for k, v in zip(header, values)}


def snmp_delta(before, after):
    return {k: after[k] - before[k] for k in SNMP_FIELDS}


def machine_netns():
    """The inodes of the network namespaces processes are in now."""
    found = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                found.add(os.stat(f"/proc/{pid}/ns/net").st_ino)
            except OSError:
                pass  # gone meanwhile, or a kernel thread
    return found


def machine_snmp():
    """{network namespace inode: Tcp: counters} of every namespace a process
    is in: the whole machine's connects, other tests' included."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            ino = os.stat(f"/proc/{pid}/ns/net").st_ino
            if ino not in found:
                with open(f"/proc/{pid}/net/snmp") as f:
                    found[ino] = parse_snmp(f.read())
        except OSError:
            pass  # gone meanwhile, or a kernel thread
    return found


def machine_delta(before, after):
    """Summed counters of two machine_snmp() readings; a namespace made
    meanwhile counts from zero (one gone meanwhile cannot be counted)."""
    zero = dict.fromkeys(SNMP_FIELDS, 0)
    return {k: sum(counters[k] - before.get(ino, zero)[k] for ino, counters in after.items())
            for k in zero}


def successful_connects(before, after):
    """Outbound connects that completed, from two /proc/net/snmp readings."""
    return (after["ActiveOpens"] - before["ActiveOpens"]) \
        - (after["AttemptFails"] - before["AttemptFails"])


# --------------------------------------------------------------- processes

class Workload:
    """workload.py started inside a cgroup and a netns.

    The cgroup's exec_argv puts it in the cgroup from its first instruction;
    `ip netns exec` then execs (no fork) and keeps the cgroup.
    """

    def __init__(self, cgroup, netns, role, *args, script=WORKLOAD,
                 stdin_pipe=False):
        """stdin_pipe: keep a pipe to the workload's stdin, for request()."""
        self.role = role
        self.cgroup = cgroup
        argv = cgroup.exec_argv(
            netns.exec_argv([PYTHON, script, role] + [str(a) for a in args]))
        self._stderr = tempfile.TemporaryFile()
        stdin = subprocess.PIPE if stdin_pipe else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=self._stderr,
                                     text=True)
        self.lines = []
        self._queue = queue.Queue()
        # A reader thread so "ready" can be awaited with a timeout and the
        # pipe never fills up.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def wait_for_line(self, wanted, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line == wanted:
                return
            if line is None:
                raise RuntimeError(f"{self.role}: no {wanted!r} line "
                                   f"(exit {self.proc.poll()}):\n{self.stderr()}")

    def request(self, message, timeout):
        """Write `message` as one JSON line to the workload's stdin (started
        with stdin_pipe=True) and return its next stdout line, parsed as
        JSON."""
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            line = None
        if line is None:
            raise RuntimeError(f"{self.role}: no answer to {message!r} within "
                               f"{timeout}s (exit {self.proc.poll()}):\n{self.stderr()}")
        try:
            return json.loads(line)
        except ValueError:
            raise RuntimeError(f"{self.role}: answer is not JSON: {line!r}") from None

    def send_signal(self, signum=signal.SIGUSR1):
        """Signal the workload (the pid is the workload itself: the shell
        and `ip netns exec` both exec)."""
        self.proc.send_signal(signum)

    def kill(self):
        """SIGKILL and reap; safe to call when it has already exited."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self):
        """kill(), then release the pipes; safe after finish() too."""
        self.kill()
        self._reader.join(2)
        for f in (self.proc.stdin, self.proc.stdout, self._stderr):
            if f is None:
                continue
            if not f.closed:
                f.close()

    def finish(self, timeout):
        """Wait for exit and return the JSON summary (the last stdout line)."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"{self.role}: still running after {timeout}s; "
                               f"stdout {self.lines!r}\n{self.stderr()}")
        self._reader.join(2)
        stderr = self.stderr()
        self.proc.stdout.close()
        self._stderr.close()
        if rc != 0 or not self.lines:
            raise RuntimeError(f"{self.role}: exit {rc}; stdout {self.lines!r}\n"
                               f"{stderr}")
        try:
            return json.loads(self.lines[-1])
        except ValueError:
            raise RuntimeError(f"{self.role}: last line is not JSON: "
                               f"{self.lines!r}\n{stderr}") from None


class HostNamespaces:
    """Stands for a Netns where a workload starts in the host's namespaces
    (a workload that enters its network namespace by itself)."""

    @staticmethod
    def exec_argv(argv):
        return list(argv)


def note(text):
    """A figure for whoever reads the log (reports quote these)."""
    print(f"\n  {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------- delay line

class DelayLine:
    """Two network namespaces joined through a userspace delay line.

    This kernel has no netem, so latency is made by hand: namespaces `a`
    (A_ADDR/24 on a0) and `b` (B_ADDR/24 on b0) each get one veth whose
    other end (wa, wb) sits in a private `wire` namespace, where the relay
    of workload_dist.py copies every frame from one end to the other after
    `delay` seconds. Round trips are then 2 * delay plus a fraction of a
    millisecond. The addresses exist only inside these namespaces and
    nothing touches the host's network. Neighbour entries are static, so
    the first handshake does not also wait for an ARP round trip.

    The relay runs in `cgroup`, stops by itself after `duration` seconds,
    and close() kills it and deletes the namespaces (idempotent).
    """

    A_ADDR = "10.200.0.1"
    B_ADDR = "10.200.0.2"

    def __init__(self, prefix, cgroup, delay=0.006, duration=20.0):
        self.namespaces, self.relay = [], None
        try:
            self.a, self.b, self.wire = (self._netns(f"{prefix}-{n}")
                                         for n in ("a", "b", "wire"))
            for ns, end, peer, addr in ((self.a, "wa", "a0", self.A_ADDR),
                                        (self.b, "wb", "b0", self.B_ADDR)):
                # Created from the wire namespace, so no name is ever
                # taken in the host's.
                self.wire.run(["ip", "link", "add", end, "type", "veth",
                               "peer", "name", peer, "netns", ns.name])
                ns.run(["ip", "addr", "add", f"{addr}/24", "dev", peer])
                ns.run(["ip", "link", "set", peer, "up"])
                self.wire.run(["ip", "link", "set", end, "up"])
            mac_a, mac_b = self._mac(self.a, "a0"), self._mac(self.b, "b0")
            self.a.run(["ip", "neigh", "replace", self.B_ADDR, "lladdr", mac_b,
                        "dev", "a0", "nud", "permanent"])
            self.b.run(["ip", "neigh", "replace", self.A_ADDR, "lladdr", mac_a,
                        "dev", "b0", "nud", "permanent"])
            self.relay = Workload(cgroup, self.wire, "relay", "--a", "wa",
                                  "--b", "wb", "--delay", delay,
                                  "--duration", duration,
                                  "--deadline", int(duration) + 5,
                                  script=WORKLOAD_DIST)
            self.relay.wait_for_line("ready", timeout=5)
        except BaseException:
            self.close()
            raise

    def _netns(self, name):
        ns = Netns(name)
        self.namespaces.append(ns)
        # No IPv6: no router solicitations or DAD frames on the wire.
        for key in ("net.ipv6.conf.all.disable_ipv6",
                    "net.ipv6.conf.default.disable_ipv6"):
            ns.set_sysctl(key, 1)
        return ns

    @staticmethod
    def _mac(ns, dev):
        return json.loads(ns.run(["ip", "-j", "link", "show", dev]).stdout)[0]["address"]

    def close(self):
        if self.relay is not None:
            self.relay.close()
        for ns in self.namespaces:
            ns.delete()
        self.namespaces = []


# --------------------------------------------------------------- exporter

def free_port():
    """A TCP port free on 127.0.0.1 right now (the kernel picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scrape:
    def __init__(self, status, content_type, raw):
        self.status = status
        self.content_type = content_type
        self.raw = raw
        self.body = raw.decode("utf-8", errors="replace")


class Exporter:
    """The exporter under test, in the host network namespace."""

    def __init__(self, binary, port, args=()):
        self.binary = binary
        self.port = port
        self.args = list(args)  # extra flags, after the listen address
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.proc = None
        self.returncode = None
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        # Sent with every scrape (e.g. Authorization).
        self.headers = {}
        # Scrapes go straight to 127.0.0.1 whatever *_proxy says.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self, ready_timeout=15.0):
        self.proc = subprocess.Popen(
            [self.binary, f"--web.listen-address=127.0.0.1:{self.port}"] + self.args,
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exporter exited {self.proc.returncode} "
                                   f"before serving:\n{self.stderr()}")
            try:
                if self.scrape(timeout=1).status == 200:
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)
        raise RuntimeError(f"exporter not ready after {ready_timeout}s:\n"
                           f"{self.stderr()}")

    def scrape(self, timeout=5):
        request = urllib.request.Request(self.url, headers=self.headers)
        try:
            with self._opener.open(request, timeout=timeout) as resp:
                return Scrape(resp.status, resp.headers.get("Content-Type"),
                              resp.read())
        except urllib.error.HTTPError as e:
            return Scrape(e.code, e.headers.get("Content-Type"), e.read())

    def stop(self, timeout=5.0):
        """SIGTERM and wait; returns the exit code, or None if it had to be
        killed. Safe to call twice."""
        if self.proc is None or self.returncode is not None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.returncode = None
        return self.returncode

    def stderr(self, tail=4000):
        if self._err.closed:
            return ""
        self._err.seek(0)
        return self._err.read().decode(errors="replace")[-tail:]

    def close(self):
        """Stop if needed and release the output files."""
        self.stop()
        self._out.close()
        self._err.close()


class ClassResources:
    """For a test class whose setUpClass starts workload_identity.py roles
    and exporters: each goes into the class's own `workloads` and
    `exporters` lists, which its cleanup() stops. The class sets `netns`
    and `binary`."""

    @classmethod
    def workload(cls, cgroup, role, *args, stdin_pipe=False, netns=None):
        w = Workload(cgroup, netns or cls.netns, role, *args, script=WORKLOAD_IDENTITY,
                     stdin_pipe=stdin_pipe)
        cls.workloads.append(w)
        return w

    @classmethod
    def start_exporter(cls, *args):
        exporter = Exporter(cls.binary, free_port(), args)
        cls.exporters.append(exporter)
        exporter.start(ready_timeout=15)
        return exporter


class KeepAliveScraper:
    """Scrapes an Exporter over one kept-alive HTTP/1.1 connection, so that
    scraping adds no TCP connects of its own to what the exporter counts.
    `connects` counts the connections it had to open (1 when the exporter
    kept the first one)."""

    def __init__(self, exporter, timeout=10):
        self.exporter = exporter
        self.timeout = timeout
        self.connects = 0
        self._conn = None

    def scrape(self, headers=None):
        path = urllib.parse.urlsplit(self.exporter.url).path
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    "127.0.0.1", self.exporter.port, timeout=self.timeout)
                self._conn.connect()
                self.connects += 1
            try:
                self._conn.request("GET", path, headers=headers or {})
                resp = self._conn.getresponse()
                raw = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return Scrape(resp.status, resp.getheader("Content-Type"), raw)
            except (http.client.HTTPException, OSError):
                # The server closed an idle keep-alive connection: one retry.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def built_with_asan(binary):
    """True when the binary was linked with AddressSanitizer, whose
    allocator quarantine makes resident memory grow by design."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def host_snmp():
    """The Tcp: counters of /proc/net/snmp in this process's namespace."""
    with open("/proc/net/snmp") as f:
        return parse_snmp(f.read())


def bpf_objects(prefix="ctcp_"):
    """(program ids, map ids) of BPF objects whose name starts with prefix.

    Maps used by those programs count too, whatever their name: libbpf names
    its .rodata/.bss maps after the object file, not after our prefix.
    """
    progs = json.loads(run(["bpftool", "-j", "prog", "show"]).stdout or "[]")
    maps = json.loads(run(["bpftool", "-j", "map", "show"]).stdout or "[]")
    prog_ids, map_ids = set(), set()
    for p in progs:
        if p.get("name", "").startswith(prefix):
            prog_ids.add(p["id"])
            map_ids.update(p.get("map_ids", []))
    for m in maps:
        if m.get("name", "").startswith(prefix):
            map_ids.add(m["id"])
    return prog_ids, map_ids


def held_bpf_objects(pid):
    """(program ids, map ids) process `pid` holds, read from its
    /proc/PID/fdinfo (program and link fds have a prog_id line, map fds a
    map_id line): exact even while other loaders come and go."""
    ids = {"prog_id": set(), "map_id": set()}
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key in ids:
                        ids[key].add(int(value))
        except FileNotFoundError:
            pass  # closed meanwhile
    return ids["prog_id"], ids["map_id"]


def held_bpf_maps(pid):
    """{name: id} of the BPF maps process `pid` holds."""
    held = held_bpf_objects(pid)[1]
    maps = json.loads(run(["bpftool", "-j", "map", "show"]).stdout or "[]")
    return {m.get("name", ""): m["id"] for m in maps if m["id"] in held}


def bpf_map_has_key(map_id, key):
    """Whether a map keyed by a u64 (a cgroup id) has this key."""
    hex_bytes = [f"0x{b:02x}" for b in key.to_bytes(8, "little")]
    argv = ["bpftool", "-j", "map", "lookup", "id", str(map_id), "key"] + hex_bytes
    out = run(argv, check=False)
    # A missing key prints null, with status 0 or 254 depending on the map.
    if out.stdout.strip() == "null":
        return False
    if out.returncode != 0:
        raise RuntimeError(f"{argv!r} exited {out.returncode}:\n{out.stdout}{out.stderr}")
    return True


BPF_STATS = "/proc/sys/kernel/bpf_stats_enabled"


def enable_bpf_stats():
    """Turns on kernel.bpf_stats_enabled (program run counts and times);
    returns a function that puts back the old value."""
    with open(BPF_STATS) as f:
        before = f.read().strip()
    with open(BPF_STATS, "w") as f:
        f.write("1")

    def restore():
        with open(BPF_STATS, "w") as f:
            f.write(before)
    return restore


# --------------------------------------------------------------- exposition

def parse_samples(body):
    """[(sample name, labels dict, value)] via prometheus_client's parser."""
    return [(s.name, dict(s.labels), s.value)
            for family in text_string_to_metric_families(body)
            for s in family.samples]


def matches(labels, wanted):
    """Whether a series' labels (a dict) include `wanted`; as in Prometheus,
    a label that is not there has the value ""."""
    return all(labels.get(k, "") == want for k, want in wanted.items())


def value(samples, name, **labels):
    """Sum of the samples named `name` whose labels include `labels`.

    A missing series counts as 0. Matching a subset keeps this working
    whatever identity labels (container, pod) a series carries.
    """
    return sum(v for n, l, v in samples if n == name and matches(l, labels))


OPENED = "cgroup_tcp_connections_opened_total"


def opened_series(body):
    """{cgroup label: {direction: (value, ordered labels)}} of the opened
    connections family."""
    out = {}
    for _, labels, v in samples_of(body, OPENED):
        d = dict(labels)
        out.setdefault(d.get("cgroup"), {})[d.get("direction")] = (v, labels)
    return out


def opened_total(body, direction):
    """Sum of the opened connections in `direction` over every series."""
    return sum(v for _, l, v in samples_of(body, OPENED)
               if dict(l).get("direction") == direction)


def scalar(body, name):
    """The first sample of family `name`, or None."""
    values = [v for _, _, v in samples_of(body, name)]
    return values[0] if values else None


def map_entries(body):
    """{map name: entries} from the exporter's own map_entries gauge."""
    return {dict(l)["map"]: int(v)
            for _, l, v in samples_of(body, "cgroup_tcp_exporter_map_entries")}


def map_capacity(body):
    """{map name: capacity} from the exporter's own map_capacity gauge."""
    return {dict(l)["map"]: int(v)
            for _, l, v in samples_of(body, "cgroup_tcp_exporter_map_capacity")}


def has_series(samples, name, **labels):
    return any(n == name and matches(l, labels) for n, l, _ in samples)


_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_UNESCAPE = {"\\": "\\", '"': '"', "n": "\n"}


def parse_sample_line(line):
    """Split a text-format sample line into (name, labels tuple, rest).

    Written by hand (not prometheus_client) so duplicates and ordering can
    be checked on exactly what was sent. Raises ValueError if malformed.
    """
    name, labels, rest = parse_sample_line_ordered(line)
    return name, tuple(sorted(labels)), rest


def parse_sample_line_ordered(line):
    """Like parse_sample_line(), but the labels stay a list of (name, value)
    in the order they were written."""
    m = _NAME.match(line)
    if not m:
        raise ValueError("bad metric name")
    name, i, labels = m.group(), m.end(), []
    if i < len(line) and line[i] == "{":
        i += 1
        while line[i] != "}":
            lm = _LABEL_NAME.match(line, i)
            if not lm or line[lm.end():lm.end() + 2] != '="':
                raise ValueError(f"bad label at column {i}")
            i = lm.end() + 2
            chars = []
            while line[i] != '"':
                if line[i] == "\\":
                    if line[i + 1] not in _UNESCAPE:
                        raise ValueError(f"bad escape at column {i}")
                    chars.append(_UNESCAPE[line[i + 1]])
                    i += 2
                else:
                    chars.append(line[i])
                    i += 1
            labels.append((lm.group(), "".join(chars)))
            i += 1
            if line[i] == ",":
                i += 1
        i += 1
    return name, labels, line[i:].strip()


def samples_of(body, *names):
    """[(sample name, ordered labels list, value)] of the sample lines whose
    name is one of `names`, parsed by hand: much faster than
    parse_samples() on bodies with thousands of series, when only a few
    families matter. Unparsable lines raise ValueError."""
    out, prefixes = [], tuple(n + "{" for n in names) + tuple(n + " " for n in names)
    for line in body.split("\n"):
        if line.startswith(prefixes):
            name, labels, rest = parse_sample_line_ordered(line)
            out.append((name, labels, float(rest.split()[0])))
    return out


def _family_of(sample_name, types):
    if sample_name in types:
        return sample_name
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample_name[: -len(suffix)]
        if sample_name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            return base
    return sample_name


class _FamilyOrder:
    """Reports a family whose lines are not contiguous."""

    def __init__(self, problems):
        self.problems, self.finished, self.current = problems, set(), None

    def enter(self, family, lineno):
        if family == self.current:
            return
        if family in self.finished:
            self.problems.append(f"line {lineno}: family {family} is not contiguous")
        if self.current is not None:
            self.finished.add(self.current)
        self.current = family


def has_ipv6_loopback():
    """Whether ::1 can be bound here."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def series_key(name, labels):
    """(name, labels) of a parse_sample_line() sample as Prometheus
    identifies the series: a label with the value "" is no label."""
    return name, tuple(l for l in labels if l[1] != "")


def empty_label_problem(lineno, labels, line):
    """A per-cgroup series (one with a `cgroup` label) leaves out the
    labels it has no value for: only cgroup="" (the unattributed series)
    may be empty."""
    empty = [k for k, v in labels if v == "" and k != "cgroup"]
    if empty and any(k == "cgroup" for k, _ in labels):
        return f"line {lineno}: empty {', '.join(empty)} (leave it out): {line!r}"
    return None


def check_exposition(body):
    """Problems with the text 0.0.4 body that no stock linter reports.

    - every family has # HELP and # TYPE, once, before its samples;
    - all lines of a family are contiguous;
    - no series appears twice (Prometheus keeps the first silently), a
      label with an empty value counting as absent;
    - per-cgroup series carry no empty label but cgroup="".
    Returns a list of human-readable problems (empty when clean).
    """
    problems, types, helps = [], {}, set()
    seen_series = set()

    order = _FamilyOrder(problems)
    enter = order.enter

    for lineno, line in enumerate(body.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(None, 3)
            family = parts[2]
            enter(family, lineno)
            if parts[1] == "HELP":
                if family in helps:
                    problems.append(f"line {lineno}: second HELP for {family}")
                helps.add(family)
            else:
                if family in types:
                    problems.append(f"line {lineno}: second TYPE for {family}")
                types[family] = parts[3].strip() if len(parts) > 3 else ""
            continue
        if line.startswith("#"):
            continue
        try:
            name, labels, _ = parse_sample_line(line)
        except (ValueError, IndexError) as e:
            problems.append(f"line {lineno}: unparsable sample ({e}): {line!r}")
            continue
        family = _family_of(name, types)
        enter(family, lineno)
        if family not in helps:
            problems.append(f"line {lineno}: {name} has no # HELP before it")
        if family not in types:
            problems.append(f"line {lineno}: {name} has no # TYPE before it")
        key = series_key(name, labels)
        if key in seen_series:
            problems.append(f"line {lineno}: duplicate series {line!r}")
        seen_series.add(key)
        empty = empty_label_problem(lineno, labels, line)
        if empty:
            problems.append(empty)
    return problems


def promtool_check(promtool, body):
    """Run `promtool check metrics` on the body, a str or the bytes as sent
    (only these show bytes that are not UTF-8); (exit code, its output)."""
    raw = body if isinstance(body, bytes) else body.encode()
    proc = subprocess.run([promtool, "check", "metrics"], input=raw,
                          capture_output=True)
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


def histogram(samples, name, **labels):
    """One histogram series from parse_samples() output, for `name` (the
    family name, without _bucket) and labels matched as in value().

    Returns {"buckets": {le (float, inf for +Inf): cumulative count},
    "sum": float, "count": float}; buckets is empty when no series matched.
    Several matching series are added up, like value() does.
    """
    buckets = {}
    for n, l, v in samples:
        if n == name + "_bucket" and matches(l, labels):
            le = float(l["le"])
            buckets[le] = buckets.get(le, 0) + v
    return {"buckets": dict(sorted(buckets.items())),
            "sum": value(samples, name + "_sum", **labels),
            "count": value(samples, name + "_count", **labels)}


def check_histograms(body):
    """Invariants of every histogram, gauge and counter in a text body.

    For each histogram series (family + labels without `le`):
    - it has buckets, `_sum` and `_count`; every `le` parses as a float,
      the buckets come in strictly increasing `le` order and end with +Inf;
    - counts are whole, non-negative and cumulative (non-decreasing);
    - the +Inf bucket equals `_count`;
    - `_sum` is finite and >= 0, and plausible: at least what the buckets
      imply (each sample is above the bound below its bucket), and, unless
      the +Inf bucket holds more than the last finite one, at most
      `_count` * largest finite le * 2;
    - all series of a family use the same `le` set.
    Gauge and counter samples are never negative (or NaN).
    Returns a list of human-readable problems (empty when clean).
    """
    problems, types, series, le_sets = [], {}, {}, {}
    for lineno, line in enumerate(body.split("\n"), 1):
        if line.startswith("# TYPE "):
            parts = line.split()
            types[parts[2]] = parts[3] if len(parts) > 3 else ""
            continue
        if not line.strip() or line.startswith("#"):
            continue
        try:
            name, labels, rest = parse_sample_line(line)
            val = float(rest.split()[0])
        except (ValueError, IndexError):
            continue  # check_exposition() reports unparsable lines
        family = _family_of(name, types)
        kind = types.get(family)
        if kind in ("gauge", "counter"):
            if not val >= 0:
                problems.append(f"line {lineno}: {kind} is {rest}: {line!r}")
            continue
        if kind != "histogram":
            continue
        others = tuple(l for l in labels if l[0] != "le")
        entry = series.setdefault((family, others),
                                  {"buckets": [], "sum": None, "count": None})
        if name == family + "_bucket":
            le_text = dict(labels).get("le")
            try:
                le = float(le_text)
            except (TypeError, ValueError):
                problems.append(f"line {lineno}: le={le_text!r} is not a float")
                continue
            entry["buckets"].append((le, le_text, val))
        elif name == family + "_sum":
            entry["sum"] = val
        elif name == family + "_count":
            entry["count"] = val

    for (family, labels), entry in series.items():
        where = f"{family}{{{','.join(f'{k}={v!r}' for k, v in labels)}}}"
        buckets, total, count = entry["buckets"], entry["sum"], entry["count"]
        if not buckets or total is None or count is None:
            problems.append(f"{where}: needs buckets, _sum and _count")
            continue
        les = [le for le, _, _ in buckets]
        if any(b <= a for a, b in zip(les, les[1:])):
            problems.append(f"{where}: le not strictly increasing: "
                            f"{[t for _, t, _ in buckets]}")
        if les[-1] != float("inf"):
            problems.append(f"{where}: last bucket is le={buckets[-1][1]}, not +Inf")
        counts = [c for _, _, c in buckets]
        if any(not (c >= 0 and float(c).is_integer()) for c in counts + [count]):
            problems.append(f"{where}: counts not whole and >= 0: {counts}, "
                            f"_count {count}")
            continue
        if any(b < a for a, b in zip(counts, counts[1:])):
            problems.append(f"{where}: buckets not cumulative: "
                            + ", ".join(f"{t}:{c:g}" for _, t, c in buckets))
        if counts[-1] != count:
            problems.append(f"{where}: +Inf bucket {counts[-1]:g} != _count {count:g}")
        if not (total >= 0 and total != float("inf")):
            problems.append(f"{where}: _sum is {total}")
            continue
        le_sets.setdefault(family, {}).setdefault(tuple(les), where)
        finite = [(le, c) for le, _, c in buckets if le != float("inf")]
        if not finite:
            continue
        # Samples in (previous le, le] are > previous le.
        lower, prev_le, prev_c = 0.0, 0.0, 0.0
        for le, c in finite + [(float("inf"), counts[-1])]:
            lower += (c - prev_c) * prev_le
            prev_le, prev_c = le, c
        if total < lower * (1 - 1e-9) - 1e-12:
            problems.append(f"{where}: _sum {total:g} below {lower:g}, the least "
                            f"the buckets allow")
        largest, last_finite = finite[-1]
        if counts[-1] == last_finite and total > count * largest * 2:
            problems.append(f"{where}: _sum {total:g} > _count {count:g} * "
                            f"largest le {largest:g} * 2")
    for family, sets in le_sets.items():
        if len(sets) > 1:
            problems.append(f"{family}: series use {len(sets)} different le sets, "
                            f"e.g. {list(sets.values())[:2]}")
    return problems


def require_root(reason):
    """Skip without root, or fail when CI=true: in CI a skip would hide that
    the test never ran."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI") == "true":
        raise RuntimeError(reason + " (CI=true, so this is a failure)")
    raise unittest.SkipTest(reason)


def require_exporter():
    """The exporter binary named by EXPORTER, as an absolute path."""
    binary = os.environ.get("EXPORTER")
    if not binary:
        raise RuntimeError("EXPORTER is not set: point it at the exporter binary, "
                           "e.g. EXPORTER=build/cgroup_tcp_exporter")
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"EXPORTER={binary} is not an executable file")
    return os.path.abspath(binary)


# --------------------------------------------------------------- HTTP

class Response:
    def __init__(self, status, headers, body, seconds):
        self.status = status
        self.headers = headers    # http.client.HTTPMessage
        self.body = body          # bytes as sent (not decompressed)
        self.seconds = seconds    # connect to last byte

    def header_tokens(self, name):
        """The comma-separated values of a header, lower-cased (for Vary)."""
        return {t.strip().lower() for t in (self.headers.get(name) or "").split(",")
                if t.strip()}


def http_request(host, port, path="/metrics", method="GET", headers=None,
                 body=None, timeout=5, source=None):
    """One request on a fresh connection with exactly these headers.

    http.client adds Host (and Content-Length when there is a body), and
    nothing else: no Accept-Encoding unless given, and the body comes back
    as sent, gzip included. `source` binds the client to that local
    address (e.g. 127.0.0.2). Raises OSError when no answer comes in time.
    """
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    start = time.monotonic()
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.headers, data, time.monotonic() - start)
    finally:
        conn.close()


def raw_exchange(host, port, data, timeout=5):
    """Send raw bytes and read until the server closes: what was really on
    the wire (http.client reads no body after HEAD). Raises AssertionError
    if the connection is still open after `timeout`."""
    chunks = []
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                raise AssertionError(f"connection still open after {timeout}s; "
                                     f"got {b''.join(chunks)[:300]!r}") from None
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


# --------------------------------------------------------------- OpenMetrics

# Sample names a family of each type may have, as suffixes of its name.
OPENMETRICS_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "gauge": ("",),
    "unknown": ("",),
}
UNITS = ("seconds", "bytes")


def declared_families(body):
    """{family name: type} from the # TYPE lines of either format."""
    families = {}
    for line in body.split("\n"):
        if line.startswith("# TYPE "):
            parts = line.split()
            families[parts[2]] = parts[3] if len(parts) > 3 else ""
    return families


def canonical_le(text):
    """An OpenMetrics le value in canonical form: the OpenMetrics spec's
    target rendering is Go's %g of the float64 with ".0" added when there is
    no dot or exponent (1.0, 0.001, 8e-06, 100000.0, 1e+06, +Inf), which
    prometheus_client's floatToGoString reproduces. Its parser only checks
    +Inf; 1, 0.0010 or 0.000008 fail here."""
    try:
        return text != "NaN" and text == floatToGoString(float(text))
    except ValueError:
        return False


def _canonical_hint(text):
    try:
        return floatToGoString(float(text))
    except (TypeError, ValueError):
        return "a float"


def _openmetrics_family(sample_name, types):
    for family, kind in types.items():
        for suffix in OPENMETRICS_SUFFIXES.get(kind, ("",)):
            if sample_name == family + suffix:
                return family
    return None


def check_openmetrics(body):
    """Problems with an OpenMetrics 1.0 body (empty list when clean).

    - it ends with "# EOF\\n", which appears once; no blank lines;
    - every family has HELP and TYPE once, before its samples, and its lines
      are contiguous; no series twice (an empty label counting as absent);
      per-cgroup series carry no empty label but cgroup="";
    - counters are declared without _total and their samples have it;
    - families named ..._seconds or ..._bytes have the matching # UNIT, and
      a # UNIT is always a suffix of its family's name;
    - histogram le values are canonical numbers (canonical_le);
    - prometheus_client's OpenMetrics parser accepts the body (it drops a
      duplicate series silently, hence the check above).
    """
    problems = []
    if not body.endswith("# EOF\n"):
        problems.append(f"does not end with '# EOF\\n': ...{body[-80:]!r}")
    lines = body.split("\n")
    if lines[-1] == "":
        lines.pop()
    types, units, helps = {}, {}, set()
    seen_series = set()

    order = _FamilyOrder(problems)
    enter = order.enter

    for lineno, line in enumerate(lines, 1):
        if line == "# EOF":
            if lineno != len(lines):
                problems.append(f"line {lineno}: # EOF before the last line")
            continue
        if not line:
            problems.append(f"line {lineno}: blank line")
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if (len(parts) < 4 or parts[0] != "#"
                    or parts[1] not in ("HELP", "TYPE", "UNIT")):
                problems.append(f"line {lineno}: not HELP, TYPE, UNIT or EOF: {line!r}")
                continue
            kind, family, text = parts[1:]
            enter(family, lineno)
            if kind == "TYPE":
                if family in types:
                    problems.append(f"line {lineno}: second TYPE for {family}")
                types[family] = text
                if text == "counter" and family.endswith("_total"):
                    problems.append(f"line {lineno}: counter family declared with "
                                    f"_total: {line!r}")
            elif kind == "UNIT":
                if family in units:
                    problems.append(f"line {lineno}: second UNIT for {family}")
                units[family] = text
                if not family.endswith("_" + text):
                    problems.append(f"line {lineno}: unit {text!r} is not a suffix "
                                    f"of {family}")
            else:
                if family in helps:
                    problems.append(f"line {lineno}: second HELP for {family}")
                helps.add(family)
            continue
        try:
            name, labels, _ = parse_sample_line(line)
        except (ValueError, IndexError) as e:
            problems.append(f"line {lineno}: unparsable sample ({e}): {line!r}")
            continue
        family = _openmetrics_family(name, types)
        if family is None:
            hint = (" (a counter sample needs _total)"
                    if types.get(name) == "counter" else "")
            problems.append(f"line {lineno}: {name} is no sample name of a declared "
                            f"family{hint}: {line!r}")
            continue
        enter(family, lineno)
        if family not in helps:
            problems.append(f"line {lineno}: {name} has no # HELP before it")
        key = series_key(name, labels)
        if key in seen_series:
            problems.append(f"line {lineno}: duplicate series {line!r}")
        seen_series.add(key)
        empty = empty_label_problem(lineno, labels, line)
        if empty:
            problems.append(empty)
        if types[family] == "histogram" and name == family + "_bucket":
            le = dict(labels).get("le")
            if le is None or not canonical_le(le):
                problems.append(f"line {lineno}: le={le!r} is not canonical (want "
                                f"{_canonical_hint(le)})")
    for family in types:
        want = next((u for u in UNITS if family.endswith("_" + u)), None)
        if want and units.get(family) != want:
            problems.append(f"{family}: no '# UNIT {family} {want}'")
    try:
        for _ in openmetrics_families(body):
            pass
    except Exception as e:  # the parser raises ValueError and others
        problems.append(f"prometheus_client's OpenMetrics parser: "
                        f"{type(e).__name__}: {e}")
    return problems


def openmetrics_samples(body):
    """[(sample name, labels dict, value)] via the OpenMetrics parser."""
    return [(s.name, dict(s.labels), s.value)
            for family in openmetrics_families(body)
            for s in family.samples]


# --------------------------------------------------------------- Prometheus

def require_tool(env, name):
    """The path of a tool named by the environment variable `env` (default:
    `name` on PATH); AssertionError when it is not found."""
    path = os.environ.get(env) or name
    found = shutil.which(path)
    if not found:
        raise AssertionError(f"{name} not found (set {env}); scripts/setup installs "
                             f"it from scripts/packages.txt")
    return found


class Prometheus:
    """Debian's prometheus binary on 127.0.0.1 with a private config and data
    directory, scraping one target every `interval` seconds (the scrape
    timeout too). close() stops it and removes the directory (idempotent)."""

    JOB = "ctcp"

    def __init__(self, binary, target, interval=1, job_options=""):
        """job_options: more YAML for the job, indented by 4 spaces (scheme,
        tls_config, basic_auth...)."""
        self.dir = tempfile.mkdtemp(prefix="ctcp-prometheus-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"global:\n  scrape_interval: {interval}s\n  scrape_timeout: {interval}s\n"
                    "scrape_configs:\n"
                    f"  - job_name: {self.JOB}\n"
                    f"    static_configs:\n      - targets: ['{target}']\n"
                    + job_options)
        self._log = open(os.path.join(self.dir, "log"), "w+b")
        try:
            self.proc = subprocess.Popen(
                [binary, f"--config.file={config}",
                 f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                cwd=self.dir)
        except OSError:
            self.close()
            raise
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def log(self, tail=3000):
        if self._log.closed:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-tail:]

    def get(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with self._opener.open(url, timeout=5) as resp:
            return json.loads(resp.read())

    def api(self, path, **params):
        reply = self.get(path, **params)
        if reply.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {reply}")
        return reply["data"]

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited {self.proc.returncode}:\n"
                                   f"{self.log()}")
            try:
                with self._opener.open(self.base + "/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready after {timeout}s:\n{self.log()}")

    def target(self):
        targets = self.api("/api/v1/targets")["activeTargets"]
        return next((t for t in targets if t["labels"].get("job") == self.JOB), None)

    def query(self, expr):
        """An instant query: [(labels, value)]."""
        result = self.api("/api/v1/query", query=expr)["result"]
        return [(r["metric"], float(r["value"][1])) for r in result]

    def scalar(self, expr):
        """The one value of an instant query, or None when it has none."""
        result = self.query(expr)
        if len(result) > 1:
            raise AssertionError(f"{expr}: {len(result)} series: {result}")
        return result[0][1] if result else None

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


NEEDS_ROOT = "needs root"


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(cleanup=None):
    """Runs the calling test module's tests and exits as meson expects: 1 on
    a failure, 77 when tests were skipped for want of root (outside CI),
    else 0. A CI timeout sends SIGTERM: it becomes an exception, so
    `cleanup` (idempotent; unittest runs no cleanups after an interrupt)
    still releases every cgroup, namespace and process."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = unittest.main(module="__main__", verbosity=2, exit=False).result
    finally:
        if cleanup:
            cleanup()
    if not result.wasSuccessful():
        sys.exit(1)
    sys.exit(77 if any(reason.startswith(NEEDS_ROOT) for _, reason in result.skipped) else 0)


def url_host(host):
    """A host as it goes in a URL: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host else host


class CommandExporter(Exporter):
    """Exporter started with any command line: `args` are all the flags,
    listen addresses included; `wrapper` runs it (valgrind); readiness is
    polled at http://host:port/path. Every one started is in `started`, for
    a test module's cleanup."""

    started = []

    def __init__(self, binary, port, args, host="127.0.0.1", path="/metrics", wrapper=(),
                 ssl_context=None, headers=None):
        """ssl_context: scrape over HTTPS with it; headers: sent with every
        scrape, the readiness polls included."""
        super().__init__(binary, port)
        self.args = list(args)
        self.host = host
        self.wrapper = list(wrapper)
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://{url_host(host)}:{port}{path}"
        self.headers = dict(headers or {})
        if ssl_context:
            self._opener = urllib.request.build_opener(
                urllib.request.ProxyHandler({}),
                urllib.request.HTTPSHandler(context=ssl_context))

    def start(self, ready_timeout=10.0):
        self.proc = subprocess.Popen(self.wrapper + [self.binary] + self.args,
                                     stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err, cwd="/")
        CommandExporter.started.append(self)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exporter {self.args} exited "
                                   f"{self.proc.returncode} before serving:\n"
                                   f"{self.stderr()}")
            try:
                if self.scrape(timeout=2).status == 200:
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.05)
        raise RuntimeError(f"exporter {self.args} not ready at {self.url} after "
                           f"{ready_timeout}s:\n{self.stderr()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def get(self, **kwargs):
        """http_request to this exporter's host and port."""
        return http_request(self.host, self.port, **kwargs)

    @classmethod
    def close_all(cls):
        for exporter in cls.started:
            exporter.close()
