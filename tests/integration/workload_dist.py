#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""TCP workloads and a delay line for the distribution and gauge tests.

Each role does a known set of TCP things and prints one JSON summary line on
stdout when it ends, so the test can check the workload did what it meant to
before judging the exporter. Lines before it mark phases the test waits for.
Roles that hold connections wait for SIGUSR1 between phases; the signal is
blocked at start, so one sent early is kept until the role asks for it.

Roles:
  server      listen on --host:--port and serve exactly --conns connections,
              each in its own thread: receive --sizes exactly (one
              MSG_WAITALL call each), or with --echo N answer every N-byte
              request with N bytes, then read to EOF and close (the passive
              closer, so no RST). With --wait-signal the listener stays open
              after the last connection until SIGUSR1. Prints "ready".
  hold        open one connection per --holds entry at once, close each that
              many seconds after its connect returned (active close); reports
              the measured hold times.
  gauge       open --conns connections and print "holding"; then for each
              --batches entry wait for SIGUSR1, close that many connections
              (active close) and print "closed N".
  io          --conns connections one after the other: send each --sizes
              entry with one send() call, wait --holds seconds, close.
  pingpong    one connection: an --msg-byte request and its answer every
              --interval seconds for --duration seconds, then print
              "exchanged" and wait for SIGUSR1 before closing.
  relay       a delay line between two interfaces: every frame received on
              one (AF_PACKET) is written to the other --delay seconds later;
              frames this process sent itself (PACKET_OUTGOING) are skipped.
              Stops by itself after --duration seconds.

