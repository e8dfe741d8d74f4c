#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""TCP workload run inside the integration test's "containers".

Each role does a known, countable set of TCP things on 127.0.0.1 and prints
one JSON summary line of what it observed on stdout, so the test can check
that the workload itself did what it meant to before judging the exporter.

Roles:
  server  listen on --port (echo-style exchange, --conns connections) and on
          --reset-port (one connection that the peer resets); prints "ready"
          once both sockets listen.
  client  --conns successful exchanges with the server, --refused connects to
          a closed port, one connect to a port whose SYNs are dropped (times
          out), and one connect to the reset port closed with SO_LINGER 0.
  pair    one process that connects to itself: a single listener on an
          ephemeral port and a single exchange (used for odd cgroup names).

Only the standard library is used; the file is started as
/usr/bin/python3 workload.py ROLE [options].
"""

import socket
import struct
import sys
import threading
import time

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
from harness import roles  # noqa: E402
from harness.constants import PORTS  # noqa: E402
from harness.roles import HOST, listen, recv_exactly, recv_until_eof  # noqa: E402


def serve_exchanges(listener, conns, nbytes, summary):
    """Per connection: read nbytes, send nbytes back, read to EOF, close.

    Reading to EOF before closing makes this the passive closer, so every
    connection ends with FIN/ACK and no RST (unread data at close would
    make the kernel send one and spoil the reset counts).
    """
    for _ in range(conns):
        conn, _ = listener.accept()
        with conn:
            summary["accepted"] += 1
            got = recv_exactly(conn, nbytes)
            summary["bytes_received"] += got
            conn.sendall(b"s" * nbytes)
            summary["bytes_sent"] += nbytes
            summary["bytes_received"] += recv_until_eof(conn)


def serve_reset(listener, summary):
    """Accept one connection and read until the peer's RST arrives."""
    conn, _ = listener.accept()
    with conn:
        summary["reset_accepted"] += 1
        try:
            got = recv_until_eof(conn)
            summary["reset_errors"].append(f"EOF instead of reset ({got} bytes)")
        except ConnectionResetError:
            summary["resets_seen"] += 1


def run_server(args):
    summary = {"role": "server", "accepted": 0, "reset_accepted": 0,
               "resets_seen": 0, "bytes_sent": 0, "bytes_received": 0,
               "reset_errors": []}
    exchange_listener = listen(args.port)
    reset_listener = listen(args.reset_port)
    print("ready", flush=True)
    # The client talks to the two ports one after the other, but a thread
    # per listener keeps the server from depending on that order.
    reset_thread = threading.Thread(target=serve_reset,
                                    args=(reset_listener, summary))
    reset_thread.start()
    serve_exchanges(exchange_listener, args.conns, args.bytes, summary)
    reset_thread.join()
    exchange_listener.close()
    reset_listener.close()
    return summary


def exchange(port, nbytes, summary):
    """Connect, send nbytes, read nbytes back, close (active close)."""
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(b"c" * nbytes)
        summary["bytes_sent"] += nbytes
        got = recv_exactly(sock, nbytes)
        summary["bytes_received"] += got
        if got == nbytes:
            summary["ok"] += 1
        else:
            summary["errors"].append(f"short read {got}/{nbytes}")


def connect_refused(port, summary):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.connect((HOST, port))
        summary["errors"].append(f"connect to closed port {port} succeeded")
    except ConnectionRefusedError:
        summary["refused"] += 1
    finally:
        sock.close()


def connect_dropped(port, summary):
    """Connect to a port whose SYNs are dropped, giving up after one retry.

    TCP_SYNCNT=1 means the initial SYN plus one retransmission (after 1 s),
    then ETIMEDOUT about 3 s in. No Python socket timeout on purpose: that
    would make it an application abort, not a kernel connect timeout.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
    start = time.monotonic()
    try:
        sock.connect((HOST, port))
        summary["errors"].append(f"connect to dropped port {port} succeeded")
    except TimeoutError:
        summary["timed_out"] += 1
    finally:
        summary["timeout_seconds"] = round(time.monotonic() - start, 2)
        sock.close()


def connect_and_reset(port, summary):
    """Connect, then close with SO_LINGER {on, 0}: the kernel sends an RST."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.connect((HOST, port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    summary["resets_sent"] += 1


def run_client(args):
    summary = {"role": "client", "ok": 0, "refused": 0, "timed_out": 0,
               "resets_sent": 0, "bytes_sent": 0, "bytes_received": 0,
               "errors": []}
    for _ in range(args.conns):
        exchange(args.port, args.bytes, summary)
    for _ in range(args.refused):
        connect_refused(args.closed_port, summary)
    connect_dropped(args.dropped_port, summary)
    connect_and_reset(args.reset_port, summary)
    return summary


def run_pair(args):
    """One successful connection whose both ends live in this process."""
    summary = {"role": "pair", "ok": 0, "bytes_sent": 0, "bytes_received": 0,
               "errors": []}
    listener = listen(0)
    port = listener.getsockname()[1]
    server_side = {"accepted": 0, "bytes_sent": 0, "bytes_received": 0}
    thread = threading.Thread(target=serve_exchanges,
                              args=(listener, 1, args.bytes, server_side))
    thread.start()
    exchange(port, args.bytes, summary)
    thread.join()
    listener.close()
    summary["server_side"] = server_side
    return summary


ROLES = {"server": run_server, "client": run_client, "pair": run_pair}


def main(argv):
    parser = roles.arguments(__doc__, ROLES, deadline=20)
    for option, default in PORTS.items():
        parser.add_argument("--" + option.replace("_", "-"), type=int, default=default)
    parser.add_argument("--conns", type=int, default=20)
    parser.add_argument("--refused", type=int, default=7)
    parser.add_argument("--bytes", type=int, default=10000)
    return roles.main(parser, ROLES, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
