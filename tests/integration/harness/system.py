# SPDX-License-Identifier: GPL-2.0-only
"""Commands, waiting for a condition, and what this host offers (free
ports, IPv6 loopback, how a binary was built)."""

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


def free_port(host="127.0.0.1"):
    """A TCP port free on `host` right now (the kernel picks it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


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
