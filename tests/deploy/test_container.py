#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: the shipped image, built and run as the DaemonSet runs
it, next to real Docker containers.

A private dockerd (tests/deploy/dockerd.py) builds deploy/Containerfile
from Debian 12 base images made by debootstrap (tests/deploy/rootfs.py,
cached outside the source tree), then runs the image with the settings of
deploy/kubernetes/daemonset.yaml read from the file: its arguments, user,
capabilities dropped and added, no privilege escalation, seccomp profile,
read-only root filesystem, resource limits, host PID namespace, host or
pod network (a published port), and its hostPath mounts read-only (the
kubelet's log directories replaced by fake ones). /proc/config.gz is
masked in it, as on nodes whose kernels have no config file. Then:
- the runtime stage holds the packages of the libraries `ldd` lists for
  the binary and no other package beyond its base image; image size noted;
- two workload containers (busybox-static and a static loopback program,
  --network=none) and one that runs and exits between two scrapes: each
  series has container_id equal to Docker's id and exact counts; a fake
  /var/log/containers link names the pod of one of them;
- the exporter runs as 65534 with no capability left in any thread, and
  exits 0 on `docker stop`.

Run as root:  /usr/bin/python3 tests/deploy/test_container.py
Without root it is skipped (exit 77), or fails when CI=true. About 80 s
with the base images cached; the first run makes them (2-3 minutes more,
from the Debian archive). Figures go to stderr.
"""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import yaml
from prometheus_client.parser import text_string_to_metric_families

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import rootfs  # noqa: E402
from common import note  # noqa: E402
from dockerd import Dockerd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = rootfs.SOURCE_ROOT
DAEMONSET = os.path.join(SOURCE_ROOT, "deploy", "kubernetes", "daemonset.yaml")
IMAGE = "ctcp-test/cgroup_tcp_exporter:test"
BASE = "ctcp-test/debian:12-minbase"
BUILD_BASE = "ctcp-test/debian:12-build"
WORKLOAD = "ctcp-test/busybox:test"
RUNTIME = "ctcp-daemonset"
MASKED = "ctcp-masked"     # the same without adding capabilities
README = os.path.join(SOURCE_ROOT, "deploy", "README.md")
README_PORT = 19438
# Capabilities Debian 12's Docker 20.10 does not know; tests/deploy/runc-daemonset
# adds them.
UNNAMED_CAPS = {"BPF", "PERFMON", "CHECKPOINT_RESTORE"}
BINARY = "/usr/local/bin/cgroup_tcp_exporter"
PORT = 19437

K = 3000   # bytes each way per connection
# name: (connections, refused connects); distinct, so no count fits another.
WORKLOADS = {"alpha": (3, 1), "beta": (5, 2), "brief": (2, 3)}
POD = {"namespace": "shop", "pod": "cart-5d8f9c7b6-x2x4q", "container": "app"}

FAMILIES = {
    "cgroup_tcp_connections_opened_total": "direction",
    "cgroup_tcp_connections_closed_total": "direction",
    "cgroup_tcp_connect_failures_total": "reason",
    "cgroup_tcp_resets_sent_total": None,
    "cgroup_tcp_resets_received_total": None,
    "cgroup_tcp_retransmits_total": None,
    "cgroup_tcp_sent_bytes_total": None,
    "cgroup_tcp_received_bytes_total": None,
}
IDENTITY = ("container_id", "pod_uid", "namespace", "pod", "container")


def expected(connections, refused):
    """The counters of one loopback workload run: each connection is opened
    and closed once each way with K bytes each way; each refused connect
    fails and receives a reset (the reset it provokes is sent by no
    socket, so it counts nowhere)."""
    want = {"cgroup_tcp_connections_opened_total{outbound}": connections,
            "cgroup_tcp_connections_opened_total{inbound}": connections,
            "cgroup_tcp_connections_closed_total{outbound}": connections,
            "cgroup_tcp_connections_closed_total{inbound}": connections,
            "cgroup_tcp_connect_failures_total{refused}": refused,
            "cgroup_tcp_resets_received_total": refused,
            "cgroup_tcp_sent_bytes_total": 2 * connections * K,
            "cgroup_tcp_received_bytes_total": 2 * connections * K}
    return want


def counts(samples, cgroup):
    """{family{sub-label}: value} of the non-zero counters of one cgroup."""
    got = {}
    for name, labels, value in samples:
        family = name if name in FAMILIES else name + "_total"
        if family not in FAMILIES or labels.get("cgroup") != cgroup or not value:
            continue
        sub = FAMILIES[family]
        key = f"{family}{{{labels[sub]}}}" if sub else family
        got[key] = int(value) if value == int(value) else value
    return got


def identity(samples, cgroup):
    """The identity labels every series of a cgroup carries (None when it
    has no series); AssertionError when two of its series differ."""
    found = {tuple((k, labels[k]) for k in IDENTITY if labels.get(k))
             for _, labels, _ in samples if labels.get("cgroup") == cgroup}
    if len(found) > 1:
        raise AssertionError(f"series of {cgroup} with different identities: {found}")
    return dict(found.pop()) if found else None


def parse(body):
    return [(s.name, dict(s.labels), s.value)
            for family in text_string_to_metric_families(body) for s in family.samples]


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] == "cgroup2":
                return fields[4]
    raise RuntimeError("no cgroup2 mount")


def memory_flag(quantity):
    """A Kubernetes memory quantity (Mi, Gi) as docker's --memory."""
    for suffix, unit in (("Ki", "k"), ("Mi", "m"), ("Gi", "g")):
        if quantity.endswith(suffix):
            return quantity[:-len(suffix)] + unit
    return quantity


def cpu_flag(quantity):
    """A Kubernetes CPU quantity (500m, 2) as docker's --cpus."""
    return str(int(quantity[:-1]) / 1000) if quantity.endswith("m") else quantity


def daemonset_run_args(daemonset, host_paths, network):
    """`docker run` arguments that start the DaemonSet's container as a
    kubelet would: host_paths maps a hostPath to the directory used here
    instead (the fake kubelet logs); network is the network to join when the
    pod does not use the host's, its container port then published on
    127.0.0.1:PORT."""
    pod = daemonset["spec"]["template"]["spec"]
    container = pod["containers"][0]
    security = container.get("securityContext", {})
    args = ["--name", "exporter", "--runtime", RUNTIME]
    if pod.get("hostPID"):
        args += ["--pid", "host"]
    if pod.get("hostNetwork"):
        args += ["--network", "host"]
    else:
        args += ["--network", network]
        for port in container.get("ports", []):
            args += ["-p", f"127.0.0.1:{PORT}:{port['containerPort']}"]
    if "runAsUser" in security:
        args += ["--user", str(security["runAsUser"])]
    if security.get("privileged"):
        args += ["--privileged"]
    if security.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    if security.get("readOnlyRootFilesystem"):
        args += ["--read-only"]
    if security.get("seccompProfile", {}).get("type") == "Unconfined":
        args += ["--security-opt", "seccomp=unconfined"]
    for cap in security.get("capabilities", {}).get("drop", []):
        args += ["--cap-drop", cap]
    for cap in security.get("capabilities", {}).get("add", []):
        if cap not in UNNAMED_CAPS:
            args += ["--cap-add", cap]
    limits = container.get("resources", {}).get("limits", {})
    if "memory" in limits:
        args += ["--memory", memory_flag(limits["memory"])]
    if "cpu" in limits:
        args += ["--cpus", cpu_flag(limits["cpu"])]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        host = volumes[mount["name"]]["hostPath"]["path"]
        source = host_paths.get(host, host)
        if volumes[mount["name"]]["hostPath"].get("type") == "DirectoryOrCreate":
            os.makedirs(source, exist_ok=True)
        options = ["ro" if mount.get("readOnly") else "rw"]
        if mount.get("mountPropagation") == "HostToContainer":
            options.append("rslave")
        args += ["-v", f"{source}:{mount['mountPath']}:{','.join(options)}"]
    return args + [IMAGE] + list(container.get("args", []))


def readme_docker_run():
    """The `docker run ...` command of deploy/README.md, as argv."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    start = text.index("docker run -d --name cgroup_tcp_exporter")
    command = text[start:text.index("\n```", start)].split("\ncurl")[0]
    return shlex.split(command.replace("\\\n", " "))


def installed_packages(docker, image):
    out = docker.out("run", "--rm", "--network=none", "--entrypoint", "dpkg-query", image,
                     "-W", "-f=${Package}\\n")
    return set(out.split())


class Deployment(unittest.TestCase):
    docker = None
    tmp = None

    @classmethod
    def setUpClass(cls):
        common.require_root("dockerd, BPF, cgroups")
        started = time.monotonic()
        base, build_base = rootfs.minbase(), rootfs.build_base()
        note(f"base tarballs ready in {time.monotonic() - started:.0f} s: {base}, "
             f"{build_base}")
        cls.tmp = tempfile.mkdtemp(prefix="ctcp-container-")
        cls.docker = Dockerd({RUNTIME: cls.runtime_stub(RUNTIME, True),
                              MASKED: cls.runtime_stub(MASKED, False)})
        t = time.monotonic()
        cls.docker.import_tar(base, BASE)
        cls.docker.import_tar(build_base, BUILD_BASE)
        cls.make_workload_image()
        note(f"images imported in {time.monotonic() - t:.0f} s")
        t = time.monotonic()
        cls.docker.docker("build", "--network=host", "-q", "-f",
                          os.path.join(SOURCE_ROOT, "deploy", "Containerfile"),
                          "--build-arg", f"BUILD_IMAGE={BUILD_BASE}",
                          "--build-arg", f"RUNTIME_IMAGE={BASE}", "-t", IMAGE, SOURCE_ROOT)
        cls.build_seconds = time.monotonic() - t
        cls.image_size = int(cls.docker.out("image", "inspect", "-f", "{{.Size}}", IMAGE))
        cls.base_size = int(cls.docker.out("image", "inspect", "-f", "{{.Size}}", BASE))
        note(f"image built in {cls.build_seconds:.0f} s: {cls.image_size / 1e6:.1f} MB "
             f"({(cls.image_size - cls.base_size) / 1e6:.1f} MB over its "
             f"{cls.base_size / 1e6:.1f} MB base)")

    @classmethod
    def runtime_stub(cls, name, add_caps):
        """tests/deploy/runc-daemonset told to mask /proc/config.gz (when
        the host has one) and, with add_caps, to add the DaemonSet's
        capabilities that Docker cannot name."""
        with open(DAEMONSET, encoding="utf-8") as f:
            daemonset = next(d for d in yaml.safe_load_all(f) if d and d["kind"] == "DaemonSet")
        added = daemonset["spec"]["template"]["spec"]["containers"][0]["securityContext"][
            "capabilities"]["add"]
        caps = " ".join(f"CAP_{c}" for c in added if c in UNNAMED_CAPS and add_caps)
        mask = "/proc/config.gz" if os.path.exists("/proc/config.gz") else ""
        stub = os.path.join(cls.tmp, name)
        with open(stub, "w") as f:
            f.write(f"#!/bin/sh\nCTCP_MASK='{mask}' CTCP_CAPS='{caps}' exec "
                    f"{os.path.join(HERE, 'runc-daemonset')} \"$@\"\n")
        os.chmod(stub, 0o755)
        return stub

    @classmethod
    def make_workload_image(cls):
        """busybox-static plus the loopback program, built static here."""
        root = os.path.join(cls.tmp, "workload")
        os.makedirs(os.path.join(root, "bin"))
        shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
        for applet in ("sh", "sleep", "cat"):
            os.symlink("busybox", os.path.join(root, "bin", applet))
        subprocess.run(["cc", "-static", "-O2", "-o", os.path.join(root, "loopback"),
                        os.path.join(HERE, "loopback.c")], check=True)
        tar = subprocess.run(["tar", "-C", root, "-c", "."], check=True,
                             capture_output=True).stdout
        tarball = os.path.join(cls.tmp, "workload.tar")
        with open(tarball, "wb") as f:
            f.write(tar)
        cls.docker.import_tar(tarball, WORKLOAD)

    @classmethod
    def tearDownClass(cls):
        cleanup()

    # ----------------------------------------------------------- image

    def test_1_runtime_libraries(self):
        """Every library ldd lists resolves in the image, and the packages
        the runtime stage added are exactly those libraries' packages."""
        ldd = self.docker.out("run", "--rm", "--network=none", "--entrypoint", "ldd", IMAGE,
                              BINARY)
        self.assertNotIn("not found", ldd, ldd)
        paths = [line.split("=>")[1].split()[0] for line in ldd.splitlines()
                 if "=>" in line]
        # dpkg knows each library by one of its two names on a merged /usr.
        owners = self.docker.out(
            "run", "--rm", "--network=none", "--entrypoint", "/bin/sh", IMAGE, "-c",
            'for p; do dpkg -S "$p" "/usr$p" "${p#/usr}" 2>/dev/null; done; true', "sh",
            *paths)
        needed = {line.split(":")[0] for line in owners.splitlines()}
        found = {line.split(": ", 1)[1] for line in owners.splitlines()}
        self.assertEqual([p for p in paths if not {p, "/usr" + p, p[4:]} & found], [],
                         "libraries of no package")
        added = installed_packages(self.docker, IMAGE) - installed_packages(self.docker, BASE)
        self.assertEqual(added, needed - installed_packages(self.docker, BASE),
                         f"packages the runtime stage added vs. those of the ldd list "
                         f"({len(paths)} libraries)")
        note(f"runtime stage: {len(paths)} libraries from {len(needed)} packages, "
             f"{len(added)} added to the base: {' '.join(sorted(added))}")

    def test_2_config_masked(self):
        """The masked runtime leaves /proc/config.gz empty."""
        if not os.path.exists("/proc/config.gz"):
            return
        out = self.docker.out("run", "--rm", "--network=none", "--runtime", MASKED,
                              "--entrypoint", "/bin/sh", IMAGE, "-c",
                              "wc -c < /proc/config.gz")
        self.assertEqual(out, "0")

    # ----------------------------------------------------------- daemonset

    def test_3_daemonset(self):
        """The exporter run as the DaemonSet runs it sees the workload
        containers, names them and counts exactly."""
        with open(DAEMONSET, encoding="utf-8") as f:
            daemonset = next(d for d in yaml.safe_load_all(f) if d and d["kind"] == "DaemonSet")
        logs = os.path.join(self.tmp, "log")
        host_paths = {"/var/log/containers": os.path.join(logs, "containers"),
                      "/var/log/pods": os.path.join(logs, "pods")}
        d = self.docker
        d.docker("network", "create", "ctcp-pods")
        run_args = daemonset_run_args(daemonset, host_paths, "ctcp-pods")
        note("docker run -d " + " ".join(run_args))
        exporter = d.out("run", "-d", *run_args)
        self.scrape_until(lambda body: True, f"exporter {exporter[:12]} serving", 30)
        state = d.out("inspect", "-f", "{{.State.Pid}}", exporter)
        self.check_privileges(int(state))

        ids = {}
        for name in ("alpha", "beta"):
            connections, refused = WORKLOADS[name]
            ids[name] = d.out("run", "-d", "--network=none", "--name", name, WORKLOAD,
                              "/loopback", str(connections), str(K), str(refused))
        pods = os.path.join(host_paths["/var/log/pods"],
                            f"{POD['namespace']}_{POD['pod']}_0b2c9ee1-4e7c-4f5e-9a53-1f1c2d3e4f50")
        os.makedirs(os.path.join(pods, POD["container"]))
        os.symlink(os.path.join("/var/log/pods", os.path.basename(pods), POD["container"],
                                "0.log"),
                   os.path.join(host_paths["/var/log/containers"],
                                f"{POD['pod']}_{POD['namespace']}_{POD['container']}-"
                                f"{ids['alpha']}.log"))
        for name in ids:
            self.wait_done(name)

        cgroups = {name: f"/docker/{cid}" for name, cid in ids.items()}
        want = {name: expected(*WORKLOADS[name]) for name in ids}
        samples = self.scrape_until(
            lambda s: all(counts(s, cgroups[n]) == want[n] for n in ids),
            "alpha's and beta's counts", 15)
        for name in ids:
            self.assertEqual(counts(samples, cgroups[name]), want[name], name)
        self.assertEqual(identity(samples, cgroups["alpha"]),
                         dict(POD, container_id=ids["alpha"]))
        self.assertEqual(identity(samples, cgroups["beta"]), {"container_id": ids["beta"]})

        # One that runs and exits between two scrapes.
        self.scrape()
        connections, refused = WORKLOADS["brief"]
        brief = d.out("create", "--network=none", "--name", "brief", WORKLOAD, "/loopback",
                      str(connections), str(K), str(refused), "exit")
        d.docker("start", "-a", brief)
        d.docker("rm", brief)
        cgroup = f"/docker/{brief}"
        gone = os.path.join(cgroup2_mount(), cgroup.lstrip("/"))
        for _ in range(50):
            if not os.path.exists(gone):
                break
            time.sleep(0.1)
        self.assertFalse(os.path.exists(gone), f"{gone} still there after docker rm")
        samples = self.scrape()
        self.assertEqual(counts(samples, cgroup), expected(connections, refused),
                         "the exited container in the next scrape")
        self.assertEqual(identity(samples, cgroup), {"container_id": brief})
        for scrapes in range(1, 11):
            if identity(self.scrape(), cgroup) is None:
                break
            time.sleep(0.5)
        else:
            self.fail(f"{cgroup} still shown 10 scrapes after its removal")
        note(f"exited container: counted in the next scrape, gone {scrapes} scrape(s) later")

        # The live ones are untouched by that.
        samples = self.scrape()
        for name in ids:
            self.assertEqual(counts(samples, cgroups[name]), want[name], name)

        d.docker("stop", "-t", "10", exporter)
        code = d.out("inspect", "-f", "{{.State.ExitCode}}", exporter)
        self.assertEqual(code, "0", d.docker("logs", exporter).stderr[-3000:])
        note("exporter log:\n" + d.docker("logs", exporter).stderr[-2000:])

    def test_4_readme_docker_run(self):
        """The `docker run` of deploy/README.md (host port, image name and
        kubelet log directories replaced) starts with the capabilities
        Docker names, serves every program attached, and keeps none."""
        argv = readme_docker_run()
        logs = os.path.join(self.tmp, "readme-log")
        replace = {"cgroup_tcp_exporter:0.1.0": IMAGE,
                   "-p": ["--network", "ctcp-readme", "-p"],
                   "9437:9437": f"127.0.0.1:{README_PORT}:9437",
                   "/var/log/containers:/var/log/containers:ro":
                       f"{logs}/containers:/var/log/containers:ro",
                   "/var/log/pods:/var/log/pods:ro": f"{logs}/pods:/var/log/pods:ro"}
        args = []
        for arg in argv[2:]:
            new = replace.get(arg, arg)
            args += new if isinstance(new, list) else [new]
        for sub in ("containers", "pods"):
            os.makedirs(os.path.join(logs, sub))
        self.docker.docker("network", "create", "ctcp-readme")
        note("docker run " + " ".join(args))
        name = self.docker.out("run", "--runtime", MASKED, *args)
        samples = self.scrape_until(lambda s: True, "README's exporter serving", 30,
                                    port=README_PORT, container=name)
        attached = {l.get("program"): v for n, l, v in samples
                    if n == "cgroup_tcp_exporter_program_attached"}
        self.assertTrue(attached and set(attached.values()) == {1}, attached)
        self.check_privileges(int(self.docker.out("inspect", "-f", "{{.State.Pid}}", name)))
        self.docker.docker("stop", "-t", "10", name)
        self.assertEqual(self.docker.out("inspect", "-f", "{{.State.ExitCode}}", name), "0")

    def check_privileges(self, pid):
        """Uid 65534 and no capability in any thread of the exporter."""
        problems = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/status") as f:
                status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
            for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                if int(status[key], 16):
                    problems.append(f"thread {task}: {key} {status[key]}")
            if status["Uid"].split() != ["65534"] * 4:
                problems.append(f"thread {task}: Uid {status['Uid']}")
            if status["NoNewPrivs"].strip() != "1":
                problems.append(f"thread {task}: NoNewPrivs {status['NoNewPrivs']}")
        self.assertEqual(problems, [], f"exporter pid {pid}")
        note(f"exporter pid {pid}: uid 65534, no capability in any thread")

    def wait_done(self, name, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            logs = self.docker.docker("logs", name)
            if "done" in logs.stdout:
                return
            if self.docker.out("inspect", "-f", "{{.State.Running}}", name) != "true":
                break
            time.sleep(0.1)
        self.fail(f"workload {name} did not finish: {logs.stdout}{logs.stderr}")

    def scrape(self, port=PORT):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            return parse(resp.read().decode())

    def scrape_until(self, done, what, timeout, port=PORT, container="exporter"):
        deadline = time.monotonic() + timeout
        error = None
        samples = None
        while time.monotonic() < deadline:
            try:
                samples = self.scrape(port)
                if done(samples):
                    return samples
            except OSError as e:
                error = e
                samples = None
            time.sleep(0.3)
        if samples is not None:
            return samples
        logs = self.docker.docker("logs", container, check=False)
        self.fail(f"{what}: no answer after {timeout} s ({error}):\n"
                  f"{logs.stdout[-2000:]}{logs.stderr[-3000:]}")


def cleanup():
    if Deployment.docker is not None:
        Deployment.docker.close()
        Deployment.docker = None
    if Deployment.tmp is not None:
        shutil.rmtree(Deployment.tmp, ignore_errors=True)
        Deployment.tmp = None


if __name__ == "__main__":
    common.main(cleanup)
