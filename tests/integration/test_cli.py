#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: the exporter's command line, exit codes and HTTP surface.

Checks what an operator meets before any metric: bad flags (exit 2, one
line), --help and --version, refusing to start without privilege or on a
taken port (exit 1, one line naming the cause, no BPF program left behind),
the HTTP endpoint (index page, 404, 405 with Allow, HEAD, query strings, a
custom telemetry path), listening on IPv6 loopback and on every address,
and a clean exit on SIGINT.

Run as root:  EXPORTER=build/cgroup_tcp_exporter \
              /usr/bin/python3 tests/integration/test_cli.py
The flag tests and the unprivileged-start test need no root. The others skip
without root, or fail when CI=true. When they skipped for lack of root (and
nothing failed) the exit status is 77, so meson shows SKIP rather than OK.
"""

import gzip
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CONTENT_TYPE = harness.TEXT
FLAGS = ("--web.listen-address", "--web.telemetry-path", "--log.level", "--runas",
         "--help", "--version")
NEEDS_ROOT = harness.NEEDS_ROOT
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
          "--inh-caps=-all"]

# Every exporter a test starts, so main() can stop any that a failure or an
# interrupt left running.


def require_root():
    harness.require_root(f"{NEEDS_ROOT}: runs an exporter that loads BPF programs")


require_exporter = harness.require_exporter


def run_exporter(argv, timeout=5.0):
    """Run a command that must exit on its own; the child is killed if it
    is still running after `timeout` (subprocess.run does that)."""
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, cwd="/")
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{argv!r} still running after {timeout}s (killed); "
                             f"stderr so far: {e.stderr!r}") from None


has_ipv6_loopback = harness.has_ipv6_loopback


def free_port_everywhere():
    """A port free on the IPv6 and IPv4 wildcards right now, for `:PORT`
    (and so also on 127.0.0.1 and ::1)."""
    if not has_ipv6_loopback():
        return harness.free_port()  # no IPv6 on this host
    while True:
        port = harness.free_port()
        with socket.socket(socket.AF_INET6) as s:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            try:
                s.bind(("::", port))
                return port
            except OSError:
                pass  # taken on another address


url_host = harness.url_host


def request(host, port, method, path, body=None):
    """One request on a fresh connection: (status, headers, body bytes)."""
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def new_bpf_objects(before):
    progs, maps = harness.bpf_objects()
    return progs - before[0], maps - before[1]


# ---------------------------------------------------------------- no root

class FlagsTest(unittest.TestCase):
    """Flag parsing happens before anything needs privilege."""

    @classmethod
    def setUpClass(cls):
        cls.binary = require_exporter()

    def assert_one_line(self, text, what):
        self.assertTrue(text.endswith("\n") and text.count("\n") == 1,
                        f"{what}: want exactly one line, got {text!r}")

    def test_bad_flags_exit_2_with_one_line(self):
        # (arguments, words the error line must contain)
        cases = [
            (["--nope"], ["--nope"]),
            (["--web.listen-address=abc"], ["--web.listen-address", "abc"]),
            (["--web.listen-address=:99999"], ["--web.listen-address", "99999"]),
            (["--web.telemetry-path=metrics"], ["--web.telemetry-path", "'metrics'"]),
            (["--log.level=loud"], ["--log.level", "loud"]),
            (["--cgroup.max-per-cpu=-1"], ["--cgroup.max-per-cpu", "'-1'"]),
            (["--socket.max=1"], ["--socket.max", "'1'", "64"]),
            (["--log.level", "loud"], ["--log.level", "loud"]),
            (["extra"], ["extra"]),
            (["--web.listen-address"], ["--web.listen-address"]),
            (["--web.telemetry-path"], ["--web.telemetry-path"]),
            (["--log.level"], ["--log.level"]),
            (["--runas=root"], ["--runas", "'root'", "root"]),
            (["--runas=nobody:0"], ["--runas", "'nobody:0'", "group 0"]),
            (["--runas=nobody:root"], ["--runas", "'nobody:root'", "group 0"]),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                proc = run_exporter([self.binary] + args)
                self.assertEqual(proc.returncode, 2,
                                 f"exit status for {args}; stderr {proc.stderr!r}")
                self.assertEqual(proc.stdout, "", "nothing on stdout")
                self.assert_one_line(proc.stderr, "stderr")
                for word in words:
                    self.assertIn(word, proc.stderr, "the line names the problem")

    def test_help(self):
        proc = run_exporter([self.binary, "--help"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        self.assertIn("usage", proc.stdout.lower())
        missing = [f for f in FLAGS if f not in proc.stdout]
        self.assertEqual(missing, [], f"flags missing from --help:\n{proc.stdout}")

    def test_version(self):
        proc = run_exporter([self.binary, "--version"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        self.assert_one_line(proc.stdout, "--version")
        self.assertTrue(proc.stdout.startswith("cgroup_tcp_exporter "), proc.stdout)


class UnprivilegedTest(unittest.TestCase):
    """As root the test drops to nobody with no capabilities; otherwise it
    already is unprivileged."""

    def test_refuses_to_start_without_privilege(self):
        binary = require_exporter()
        argv = [binary, f"--web.listen-address=127.0.0.1:{harness.free_port()}"]
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                self.fail("setpriv (util-linux) not found: needed to drop root")
            argv = NOBODY + argv
        start = time.monotonic()
        proc = run_exporter(argv, timeout=5)
        self.assertEqual(proc.returncode, 1,
                         f"exit status {proc.returncode} after "
                         f"{time.monotonic() - start:.1f}s; stderr {proc.stderr!r}")
        self.assertEqual(proc.stdout, "")
        self.assertEqual(proc.stderr.count("\n"), 1,
                         f"want exactly one stderr line, got {proc.stderr!r}")
        self.assertIn("root", proc.stderr)


# ---------------------------------------------------------------- root

class RootTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        require_root()
        cls.binary = require_exporter()

    def start_exporter(self, args, **where):
        """Started for one test and stopped after it, pass or fail; "{port}"
        in args is a free port (another if it is taken meanwhile), then
        exporter.port."""
        exporter = harness.Exporter(self.binary, None, args, listen=False, **where)
        self.addCleanup(exporter.close)
        exporter.start()
        return exporter

    def get_metrics(self, host, port, path="/metrics"):
        """GET the metrics: 200, the text format's Content-Type, a body that
        has our families and ends with a newline."""
        status, headers, body = request(host, port, "GET", path)
        self.assertEqual(status, 200, f"GET {path} on {host}: {body[:200]!r}")
        self.assertEqual(headers.get("Content-Type"), CONTENT_TYPE, f"GET {path}")
        text = body.decode("utf-8")
        self.assertIn("# TYPE cgroup_tcp_", text, f"GET {path}: no metric families")
        self.assertTrue(text.endswith("\n"), f"GET {path}: body does not end with "
                        f"a newline: ...{text[-80:]!r}")
        return text


class PortInUseTest(RootTest):

    def test_port_taken_exits_1_and_unloads(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            # (flags, whether the error line must be all of stderr)
            cases = [([f"--web.listen-address=127.0.0.1:{port}"], False),
                     ([f"--web.listen-address=:{port}"], False),
                     ([f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"],
                      True)]
            for args, alone in cases:
                with self.subTest(args=args):
                    before = harness.bpf_objects()
                    proc = run_exporter([self.binary] + args, timeout=10)
                    self.assertEqual(proc.returncode, 1, proc.stderr)
                    self.assertEqual(proc.stdout, "")
                    errors = [l for l in proc.stderr.splitlines()
                              if l.startswith("cgroup_tcp_exporter: error:")]
                    self.assertEqual(len(errors), 1,
                                     f"want one error line:\n{proc.stderr}")
                    self.assertIn("Address already in use", errors[0])
                    if alone:
                        self.assertEqual(proc.stderr, errors[0] + "\n",
                                         "--log.level=error prints only the error")
                    # Freeing is asynchronous in places (RCU).
                    left = harness.poll(lambda: new_bpf_objects(before),
                                        lambda r: not r[0] and not r[1],
                                        timeout=3, interval=0.1)
                    self.assertEqual((sorted(left[0]), sorted(left[1])), ([], []),
                                     "BPF program ids / map ids left after exit 1")


class HttpTest(RootTest):
    """One exporter with the default telemetry path for all these checks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.exporter = harness.Exporter(cls.binary)
        cls.addClassCleanup(cls.exporter.close)
        cls.exporter.start()
        cls.port = cls.exporter.port

    def req(self, method, path, body=None):
        return request("127.0.0.1", self.port, method, path, body)

    def test_metrics(self):
        self.get_metrics("127.0.0.1", self.port)

    def test_index_links_metrics(self):
        status, headers, body = self.req("GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/html"),
                        headers.get("Content-Type"))
        self.assertIn('href="/metrics"', body.decode("utf-8"))

    def test_unknown_paths_404(self):
        for path in ("/nope", "/metrics/", "/metricsx"):
            with self.subTest(path=path):
                status, _, _ = self.req("GET", path)
                self.assertEqual(status, 404)

    def test_other_methods_405(self):
        for method, body in (("POST", b"a=1"), ("PUT", b"x" * 100), ("DELETE", None)):
            with self.subTest(method=method):
                status, headers, _ = self.req(method, "/metrics", body)
                self.assertEqual(status, 405)
                self.assertEqual(headers.get("Allow"), "GET, HEAD")

    def test_head_metrics(self):
        status, headers, body = self.req("HEAD", "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Content-Type"), CONTENT_TYPE,
                         "HEAD and GET must agree on Content-Type")
        self.assertEqual(body, b"")
        # Nothing may follow the header block on the wire either.
        raw = harness.raw_exchange("127.0.0.1", self.port,
                                   b"HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n"
                                   b"Connection: close\r\n\r\n")
        head, sep, rest = raw.partition(b"\r\n\r\n")
        self.assertTrue(sep and head.startswith(b"HTTP/1.1 200"), raw[:200])
        self.assertEqual(rest, b"", "HEAD response carries a body")

    def test_query_string_ignored(self):
        self.get_metrics("127.0.0.1", self.port, "/metrics?x=1")


