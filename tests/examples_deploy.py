#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Checks the deployment files under deploy/ without deploying them.

Every Kubernetes YAML document parses and has apiVersion, kind and
metadata.name; the DaemonSet's selector matches its pod labels, its
container has an image, port 9437, probes on that port, resources, drops
ALL capabilities and adds the ones the exporter needs (SETUID and SETGID
with --runas, which must not name root), and mounts every host path
read-only; the Service and PodMonitor select those pods and name a real
port; the PodMonitor's job is the one the example rules expect. The systemd
unit passes `systemd-analyze verify` (when present) and has its sections and
hardening; the Containerfile has its stages and copies the binary.

Run:  SOURCE_ROOT=. /usr/bin/python3 tests/examples_deploy.py
"""

import configparser
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

ROOT = os.environ.get("SOURCE_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DEPLOY = os.path.join(ROOT, "deploy")
PORT = 9437
NEEDED_CAPS = {"BPF", "PERFMON", "SETPCAP"}
HOST_PATHS = {"/sys/fs/cgroup", "/sys/kernel/btf", "/var/log/containers"}


def load_documents():
    """{kind: [document, ...]} of every YAML file in deploy/kubernetes."""
    docs = {}
    files = sorted(glob.glob(os.path.join(DEPLOY, "kubernetes", "*.yaml")))
    assert files, "no YAML files in deploy/kubernetes"
    for path in files:
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc is None:
                    continue
                doc["__file__"] = os.path.basename(path)
                docs.setdefault(doc.get("kind"), []).append(doc)
    return docs


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class Kubernetes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = load_documents()
        cls.ds = cls.docs["DaemonSet"][0]
        cls.pod = cls.ds["spec"]["template"]
        cls.container = cls.pod["spec"]["containers"][0]

    def test_common_fields(self):
        for kind, docs in self.docs.items():
            for doc in docs:
                where = f"{doc['__file__']} ({kind})"
                self.assertTrue(doc.get("apiVersion"), f"{where}: apiVersion")
                self.assertTrue(kind, f"{where}: kind")
                self.assertTrue(doc.get("metadata", {}).get("name"), f"{where}: metadata.name")
        for kind in ("DaemonSet", "Service", "PodMonitor"):
            self.assertEqual(len(self.docs.get(kind, [])), 1, f"one {kind}")

    def test_daemonset_selector(self):
        self.assertEqual(self.ds["apiVersion"], "apps/v1")
        self.assertTrue(selects(self.ds["spec"]["selector"]["matchLabels"],
                                self.pod["metadata"]["labels"]),
                        "DaemonSet selector does not match its pod template labels")

    def test_container(self):
        c = self.container
        self.assertTrue(c.get("image"), "container image")
        ports = {p["containerPort"] for p in c.get("ports", [])}
        self.assertIn(PORT, ports)
        res = c.get("resources", {})
        for part in ("requests", "limits"):
            self.assertIn("memory", res.get(part, {}), f"resources.{part}.memory")
            self.assertIn("cpu", res.get(part, {}), f"resources.{part}.cpu")
        probe = c.get("livenessProbe", {}).get("httpGet", {})
        self.assertEqual(probe.get("path"), "/")
        self.assertEqual(self.port_number(probe.get("port")), PORT)

    def port_number(self, port):
        for p in self.container.get("ports", []):
            if port in (p.get("name"), p["containerPort"]):
                return p["containerPort"]
        self.fail(f"port {port!r} is not a container port")

    def test_security_context(self):
        sc = self.container["securityContext"]
        caps = sc["capabilities"]
        self.assertIn("ALL", caps.get("drop", []))
        self.assertTrue(NEEDED_CAPS <= set(caps.get("add", [])),
                        f"capabilities.add lacks {NEEDED_CAPS - set(caps.get('add', []))}")
        runas = [a for a in self.container.get("args", []) if a.startswith("--runas=")]
        if runas:
            self.assertNotIn(runas[0].split("=", 1)[1].split(":")[0], ("0", "root"))
            self.assertTrue({"SETUID", "SETGID"} <= set(caps.get("add", [])),
                            "--runas needs SETUID and SETGID at start")
        self.assertIs(sc.get("readOnlyRootFilesystem"), True)
        self.assertIs(sc.get("allowPrivilegeEscalation"), False)
        self.assertNotEqual(sc.get("privileged"), True)

    def test_host_mounts_read_only(self):
        host = {v["name"]: v["hostPath"]["path"]
                for v in self.pod["spec"].get("volumes", []) if "hostPath" in v}
        mounted = set()
        for m in self.container.get("volumeMounts", []):
            if m["name"] in host:
                self.assertIs(m.get("readOnly"), True,
                              f"host path {host[m['name']]} mounted writable")
                mounted.add(host[m["name"]])
        self.assertTrue(HOST_PATHS <= mounted, f"not mounted: {HOST_PATHS - mounted}")

    def test_service(self):
        svc = self.docs["Service"][0]
        self.assertTrue(selects(svc["spec"]["selector"], self.pod["metadata"]["labels"]))
        for p in svc["spec"]["ports"]:
            self.assertEqual(p["port"], PORT)
            self.assertEqual(self.port_number(p.get("targetPort", p["port"])), PORT)

    def test_podmonitor(self):
        pm = self.docs["PodMonitor"][0]
        self.assertEqual(pm["apiVersion"], "monitoring.coreos.com/v1")
        self.assertTrue(selects(pm["spec"]["selector"]["matchLabels"],
                                self.pod["metadata"]["labels"]))
        self.assertIn(self.ds["metadata"]["namespace"],
                      pm["spec"].get("namespaceSelector", {}).get("matchNames", []))
        endpoints = pm["spec"]["podMetricsEndpoints"]
        self.assertTrue(endpoints)
        for ep in endpoints:
            self.assertEqual(self.port_number(ep["port"]), PORT)
            self.assertIs(ep.get("honorLabels"), True)
            jobs = [r.get("replacement") for r in ep.get("relabelings", [])
                    if r.get("targetLabel") == "job"]
            self.assertEqual(jobs, ["cgroup-tcp-exporter"])
        # The rules select that job.
        with open(os.path.join(ROOT, "examples", "prometheus", "rules.yml"), encoding="utf-8") as f:
            self.assertIn('up{job="cgroup-tcp-exporter"}', f.read())


class Systemd(unittest.TestCase):
    UNIT = os.path.join(DEPLOY, "systemd", "cgroup_tcp_exporter.service")

    def parse(self):
        parser = configparser.ConfigParser(strict=False, interpolation=None,
                                           delimiters=("=",), comment_prefixes=("#", ";"))
        parser.optionxform = str
        with open(self.UNIT, encoding="utf-8") as f:
            parser.read_file(f)
        return parser

    def test_sections(self):
        unit = self.parse()
        self.assertEqual(unit.sections(), ["Unit", "Service", "Install"])
        self.assertTrue(unit["Unit"].get("Description"))
        # A bare name: systemd finds it in /usr/local/bin or /usr/bin.
        self.assertRegex(unit["Service"].get("ExecStart", ""), r"^cgroup_tcp_exporter \$ARGS$")
        self.assertEqual(unit["Service"].get("EnvironmentFile"),
                         "-/etc/default/cgroup_tcp_exporter")
        self.assertTrue(unit["Install"].get("WantedBy"))

    def test_privileges(self):
        # configparser keeps the last of repeated keys; read them all by hand.
        settings = {}
        with open(self.UNIT, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^(\w+)=(.*)$", line.strip())
                if m:
                    settings.setdefault(m.group(1), []).append(m.group(2))
        ambient = set(" ".join(settings.get("AmbientCapabilities", [])).split())
        bounding = set(" ".join(settings.get("CapabilityBoundingSet", [])).split())
        self.assertTrue({"CAP_BPF", "CAP_PERFMON", "CAP_SETPCAP"} <= ambient)
        self.assertEqual(ambient, bounding, "ambient and bounding sets differ")
        self.assertNotIn("User", settings, "a fixed User= with DynamicUser=")
        for key, value in (("DynamicUser", "yes"), ("NoNewPrivileges", "yes"),
                           ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                           ("ProtectHome", "yes")):
            self.assertEqual(settings.get(key), [value], key)
        families = set(settings["RestrictAddressFamilies"][0].split())
        self.assertEqual(families, {"AF_INET", "AF_INET6", "AF_UNIX"})
        self.assertIn("MemoryMax", settings)

    def test_systemd_analyze_verify(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("no systemd-analyze; the section check ran instead")
        # The binary is not installed here: point ExecStart at one that exists.
        with open(self.UNIT, encoding="utf-8") as f:
            text = re.sub(r"^ExecStart=\S+", "ExecStart=/bin/true", f.read(), flags=re.M)
        with tempfile.TemporaryDirectory() as tmp:
            unit = os.path.join(tmp, os.path.basename(self.UNIT))
            with open(unit, "w", encoding="utf-8") as f:
                f.write(text)
            # Nor is the man page its Documentation= names.
            r = subprocess.run([analyze, "verify", "--man=no", unit], capture_output=True,
                               text=True)
        problems = [l for l in (r.stdout + r.stderr).splitlines()
                    if os.path.basename(self.UNIT) in l]
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(problems, [])


class Containerfile(unittest.TestCase):
    def test_stages_and_binary(self):
        with open(os.path.join(DEPLOY, "Containerfile"), encoding="utf-8") as f:
            text = f.read()
        froms = re.findall(r"^FROM\s+(\S+)", text, flags=re.M)
        self.assertEqual(froms[:2], ["${BUILD_IMAGE}", "${RUNTIME_IMAGE}"],
                         "a build and a runtime stage, their images build arguments")
        args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, flags=re.M))
        self.assertEqual(args, {"BUILD_IMAGE": "debian:12", "RUNTIME_IMAGE": "debian:12-slim"})
        self.assertRegex(text, r"(?m)^\s+&& PACKAGES=build scripts/setup")
        self.assertRegex(text, r"(?m)^COPY --from=\S+ \S*build/cgroup_tcp_exporter \S+")
        # tests/deploy/test_container.py checks the list against ldd.
        for lib in ("libbpf1", "libcap2", "libelf1", "libmicrohttpd12", "zlib1g", "libyaml-0-2",
                    "libgnutls30", "libnettle8", "libprotobuf-c1"):
            self.assertIn(lib, text)
        self.assertRegex(text, rf"(?m)^EXPOSE {PORT}\b")
        self.assertRegex(text, r"(?m)^ENTRYPOINT .*cgroup_tcp_exporter")


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    unittest.main(verbosity=2)
