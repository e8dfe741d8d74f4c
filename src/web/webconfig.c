/* SPDX-License-Identifier: GPL-2.0-only */
/* Parses the --web.config.file with libyaml, as strictly as exporter-toolkit
 * does (unknown or repeated keys are errors). Keys of exporter-toolkit that
 * the exporter does not implement are refused by name rather than ignored,
 * so a file never means less than it says. */
#include "webconfig.h"

#include <crypt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "yaml_error.h"

/* Keys and values quoted in errors are cut to this many bytes. */
#define QUOTE_MAX 48

struct parser {
	yaml_document_t *doc;
	struct webconfig *out;
	/* tls_server_config, and whether it sets anything. */
	const yaml_node_t *tls_node;
	bool tls_set;
	char *err;
	size_t errlen;
};

/* One error line, "line N: ..." when the node is known. */
static int fail(struct parser *p, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	yaml_error(p->err, p->errlen, node, fmt, ap);
	va_end(ap);
	return -1;
}

/* Text from the file, made safe for a one-line error: control characters
 * become '?', and long text is cut. */
static const char *quoted(const char *s, char out[QUOTE_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] && i < QUOTE_MAX; i++)
		out[i] = (unsigned char)s[i] < ' ' || s[i] == 0x7f ? '?' : s[i];
	strcpy(out + i, s[i] ? "..." : "");
	return out;
}

static const char *scalar_text(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* YAML's null: ~, null or nothing, unquoted. */
static bool is_null(const yaml_node_t *node)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(scalar_text(node), nulls[i]))
			return true;
	return false;
}

/* A string setting: NULL for null or empty, as Go's zero value. */
static int get_string(struct parser *p, const yaml_node_t *node, const char *name, char **out)
{
	if (node->type != YAML_SCALAR_NODE)
		return fail(p, node, "%s: want a string", name);
	free(*out);
	*out = NULL;
	if (is_null(node) || !*scalar_text(node))
		return 0;
	*out = strdup(scalar_text(node));
	return *out ? 0 : fail(p, node, "out of memory");
}

/* YAML 1.1 booleans, as Go's yaml.v2 reads them. */
static int get_bool(struct parser *p, const yaml_node_t *node, const char *name, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
					  "YES",  "on",	  "On",	  "ON"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No",
					 "NO",	  "off",   "Off",   "OFF"};
	char q[QUOTE_MAX + 4];

	if (is_null(node))
		return 0;
	if (node->type == YAML_SCALAR_NODE) {
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (!strcmp(scalar_text(node), yes[i]) ||
			    !strcmp(scalar_text(node), no[i])) {
				*out = !strcmp(scalar_text(node), yes[i]);
				return 0;
			}
		}
	}
	return fail(p, node, "%s: want true or false, not '%s'", name,
		    node->type == YAML_SCALAR_NODE ? quoted(scalar_text(node), q)
						   : "a list or map");
}

static int get_tls_version(struct parser *p, const yaml_node_t *node, const char *name,
			   enum tls_version *out)
{
	static const char *const names[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
	char q[QUOTE_MAX + 4];

	if (is_null(node))
		return 0;
	if (node->type == YAML_SCALAR_NODE) {
		for (int i = 0; i < 4; i++) {
			if (!strcmp(scalar_text(node), names[i])) {
				*out = (enum tls_version)(TLS_VERSION_10 + i);
				return 0;
			}
		}
	}
	return fail(
	    p, node, "%s: unknown TLS version '%s': want TLS10, TLS11, TLS12 or TLS13", name,
	    node->type == YAML_SCALAR_NODE ? quoted(scalar_text(node), q) : "a list or map");
}

static int get_client_auth(struct parser *p, const yaml_node_t *node, enum client_auth *out)
{
	static const struct {
		const char *name;
		enum client_auth value;
	} types[] = {
	    {"NoClientCert", CLIENT_AUTH_NONE},
	    {"RequestClientCert", CLIENT_AUTH_REQUEST},
	    {"RequireAnyClientCert", CLIENT_AUTH_REQUIRE_ANY},
	    {"RequireClientCert", CLIENT_AUTH_REQUIRE_ANY}, /* exporter-toolkit's old name */
	    {"VerifyClientCertIfGiven", CLIENT_AUTH_VERIFY_IF_GIVEN},
	    {"RequireAndVerifyClientCert", CLIENT_AUTH_REQUIRE_VERIFY},
	};
	char q[QUOTE_MAX + 4];

	if (node->type == YAML_SCALAR_NODE) {
		if (is_null(node) || !*scalar_text(node))
			return 0;
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			if (!strcmp(scalar_text(node), types[i].name)) {
				*out = types[i].value;
				return 0;
			}
		}
	}
	return fail(p, node,
		    "tls_server_config.client_auth_type: unknown type '%s': want NoClientCert, "
		    "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or "
		    "RequireAndVerifyClientCert",
		    node->type == YAML_SCALAR_NODE ? quoted(scalar_text(node), q)
						   : "a list or map");
}

