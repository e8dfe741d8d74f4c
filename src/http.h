/* The HTTP endpoint (libmicrohttpd): the metrics path, a small index page,
 * 404 for other paths and 405 for methods other than GET and HEAD. */
#ifndef HTTP_H
#define HTTP_H

#include "flags.h"
#include "scrape.h"

struct MHD_Daemon;

struct http_server {
	struct MHD_Daemon *daemon;
	int listen_fd;
	const struct config *cfg;
	struct scraper *scraper;
	char *index_page;
};

/* Opens the listening socket, before anything else starts, so a taken port
 * fails fast. 0 on success; otherwise the reason was logged. */
int http_listen(struct http_server *h, const struct config *cfg);
/* Starts answering requests on the socket http_listen opened. */
int http_serve(struct http_server *h, struct scraper *scraper);
void http_stop(struct http_server *h);

#endif /* HTTP_H */
