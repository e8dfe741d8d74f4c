# SPDX-License-Identifier: GPL-2.0-only
"""A private Docker daemon for the deployment tests.

Debian's dockerd started by hand with every piece of state in one temporary
directory (data, exec root, socket, its own containerd), the cgroupfs
driver and no bridge, iptables or ip6tables changes on the host; close()
removes every container, image and network it made, stops it and deletes
the directory, whatever state the test left it in. The client is Debian's
/usr/bin/docker of the same release, talking to that socket only.
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"


# The parents the cgroupfs driver makes for its containers, in each
# hierarchy; they stay, empty, after the daemon stops.
CGROUP_PARENTS = ("/sys/fs/cgroup/docker", "/sys/fs/cgroup/*/docker")


def cgroup_parents():
    return {path for pattern in CGROUP_PARENTS for path in glob.glob(pattern)}


class Dockerd:
    def __init__(self, runtimes=None):
        """runtimes: {name: path of an OCI runtime} added with --add-runtime."""
        self._cgroups_before = cgroup_parents()
        self.dir = tempfile.mkdtemp(prefix="ctcp-docker-")
        self.socket = os.path.join(self.dir, "docker.sock")
        self.env = dict(os.environ, DOCKER_HOST=f"unix://{self.socket}")
        self.env["DOCKER_CONFIG"] = os.path.join(self.dir, "client")
        self._log = open(os.path.join(self.dir, "dockerd.log"), "w+b")
        argv = [DOCKERD, "--exec-opt", "native.cgroupdriver=cgroupfs",
                "--bridge=none", "--iptables=false", "--ip6tables=false",
                f"--data-root={self.dir}/data", f"--exec-root={self.dir}/exec",
                f"--pidfile={self.dir}/dockerd.pid", f"-H=unix://{self.socket}"]
        for name, path in (runtimes or {}).items():
            argv.append(f"--add-runtime={name}={path}")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log, start_new_session=True)
        deadline = time.monotonic() + 60
        while self.docker("info", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = self.log()
                self.close()
                raise RuntimeError(f"dockerd did not start:\n{log}")
            time.sleep(0.2)

    def log(self, tail=4000):
        if self._log.closed:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-tail:]

    def docker(self, *args, check=True, input=None, timeout=900):
        """Runs the client; returns the CompletedProcess (text)."""
        proc = subprocess.run([DOCKER] + list(args), env=self.env, input=input,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)} exited {proc.returncode}:\n"
                               f"{proc.stdout[-4000:]}{proc.stderr[-4000:]}")
        return proc

    def out(self, *args, **kwargs):
        return self.docker(*args, **kwargs).stdout.strip()

    def import_tar(self, tarball, tag):
        with open(tarball, "rb") as f:
            proc = subprocess.run([DOCKER, "import", "-", tag], env=self.env, stdin=f,
                                  capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"docker import {tarball}: {proc.stderr.decode()}")

    def close(self):
        """Idempotent: containers, images and networks go, then the daemon
        and its directory."""
        if self.proc.poll() is None:
            try:
                ids = self.out("ps", "-aq", check=False, timeout=60).split()
                if ids:
                    self.docker("rm", "-f", *ids, check=False, timeout=120)
                for net in self.out("network", "ls", "-q", "--filter", "type=custom",
                                    check=False, timeout=60).split():
                    self.docker("network", "rm", net, check=False, timeout=60)
                self.docker("system", "prune", "-af", check=False, timeout=300)
            except subprocess.TimeoutExpired:
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # The daemon unmounts its layers on a clean stop; after a kill,
        # whatever is still mounted below the directory goes here.
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f]
        for mount in sorted((m for m in mounts if m.startswith(self.dir + "/")),
                            key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], capture_output=True)
        for path in cgroup_parents() - self._cgroups_before:
            try:
                os.rmdir(path)
            except OSError:
                pass  # not empty: a container of another daemon
        if not self._log.closed:
            self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