Standard library only; started as /usr/bin/python3 workload_dist.py ROLE ...
"""

import heapq
import select
import signal
import socket
import struct
import sys
import threading
import time

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
from harness import roles  # noqa: E402
from harness.roles import recv_until_eof  # noqa: E402

ETH_P_ALL = 0x0003
SIGNALS = {signal.SIGUSR1}


def wait_signal():
    signal.sigwait(SIGNALS)


def say(line):
    print(line, flush=True)


def floats(text):
    return [float(x) for x in text.split(",") if x]


def ints(text):
    """"1000x10,5" -> [1000]*10 + [5]."""
    out = []
    for part in filter(None, text.split(",")):
        size, _, times = part.partition("x")
        out += [int(size)] * int(times or 1)
    return out


# ------------------------------------------------------------------ server

def serve_one(conn, args, summary, lock):
    received, recv_calls = 0, []
    try:
        with conn:
            for size in args.sizes:
                data = conn.recv(size, socket.MSG_WAITALL)
                recv_calls.append(len(data))
                received += len(data)
            if args.echo:
                while True:
                    data = conn.recv(args.echo, socket.MSG_WAITALL)
                    if not data:
                        break
                    received += len(data)
                    conn.sendall(b"s" * len(data))
            received += recv_until_eof(conn)
    except OSError as e:
        with lock:
            summary["errors"].append(f"connection: {e}")
    with lock:
        summary["finished"] += 1
        summary["bytes_received"] += received
        summary["recv_calls"].append(recv_calls)


def run_server(args):
    summary = {"role": "server", "accepted": 0, "finished": 0,
               "bytes_received": 0, "recv_calls": [], "errors": []}
    lock = threading.Lock()
    listener = roles.listen(args.port, args.host, backlog=128)
    say("ready")
    threads = []
    for _ in range(args.conns):
        conn, _ = listener.accept()
        summary["accepted"] += 1
        thread = threading.Thread(target=serve_one, args=(conn, args, summary, lock))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    say("served")
    if args.wait_signal:
        wait_signal()
    listener.close()
    return summary


# ------------------------------------------------------------------ clients

def connect(args):
    return socket.create_connection((args.host, args.port))


def run_hold(args):
    conns = []
    for hold in args.holds:
        sock = connect(args)
        conns.append((time.monotonic() + hold, time.monotonic(), sock))
    holds = [None] * len(conns)
    for _, i in sorted((due, i) for i, (due, _, _) in enumerate(conns)):
        due, connected, sock = conns[i]
        time.sleep(max(0.0, due - time.monotonic()))
        holds[i] = time.monotonic() - connected
        sock.close()
    return {"role": "hold", "planned": args.holds, "held": holds}


def run_gauge(args):
    conns = [connect(args) for _ in range(args.conns)]
    say("holding")
    closed = 0
    for batch in args.batches:
        wait_signal()
        for sock in conns[closed:closed + batch]:
            sock.close()
        closed += batch
        say(f"closed {closed}")
    return {"role": "gauge", "opened": len(conns), "closed": closed}


def run_io(args):
    summary = {"role": "io", "conns": 0, "send_calls": [], "bytes_sent": 0}
    holds = args.holds or [0.0]
    for i in range(args.conns):
        with connect(args) as sock:
            summary["conns"] += 1
            for size in args.sizes:
                sent = sock.send(b"c" * size)
                summary["send_calls"].append(sent)
                summary["bytes_sent"] += sent
                if sent != size:
                    raise RuntimeError(f"short send {sent}/{size}")
            time.sleep(holds[i % len(holds)])
    return summary


def run_pingpong(args):
    summary = {"role": "pingpong", "exchanges": 0, "round_trips_ms": []}
    with connect(args) as sock:
        summary["local_port"] = sock.getsockname()[1]
        end = time.monotonic() + args.duration
        while time.monotonic() < end:
            start = time.monotonic()
            sock.sendall(b"c" * args.msg)
            got = len(sock.recv(args.msg, socket.MSG_WAITALL))
            if got != args.msg:
                raise RuntimeError(f"short answer {got}/{args.msg}")
            summary["round_trips_ms"].append(round((time.monotonic() - start) * 1e3, 3))
            summary["exchanges"] += 1
            time.sleep(max(0.0, start + args.interval - time.monotonic()))
        say("exchanged")
        wait_signal()
    return summary


# ------------------------------------------------------------------ relay

def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def fix_tcp_checksum(frame):
    """Finish the TCP checksum of an IPv4 frame.

    veth hands segments over with the checksum left to "hardware"
    (CHECKSUM_PARTIAL); read through AF_PACKET and written again they would
    reach the peer unfinished and be dropped. Computing it in full is right
    whether or not it was done already.
    """
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return frame
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack("!H", frame[16:18])[0]
    start, end = 14 + ihl, 14 + total
    if end > len(frame) or end - start < 20:
        return frame
    segment = bytearray(frame[start:end])
    segment[16:18] = b"\0\0"
    pseudo = frame[26:34] + struct.pack("!BBH", 0, 6, len(segment))
    segment[16:18] = struct.pack("!H", _checksum(pseudo + bytes(segment)))
    return frame[:start] + bytes(segment) + frame[end:]


def run_relay(args):
    socks = {}
    for name in (args.a, args.b):
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.bind((name, ETH_P_ALL))
        sock.setblocking(False)
        socks[name] = sock
    other = {socks[args.a]: socks[args.b], socks[args.b]: socks[args.a]}
    summary = {"role": "relay", "frames": 0, "dropped": 0}
    due, seq = [], 0
    say("ready")
    end = time.monotonic() + args.duration
    while True:
        now = time.monotonic()
        if now >= end:
            break
        while due and due[0][0] <= now:
            _, _, out, frame = heapq.heappop(due)
            try:
                out.send(frame)
                summary["frames"] += 1
            except OSError:
                summary["dropped"] += 1
        timeout = min(end, due[0][0] if due else end) - time.monotonic()
        readable, _, _ = select.select(list(other), [], [], max(0.0, timeout))
        for sock in readable:
            while True:
                try:
                    frame, addr = sock.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                seq += 1
                heapq.heappush(due, (time.monotonic() + args.delay, seq, other[sock],
                                     fix_tcp_checksum(frame)))
    return summary


# ------------------------------------------------------------------ main

ROLES = {"server": run_server, "hold": run_hold, "gauge": run_gauge,
         "io": run_io, "pingpong": run_pingpong, "relay": run_relay}


def main(argv):
    parser = roles.arguments(__doc__, ROLES, deadline=30)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5101)
    parser.add_argument("--conns", type=int, default=1)
    parser.add_argument("--sizes", type=ints, default=[])
    parser.add_argument("--echo", type=int, default=0)
    parser.add_argument("--wait-signal", action="store_true")
    parser.add_argument("--holds", type=floats, default=[])
    parser.add_argument("--batches", type=ints, default=[])
    parser.add_argument("--msg", type=int, default=64)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--a", help="relay: first interface")
    parser.add_argument("--b", help="relay: second interface")
    parser.add_argument("--delay", type=float, default=0.006)
    # Blocked before any thread starts, so only sigwait() takes it.
    return roles.main(parser, ROLES, argv,
                      before=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
