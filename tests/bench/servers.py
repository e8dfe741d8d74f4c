# SPDX-License-Identifier: GPL-2.0-only
"""The real servers and load generators of the benchmarks: nginx from a
temporary configuration, an iperf3 server, node_exporter, and wrk and iperf3
client runs. Each is a foreground child process on a free 127.0.0.1 port,
inside a given cgroup when one is given, with its output in a log file of
the caller's work directory.
"""

import json
import os
import re
import shutil
import subprocess
import time

from benchlib import Failure, stop_process, tail
import harness  # on the path benchlib sets

# The body nginx serves: the size of nginx's default page, as in the
# reference measurements (bpftrace and libbpf against nginx on this machine).
INDEX_BYTES = 615


def listening(port):
    """True when something listens on 127.0.0.1:port (or any address).
    Read from /proc/net/tcp rather than by connecting, which iperf3 would
    take for a test."""
    wanted = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] in wanted and fields[3] == "0A":
                return True
    return False


def installed(program):
    """Fail with a hint unless program is on the PATH."""
    if shutil.which(program) is None:
        raise Failure(f"{program} is not installed: scripts/setup installs it")
    return program


class Server:
    """A long-running child process serving on 127.0.0.1:port."""

    def __init__(self, name, argv, port, workdir, cgroup=None):
        installed(argv[0])
        self.name = name
        self.port = port
        self.log = os.path.join(workdir, f"{name}.log")
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(cgroup.exec_argv(argv) if cgroup else argv,
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT)

    def wait_listening(self, timeout=20):
        deadline = time.monotonic() + timeout
        while not listening(self.port):
            self.check_alive()
            if time.monotonic() >= deadline:
                raise Failure(f"{self.name} does not listen on 127.0.0.1:{self.port} after "
                              f"{timeout} s:\n{tail(self.log)}")
            time.sleep(0.05)
        return self

    def check_alive(self):
        if self.proc.poll() is not None:
            raise Failure(f"{self.name} exited with status {self.proc.returncode}:\n"
                          f"{tail(self.log)}")

    def stop(self):
        stop_process(self.proc, self.name)


def nginx(workdir, cgroup):
    """nginx in the foreground (master and one worker) serving a static page
    from a configuration in workdir/nginx. One worker, as in the reference
    measurements: with wrk's two threads it fills the two CPUs."""
    root = os.path.join(workdir, "nginx")
    www = os.path.join(root, "www")
    os.makedirs(www)
    # The worker runs as an unprivileged user: it must read the page.
    for path in (workdir, root, www):
        os.chmod(path, 0o755)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("x" * (INDEX_BYTES - 1) + "\n")
    port = harness.free_port()
    temp_paths = "".join(f"  {kind}_temp_path {root}/{kind}_temp;\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
{temp_paths}  server {{
    listen 127.0.0.1:{port} backlog=4096;
    root {www};
  }}
}}
""")
    server = Server("nginx", ["nginx", "-p", root, "-c", conf, "-e", f"{root}/error.log"],
                    port, workdir, cgroup).wait_listening()
    resp = harness.http_request("127.0.0.1", port, "/index.html")
    if resp.status != 200 or len(resp.body) != INDEX_BYTES:
        server.stop()
        raise Failure(f"nginx answered {resp.status} with {len(resp.body)} bytes:\n"
                      f"{tail(os.path.join(root, 'error.log'))}")
    return server


def iperf3_server(workdir, cgroup):
    port = harness.free_port()
    return Server("iperf3-server", ["iperf3", "--server", "--bind", "127.0.0.1",
                                    "--port", str(port)],
                  port, workdir, cgroup).wait_listening()


def node_exporter(workdir):
    """node_exporter with its default collectors."""
    port = harness.free_port()
    return Server("node_exporter", ["prometheus-node-exporter",
                                    f"--web.listen-address=127.0.0.1:{port}"],
                  port, workdir).wait_listening()


# --------------------------------------------------------------- clients

def _run_client(argv, cgroup, seconds, name):
    installed(argv[0])
    proc = subprocess.run(cgroup.exec_argv(argv), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise Failure(f"{name} failed with status {proc.returncode}:\n"
                      f"{(proc.stdout + proc.stderr).strip()[-2000:]}")
    return proc.stdout


def wrk(port, seconds, cgroup, close=False):
    """wrk against nginx: two threads, 50 connections, kept alive or, with
    close, one request per connection. Returns (requests, seconds)."""
    argv = ["wrk", "-t2", "-c50", f"-d{seconds}s"]
    if close:
        argv += ["-H", "Connection: close"]
    out = _run_client(argv + [f"http://127.0.0.1:{port}/index.html"], cgroup, seconds, "wrk")
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", out)
    if not done:
        raise Failure(f"wrk printed no request count:\n{out}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[done.group(3)]
    requests, elapsed = int(done.group(1)), float(done.group(2)) * scale
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    failed = (int(bad.group(1)) if bad else 0) + (
        sum(int(g) for g in errors.groups()) if errors else 0)
    if not requests or failed > requests / 100:
        raise Failure(f"wrk: {failed} failures in {requests} requests:\n{out}")
    return requests, elapsed


def iperf3(port, seconds, cgroup):
    """One iperf3 stream to the server. Returns (bytes received, seconds)."""
    argv = ["iperf3", "--client", "127.0.0.1", "--port", str(port), "--time", str(seconds),
            "--json"]
    for attempt in (1, 2, 3):
        try:
            out = _run_client(argv, cgroup, seconds, "iperf3")
        except Failure as e:
            # The server takes a moment to accept the next test after one.
            if "busy" not in str(e) or attempt == 3:
                raise
            time.sleep(1)
            continue
        result = json.loads(out)
        received = result["end"]["sum_received"]
        return received["bytes"], received["seconds"]
    raise AssertionError("unreachable")
