/* SPDX-License-Identifier: GPL-2.0-only */
/* HTTPS for the HTTP server. libmicrohttpd loads the certificate, key and
 * client CA into GnuTLS; the client certificate policy is set on each
 * connection's GnuTLS session as it starts (libmicrohttpd only asks for a
 * certificate when given a CA, and checks none), so refused clients fail
 * the TLS handshake as they do with exporter-toolkit. */
#include "tls.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "log.h"

static gnutls_datum_t datum(const char *pem)
{
	return (gnutls_datum_t){.data = (unsigned char *)pem, .size = (unsigned int)strlen(pem)};
}

/* GnuTLS priorities: GnuTLS's default suites, the web config's TLS
 * versions, and with prefer_server_cipher_suites (the default) the suite
 * chosen by GnuTLS's order rather than the client's. */
static void make_priorities(char *out, size_t len, const struct webconfig *wc)
{
	static const char *const versions[] = {"", ":+VERS-TLS1.0", ":+VERS-TLS1.1",
					       ":+VERS-TLS1.2", ":+VERS-TLS1.3"};
	size_t n = (size_t)snprintf(out, len, "NORMAL:-VERS-ALL");

	for (int v = wc->max_version; v >= (int)wc->min_version && n < len; v--)
		n += (size_t)snprintf(out + n, len - n, "%s", versions[v]);
	if (wc->prefer_server_cipher_suites && n < len)
		snprintf(out + n, len - n, ":%%SERVER_PRECEDENCE");
}

static int check_cert(const struct webconfig *wc, char *why, size_t whylen)
{
	gnutls_datum_t pem = datum(wc->cert_pem);
	gnutls_x509_crt_t *certs = NULL;
	unsigned int n = 0;
	int rc = gnutls_x509_crt_list_import2(&certs, &n, &pem, GNUTLS_X509_FMT_PEM, 0);

	for (unsigned int i = 0; rc >= 0 && i < n; i++)
		gnutls_x509_crt_deinit(certs[i]);
	gnutls_free(certs);
	if (rc < 0 || n == 0) {
		snprintf(why, whylen, "tls_server_config.cert_file %s holds no PEM certificate: %s",
			 wc->cert_file, rc < 0 ? gnutls_strerror(rc) : "none found");
		return -1;
	}
	return 0;
}

static int check_key(const struct webconfig *wc, char *why, size_t whylen)
{
	gnutls_datum_t pem = datum(wc->key_pem);
	gnutls_x509_privkey_t key;
	int rc = gnutls_x509_privkey_init(&key);

	if (rc >= 0) {
		rc = gnutls_x509_privkey_import2(key, &pem, GNUTLS_X509_FMT_PEM, NULL, 0);
		gnutls_x509_privkey_deinit(key);
	}
	if (rc < 0) {
		snprintf(why, whylen,
			 "tls_server_config.key_file %s holds no unencrypted PEM private key: %s",
			 wc->key_file, gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

int tls_check(const struct webconfig *wc, char *why, size_t whylen)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t cert = datum(wc->cert_pem), key = datum(wc->key_pem), ca;
	gnutls_priority_t priority;
	char priorities[sizeof(((struct tls_server *)0)->priorities)];
	const char *at = NULL;
	int rc;

	if (check_cert(wc, why, whylen) || check_key(wc, why, whylen))
		return -1;
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	rc = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		snprintf(why, whylen,
			 "tls_server_config.cert_file %s is not the certificate of key_file %s",
			 wc->cert_file, wc->key_file);
	} else if (rc < 0) {
		snprintf(why, whylen, "tls_server_config.cert_file %s with key_file %s: %s",
			 wc->cert_file, wc->key_file, gnutls_strerror(rc));
	} else if (wc->client_ca_pem) {
		ca = datum(wc->client_ca_pem);
		rc = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
		if (rc <= 0) {
			snprintf(why, whylen,
				 "tls_server_config.client_ca_file %s holds no PEM certificate%s%s",
				 wc->client_ca_file, rc < 0 ? ": " : "",
				 rc < 0 ? gnutls_strerror(rc) : "");
			rc = -1;
		}
	}
	gnutls_certificate_free_credentials(cred);
	if (rc < 0)
		return -1;
	make_priorities(priorities, sizeof(priorities), wc);
	rc = gnutls_priority_init(&priority, priorities, &at);
	if (rc < 0) {
		snprintf(why, whylen, "GnuTLS takes no TLS priorities '%s': %s", priorities,
			 gnutls_strerror(rc));
		return -1;
	}
	gnutls_priority_deinit(priority);
	return 0;
}

/* A client certificate, when there is one, must chain to the client CA and
 * be fit for TLS client authentication (Go checks the same). */
static int verify_client(gnutls_session_t session, bool required)
{
	gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
					 .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT};
	unsigned int count = 0, status = 0;
	gnutls_datum_t text;

	if (!gnutls_certificate_get_peers(session, &count) || count == 0) {
		if (required)
			log_debug("http: refused a TLS client without a certificate");
		return required ? GNUTLS_E_NO_CERTIFICATE_FOUND : 0;
	}
	if (gnutls_certificate_verify_peers(session, &purpose, 1, &status) < 0 || status) {
		if (log_enabled(LOG_DEBUG) && gnutls_certificate_verification_status_print(
						  status, GNUTLS_CRT_X509, &text, 0) >= 0) {
			int len = (int)strlen((const char *)text.data);

			while (len > 0 && text.data[len - 1] == ' ')
				len--;
			log_debug("http: refused a TLS client certificate: %.*s", len, text.data);
			gnutls_free(text.data);
		}
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	}
	return 0;
}

static int verify_if_given(gnutls_session_t session)
{
	return verify_client(session, false);
}

static int verify_required(gnutls_session_t session)
{
	return verify_client(session, true);
}

/* Runs as each connection starts, before its TLS handshake. */
static void apply_client_auth(void *cls, struct MHD_Connection *conn, void **socket_context,
			      enum MHD_ConnectionNotificationCode code)
{
	const struct webconfig *wc = cls;
	const union MHD_ConnectionInfo *info;
	gnutls_session_t session;

	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!info || !info->tls_session) {
		/* Never serve a connection the policy was not applied to. */
		log_error("http: no TLS session to apply client_auth_type to: closing");
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (info)
			shutdown(info->connect_fd, SHUT_RDWR);
		return;
	}
	session = info->tls_session;
	switch (wc->client_auth) {
	case CLIENT_AUTH_NONE:
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_IGNORE);
		break;
	case CLIENT_AUTH_REQUEST:
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
		break;
	case CLIENT_AUTH_REQUIRE_ANY:
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
		break;
	case CLIENT_AUTH_VERIFY_IF_GIVEN:
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
		gnutls_session_set_verify_function(session, verify_if_given);
		break;
	case CLIENT_AUTH_REQUIRE_VERIFY:
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_function(session, verify_required);
		break;
	}
}

unsigned int tls_server_setup(struct tls_server *t, const struct webconfig *wc)
{
	struct MHD_OptionItem *o = t->options;

	if (!wc || !wc->tls) {
		*o = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
		return 0;
	}
	make_priorities(t->priorities, sizeof(t->priorities), wc);
	*o++ = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, wc->cert_pem};
	*o++ = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, wc->key_pem};
	*o++ = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, t->priorities};
	if (wc->client_ca_pem)
		*o++ = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, wc->client_ca_pem};
	*o++ = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)apply_client_auth,
				       (void *)wc};
	*o = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	return MHD_USE_TLS;
}