/* The exporter-toolkit keys the exporter does not implement, and why. */
static const struct {
	const char *section, *key, *advice;
} unsupported[] = {
    {"tls_server_config", "cert", "put the certificate in a file named by cert_file"},
    {"tls_server_config", "key", "put the key in a file named by key_file"},
    {"tls_server_config", "client_ca", "put the CA in a file named by client_ca_file"},
    {"tls_server_config", "cipher_suites", "remove it: GnuTLS's default suites are used"},
    {"tls_server_config", "curve_preferences", "remove it: GnuTLS's default groups are used"},
    {"tls_server_config", "client_allowed_sans",
     "remove it and give these clients certificates from their own CA"},
    {"http_server_config", "headers", "remove it, or add headers in a proxy"},
    {"", "rate_limit", "remove it: --web.max-requests bounds concurrent scrapes"},
    {"", "basic_auth_excluded_paths", "remove it: every path needs the password"},
};

/* Calls one handler per key of a mapping; keys are scalars, each at most
 * once. `section` names the mapping in errors ("" at the top). */
typedef int (*key_handler)(struct parser *p, const char *key, const yaml_node_t *value);

static int walk_mapping(struct parser *p, const yaml_node_t *map, const char *section,
			const char *const *keys, size_t nkeys, key_handler handle)
{
	unsigned int seen = 0;
	char q[QUOTE_MAX + 4];

	if (is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "%s: want a map of settings%s", *section ? section : "the file",
			    *section ? "" : " (tls_server_config, basic_auth_users...)");
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const yaml_node_t *key = yaml_document_get_node(p->doc, pair->key);
		const yaml_node_t *value = yaml_document_get_node(p->doc, pair->value);
		size_t i;

		if (key->type != YAML_SCALAR_NODE)
			return fail(p, key, "%s: keys must be strings", *section ? section : "top");
		for (i = 0; i < nkeys && strcmp(keys[i], scalar_text(key)); i++)
			;
		if (i == nkeys) {
			for (size_t u = 0; u < sizeof(unsupported) / sizeof(unsupported[0]); u++)
				if (!strcmp(unsupported[u].section, section) &&
				    !strcmp(unsupported[u].key, scalar_text(key)))
					return fail(
					    p, key,
					    "%s%s%s is not supported by cgroup_tcp_exporter: %s",
					    section, *section ? "." : "", unsupported[u].key,
					    unsupported[u].advice);
			return fail(p, key, "unknown key '%s'%s%s", quoted(scalar_text(key), q),
				    *section ? " in " : "", section);
		}
		if (seen & (1u << i))
			return fail(p, key, "%s%s%s is set twice", section, *section ? "." : "",
				    keys[i]);
		seen |= 1u << i;
		if (handle(p, keys[i], value))
			return -1;
	}
	return 0;
}

