/* SPDX-License-Identifier: GPL-2.0-only */
/* The --web.config.file: TLS and basic authentication in the Prometheus
 * exporter-toolkit format. Parsing is pure (a memory buffer in, a config or
 * one line of error out); loading also reads the files it names. */
#ifndef WEBCONFIG_H
#define WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* Far more than any real web config, certificate or CA bundle. */
#define WEBCONFIG_MAX_BYTES (1 << 20)

/* tls_server_config.client_auth_type, as Go's crypto/tls names them. */
enum client_auth {
	CLIENT_AUTH_NONE,	     /* NoClientCert: none asked for */
	CLIENT_AUTH_REQUEST,	     /* RequestClientCert: asked for, not checked */
	CLIENT_AUTH_REQUIRE_ANY,     /* RequireAnyClientCert: needed, not checked */
	CLIENT_AUTH_VERIFY_IF_GIVEN, /* VerifyClientCertIfGiven */
	CLIENT_AUTH_REQUIRE_VERIFY,  /* RequireAndVerifyClientCert */
};

/* TLS versions by their minor number in the protocol: TLS 1.0 is 1. */
enum tls_version {
	TLS_VERSION_10 = 1,
	TLS_VERSION_11,
	TLS_VERSION_12,
	TLS_VERSION_13,
};

struct webconfig_user {
	char *name;
	char *hash; /* bcrypt, checked for form when parsed */
};

struct webconfig {
	/* tls_server_config sets a certificate: serve HTTPS only. */
	bool tls;
	/* Paths as written; webconfig_load makes relative ones relative to the
	 * file's directory. NULL when not given. */
	char *cert_file, *key_file, *client_ca_file;
	enum client_auth client_auth;
	enum tls_version min_version, max_version;
	bool prefer_server_cipher_suites;
	struct webconfig_user *users;
	size_t nusers;
	/* What the files held (NUL-terminated PEM), read by webconfig_load so
	 * the exporter needs no access to them after starting. */
	char *cert_pem, *key_pem, *client_ca_pem;
};

/* Parses a web config file's text. 0 on success; otherwise -1 with one
 * line in err (with the line number in the text when there is one) and
 * nothing to free. On success, webconfig_free releases *out. */
int webconfig_parse(const char *text, size_t len, struct webconfig *out, char *err, size_t errlen);
/* Reads, parses and checks the file and reads the certificate, key and CA
 * files it names; the key pair must match and the CA file must hold a
 * certificate. The error line names the file. */
int webconfig_load(const char *path, struct webconfig *out, char *err, size_t errlen);
void webconfig_free(struct webconfig *wc);

#endif /* WEBCONFIG_H */
