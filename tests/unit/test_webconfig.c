/* SPDX-License-Identifier: GPL-2.0-only */
/* The web config parser: exporter-toolkit's examples, every setting, and one
 * clear line (with the line number) for each kind of bad file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web/webconfig.h"

/* Hashes from exporter-toolkit's docs and tests (alice's is for alice123). */
#define ALICE	   "$2y$12$1DpfPeqF9HzHJt.EWswy1exHluGfbhnn3yXhR7Xes6m3WJqFg0Wby"
#define DOCS_ALICE "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze"
#define DOCS_BOB   "$2y$10$hLqFl9jSjoAAy95Z/zw8Ye8wkdMBM8c5Bn1ptYqP/AXyV0.oy0S8m"
#define CERTS	   "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"

static char err[512];

static int parse(const char *text, struct webconfig *wc)
{
	err[0] = '\0';
	return webconfig_parse(text, strlen(text), wc, err, sizeof(err));
}

/* The text is refused with an error holding `want`; nothing is left to
 * free (the sanitizer run finds leaks). */
static void refused(const char *text, const char *want)
{
	struct webconfig wc;

	if (parse(text, &wc) == 0) {
		webconfig_free(&wc);
		fail_msg("accepted: %s", text);
	}
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s' for: %s", err, want, text);
	assert_null(strchr(err, '\n'));
	assert_null(wc.users);
	assert_null(wc.cert_file);
}

static void test_empty_files(void **state)
{
	static const char *const texts[] = {"", "\n", "# nothing\n", "---\n", "~\n", "{}\n"};
	struct webconfig wc;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(parse(texts[i], &wc), 0);
		assert_false(wc.tls);
		assert_int_equal(wc.nusers, 0);
		webconfig_free(&wc);
	}
}

/* docs/web-config.yml of exporter-toolkit 0.8, as promtool 2.42 takes it. */
static void test_docs_example(void **state)
{
	struct webconfig wc;

	assert_int_equal(parse("# TLS and basic authentication configuration example.\n"
			       "#\n"
			       "# Additionally, a certificate and a key file are needed.\n"
			       "tls_server_config:\n"
			       "  cert_file: server.crt\n"
			       "  key_file: server.key\n"
			       "\n"
			       "# Usernames and passwords required to connect to Prometheus.\n"
			       "# Passwords are hashed with bcrypt.\n"
			       "basic_auth_users:\n"
			       "  alice: " DOCS_ALICE "\n"
			       "  bob: " DOCS_BOB "\n",
			       &wc),
			 0);
	assert_true(wc.tls);
	assert_string_equal(wc.cert_file, "server.crt");
	assert_string_equal(wc.key_file, "server.key");
	assert_null(wc.client_ca_file);
	assert_int_equal(wc.client_auth, CLIENT_AUTH_NONE);
	assert_int_equal(wc.min_version, TLS_VERSION_12);
	assert_int_equal(wc.max_version, TLS_VERSION_13);
	assert_true(wc.prefer_server_cipher_suites);
	assert_int_equal(wc.nusers, 2);
	assert_string_equal(wc.users[0].name, "alice");
	assert_string_equal(wc.users[0].hash, DOCS_ALICE);
	assert_string_equal(wc.users[1].name, "bob");
	assert_string_equal(wc.users[1].hash, DOCS_BOB);
	assert_null(wc.cert_pem);
	webconfig_free(&wc);
}

/* exporter-toolkit's tls_config_users.good.yml: spaces before colons,
 * quoted paths, costs 10 to 18. */
static void test_toolkit_users_file(void **state)
{
	struct webconfig wc;

	assert_int_equal(
	    parse("tls_server_config :\n"
		  "  cert_file : \"server.crt\"\n"
		  "  key_file : \"server.key\"\n"
		  "basic_auth_users:\n"
		  "  alice: " ALICE "\n"
		  "  bob: $2y$18$4VeFDzXIoPHKnKTU3O3GH.N.vZu06CVqczYZ8WvfzrddFU6tGqjR.\n"
		  "  carol: $2y$10$qRTBuFoULoYNA7AQ/F3ck.trZBPyjV64.oA4ZsSBCIWvXuvQlQTuu\n"
		  "  dave: $2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq\n",
		  &wc),
	    0);
	assert_string_equal(wc.cert_file, "server.crt");
	assert_int_equal(wc.nusers, 4);
	assert_string_equal(wc.users[3].name, "dave");
	webconfig_free(&wc);
}

