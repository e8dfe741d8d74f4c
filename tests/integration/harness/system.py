# SPDX-License-Identifier: GPL-2.0-only
"""Commands, waiting for a condition, and what this host offers (free
ports, IPv6 loopback, how a binary was built)."""

import errno
import random
import socket
import subprocess
import time


def run(argv, input=None, check=True):
    """Run a command, return its CompletedProcess; raise with its output."""
    proc = subprocess.run(argv, input=input, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{argv!r} exited {proc.returncode}:\n"
                           f"{proc.stdout}{proc.stderr}")
    return proc


def poll(fetch, done, timeout, interval=0.2):
    """Call fetch() until done(value) or timeout; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# Ports below the kernel's ephemeral range (net.ipv4.ip_local_port_range,
# 32768 up by default), which every outgoing connect of the tests draws
# from: a port chosen here is not taken by a client socket meanwhile.
PORTS_CHOSEN = (10000, 32000)


def free_port(host="127.0.0.1"):
    """A TCP port free on `host` right now, from PORTS_CHOSEN. Another
    process may still take it before the caller binds it: whoever starts a
    server on it retries with another one when it finds it taken
    (listen_retrying)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        port = random.randrange(*PORTS_CHOSEN)
        with socket.socket(family) as s:
            try:
                s.bind((host, port))
                return port
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
    raise RuntimeError(f"no free port on {host} in {PORTS_CHOSEN}")


def listen_retrying(start, attempts=5):
    """start() starts a server on a port free_port() chose and returns
    True, or False when the port was taken meanwhile (EADDRINUSE); then it
    is called again, having chosen another port."""
    for _ in range(attempts):
        if start():
            return
    raise RuntimeError(f"the port was taken {attempts} times in a row")


def has_ipv6_loopback():
    """Whether ::1 can be bound here."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def url_host(host):
    """A host as it goes in a URL: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host else host


def built_with_asan(binary):
    """True when the binary was linked with AddressSanitizer, whose
    allocator quarantine makes resident memory grow by design."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()