class CustomPathTest(RootTest):

    def test_custom_telemetry_path(self):
        port = self.start_exporter(["--web.listen-address=127.0.0.1:{port}",
                                    "--web.telemetry-path=/custom"], path="/custom").port
        status, _, body = request("127.0.0.1", port, "GET", "/")
        self.assertEqual(status, 200)
        index = body.decode("utf-8")
        self.assertIn('href="/custom"', index)
        self.assertNotIn('href="/metrics"', index)
        self.get_metrics("127.0.0.1", port, "/custom")
        status, _, _ = request("127.0.0.1", port, "GET", "/metrics")
        self.assertEqual(status, 404, "/metrics must not serve with a custom path")


class ListenTest(RootTest):

    def test_ipv6_loopback(self):
        if not has_ipv6_loopback():
            self.skipTest("this host has no IPv6 loopback (::1)")
        port = self.start_exporter(["--web.listen-address=[::1]:{port}"], host="::1",
                                   choose_port=free_port_everywhere).port
        self.get_metrics("::1", port)
        with self.assertRaises(ConnectionRefusedError,
                               msg="[::1]:PORT must not listen on 127.0.0.1"):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()

    def test_every_address(self):
        port = self.start_exporter(["--web.listen-address=:{port}"],
                                   choose_port=free_port_everywhere).port
        self.get_metrics("127.0.0.1", port)
        with self.subTest(host="::1"):
            if not has_ipv6_loopback():
                self.skipTest("this host has no IPv6 loopback (::1)")
            self.get_metrics("::1", port)


