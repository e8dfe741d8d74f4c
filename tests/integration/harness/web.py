# SPDX-License-Identifier: GPL-2.0-only
"""Single HTTP requests with exactly the headers a test chooses, and raw
bytes on a connection."""

import http.client
import socket
import time


class Response:
    def __init__(self, status, headers, body, seconds):
        self.status = status
        self.headers = headers    # http.client.HTTPMessage
        self.body = body          # bytes as sent (not decompressed)
        self.seconds = seconds    # connect to last byte

    def header_tokens(self, name):
        """The comma-separated values of a header, lower-cased (for Vary)."""
        return {t.strip().lower() for t in (self.headers.get(name) or "").split(",")
                if t.strip()}


def http_request(host, port, path="/metrics", method="GET", headers=None,
                 body=None, timeout=5, source=None):
    """One request on a fresh connection with exactly these headers.

    http.client adds Host (and Content-Length when there is a body), and
    nothing else: no Accept-Encoding unless given, and the body comes back
    as sent, gzip included. `source` binds the client to that local
    address (e.g. 127.0.0.2). Raises OSError when no answer comes in time.
    """
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    start = time.monotonic()
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.headers, data, time.monotonic() - start)
    finally:
        conn.close()


def raw_exchange(host, port, data, timeout=5):
    """Send raw bytes and read until the server closes: what was really on
    the wire (http.client reads no body after HEAD). Raises AssertionError
    if the connection is still open after `timeout`."""
    chunks = []
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                raise AssertionError(f"connection still open after {timeout}s; "
                                     f"got {b''.join(chunks)[:300]!r}") from None
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

