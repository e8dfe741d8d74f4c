# SPDX-License-Identifier: GPL-2.0-only
"""A workload script (workload*.py) started as a process inside a cgroup
and a network namespace: its stdout lines awaited, JSON requests sent to
it, its summary read, and the process reaped at cleanup."""

import json
import queue
import signal
import subprocess
import tempfile
import threading
import time

from . import cleanup
from .constants import PYTHON, WORKLOAD, WORKLOAD_IDENTITY
from .exporter import Exporter


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
        cleanup.add(self.close, f"stop workload {role}")
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


class ClassResources:
    """For a test class that starts workload_identity.py roles and
    exporters (the class sets `netns` and `binary`). They are released
    with the cleanup scope they are made in."""

    @classmethod
    def start_sink(cls, cgroup, port, deadline):
        """The sink in `cgroup`, listening on `port` in the class's netns."""
        sink = Workload(cgroup, cls.netns, "sink", "--port", port, "--deadline", deadline,
                        script=WORKLOAD_IDENTITY)
        sink.wait_for_line("ready", timeout=5)
        return sink

    @classmethod
    def start_driver(cls, home, port, deadline):
        """A driver at home in `home`, connecting to the sink's `port`."""
        driver = Workload(home, HostNamespaces(), "driver", "--port", port,
                          "--home", home.path, "--netns", cls.netns.name,
                          "--deadline", deadline, script=WORKLOAD_IDENTITY, stdin_pipe=True)
        driver.wait_for_line("ready", timeout=5)
        return driver

    @classmethod
    def start_exporter(cls, *args):
        exporter = Exporter(cls.binary, args=args)
        exporter.start(ready_timeout=15)
        return exporter


def flags(**options):
    """Workload options as command-line flags: closed_port=5002 ->
    ["--closed-port", 5002]."""
    return [x for key, val in options.items() for x in ("--" + key.replace("_", "-"), val)]