static int tls_key(struct parser *p, const char *key, const yaml_node_t *value)
{
	struct webconfig *wc = p->out;

	/* A key set to null or "" is as good as absent, as in Go. */
	if (!is_null(value) && !(value->type == YAML_SCALAR_NODE && !*scalar_text(value)))
		p->tls_set = true;
	if (!strcmp(key, "cert_file"))
		return get_string(p, value, "tls_server_config.cert_file", &wc->cert_file);
	if (!strcmp(key, "key_file"))
		return get_string(p, value, "tls_server_config.key_file", &wc->key_file);
	if (!strcmp(key, "client_ca_file"))
		return get_string(p, value, "tls_server_config.client_ca_file",
				  &wc->client_ca_file);
	if (!strcmp(key, "client_auth_type"))
		return get_client_auth(p, value, &wc->client_auth);
	if (!strcmp(key, "min_version"))
		return get_tls_version(p, value, "tls_server_config.min_version", &wc->min_version);
	if (!strcmp(key, "max_version"))
		return get_tls_version(p, value, "tls_server_config.max_version", &wc->max_version);
	return get_bool(p, value, "tls_server_config.prefer_server_cipher_suites",
			&wc->prefer_server_cipher_suites);
}

static int http_key(struct parser *p, const char *key, const yaml_node_t *value)
{
	bool http2;

	/* Accepted for compatibility: the exporter speaks HTTP/1.1 only, as
	 * exporter-toolkit does without TLS. */
	return get_bool(p, value, "http_server_config.http2", &http2);
}

/* Go's bcrypt format, for the variants libxcrypt computes as Go does:
 * $2a$, $2b$ or $2y$, a two-digit cost from 04 to 31, then 53 characters
 * of bcrypt's base64 (22 of salt, 31 of hash). */
static const char *bcrypt_problem(const char *hash)
{
	static const char alphabet[] =
	    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	int cost;

	if (strncmp(hash, "$2", 2) || !hash[2] || hash[3] != '$')
		return "is not a bcrypt hash (want $2y$, $2b$ or $2a$ and 56 more characters, "
		       "as htpasswd -nBC 10 makes)";
	if (!strchr("aby", hash[2]))
		return hash[2] == 'x' ? "is a $2x$ bcrypt hash (of an old bug): make a new one"
				      : "is a bcrypt variant other than $2y$, $2b$ or $2a$";
	if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' || hash[6] != '$')
		return "has no two-digit bcrypt cost after the $2?$";
	cost = (hash[4] - '0') * 10 + (hash[5] - '0');
	if (cost < 4 || cost > 31)
		return "has a bcrypt cost outside 04 to 31";
	if (strlen(hash) != 60 || strspn(hash + 7, alphabet) != 53)
		return "is not a whole bcrypt hash (want 60 characters of [./A-Za-z0-9] after "
		       "the cost)";
	if (crypt_checksalt(hash) != CRYPT_SALT_OK)
		return "is a bcrypt hash this system's crypt() does not take";
	return NULL;
}

static int users_key(struct parser *p, const char *unused, const yaml_node_t *map)
{
	struct webconfig *wc = p->out;
	char q[QUOTE_MAX + 4];

	if (is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "basic_auth_users: want a map of user names to bcrypt hashes");
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const yaml_node_t *key = yaml_document_get_node(p->doc, pair->key);
		const yaml_node_t *value = yaml_document_get_node(p->doc, pair->value);
		struct webconfig_user *users, *user;
		const char *name, *problem;

		if (key->type != YAML_SCALAR_NODE)
			return fail(p, key, "basic_auth_users: user names must be strings");
		name = scalar_text(key);
		/* Basic authentication ends the user name at the first ':'. */
		if (strchr(name, ':'))
			return fail(p, key,
				    "basic_auth_users: user '%s' has a ':', so could never log in",
				    quoted(name, q));
		for (size_t i = 0; i < wc->nusers; i++)
			if (!strcmp(wc->users[i].name, name))
				return fail(p, key, "basic_auth_users: user '%s' is set twice",
					    quoted(name, q));
		if (value->type != YAML_SCALAR_NODE)
			return fail(p, value,
				    "basic_auth_users: the password of '%s' must be a bcrypt hash",
				    quoted(name, q));
		problem = bcrypt_problem(scalar_text(value));
		if (problem)
			return fail(p, value, "basic_auth_users: the password of '%s' %s",
				    quoted(name, q), problem);
		users = realloc(wc->users, (wc->nusers + 1) * sizeof(*users));
		if (!users)
			return fail(p, key, "out of memory");
		wc->users = users;
		user = &users[wc->nusers];
		user->name = strdup(name);
		user->hash = strdup(scalar_text(value));
		wc->nusers++;
		if (!user->name || !user->hash)
			return fail(p, key, "out of memory");
	}
	return 0;
}

