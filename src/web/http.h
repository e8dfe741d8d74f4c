/* SPDX-License-Identifier: GPL-2.0-only */
/* The HTTP endpoint (libmicrohttpd): the metrics path with content
 * negotiation and gzip, a small index page, 404 for other paths, 405 for
 * methods other than GET and HEAD, 503 past --web.max-requests scrapes;
 * HTTPS and basic authentication as --web.config.file says. */
#ifndef HTTP_H
#define HTTP_H

#include <stdatomic.h>
#include "flags.h"
#include "scrape.h"
#include "tls.h"

struct auth;

struct MHD_Daemon;

struct http_server {
	struct MHD_Daemon *daemons[MAX_LISTEN];
	int listen_fds[MAX_LISTEN];
	int n;
	const struct config *cfg;
	struct scraper *scraper;
	char *index_page;
	atomic_uint in_flight;
	/* From --web.config.file: NULL when no user is named. */
	struct auth *auth;
	struct tls_server tls;
};

/* Opens the listening sockets, before anything else starts, so a taken port
 * fails fast. 0 on success; otherwise the reason was logged. */
int http_listen(struct http_server *h, const struct config *cfg);
/* Starts answering requests on the sockets http_listen opened. */
int http_serve(struct http_server *h, struct scraper *scraper);
void http_stop(struct http_server *h);

#endif /* HTTP_H */
