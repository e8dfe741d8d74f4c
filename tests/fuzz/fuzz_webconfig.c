/* SPDX-License-Identifier: GPL-2.0-only */
/* The --web.config.file parser: any text is refused with one line, or gives
 * a config that keeps the rules (TLS only with a certificate and a key, a CA
 * wherever client certificates are checked, whole bcrypt hashes, distinct
 * user names without ':'), and that config written out again as YAML by
 * libyaml's emitter reads back the same. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "input.h"
#include "web/webconfig.h"

static void check_rules(const struct webconfig *wc)
{
	if (wc->tls) {
		fuzz_assert(wc->cert_file && wc->key_file, "TLS without a certificate and key");
		fuzz_assert(wc->min_version <= wc->max_version, "min_version above max_version");
		fuzz_assert(wc->client_ca_file || (wc->client_auth != CLIENT_AUTH_VERIFY_IF_GIVEN &&
						   wc->client_auth != CLIENT_AUTH_REQUIRE_VERIFY),
			    "client certificates checked without a CA");
		fuzz_assert(!wc->client_ca_file || wc->client_auth != CLIENT_AUTH_NONE,
			    "a CA with NoClientCert");
	} else {
		fuzz_assert(
		    !wc->cert_file && !wc->key_file && !wc->client_ca_file &&
			wc->client_auth == CLIENT_AUTH_NONE && wc->min_version == TLS_VERSION_12 &&
			wc->max_version == TLS_VERSION_13 && wc->prefer_server_cipher_suites,
		    "TLS settings without TLS");
	}
	for (size_t i = 0; i < wc->nusers; i++) {
		const char *hash = wc->users[i].hash;

		fuzz_assert(!strchr(wc->users[i].name, ':'), "user '%s' has a ':'",
			    wc->users[i].name);
		fuzz_assert(strlen(hash) == 60 && !strncmp(hash, "$2", 2) && strchr("aby", hash[2]),
			    "hash '%s'", hash);
		for (size_t j = 0; j < i; j++)
			fuzz_assert(strcmp(wc->users[i].name, wc->users[j].name), "user '%s' twice",
				    wc->users[i].name);
	}
}

struct text {
	char *data;
	size_t len;
};

static int append(void *cls, unsigned char *buffer, size_t size)
{
	struct text *t = cls;

	t->data = realloc(t->data, t->len + size + 1);
	if (!t->data)
		abort();
	memcpy(t->data + t->len, buffer, size);
	t->len += size;
	t->data[t->len] = '\0';
	return 1;
}

/* Every scalar double-quoted: a plain "~" would read back as null. */
static void scalar(yaml_emitter_t *e, const char *value)
{
	yaml_event_t event;

	if (!yaml_scalar_event_initialize(&event, NULL, NULL, (yaml_char_t *)value,
					  (int)strlen(value), 1, 1,
					  YAML_DOUBLE_QUOTED_SCALAR_STYLE) ||
	    !yaml_emitter_emit(e, &event))
		abort();
}

static void mapping(yaml_emitter_t *e, bool start)
{
	yaml_event_t event;

	if (!(start ? yaml_mapping_start_event_initialize(&event, NULL, NULL, 1,
							  YAML_BLOCK_MAPPING_STYLE)
		    : yaml_mapping_end_event_initialize(&event)) ||
	    !yaml_emitter_emit(e, &event))
		abort();
}

static void setting(yaml_emitter_t *e, const char *key, const char *value)
{
	if (value) {
		scalar(e, key);
		scalar(e, value);
	}
}

static struct text write_out(const struct webconfig *wc)
{
	static const char *const auth[] = {
	    "NoClientCert",
	    "RequestClientCert",
	    "RequireAnyClientCert",
	    "VerifyClientCertIfGiven",
	    "RequireAndVerifyClientCert",
	};
	static const char *const versions[] = {"", "TLS10", "TLS11", "TLS12", "TLS13"};
	struct text t = {NULL, 0};
	yaml_emitter_t e;
	yaml_event_t event;

	if (!yaml_emitter_initialize(&e))
		abort();
	yaml_emitter_set_output(&e, append, &t);
	yaml_emitter_set_unicode(&e, 1);
	if (!yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(&e, &event) ||
	    !yaml_document_start_event_initialize(&event, NULL, NULL, NULL, 1) ||
	    !yaml_emitter_emit(&e, &event))
		abort();
	mapping(&e, true);
	if (wc->tls) {
		scalar(&e, "tls_server_config");
		mapping(&e, true);
		setting(&e, "cert_file", wc->cert_file);
		setting(&e, "key_file", wc->key_file);
		setting(&e, "client_ca_file", wc->client_ca_file);
		setting(&e, "client_auth_type", auth[wc->client_auth]);
		setting(&e, "min_version", versions[wc->min_version]);
		setting(&e, "max_version", versions[wc->max_version]);
		setting(&e, "prefer_server_cipher_suites",
			wc->prefer_server_cipher_suites ? "true" : "false");
		mapping(&e, false);
	}
	if (wc->nusers) {
		scalar(&e, "basic_auth_users");
		mapping(&e, true);
		for (size_t i = 0; i < wc->nusers; i++)
			setting(&e, wc->users[i].name, wc->users[i].hash);
		mapping(&e, false);
	}
	mapping(&e, false);
	if (!yaml_document_end_event_initialize(&event, 1) || !yaml_emitter_emit(&e, &event) ||
	    !yaml_stream_end_event_initialize(&event) || !yaml_emitter_emit(&e, &event))
		abort();
	yaml_emitter_delete(&e);
	return t;
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void check_round_trip(const struct webconfig *wc)
{
	struct text t = write_out(wc);
	struct webconfig again;
	char err[512] = "";

	fuzz_assert(!webconfig_parse(t.data, t.len, &again, err, sizeof(err)),
		    "written out, the config is refused: %s\n%s", err, t.data);
	fuzz_assert(again.tls == wc->tls && same_string(again.cert_file, wc->cert_file) &&
			same_string(again.key_file, wc->key_file) &&
			same_string(again.client_ca_file, wc->client_ca_file) &&
			again.client_auth == wc->client_auth &&
			again.min_version == wc->min_version &&
			again.max_version == wc->max_version &&
			again.prefer_server_cipher_suites == wc->prefer_server_cipher_suites &&
			again.nusers == wc->nusers,
		    "written out, the config reads back differently:\n%s", t.data);
	for (size_t i = 0; i < wc->nusers; i++)
		fuzz_assert(!strcmp(again.users[i].name, wc->users[i].name) &&
				!strcmp(again.users[i].hash, wc->users[i].hash),
			    "user '%s' reads back differently:\n%s", wc->users[i].name, t.data);
	webconfig_free(&again);
	free(t.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webconfig wc;
	char err[512] = "";

	if (webconfig_parse((const char *)data, size, &wc, err, sizeof(err))) {
		fuzz_assert(err[0] && !strchr(err, '\n'), "refused without one line: '%s'", err);
		fuzz_assert(!wc.users && !wc.cert_file && !wc.key_file && !wc.client_ca_file,
			    "a refused config holds something");
		return 0;
	}
	check_rules(&wc);
	check_round_trip(&wc);
	webconfig_free(&wc);
	return 0;
}
