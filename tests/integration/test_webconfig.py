#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Integration test: --web.config.file (TLS and basic authentication).

A test CA, a server certificate and client certificates (one from another
CA, and the server's own, which is not for clients) are made with openssl
at run time. Web config files in exporter-toolkit's format are written
next to them and checked with `promtool check web-config`: the good ones
pass it, and each bad one makes the exporter exit 1 with one line naming
the file and the problem, where promtool fails too (or, for the cases the
exporter is deliberately stricter about, passes).

The real exporter then serves each good file to curl: the right password
gets 200, a wrong, unknown or missing one 401 with WWW-Authenticate: Basic;
HTTPS verifies against the test CA, plain HTTP to the TLS port fails,
min_version TLS13 refuses a TLS 1.2 client, and every client_auth_type
takes and refuses the certificates Go's crypto/tls does. A real Prometheus
scrapes over TLS with a client certificate and basic authentication.

Run as root:  EXPORTER=build/cgroup_tcp_exporter \\
              /usr/bin/python3 tests/integration/test_webconfig.py
PROMTOOL, PROMETHEUS, CURL and OPENSSL name the tools (default: on PATH).
The file checks need no root; the others skip without root (exit 77), or
fail when CI=true. About 15 s.
"""

import base64
import os
import re
import ssl
import subprocess
import sys
import tempfile
import unittest
import warnings

# Importing the helper must not leave __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # the system's crypt(3), as the exporter uses  # noqa: E402

NEEDS_ROOT = harness.NEEDS_ROOT
OPENED = harness.OPENED
RESPONSES = harness.RESPONSES
# exporter-toolkit's test user dave, hashed by Go's bcrypt (htpasswd's $2y$).
DAVE_HASH = "$2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq"
DAVE_PASSWORD = "dave123"
ALICE_PASSWORD = "s3cret:with colon"

# curl's exit codes for the ways a request fails.
CURL_CONNECT_TLS = 35   # TLS handshake refused
CURL_PEER_CERT = 60     # server certificate not trusted


class PKI:
    """A CA and its certificates, made with openssl in a directory of its own
    (removed at cleanup): server.pem for 127.0.0.1 and localhost, client.pem
    for TLS clients, other-client.pem from another CA."""

    def __init__(self):
        self.openssl = harness.require_tool("OPENSSL", "openssl")
        self.dir = harness.cleanup.temp_dir("ctcp-webconfig-")
        self._ca("ca", "ctcp test CA")
        self._ca("other-ca", "ctcp other CA")
        self._leaf("server", "ca", "serverAuth",
                   "subjectAltName=DNS:localhost,IP:127.0.0.1")
        self._leaf("client", "ca", "clientAuth")
        self._leaf("other-client", "other-ca", "clientAuth")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _key(self, name):
        harness.run([self.openssl, "genpkey", "-algorithm", "EC", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-out", self.path(name + ".key")])

    def _ca(self, name, subject):
        self._key(name)
        harness.run([self.openssl, "req", "-x509", "-new", "-key", self.path(name + ".key"),
                     "-subj", f"/CN={subject}", "-days", "2", "-out",
                     self.path(name + ".pem")])

    def _leaf(self, name, ca, purpose, *extensions):
        self._key(name)
        with open(self.path(name + ".ext"), "w") as f:
            f.write("\n".join(("basicConstraints=CA:FALSE",
                               f"extendedKeyUsage={purpose}") + extensions) + "\n")
        csr = harness.run([self.openssl, "req", "-new", "-key", self.path(name + ".key"),
                           "-subj", f"/CN={name}"]).stdout
        harness.run([self.openssl, "x509", "-req", "-CA", self.path(ca + ".pem"), "-CAkey",
                     self.path(ca + ".key"), "-set_serial", str(abs(hash(name)) % 10**9),
                     "-days", "2", "-extfile", self.path(name + ".ext"), "-out",
                     self.path(name + ".pem")], input=csr)

    def write(self, name, text):
        """A web config file in the PKI's directory (so relative paths name
        its certificates); returns its path."""
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path


def bcrypt_hash(password, cost=10):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**cost))


ALICE_HASH = bcrypt_hash(ALICE_PASSWORD)

TLS = "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
USERS = f"basic_auth_users:\n  alice: {ALICE_HASH}\n  dave: '{DAVE_HASH}'\n"


def client_auth(kind, ca="ca.pem"):
    return TLS + f"  client_auth_type: {kind}\n" + (f"  client_ca_file: {ca}\n" if ca else "")


# name: (file text, words of the exporter's error, promtool rejects it too)
BAD_FILES = {
    # libyaml takes seconds on this; the exporter refuses it first.
    "nested flow": ("basic_auth_users:\n  alice: " + "[" * 20000 + "\n",
                    "line 2: '[' and '{{' nested deeper than 64: not a web config file", True),
    "unknown key": ("basic_auth_user:\n  alice: x\n", "line 1: unknown key 'basic_auth_user'",
                    True),
    "unknown TLS key": (TLS + "  certfile: x\n",
                        "line 4: unknown key 'certfile' in tls_server_config", True),
    "bad YAML": ("tls_server_config:\n\tcert_file: x\n", "line 2: bad YAML", True),
    "list of users": ("basic_auth_users:\n  - alice\n",
                      "basic_auth_users: want a map of user names", True),
    "user twice": (f"basic_auth_users:\n  alice: {ALICE_HASH}\n  alice: {ALICE_HASH}\n",
                   "line 3: basic_auth_users: user 'alice' is set twice", True),
    "password not hashed": ("basic_auth_users:\n  alice: s3cret\n",
                            "the password of 'alice' is not a bcrypt hash", True),
    "cut hash": ("basic_auth_users:\n  alice: $2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37\n",
                 "is not a whole bcrypt hash", True),
    "bcrypt cost 3": ("basic_auth_users:\n  alice: "
                      "$2y$03$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n",
                      "bcrypt cost outside 04 to 31", True),
    "no key_file": ("tls_server_config:\n  cert_file: server.pem\n",
                    "tls_server_config: key_file is missing", True),
    "no cert_file": ("tls_server_config:\n  key_file: server.key\n",
                     "tls_server_config: cert_file is missing", True),
    "missing cert file": ("tls_server_config:\n  cert_file: nope.pem\n  key_file: server.key\n",
                          "cannot read tls_server_config.cert_file {dir}/nope.pem: "
                          "No such file or directory", True),
    "cert not PEM": ("tls_server_config:\n  cert_file: server.ext\n  key_file: server.key\n",
                     "tls_server_config.cert_file {dir}/server.ext holds no PEM certificate",
                     True),
    "key not PEM": ("tls_server_config:\n  cert_file: server.pem\n  key_file: server.ext\n",
                    "tls_server_config.key_file {dir}/server.ext holds no unencrypted PEM "
                    "private key", True),
    "cert and key apart": ("tls_server_config:\n  cert_file: server.pem\n"
                           "  key_file: client.key\n",
                           "tls_server_config.cert_file {dir}/server.pem is not the "
                           "certificate of key_file {dir}/client.key", True),
    "unknown client_auth_type": (client_auth("RequireCert"), "unknown type 'RequireCert'",
                                 True),
    "CA without client_auth_type": (TLS + "  client_ca_file: ca.pem\n",
                                    "client_ca_file is set but client_auth_type is "
                                    "NoClientCert", True),
    "missing CA file": (client_auth("RequireAndVerifyClientCert", "nope.pem"),
                        "cannot read tls_server_config.client_ca_file {dir}/nope.pem", True),
    "TLS14": (TLS + "  min_version: TLS14\n", "unknown TLS version 'TLS14'", True),
    "inline cert": ("tls_server_config:\n  cert: x\n  key: y\n",
                    "tls_server_config.cert is not supported by cgroup_tcp_exporter", True),
    "rate_limit": ("rate_limit:\n  interval: 1s\n", "rate_limit is not supported", True),
    # Stricter than exporter-toolkit (README: "Differences").
    "verifying without a CA": (client_auth("RequireAndVerifyClientCert", None),
                               "client_auth_type RequireAndVerifyClientCert needs "
                               "client_ca_file", False),
    "CA file without certificates": (client_auth("VerifyClientCertIfGiven", "server.ext"),
                                     "tls_server_config.client_ca_file {dir}/server.ext "
                                     "holds no PEM certificate", False),
    "TLS settings without a certificate": ("tls_server_config:\n  min_version: TLS13\n",
                                           "cert_file is missing", False),
    "min above max": (TLS + "  min_version: TLS13\n  max_version: TLS12\n",
                      "min_version TLS13 is above max_version TLS12", False),
    "$2x$ hash": ("basic_auth_users:\n  alice: "
                  "$2x$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n",
                  "is a $2x$ bcrypt hash", False),
    "hash with a bad character": ("basic_auth_users:\n  alice: "
                                  "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJP!e\n",
                                  "is not a whole bcrypt hash", False),
    "user name with a colon": (f"basic_auth_users:\n  'a:b': {ALICE_HASH}\n",
                               "user 'a:b' has a ':', so could never log in", False),
    "cipher_suites": (TLS + "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
                      "tls_server_config.cipher_suites is not supported", False),
    "headers": ("http_server_config:\n  headers:\n    X-Frame-Options: deny\n",
                "http_server_config.headers is not supported", False),
    "two documents": (USERS + "---\nfoo: 1\n", "a second YAML document", False),
}

def readme_example():
    """The README's example file, with the test's certificates and a hash
    of ALICE_PASSWORD for its user."""
    with open(os.path.join(harness.SOURCE, "README.md")) as f:
        readme = f.read()
    match = re.search(r"### Web config file\n.*?```yaml\n(.*?)```", readme, re.S)
    text = (match.group(1).replace("server.crt", "server.pem")
            .replace("clients-ca.crt", "ca.pem"))
    return re.sub(r"(\n  prometheus: )\S+", lambda m: m.group(1) + ALICE_HASH, text)


# name: file text; each is served in RootTest.
GOOD_FILES = {
    "empty": "",
    "users": USERS,
    "tls": TLS,
    "tls and users": TLS + USERS,
    "docs example": ("# TLS and basic authentication configuration example.\n"
                     + TLS.replace("tls_server_config", "tls_server_config ") + "\n"
                     + USERS),
    "every setting": (client_auth("RequireAndVerifyClientCert") + "  min_version: TLS12\n"
                      "  max_version: TLS13\n  prefer_server_cipher_suites: false\n"
                      "http_server_config:\n  http2: false\n" + USERS),
    "tls13": TLS + "  min_version: TLS13\n",
    "request": client_auth("RequestClientCert"),
    "require any": client_auth("RequireAnyClientCert", None),
    "verify if given": client_auth("VerifyClientCertIfGiven"),
    "require and verify": client_auth("RequireAndVerifyClientCert") + USERS,
    "readme example": readme_example(),
}


def run_exporter(binary, config):
    """The exporter with this web config, which must exit by itself."""
    try:
        return subprocess.run([binary, f"--web.config.file={config}",
                               f"--web.listen-address=127.0.0.1:{harness.free_port()}"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=10, cwd="/")
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"still running after 10 s with {config}: {e.stderr!r}") \
            from None


def promtool_check(config):
    promtool = harness.require_tool("PROMTOOL", "promtool")
    return subprocess.run([promtool, "check", "web-config", config], capture_output=True,
                          text=True, timeout=30, cwd="/")


_pki = None


def pki():
    """One PKI for the whole run; main() removes it (the cleanup registry)."""
    global _pki
    if _pki is None:
        _pki = PKI()
    return _pki


# --------------------------------------------------------------------- no root

class FilesTest(unittest.TestCase):
    """Web config files are read and checked before anything needs root."""

    def test_good_files_pass_promtool(self):
        for name, text in GOOD_FILES.items():
            with self.subTest(file=name):
                path = pki().write(f"good-{name.replace(' ', '-')}.yml", text)
                proc = promtool_check(path)
                self.assertEqual(proc.returncode, 0, f"promtool: {proc.stdout}{proc.stderr}")

    def test_bad_files_exit_1_with_one_line(self):
        binary = harness.require_exporter()
        for name, (text, words, promtool_rejects) in BAD_FILES.items():
            with self.subTest(file=name):
                path = pki().write(f"bad-{name.replace(' ', '-')}.yml", text)
                proc = run_exporter(binary, path)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                prefix = f"cgroup_tcp_exporter: error: web config file {path}: "
                self.assertTrue(proc.stderr.startswith(prefix), proc.stderr)
                self.assertIn(words.format(dir=pki().dir), proc.stderr)
                checked = promtool_check(path)
                self.assertEqual(checked.returncode != 0, promtool_rejects,
                                 f"promtool: {checked.stdout}{checked.stderr}")

    def test_missing_file(self):
        proc = run_exporter(harness.require_exporter(), "/nonexistent/web.yml")
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, "cgroup_tcp_exporter: error: web config file "
                         "/nonexistent/web.yml: No such file or directory\n")

    def test_flag_needs_a_value(self):
        proc = subprocess.run([harness.require_exporter(), "--web.config.file"],
                              capture_output=True, text=True, timeout=5)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--web.config.file", proc.stderr)


# ------------------------------------------------------------------------ root

def read_if_any(path):
    if not os.path.exists(path):
        return ""
    with open(path, errors="replace") as f:
        return f.read()


def basic(user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class Curl:
    """What curl got: its exit code, the HTTP status (0 for none), the
    response headers (lower-cased names) and body."""

    def __init__(self, proc, headers, body):
        self.exit = proc.returncode
        self.error = proc.stderr.strip()
        self.status = int(proc.stdout or 0)
        self.headers = {}
        for line in headers.splitlines()[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.body = body

    def __repr__(self):
        return f"curl exit {self.exit} ({self.error}), HTTP {self.status}"


class RootTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        harness.require_root(f"{NEEDS_ROOT}: runs an exporter that loads BPF programs")
        cls.binary = harness.require_exporter()
        cls.curl_binary = harness.require_tool("CURL", "curl")
        cls.pki = pki()

    def serve(self, name, ready_cert="client", flags=(), user=("alice", ALICE_PASSWORD)):
        """The exporter serving GOOD_FILES[name] (with more flags), ready
        once a scrape as user (name, password), with the CA and client
        certificate ready_cert, works."""
        text = GOOD_FILES[name]
        config = self.pki.write(f"serve-{name.replace(' ', '-')}.yml", text)
        context = None
        if "tls_server_config" in text:
            context = ssl.create_default_context(cafile=self.pki.path("ca.pem"))
            if ready_cert:
                context.load_cert_chain(self.pki.path(ready_cert + ".pem"),
                                        self.pki.path(ready_cert + ".key"))
        exporter = harness.Exporter(self.binary, args=[f"--web.config.file={config}", *flags],
                                    ssl_context=context, headers=basic(*user))
        self.addCleanup(exporter.close)
        exporter.start()
        return exporter

    def curl(self, exporter, *options, scheme="https", path="/metrics"):
        """curl to the exporter; https trusts the test CA unless told
        otherwise by options."""
        with tempfile.TemporaryDirectory() as tmp:
            headers, body = os.path.join(tmp, "headers"), os.path.join(tmp, "body")
            argv = [self.curl_binary, "-sS", "--noproxy", "*", "--max-time", "5",
                    "-D", headers, "-o", body, "-w", "%{http_code}"]
            if scheme == "https" and "--cacert" not in options and "-k" not in options:
                argv += ["--cacert", self.pki.path("ca.pem")]
            argv += list(options) + [f"{scheme}://127.0.0.1:{exporter.port}{path}"]
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=15)
            return Curl(proc, read_if_any(headers), read_if_any(body))

    def cert(self, name):
        return ["--cert", self.pki.path(name + ".pem"), "--key", self.pki.path(name + ".key")]

    def assert_ok(self, got, what):
        self.assertEqual((got.exit, got.status), (0, 200), f"{what}: {got}")
        self.assertIn(OPENED, got.body, what)

    def assert_refused_tls(self, got, what):
        """The TLS handshake failed: no HTTP answer at all. (With TLS 1.3
        the client learns it on its first read, not in the handshake.)"""
        self.assertNotEqual(got.exit, 0, f"{what}: {got}")
        self.assertEqual(got.status, 0, f"{what}: {got}")

    def assert_unauthorized(self, got, what):
        self.assertEqual((got.exit, got.status), (0, 401), f"{what}: {got}")
        self.assertTrue(got.headers.get("www-authenticate", "").startswith("Basic "),
                        f"{what}: headers {got.headers}")
        self.assertNotIn(OPENED, got.body)

    def assert_clean_exit(self, exporter):
        self.assertEqual(exporter.stop(timeout=10), 0, exporter.stderr())


class BasicAuthTest(RootTest):

    def test_passwords_over_http(self):
        exp = self.serve("users")
        right = ["-u", f"alice:{ALICE_PASSWORD}"]
        for _ in range(3):
            self.assert_ok(self.curl(exp, *right, scheme="http"), "alice, right password")
        self.assert_ok(self.curl(exp, "-u", f"dave:{DAVE_PASSWORD}", scheme="http"),
                       "dave, Go-made $2y$ hash")
        refused = {
            "no password": [],
            "wrong password": ["-u", "alice:s3cret"],
            "dave's password": ["-u", f"alice:{DAVE_PASSWORD}"],
            "unknown user": ["-u", f"mallory:{ALICE_PASSWORD}"],
            "empty user": ["-u", f":{ALICE_PASSWORD}"],
            "not Basic": ["-H", "Authorization: Bearer abc"],
            "not base64": ["-H", "Authorization: Basic !!!"],
        }
        for what, options in refused.items():
            with self.subTest(what):
                self.assert_unauthorized(self.curl(exp, *options, scheme="http"), what)
        self.assert_unauthorized(self.curl(exp, scheme="http", path="/"), "index page")
        self.assert_unauthorized(self.curl(exp, scheme="http", path="/nope"), "other path")
        self.assertEqual(self.curl(exp, *right, scheme="http", path="/nope").status, 404)
        self.assertIn("warning: basic authentication without tls_server_config: passwords "
                      "cross the network in the clear", exp.stderr())
        self.assert_clean_exit(exp)


    def test_responses_counted_by_code(self):
        """Every answer is counted by status code, failed logins as 401;
        a scrape is not in its own response, so each count here is exact."""
        exp = self.serve("users")
        right = ["-u", f"alice:{ALICE_PASSWORD}"]

        def counts():
            got = self.curl(exp, *right, scheme="http")
            self.assert_ok(got, "scrape")
            samples = harness.parse_samples(got.body)
            return {code: int(harness.value(samples, RESPONSES, code=code))
                    for code in ("200", "401", "404", "405", "503")}

        before = counts()
        for _ in range(3):
            self.assert_ok(self.curl(exp, *right, scheme="http"), "alice")
        for options in (["-u", "alice:s3cret"], ["-u", f"mallory:{ALICE_PASSWORD}"], []):
            self.assert_unauthorized(self.curl(exp, *options, scheme="http"), options)
        self.assertEqual(self.curl(exp, *right, scheme="http", path="/nope").status, 404)
        self.assertEqual(self.curl(exp, *right, "-X", "POST", scheme="http").status, 405)
        want = dict(before)
        want["200"] += 1 + 3  # the first counts() and the three scrapes
        want["401"] += 3
        want["404"] += 1
        want["405"] += 1
        self.assertEqual(counts(), want)
        self.assert_clean_exit(exp)


class TLSTest(RootTest):

    def test_https(self):
        exp = self.serve("tls and users")
        right = ["-u", f"alice:{ALICE_PASSWORD}"]
        self.assert_ok(self.curl(exp, *right), "HTTPS, test CA, right password")
        self.assert_ok(self.curl(exp, *right, "--tls-max", "1.2"), "TLS 1.2")
        self.assert_ok(self.curl(exp, *right, "--tlsv1.3"), "TLS 1.3")
        self.assert_unauthorized(self.curl(exp, "-u", "alice:wrong"), "HTTPS, wrong password")
        got = self.curl(exp, *right, "--cacert", self.pki.path("other-ca.pem"))
        self.assertEqual((got.exit, got.status), (CURL_PEER_CERT, 0),
                         f"server certificate trusted from another CA: {got}")
        self.assert_refused_tls(self.curl(exp, *right, scheme="http"), "plain HTTP")
        self.assert_refused_tls(self.curl(exp, *right, "--tlsv1.1", "--tls-max", "1.1"),
                                "TLS 1.1 under the default min_version TLS12")
        self.assertNotIn("in the clear", exp.stderr())
        self.assert_clean_exit(exp)

    def test_files_read_before_runas(self):
        """The key is root's only (in a 0700 directory): it is read before
        --runas gives up root."""
        self.assertEqual(os.stat(self.pki.dir).st_mode & 0o777, 0o700)
        exp = self.serve("tls and users", flags=["--runas=65534:65534"])
        self.assert_ok(self.curl(exp, "-u", f"alice:{ALICE_PASSWORD}"), "after --runas")
        self.assert_clean_exit(exp)

    def test_min_version_tls13(self):
        exp = self.serve("tls13")
        got = self.curl(exp, "--tls-max", "1.2")
        self.assertEqual((got.exit, got.status), (CURL_CONNECT_TLS, 0),
                         f"a TLS 1.2 client: {got}")
        self.assert_ok(self.curl(exp, "--tlsv1.3"), "TLS 1.3")

    def test_examples_and_every_setting(self):
        dave = ("dave", DAVE_PASSWORD)
        for name, user in (("docs example", dave), ("every setting", dave),
                           ("readme example", ("prometheus", ALICE_PASSWORD))):
            with self.subTest(name):
                exp = self.serve(name, user=user)
                self.assert_ok(self.curl(exp, "-u", ":".join(user), *self.cert("client")),
                               name)
                self.assert_clean_exit(exp)

    def test_empty_file_is_plain_http(self):
        exp = self.serve("empty")
        self.assert_ok(self.curl(exp, scheme="http"), "no TLS, no password")


# client_auth_type: (no certificate, the test CA's client certificate,
# another CA's, the server's own (not for TLS clients)) -> accepted?
CLIENT_AUTH_CASES = {
    "request": (True, True, True, True),
    "require any": (False, True, True, True),
    "verify if given": (True, True, False, False),
    "require and verify": (False, True, False, False),
}


class ClientCertTest(RootTest):

    def check(self, name):
        exp = self.serve(name)
        credentials = ["-u", f"alice:{ALICE_PASSWORD}"]
        offered = {"no certificate": [], "client": self.cert("client"),
                   "another CA's client": self.cert("other-client"),
                   "server's own": self.cert("server")}
        for (what, options), accepted in zip(offered.items(), CLIENT_AUTH_CASES[name]):
            for version in ("1.2", "1.3"):
                with self.subTest(certificate=what, tls=version):
                    got = self.curl(exp, *credentials, *options, "--tls-max", version,
                                    f"--tlsv{version}")
                    if accepted:
                        self.assert_ok(got, f"{name}: {what}")
                    else:
                        self.assert_refused_tls(got, f"{name}: {what}")
        return exp

    def test_request(self):
        self.check("request")

    def test_require_any(self):
        self.check("require any")

    def test_verify_if_given(self):
        self.check("verify if given")

    def test_require_and_verify(self):
        exp = self.check("require and verify")
        self.assert_unauthorized(self.curl(exp, *self.cert("client")),
                                 "right certificate, no password")
        self.assert_clean_exit(exp)

    def test_prometheus_scrapes_with_certificate_and_password(self):
        # Only the exporter's own series and the sums of hidden cgroups: what
        # other processes' cgroups are named cannot fail the scrape.
        exp = self.serve("require and verify", flags=["--cgroup.include=/ctcp-webconfig-none"])
        prom = harness.Prometheus(
            harness.require_tool("PROMETHEUS", "prometheus"), f"127.0.0.1:{exp.port}",
            job_options=("    scheme: https\n"
                         "    tls_config:\n"
                         f"      ca_file: {self.pki.path('ca.pem')}\n"
                         f"      cert_file: {self.pki.path('client.pem')}\n"
                         f"      key_file: {self.pki.path('client.key')}\n"
                         "    basic_auth:\n"
                         "      username: dave\n"
                         f"      password: {DAVE_PASSWORD}\n"))
        self.addCleanup(prom.close)
        prom.wait_ready()
        target = harness.poll(prom.target, lambda t: t is not None and t["health"] == "up",
                              timeout=15, interval=0.25)
        self.assertTrue(target and target["health"] == "up",
                        f"target {target}\n--- prometheus ---\n{prom.log()}"
                        f"\n--- exporter ---\n{exp.stderr()}")
        self.assertEqual(target["scrapeUrl"], f"https://127.0.0.1:{exp.port}/metrics")
        self.assertEqual(prom.scalar(f'up{{job="{harness.Prometheus.JOB}"}}'), 1)
        self.assertTrue(prom.scalar(f'count({{__name__="{OPENED}"}})') > 0)
        self.assert_clean_exit(exp)


if __name__ == "__main__":
    harness.main()
