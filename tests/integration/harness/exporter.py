# SPDX-License-Identifier: GPL-2.0-only
"""The exporter under test as a process: started with the flags a test
chooses, ready once it answers a scrape, scraped (one connection per scrape
or one kept alive), stopped with SIGTERM and released at cleanup."""

import http.client
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from . import cleanup
from .system import free_port, listen_retrying, url_host
from .web import http_request


class Scrape:
    def __init__(self, status, content_type, raw):
        self.status = status
        self.content_type = content_type
        self.raw = raw
        self.body = raw.decode("utf-8", errors="replace")


class Exporter:
    """The exporter, in the host network namespace.

    It listens on host:port (port None: a free one), given as the first
    flag, and `args` follow; with listen=False `args` are all the flags,
    listen addresses included, and `port` is where readiness and scrapes
    go ("{port}" in them is replaced by that port; port None then means a
    free one chosen by choose_port, default free_port(host)). A port chosen
    here and taken before the exporter binds it is replaced by another at
    start. `wrapper` runs it (valgrind). Readiness is polled at
    http(s)://host:port/path. Registered for cleanup when made.
    """

    def __init__(self, binary, port=None, args=(), *, host="127.0.0.1", listen=True,
                 path="/metrics", wrapper=(), ssl_context=None, headers=None,
                 choose_port=None, env=None):
        """ssl_context: scrape over HTTPS with it; headers: sent with every
        scrape, the readiness polls included (e.g. Authorization); env:
        variables added to the exporter's environment (test knobs such as
        CTCP_SLOT_REUSE_MS, docs/testing.md)."""
        self.binary = binary
        self.host = host
        self.listen = listen
        self.path = path
        self.extra_args = list(args)
        self.choose_port = choose_port or (lambda: free_port(host))
        self.port_chosen = port is None
        self.scheme = "https" if ssl_context else "http"
        self._use_port(self.choose_port() if port is None else port)
        self.wrapper = list(wrapper)
        self.headers = dict(headers or {})
        self.env = dict(os.environ, **env) if env else None
        self.proc = None
        self.returncode = None
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        # Scrapes go straight to the exporter whatever *_proxy says.
        handlers = [urllib.request.ProxyHandler({})]
        if ssl_context:
            handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
        self._opener = urllib.request.build_opener(*handlers)
        cleanup.add(self.close, f"stop exporter {self.args}")

    def _use_port(self, port):
        self.port = port
        listen_flags = ([f"--web.listen-address={url_host(self.host)}:{port}"]
                        if self.listen else [])
        self.args = listen_flags + [a.replace("{port}", str(port)) for a in self.extra_args]
        self.url = f"{self.scheme}://{url_host(self.host)}:{port}{self.path}"

    def start(self, ready_timeout=15.0):
        if self.port_chosen:
            listen_retrying(lambda: self._start(ready_timeout, retry_taken=True))
        else:
            self._start(ready_timeout)

    def _start(self, ready_timeout, retry_taken=False):
        """True once serving; False (with a new port) when the chosen port
        was taken and retry_taken."""
        self.proc = subprocess.Popen(self.wrapper + [self.binary] + self.args,
                                     stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err, cwd="/", env=self.env)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if retry_taken and "Address already in use" in self.stderr():
                    self._use_port(self.choose_port())
                    self._err.seek(0)
                    self._err.truncate()
                    return False
                raise RuntimeError(f"exporter {self.args} exited "
                                   f"{self.proc.returncode} before serving:\n"
                                   f"{self.stderr()}")
            try:
                if self.scrape(timeout=2).status == 200:
                    return True
            except OSError:
                pass  # not listening yet
            time.sleep(0.05)
        raise RuntimeError(f"exporter {self.args} not ready at {self.url} after "
                           f"{ready_timeout}s:\n{self.stderr()}")

    def scrape(self, timeout=5):
        request = urllib.request.Request(self.url, headers=self.headers)
        try:
            with self._opener.open(request, timeout=timeout) as resp:
                return Scrape(resp.status, resp.headers.get("Content-Type"),
                              resp.read())
        except urllib.error.HTTPError as e:
            return Scrape(e.code, e.headers.get("Content-Type"), e.read())

    def get(self, **kwargs):
        """http_request to this exporter's host and port."""
        return http_request(self.host, self.port, **kwargs)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        """SIGTERM and wait; returns the exit code, or None if it had to be
        killed. Safe to call twice."""
        if self.proc is None or self.returncode is not None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.returncode = None
        return self.returncode

    def stderr(self, tail=4000):
        if self._err.closed:
            return ""
        self._err.seek(0)
        return self._err.read().decode(errors="replace")[-tail:]

    def close(self):
        """Stop if needed and release the output files (idempotent)."""
        self.stop()
        self._out.close()
        self._err.close()


class KeepAliveScraper:
    """Scrapes an Exporter over one kept-alive HTTP/1.1 connection, so that
    scraping adds no TCP connects of its own to what the exporter counts.
    `connects` counts the connections it had to open (1 when the exporter
    kept the first one)."""

    def __init__(self, exporter, timeout=10):
        self.exporter = exporter
        self.timeout = timeout
        self.connects = 0
        self._conn = None

    def scrape(self, headers=None):
        path = urllib.parse.urlsplit(self.exporter.url).path
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    "127.0.0.1", self.exporter.port, timeout=self.timeout)
                self._conn.connect()
                self.connects += 1
            try:
                self._conn.request("GET", path, headers=headers or {})
                resp = self._conn.getresponse()
                raw = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return Scrape(resp.status, resp.getheader("Content-Type"), raw)
            except (http.client.HTTPException, OSError):
                # The server closed an idle keep-alive connection: one retry.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