static void test_every_setting(void **state)
{
	struct webconfig wc;

	assert_int_equal(parse("tls_server_config:\n"
			       "  cert_file: /etc/x/server.crt\n"
			       "  key_file: 'server key.pem'\n"
			       "  client_ca_file: \"ca.pem\"\n"
			       "  client_auth_type: RequireAndVerifyClientCert\n"
			       "  min_version: TLS13\n"
			       "  max_version: TLS13\n"
			       "  prefer_server_cipher_suites: false\n"
			       "http_server_config:\n"
			       "  http2: false\n"
			       "basic_auth_users:\n"
			       "  \"\": " ALICE "\n"
			       "  b\xc3\xa9la: " ALICE "\n",
			       &wc),
			 0);
	assert_true(wc.tls);
	assert_string_equal(wc.cert_file, "/etc/x/server.crt");
	assert_string_equal(wc.key_file, "server key.pem");
	assert_string_equal(wc.client_ca_file, "ca.pem");
	assert_int_equal(wc.client_auth, CLIENT_AUTH_REQUIRE_VERIFY);
	assert_int_equal(wc.min_version, TLS_VERSION_13);
	assert_int_equal(wc.max_version, TLS_VERSION_13);
	assert_false(wc.prefer_server_cipher_suites);
	assert_int_equal(wc.nusers, 2);
	assert_string_equal(wc.users[0].name, "");
	assert_string_equal(wc.users[1].name, "b\xc3\xa9la");
	webconfig_free(&wc);
}

static void test_client_auth_types(void **state)
{
	static const struct {
		const char *name;
		enum client_auth type;
	} cases[] = {
	    {"NoClientCert", CLIENT_AUTH_NONE},
	    {"\"\"", CLIENT_AUTH_NONE},
	    {"RequestClientCert", CLIENT_AUTH_REQUEST},
	    {"RequireAnyClientCert", CLIENT_AUTH_REQUIRE_ANY},
	    {"RequireClientCert", CLIENT_AUTH_REQUIRE_ANY},
	    {"VerifyClientCertIfGiven", CLIENT_AUTH_VERIFY_IF_GIVEN},
	    {"RequireAndVerifyClientCert", CLIENT_AUTH_REQUIRE_VERIFY},
	};
	char text[256];
	struct webconfig wc;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool with_ca = cases[i].type != CLIENT_AUTH_NONE;

		snprintf(text, sizeof(text), CERTS "  client_auth_type: %s\n%s", cases[i].name,
			 with_ca ? "  client_ca_file: ca.pem\n" : "");
		assert_int_equal(parse(text, &wc), 0);
		assert_int_equal(wc.client_auth, cases[i].type);
		webconfig_free(&wc);
	}
	/* The CA is optional where certificates are not checked. */
	assert_int_equal(parse(CERTS "  client_auth_type: RequireAnyClientCert\n", &wc), 0);
	assert_null(wc.client_ca_file);
	webconfig_free(&wc);
}

static void test_versions(void **state)
{
	struct webconfig wc;

	assert_int_equal(parse(CERTS "  min_version: TLS10\n  max_version: TLS11\n", &wc), 0);
	assert_int_equal(wc.min_version, TLS_VERSION_10);
	assert_int_equal(wc.max_version, TLS_VERSION_11);
	webconfig_free(&wc);
	assert_int_equal(parse(CERTS "  min_version: ~\n  max_version:\n", &wc), 0);
	assert_int_equal(wc.min_version, TLS_VERSION_12);
	assert_int_equal(wc.max_version, TLS_VERSION_13);
	webconfig_free(&wc);
}

/* Null and empty settings are absent ones, as Go's zero values. */
static void test_nulls(void **state)
{
	struct webconfig wc;

	assert_int_equal(
	    parse("tls_server_config:\nbasic_auth_users:\nhttp_server_config: ~\n", &wc), 0);
	assert_false(wc.tls);
	webconfig_free(&wc);
	assert_int_equal(parse("tls_server_config:\n  cert_file: ~\n  key_file: ''\n"
			       "  client_auth_type: null\n",
			       &wc),
			 0);
	assert_false(wc.tls);
	assert_null(wc.cert_file);
	webconfig_free(&wc);
}