static const char *const tls_keys[] = {
    "cert_file",
    "key_file",
    "client_ca_file",
    "client_auth_type",
    "min_version",
    "max_version",
    "prefer_server_cipher_suites",
};
static const char *const http_keys[] = {"http2"};
static const char *const top_keys[] = {"tls_server_config", "http_server_config",
				       "basic_auth_users"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int top_key(struct parser *p, const char *key, const yaml_node_t *value)
{
	if (!strcmp(key, "tls_server_config")) {
		p->tls_node = value;
		return walk_mapping(p, value, key, tls_keys, COUNT(tls_keys), tls_key);
	}
	if (!strcmp(key, "http_server_config"))
		return walk_mapping(p, value, key, http_keys, COUNT(http_keys), http_key);
	return users_key(p, key, value);
}

static const char *client_auth_name(enum client_auth type)
{
	static const char *const names[] = {
	    "NoClientCert",
	    "RequestClientCert",
	    "RequireAnyClientCert",
	    "VerifyClientCertIfGiven",
	    "RequireAndVerifyClientCert",
	};

	return names[type];
}

/* The rules that span tls_server_config's keys. Unlike exporter-toolkit,
 * TLS settings without a certificate are an error rather than plain HTTP,
 * and verifying client certificates needs a CA file rather than taking
 * the system's CAs. */
static int check_tls(struct parser *p)
{
	struct webconfig *wc = p->out;
	const yaml_node_t *node = p->tls_node;
	enum client_auth auth = wc->client_auth;

	if (!p->tls_set)
		return 0;
	if (!wc->cert_file || !wc->key_file)
		return fail(p, node,
			    "tls_server_config: %s is missing (TLS needs both cert_file "
			    "and key_file)",
			    wc->cert_file ? "key_file" : "cert_file");
	if (wc->client_ca_file && auth == CLIENT_AUTH_NONE)
		return fail(p, node,
			    "tls_server_config: client_ca_file is set but client_auth_type is "
			    "NoClientCert: set client_auth_type to RequireAndVerifyClientCert");
	if (!wc->client_ca_file &&
	    (auth == CLIENT_AUTH_VERIFY_IF_GIVEN || auth == CLIENT_AUTH_REQUIRE_VERIFY))
		return fail(p, node,
			    "tls_server_config: client_auth_type %s needs client_ca_file, the CA "
			    "that client certificates must come from",
			    client_auth_name(auth));
	if (wc->min_version > wc->max_version)
		return fail(p, node,
			    "tls_server_config: min_version TLS1%d is above max_version "
			    "TLS1%d",
			    wc->min_version - TLS_VERSION_10, wc->max_version - TLS_VERSION_10);
	wc->tls = true;
	return 0;
}

/* libyaml's scanner rechecks every open flow level at each token: 20,000
 * nested '[' take seconds. A first pass counts the nesting, and more than
 * any web config needs is refused before libyaml sees it. Brackets in
 * comments and quoted strings do not count; in plain and block scalars
 * they do, which only ever refuses a file holding 65 unclosed ones. A
 * quote opens a string only where a node can start (as in YAML). */
#define MAX_NESTING 64

static int check_nesting(struct parser *p, const char *text, size_t len)
{
	size_t line = 1;
	int depth = 0;
	char quote = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i], prev = i ? text[i - 1] : '\n';

		if (c == '\n')
			line++;
		if (quote) {
			if (quote == '"' && c == '\\' && i + 1 < len)
				line += text[++i] == '\n';
			else if (c == quote)
				quote = 0;
		} else if (c == '#' && strchr(" \t\r\n", prev)) {
			while (i + 1 < len && text[i + 1] != '\n')
				i++;
		} else if ((c == '"' || c == '\'') && strchr(" \t\r\n[{,:-?", prev)) {
			quote = c;
		} else if ((c == '[' || c == '{') && ++depth > MAX_NESTING) {
			snprintf(
			    p->err, p->errlen,
			    "line %zu: '[' and '{' nested deeper than %d: not a web config file",
			    line, MAX_NESTING);
			return -1;
		} else if ((c == ']' || c == '}') && depth) {
			depth--;
		}
	}
	return 0;
}

