/* SPDX-License-Identifier: GPL-2.0-only */
/* HTTPS for the HTTP server: libmicrohttpd's TLS (GnuTLS) set up from the
 * web config, with exporter-toolkit's client certificate policies. */
#ifndef TLS_H
#define TLS_H

#include <microhttpd.h>
#include <stddef.h>
#include "webconfig.h"

/* Loads the web config's certificate, key and CA as the server would:
 * 0 when they are usable, else -1 with one line in why naming the file. */
int tls_check(const struct webconfig *wc, char *why, size_t whylen);

struct tls_server {
	char priorities[128];
	struct MHD_OptionItem options[6]; /* for MHD_OPTION_ARRAY */
};

/* Fills t with the daemon options that serve wc's TLS (none when it has no
 * TLS) and returns the daemon flags they need. wc must outlive the daemon. */
unsigned int tls_server_setup(struct tls_server *t, const struct webconfig *wc);

#endif /* TLS_H */