/* Flow style, anchors and aliases are YAML like any other. */
static void test_yaml_forms(void **state)
{
	struct webconfig wc;

	assert_int_equal(parse("{tls_server_config: {cert_file: a.pem, key_file: b.pem},\n"
			       " basic_auth_users: {alice: &h '" ALICE "', bob: *h}}\n",
			       &wc),
			 0);
	assert_true(wc.tls);
	assert_string_equal(wc.key_file, "b.pem");
	assert_int_equal(wc.nusers, 2);
	assert_string_equal(wc.users[1].hash, ALICE);
	webconfig_free(&wc);
	assert_int_equal(parse("%YAML 1.1\n---\nbasic_auth_users:\n  alice: " ALICE "\n...\n", &wc),
			 0);
	assert_int_equal(wc.nusers, 1);
	webconfig_free(&wc);
}

static void test_bad_yaml(void **state)
{
	refused("tls_server_config:\n\tcert_file: x\n", "line 2: bad YAML: found character");
	refused("basic_auth_users:\n  alice: 'open\n", "bad YAML");
	refused("a: [1, 2\n", "bad YAML");
	refused("basic_auth_users: {alice: x\n", "bad YAML");
	refused("basic_auth_users:\n  alice: *nowhere\n", "bad YAML: found undefined alias");
	refused("basic_auth_users:\n  al\xff: x\n", "bad YAML: invalid");
	refused("- tls_server_config\n", "line 1: the file: want a map of settings");
	refused("hello\n", "the file: want a map of settings");
	refused("basic_auth_users:\n---\nfoo: 1\n", "line 3: a second YAML document");
}

