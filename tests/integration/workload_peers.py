#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Traffic to known peers, for test_peers.py: a server that echoes on
several listening addresses, and a client that connects to a plan of
addresses, each connection sending and receiving a known number of bytes.

  workload_peers.py server --listen '[::]:P,0.0.0.0:Q' --accepts N --bytes K
  workload_peers.py client --plan 'ADDR PORT COUNT;...' --bytes K
                           [--refused 'ADDR PORT COUNT;...']

--comm NAME renames the process (its command name, as the kernel shows
it) before it listens or connects.

The server prints "ready" once listening, echoes K bytes on each accepted
connection and exits after N. Both end with a JSON summary line."""

import ctypes
import os
import selectors
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import roles  # noqa: E402


def endpoints(text):
    """'[v6]:port,v4:port' -> [(family, host, port)]."""
    out = []
    for item in filter(None, text.split(",")):
        host, _, port = item.rpartition(":")
        v6 = host.startswith("[")
        out.append((socket.AF_INET6 if v6 else socket.AF_INET, host.strip("[]"), int(port)))
    return out


def plan(text):
    """'addr port count;...' -> [(addr, port, count)]."""
    out = []
    for item in filter(None, (i.strip() for i in (text or "").split(";"))):
        addr, port, count = item.split()
        out.append((addr, int(port), int(count)))
    return out


def server(args):
    sel = selectors.DefaultSelector()
    for family, host, port in endpoints(args.listen):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind((host, port))
        s.listen(64)
        sel.register(s, selectors.EVENT_READ)
    print("ready", flush=True)
    accepted = echoed = 0
    while accepted < args.accepts:
        for key, _ in sel.select():
            conn, _ = key.fileobj.accept()
            accepted += 1
            with conn:
                got = roles.recv_exactly(conn, args.bytes)
                conn.sendall(b"s" * got)
                echoed += got
                roles.recv_exactly(conn, 1)   # the client closes first
    return {"accepted": accepted, "bytes": echoed}


def client(args):
    ok = refused = 0
    errors = []
    for addr, port, count in plan(args.plan):
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        for _ in range(count):
            try:
                with socket.create_connection((addr, port), timeout=5) as c:
                    c.sendall(b"c" * args.bytes)
                    if roles.recv_exactly(c, args.bytes) == args.bytes:
                        ok += 1
                    else:
                        errors.append(f"{addr}:{port}: short echo")
            except OSError as e:
                errors.append(f"{addr}:{port} ({family}): {e}")
    for addr, port, count in plan(args.refused):
        for _ in range(count):
            try:
                socket.create_connection((addr, port), timeout=5).close()
                errors.append(f"{addr}:{port}: connected, want refused")
            except ConnectionRefusedError:
                refused += 1
    return {"ok": ok, "refused": refused, "errors": errors}


def rename(name):
    """PR_SET_NAME: the command name the kernel reports for this process."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(15, name.encode(), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")


ROLES = {"server": server, "client": client}

if __name__ == "__main__":
    parser = roles.arguments(__doc__, ROLES, deadline=60)
    parser.add_argument("--listen", default="")
    parser.add_argument("--accepts", type=int, default=0)
    parser.add_argument("--bytes", type=int, default=1000)
    parser.add_argument("--plan", default="")
    parser.add_argument("--refused", default="")
    parser.add_argument("--comm", default="")
    comm = parser.parse_known_args()[0].comm
    sys.exit(roles.main(parser, ROLES, sys.argv[1:], before=(lambda: rename(comm)) if comm else None))