class NoKernelConfigTest(RootTest):
    """Most nodes have no kernel config file (Debian and Ubuntu kernels have
    no /proc/config.gz, containers get no /boot): the exporter starts
    without one and measures HZ itself, to the value the config states."""

    HIDE = ('for f in /proc/config.gz /boot/config-"$(uname -r)"; do '
            '[ -e "$f" ] && mount --bind /dev/null "$f"; done; exec "$0" "$@"')

    def test_starts_without_kernel_config(self):
        hz = None
        if os.path.exists("/proc/config.gz"):
            with gzip.open("/proc/config.gz", "rt") as f:
                hz = next((line.split("=")[1].strip() for line in f
                           if line.startswith("CONFIG_HZ=")), None)
        exporter = self.start_exporter(
            ["--web.listen-address=127.0.0.1:{port}"],
            wrapper=["unshare", "--mount", "--propagation", "private", "sh", "-c", self.HIDE])
        self.get_metrics("127.0.0.1", exporter.port)
        log = exporter.stderr()
        self.assertNotIn("error", log)
        if hz:
            self.assertIn(f"the kernel's clock ticks at {hz} Hz (measured)", log)


class SignalTest(RootTest):

    def test_sigint_exits_0_and_unloads(self):
        exporter = self.start_exporter(["--web.listen-address=127.0.0.1:{port}"])
        progs, maps = harness.held_bpf_objects(exporter.proc.pid)
        self.assertTrue(progs, "saw no ctcp_ BPF programs while the exporter ran, "
                        "so the release check would prove nothing")
        exporter.proc.send_signal(signal.SIGINT)
        try:
            rc = exporter.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.fail(f"still running 5 s after SIGINT:\n{exporter.stderr()}")
        self.assertEqual(rc, 0, f"exit status after SIGINT\n{exporter.stderr()}")

        def leftovers():
            now = harness.bpf_objects()
            return now[0] & progs, now[1] & maps

        left = harness.poll(leftovers, lambda r: not r[0] and not r[1],
                            timeout=3, interval=0.1)
        self.assertEqual((sorted(left[0]), sorted(left[1])), ([], []),
                         "BPF program ids / map ids still loaded after SIGINT")




if __name__ == "__main__":
    harness.main()