static void test_nul_byte(void **state)
{
	static const char text[] = "basic_auth_users:\n  alice\0: x\n";
	struct webconfig wc;

	assert_int_equal(webconfig_parse(text, sizeof(text) - 1, &wc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad YAML"));
	/* Written as an escape in a quoted string. */
	refused("basic_auth_users:\n  \"al\\0ice\": x\n", "line 2: a string holds a NUL");
	refused(CERTS "  client_ca_file: \"ca\\0.pem\"\n", "line 4: a string holds a NUL");
}

static void test_unknown_keys(void **state)
{
	refused("foo: 1\n", "line 1: unknown key 'foo'");
	refused(CERTS "  cert_path: x\n", "line 4: unknown key 'cert_path' in tls_server_config");
	refused("http_server_config:\n  http3: true\n",
		"line 2: unknown key 'http3' in http_server_config");
	/* Case matters, as in Go's yaml. */
	refused("TLS_server_config:\n", "unknown key 'TLS_server_config'");
	/* What is quoted from the file stays on one line, and short. */
	refused("\"a\\nb\\x01\": 1\n", "unknown key 'a?b?'");
	refused("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1\n",
		"unknown key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
	refused("[a]: 1\n", "line 1: top: keys must be strings");
	refused("tls_server_config:\n  ? {a: 1}\n  : x\n",
		"tls_server_config: keys must be strings");
}

/* exporter-toolkit keys the exporter does not implement are named. */
static void test_unsupported_keys(void **state)
{
	refused(CERTS "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
		"line 4: tls_server_config.cipher_suites is not supported by cgroup_tcp_exporter");
	refused(CERTS "  curve_preferences: [X25519]\n",
		"tls_server_config.curve_preferences is not supported");
	refused(CERTS "  client_allowed_sans: [a.example]\n",
		"tls_server_config.client_allowed_sans is not supported");
	refused("tls_server_config:\n  cert: |\n    ---BEGIN\n",
		"tls_server_config.cert is not supported by cgroup_tcp_exporter: put the "
		"certificate in a file named by cert_file");
	refused("tls_server_config:\n  key: x\n", "tls_server_config.key is not supported");
	refused("tls_server_config:\n  client_ca: x\n",
		"tls_server_config.client_ca is not supported");
	refused("http_server_config:\n  headers:\n    X-Frame-Options: deny\n",
		"line 2: http_server_config.headers is not supported");
	refused("rate_limit:\n  burst: 1\n", "line 1: rate_limit is not supported");
	/* exporter-toolkit's newest docs example. */
	refused(CERTS "basic_auth_users:\n  alice: " DOCS_ALICE "\n"
		      "basic_auth_excluded_paths:\n- /-/healthy\n",
		"line 6: basic_auth_excluded_paths is not supported");
}

static void test_repeated_keys(void **state)
{
	refused("tls_server_config:\ntls_server_config:\n",
		"line 2: tls_server_config is set twice");
	refused(CERTS "  cert_file: y\n", "line 4: tls_server_config.cert_file is set twice");
	refused("basic_auth_users:\n  alice: " ALICE "\n  alice: " ALICE "\n",
		"line 3: basic_auth_users: user 'alice' is set twice");
}

static void test_wrong_types(void **state)
{
	refused("tls_server_config: [a]\n", "line 1: tls_server_config: want a map of settings");
	refused("tls_server_config: yes\n", "tls_server_config: want a map of settings");
	refused("tls_server_config:\n  cert_file: [a]\n",
		"line 2: tls_server_config.cert_file: want a string");
	refused("tls_server_config:\n  key_file: {a: b}\n", "tls_server_config.key_file: want");
	refused("basic_auth_users:\n  - alice\n",
		"line 2: basic_auth_users: want a map of user names to bcrypt hashes");
	refused("basic_auth_users: alice\n", "basic_auth_users: want a map");
	refused("basic_auth_users:\n  alice: [x]\n",
		"basic_auth_users: the password of 'alice' must be a bcrypt hash");
	refused("basic_auth_users:\n  [alice]: x\n", "basic_auth_users: user names must be");
	refused(CERTS "  prefer_server_cipher_suites: maybe\n",
		"tls_server_config.prefer_server_cipher_suites: want true or false, not 'maybe'");
	refused("http_server_config:\n  http2: 1\n", "http_server_config.http2: want true or");
	refused("http_server_config: [http2]\n", "http_server_config: want a map");
}

static void test_bad_hashes(void **state)
{
	static const struct {
		const char *hash, *problem;
	} cases[] = {
	    {"nothash", "is not a bcrypt hash"},
	    {"''", "is not a bcrypt hash"},
	    {"~", "is not a bcrypt hash"},
	    {"plain-password-123", "is not a bcrypt hash"},
	    {"$1$abc$def", "is not a bcrypt hash"},
	    {"$6$rounds=5000$salt$hash", "is not a bcrypt hash"},
	    {"$2x$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze", "$2x$"},
	    {"$2c$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze", "variant other"},
	    {"$2y$1$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPzeX", "two-digit"},
	    {"$2y$03$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze", "cost outside 04"},
	    {"$2y$32$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze", "cost outside 04"},
	    {"$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPz", "not a whole"},
	    {"$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPzeX", "not a whole"},
	    {"$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJP!e", "not a whole"},
	    {"$2y$10$", "not a whole"},
	};
	char text[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "basic_auth_users:\n  bob: %s\n", cases[i].hash);
		refused(text, "line 2: basic_auth_users: the password of 'bob' ");
		refused(text, cases[i].problem);
	}
	refused("basic_auth_users:\n  \"a:b\": " ALICE "\n",
		"basic_auth_users: user 'a:b' has a ':', so could never log in");
}

static void test_tls_rules(void **state)
{
	refused("tls_server_config:\n  cert_file: a\n",
		"line 2: tls_server_config: key_file is missing");
	refused("tls_server_config:\n  key_file: a\n", "tls_server_config: cert_file is missing");
	refused("tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n",
		"cert_file is missing");
	refused("tls_server_config:\n  min_version: TLS13\n", "cert_file is missing");
	refused(CERTS "  client_auth_type: Foo\n",
		"line 4: tls_server_config.client_auth_type: unknown type 'Foo'");
	refused(CERTS "  client_auth_type: requireandverifyclientcert\n", "unknown type");
	refused(CERTS "  client_ca_file: ca.pem\n",
		"client_ca_file is set but client_auth_type is NoClientCert");
	refused(CERTS "  client_auth_type: RequireAndVerifyClientCert\n",
		"client_auth_type RequireAndVerifyClientCert needs client_ca_file");
	refused(CERTS "  client_auth_type: VerifyClientCertIfGiven\n",
		"client_auth_type VerifyClientCertIfGiven needs client_ca_file");
	refused(CERTS "  min_version: TLS14\n",
		"line 4: tls_server_config.min_version: unknown TLS version 'TLS14'");
	refused(CERTS "  max_version: tls12\n", "max_version: unknown TLS version 'tls12'");
	refused(CERTS "  min_version: TLS13\n  max_version: TLS12\n",
		"min_version TLS13 is above max_version TLS12");
}

static void test_small_error_buffer(void **state)
{
	char small[8];
	struct webconfig wc;

	memset(small, 'x', sizeof(small));
	assert_int_equal(webconfig_parse("foo: 1\n", 7, &wc, small, sizeof(small)), -1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_too_big(void **state)
{
	size_t len = (1 << 20) + 1;
	char *text = malloc(len);
	struct webconfig wc;

	assert_non_null(text);
	memset(text, '#', len);
	assert_int_equal(webconfig_parse(text, len, &wc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a web config file"));
	free(text);
}

/* Flow collections nested deeper than 64 are refused before libyaml, which
 * takes seconds on thousands; brackets in quotes and comments are text. */
static void test_nesting(void **state)
{
	size_t n = 20000;
	char *deep = malloc(n + 1);
	struct webconfig wc;
	char at_64[160], at_65[1024];

	assert_non_null(deep);
	memset(deep, '[', n);
	deep[n] = '\0';
	refused(deep, "line 1: '[' and '{' nested deeper than 64: not a web config file");
	memset(deep, '{', n);
	refused(deep, "nested deeper than 64");
	free(deep);
	/* 64 deep reaches the YAML checks. */
	snprintf(at_64, sizeof(at_64), "x: %.64s%.64s\n",
		 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
		 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	refused(at_64, "unknown key 'x'");
	snprintf(at_65, sizeof(at_65), "\n\nx: {%s", at_64 + 3);
	refused(at_65, "line 3: '[' and '{' nested deeper than 64");
	/* Closed ones do not add up. */
	refused("x: [[[]]]\ny: [[[]]]\n", "unknown key 'x'");
	/* Quoted and commented brackets are text. */
	snprintf(at_65, sizeof(at_65), "# %s\nx: '%s'\ny: \"\\\"%s\"\n", at_64 + 3, at_64 + 3,
		 at_64 + 3);
	refused(at_65, "unknown key 'x'");
	assert_int_equal(parse("basic_auth_users:\n  'a[b': " DOCS_BOB "\n", &wc), 0);
	webconfig_free(&wc);
}

/* webconfig_load: the file and the files it names. */
static char dir[] = "/tmp/test_webconfig.XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int load(const char *name, struct webconfig *wc)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err[0] = '\0';
	return webconfig_load(path, wc, err, sizeof(err));
}

static void test_load(void **state)
{
	char want[512];
	struct webconfig wc;

	write_file("users.yml", "basic_auth_users:\n  alice: " ALICE "\n");
	assert_int_equal(load("users.yml", &wc), 0);
	assert_int_equal(wc.nusers, 1);
	assert_false(wc.tls);
	webconfig_free(&wc);

	assert_int_equal(load("missing.yml", &wc), -1);
	snprintf(want, sizeof(want), "web config file %s/missing.yml: No such file or directory",
		 dir);
	assert_string_equal(err, want);

	assert_int_equal(load(".", &wc), -1);
	assert_non_null(strstr(err, "not a regular file"));

	write_file("bad.yml", "basic_auth_users:\n  alice: x\n");
	assert_int_equal(load("bad.yml", &wc), -1);
	snprintf(want, sizeof(want), "web config file %s/bad.yml: line 2: basic_auth_users", dir);
	assert_memory_equal(err, want, strlen(want));

	/* Relative files are found next to the web config file. */
	write_file("tls.yml", CERTS);
	assert_int_equal(load("tls.yml", &wc), -1);
	snprintf(want, sizeof(want),
		 "web config file %s/tls.yml: cannot read tls_server_config.cert_file "
		 "%s/server.crt: No such file or directory",
		 dir, dir);
	assert_string_equal(err, want);

	write_file("server.crt", "not a certificate\n");
	write_file("server.key", "not a key\n");
	assert_int_equal(load("tls.yml", &wc), -1);
	snprintf(want, sizeof(want), "tls_server_config.cert_file %s/server.crt holds no PEM", dir);
	assert_non_null(strstr(err, want));
}

static int make_dir(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	static const char *const names[] = {"users.yml", "bad.yml", "tls.yml", "server.crt",
					    "server.key"};
	char path[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_files),
	    cmocka_unit_test(test_docs_example),
	    cmocka_unit_test(test_toolkit_users_file),
	    cmocka_unit_test(test_every_setting),
	    cmocka_unit_test(test_client_auth_types),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_nulls),
	    cmocka_unit_test(test_yaml_forms),
	    cmocka_unit_test(test_bad_yaml),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_unsupported_keys),
	    cmocka_unit_test(test_repeated_keys),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_bad_hashes),
	    cmocka_unit_test(test_tls_rules),
	    cmocka_unit_test(test_small_error_buffer),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_nesting),
	    cmocka_unit_test_setup_teardown(test_load, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
