# SPDX-License-Identifier: GPL-2.0-only
"""What the workload scripts (workload*.py) share: the command line
`ROLE [options]` with a --deadline, the run of one role under that
deadline with its JSON summary, and socket helpers."""

import argparse
import json
import signal
import socket

HOST = "127.0.0.1"


def arguments(doc, roles, deadline):
    """A parser of ROLE [options] (roles: {name: function(args)}), with
    --deadline; the script adds its own options."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("role", choices=list(roles))
    parser.add_argument("--deadline", type=int, default=deadline,
                        help="seconds before the process gives up (SIGALRM)")
    return parser


def main(parser, roles, argv, before=None):
    """Runs the role argv names; a role's summary (a dict) is printed as one
    JSON line. before() runs first (e.g. to block signals before any thread
    starts)."""
    args = parser.parse_args(argv)
    if before:
        before()
    # A safety net: a wedged workload must not hang or outlive the test run.
    signal.alarm(args.deadline)
    summary = roles[args.role](args)
    if summary is not None:
        print(json.dumps(summary, sort_keys=True), flush=True)
    return 0


def listen(port, host=HOST, backlog=64):
    """A listening TCP socket (SO_REUSEADDR) on host:port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def recv_exactly(sock, count):
    """Read exactly count bytes; return how many arrived before EOF."""
    got = 0
    while got < count:
        chunk = sock.recv(min(65536, count - got))
        if not chunk:
            break
        got += len(chunk)
    return got


def recv_until_eof(sock):
    """Drain the socket until the peer closes; return the byte count."""
    got = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return got
        got += len(chunk)