static int yaml_problem(struct parser *p, const yaml_parser_t *y)
{
	if (y->error == YAML_MEMORY_ERROR)
		return fail(p, NULL, "out of memory");
	snprintf(p->err, p->errlen, "line %zu: bad YAML: %s%s%s", y->problem_mark.line + 1,
		 y->problem ? y->problem : "cannot parse", y->context ? " " : "",
		 y->context ? y->context : "");
	return -1;
}

/* "\0" in a quoted string would cut it short here: refused anywhere. */
static int check_no_nul(struct parser *p)
{
	for (const yaml_node_t *node = p->doc->nodes.start; node < p->doc->nodes.top; node++)
		if (node->type == YAML_SCALAR_NODE &&
		    strlen(scalar_text(node)) != node->data.scalar.length)
			return fail(p, node, "a string holds a NUL character");
	return 0;
}

/* exporter-toolkit reads the first document only; a second is refused, as
 * what it says would be ignored. */
static int check_one_document(struct parser *p, yaml_parser_t *y)
{
	yaml_document_t next;
	const yaml_node_t *root;
	int rc = 0;

	if (!yaml_parser_load(y, &next))
		return yaml_problem(p, y);
	root = yaml_document_get_root_node(&next);
	if (root)
		rc = fail(p, root, "a second YAML document: the file must hold one");
	yaml_document_delete(&next);
	return rc;
}

int webconfig_parse(const char *text, size_t len, struct webconfig *out, char *err, size_t errlen)
{
	yaml_parser_t y;
	yaml_document_t doc;
	const yaml_node_t *root;
	struct parser p = {.doc = &doc, .out = out, .err = err, .errlen = errlen};
	int rc;

	memset(out, 0, sizeof(*out));
	out->client_auth = CLIENT_AUTH_NONE;
	out->min_version = TLS_VERSION_12;
	out->max_version = TLS_VERSION_13;
	out->prefer_server_cipher_suites = true;
	if (len > WEBCONFIG_MAX_BYTES)
		return fail(&p, NULL, "over %d bytes: not a web config file", WEBCONFIG_MAX_BYTES);
	if (check_nesting(&p, text, len))
		return -1;
	if (!yaml_parser_initialize(&y))
		return fail(&p, NULL, "out of memory");
	yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
	if (!yaml_parser_load(&y, &doc)) {
		yaml_problem(&p, &y);
		yaml_parser_delete(&y);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	rc = check_no_nul(&p);
	if (!rc && root)
		rc = walk_mapping(&p, root, "", top_keys, COUNT(top_keys), top_key);
	if (!rc)
		rc = check_tls(&p);
	if (!rc)
		rc = check_one_document(&p, &y);
	yaml_document_delete(&doc);
	yaml_parser_delete(&y);
	if (rc)
		webconfig_free(out);
	return rc;
}

void webconfig_free(struct webconfig *wc)
{
	for (size_t i = 0; i < wc->nusers; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
	}
	free(wc->users);
	free(wc->cert_file);
	free(wc->key_file);
	free(wc->client_ca_file);
	free(wc->cert_pem);
	if (wc->key_pem)
		explicit_bzero(wc->key_pem, strlen(wc->key_pem));
	free(wc->key_pem);
	free(wc->client_ca_pem);
	memset(wc, 0, sizeof(*wc));
}
