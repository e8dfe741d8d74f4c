# SPDX-License-Identifier: GPL-2.0-only
"""Debian's prometheus binary as a real scraper of the exporter, queried
through its HTTP API."""

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

from . import cleanup
from .system import free_port


class Prometheus:
    """Debian's prometheus binary on 127.0.0.1 with a private config and data
    directory, scraping one target every `interval` seconds (the scrape
    timeout too). close() stops it and removes the directory (idempotent;
    registered for cleanup)."""

    JOB = "ctcp"

    def __init__(self, binary, target, interval=1, job_options="", args=()):
        """job_options: more YAML for the job, indented by 4 spaces (scheme,
        tls_config, basic_auth...); args: more flags (feature flags)."""
        self.dir = cleanup.temp_dir("ctcp-prometheus-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self._log = None
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"global:\n  scrape_interval: {interval}s\n  scrape_timeout: {interval}s\n"
                    "scrape_configs:\n"
                    f"  - job_name: {self.JOB}\n"
                    f"    static_configs:\n      - targets: ['{target}']\n"
                    + job_options)
        self._log = open(os.path.join(self.dir, "log"), "w+b")
        cleanup.add(self.close, f"stop prometheus in {self.dir}")
        self._argv = [binary, f"--config.file={config}",
                      f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                      "--log.level=warn", *args]
        self._retries = 5
        self._launch()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _launch(self):
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            self._argv + [f"--web.listen-address=127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, cwd=self.dir)

    def log(self, tail=3000):
        if self._log.closed:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-tail:]

    def get(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with self._opener.open(url, timeout=5) as resp:
            return json.loads(resp.read())

    def api(self, path, **params):
        reply = self.get(path, **params)
        if reply.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {reply}")
        return reply["data"]

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                # The port free_port() chose was taken meanwhile: another.
                if "address already in use" in self.log() and self._retries:
                    self._retries -= 1
                    self._log.seek(0)
                    self._log.truncate()
                    self.port = free_port()
                    self._launch()
                    continue
                raise RuntimeError(f"prometheus exited {self.proc.returncode}:\n"
                                   f"{self.log()}")
            try:
                with self._opener.open(self.base + "/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready after {timeout}s:\n{self.log()}")

    def target(self):
        targets = self.api("/api/v1/targets")["activeTargets"]
        return next((t for t in targets if t["labels"].get("job") == self.JOB), None)

    def query(self, expr):
        """An instant query: [(labels, value)]."""
        result = self.api("/api/v1/query", query=expr)["result"]
        return [(r["metric"], float(r["value"][1])) for r in result]

    def scalar(self, expr):
        """The one value of an instant query, or None when it has none."""
        result = self.query(expr)
        if len(result) > 1:
            raise AssertionError(f"{expr}: {len(result)} series: {result}")
        return result[0][1] if result else None

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


