#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""TCP workloads for the identity, lifecycle, churn and hostile-tree tests.

Roles:
  sink    listen on 127.0.0.1:--port and accept forever; every accepted
          connection is closed at once (this side is the active closer, so
          the connecting side ends without a time-wait socket and no RST).
          Prints "ready".
  driver  makes connects from cgroups the test names, fast enough to go
          through thousands of cgroups: it moves itself into a cgroup
          (writing 0 to its cgroup.procs moves the writer), connects, and
          moves back to --home, so the test can remove the cgroup right
          after. Its sockets belong to the cgroup they were created in for
          their whole life. It is started in the host's namespaces and
          enters the network namespace --netns itself: `ip netns exec`
          would also mount a fresh /sys, without the cgroup2 mount the
          driver needs. One JSON request per stdin line,
          {"cgroup": DIR, "label": "/path/from/root", "connects": N}, one
          JSON answer per request on stdout, {"ok": N, "errors": [...]}.
          Each connect: connect, read until the peer's FIN, close. With
          "hold": true the connections are kept open instead (a socket that
          outlives its cgroup) until a request {"release": true}. Prints
          "ready" first.

Standard library only; started as /usr/bin/python3 workload_identity.py ROLE ...
"""

import ctypes
import json
import os
import socket
import sys

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
from harness import roles  # noqa: E402
from harness.roles import HOST  # noqa: E402
CLONE_NEWNET = 0x40000000


def enter_netns(name):
    """setns() into the named network namespace (/run/netns/NAME)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(os.path.join("/run/netns", name), os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {name}: {os.strerror(err)}")
    finally:
        os.close(fd)


def run_sink(args):
    listener = roles.listen(args.port, backlog=1024)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        conn.close()


def move_self(cgroup_dir):
    """Opened one directory at a time: a cgroupfs path may be longer than
    PATH_MAX."""
    fd = os.open("/", os.O_PATH | os.O_DIRECTORY)
    try:
        for name in cgroup_dir.split("/"):
            if name:
                parent, fd = fd, None
                try:
                    fd = os.open(name, os.O_PATH | os.O_DIRECTORY, dir_fd=parent)
                finally:
                    os.close(parent)
        with open(os.open("cgroup.procs", os.O_WRONLY, dir_fd=fd), "w") as f:
            f.write("0")
    finally:
        if fd is not None:
            os.close(fd)


def own_cgroup():
    """This process's cgroup2 path, as /proc/self/cgroup shows it (a str
    that holds any byte of the name, as os.fsdecode makes it)."""
    with open("/proc/self/cgroup", "rb") as f:
        for line in f:
            if line.startswith(b"0::"):
                return os.fsdecode(line[3:].rstrip(b"\n"))
    return None


def connect_once(port):
    with socket.create_connection((HOST, port), timeout=5) as sock:
        while sock.recv(4096):
            pass


HELD = []   # connections kept open by "hold" requests


def serve_request(args, request):
    answer = {"ok": 0, "errors": []}
    if request.get("release"):
        while HELD:
            HELD.pop().close()
        return answer
    cgroup = request.get("cgroup")
    try:
        if cgroup:
            move_self(cgroup)
            where = own_cgroup()
            if request.get("label") and where != request["label"]:
                answer["errors"].append(f"in cgroup {where!r}, not {request['label']!r}")
                return answer
        for _ in range(request.get("connects", 0)):
            try:
                if request.get("hold"):
                    HELD.append(socket.create_connection((HOST, args.port), timeout=5))
                else:
                    connect_once(args.port)
                answer["ok"] += 1
            except OSError as e:
                answer["errors"].append(f"connect: {e}")
    except OSError as e:
        answer["errors"].append(f"move to {cgroup}: {e}")
    finally:
        if cgroup:
            move_self(args.home)
    return answer


def run_driver(args):
    enter_netns(args.netns)
    move_self(args.home)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(serve_request(args, json.loads(line))), flush=True)


ROLES = {"sink": run_sink, "driver": run_driver}


def main(argv):
    parser = roles.arguments(__doc__, ROLES, deadline=120)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--home", help="the driver's own cgroup directory")
    parser.add_argument("--netns", help="the driver's network namespace (name)")
    return roles.main(parser, ROLES, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
