/* SPDX-License-Identifier: GPL-2.0-only */
/* The HTTP endpoint, on libmicrohttpd's internal threads. */
#include "http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "auth.h"
#include "buf.h"
#include "log.h"
#include "negotiate.h"
#include "render.h"
#include "self.h"
#include "stream.h"

/* A thread per connection, so every client is served (or told 503) at
 * once rather than queued behind another; handlers need little stack. */
#define HTTP_THREAD_STACK    (512 * 1024)
#define HTTP_MAX_CONNECTIONS 256
/* libmicrohttpd's buffer for bodies sent without chunked encoding (to
 * HTTP/1.0 clients); chunks go out of the connection's own memory. */
#define HTTP_BLOCK_BYTES (64 * 1024)
/* One client (address) cannot take every connection. */
#define HTTP_PER_IP_CONNECTIONS 128
/* Idle or stalled connections are closed after this. */
#define HTTP_TIMEOUT_SECONDS 10
/* Bounds the request line and headers a client can make us hold. */
#define HTTP_CONNECTION_MEMORY (32 * 1024)

/* Every answer goes through here, to be counted by status code. */
static enum MHD_Result queue(struct MHD_Connection *conn, unsigned int status,
			     struct MHD_Response *r)
{
	enum MHD_Result ret = MHD_queue_response(conn, status, r);

	if (ret == MHD_YES)
		self_count_response(status);
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned int status, const char *type,
				 const char *text)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = queue(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The body of one /metrics answer: a stream for GET, nothing for HEAD. */
struct metrics_body {
	struct http_server *h;
	struct stream *stream;
};

/* The body is made: its --web.max-requests slot is given back before the
 * last chunk goes out, so a client that scrapes again as soon as it has
 * the whole answer never finds the slot still taken. */
static void finish_body(struct metrics_body *body)
{
	if (!body->stream)
		return;
	stream_close(body->stream);
	body->stream = NULL;
	atomic_fetch_sub(&body->h->in_flight, 1);
}

static ssize_t read_body(void *cls, uint64_t pos, char *out, size_t room)
{
	struct metrics_body *body = cls;
	ssize_t n = body->stream ? stream_read(body->stream, out, room) : 0;

	/* Past the first byte a failure can only cut the answer short: the
	 * connection is closed without the chunked body's last chunk, which
	 * clients report as an error. */
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n == 0) {
		finish_body(body);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	return n;
}

/* The response is done with, sent or not (the client went away). */
static void end_body(void *cls)
{
	finish_body(cls);
	free(cls);
}

/* GET renders from a snapshot taken here, before the status line, so a
 * failed scrape is still a 500; the body then streams (chunked). HEAD gets
 * GET's headers without reading any map. */
static enum MHD_Result send_metrics(struct http_server *h, struct MHD_Connection *conn, bool head)
{
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	const char *encoding =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
	enum exposition_format format = negotiate_format(accept);
	bool gzipped = negotiate_gzip(encoding);
	struct metrics_body *body = calloc(1, sizeof(*body));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!body)
		return MHD_NO;
	body->h = h;
	if (!head) {
		if (atomic_fetch_add(&h->in_flight, 1) >= h->cfg->max_requests) {
			atomic_fetch_sub(&h->in_flight, 1);
			free(body);
			return send_text(
			    conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
			    "too many scrapes at once (--web.max-requests): try again\n");
		}
		body->stream = stream_open(h->scraper, format, gzipped);
		if (!body->stream) {
			atomic_fetch_sub(&h->in_flight, 1);
			free(body);
			return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
					 "text/plain; charset=utf-8",
					 "scrape failed: see the exporter's log\n");
		}
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, HTTP_BLOCK_BYTES, read_body, body,
					      end_body);
	if (!r) {
		end_body(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, format_content_type(format));
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (gzipped)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	/* libmicrohttpd 0.9.75 would send a chunked body's last chunk after
	 * HEAD: without chunking (the connection closes after) nothing but the
	 * headers goes out. */
	if (head)
		MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
	ret = queue(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	static int seen_headers, refused_body;
	struct http_server *h = cls;

	/* Every path needs the password, checked once the headers are in. */
	if (!*req_cls && h->auth && !auth_request_allowed(h->auth, conn))
		return auth_refuse(conn);

	/* Other methods are refused at once (and the connection closed). */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
				 "method not allowed: use GET or HEAD\n");
	/* GET and HEAD are answered once libmicrohttpd has the whole request:
	 * an answer queued earlier makes it close the connection (no keep-alive
	 * between scrapes). A body, which they should not have, is refused. */
	if (!*req_cls) {
		*req_cls = &seen_headers;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		*req_cls = &refused_body;
		return MHD_YES;
	}
	if (*req_cls == &refused_body)
		return send_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain; charset=utf-8",
				 "request bodies are not accepted\n");
	/* RFC 9112: an HTTP/1.1 request without Host is answered with 400. */
	if (!strcmp(version, MHD_HTTP_VERSION_1_1) &&
	    !MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST))
		return send_text(conn, MHD_HTTP_BAD_REQUEST, "text/plain; charset=utf-8",
				 "HTTP/1.1 requests need a Host header\n");
	if (!strcmp(url, h->cfg->telemetry_path))
		return send_metrics(h, conn, !strcmp(method, MHD_HTTP_METHOD_HEAD));
	if (!strcmp(url, "/"))
		return send_text(conn, MHD_HTTP_OK, "text/html; charset=utf-8", h->index_page);
	return send_text(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found\n");
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (!log_enabled(LOG_DEBUG))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_debug("http: %s", line);
}

static void html_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		default:
			buf_append(b, s, 1);
		}
	}
}

static char *make_index_page(const char *telemetry_path)
{
	struct buf b;
	size_t len;

	buf_init(&b);
	buf_puts(&b, "<!DOCTYPE html>\n<html><head><title>cgroup_tcp_exporter</title></head>\n"
		     "<body><h1>cgroup_tcp_exporter</h1>\n"
		     "<p>TCP metrics per cgroup, counted by eBPF.</p>\n<p><a href=\"");
	html_escaped(&b, telemetry_path);
	buf_puts(&b, "\">Metrics</a></p>\n</body></html>\n");
	if (b.failed) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, &len);
}

/* Our own listening socket, so a failure has a precise reason, and ":port"
 * serves IPv6 and IPv4 alike (or IPv4 only on hosts without IPv6). */
static int open_listener(const struct listen_addr *la, const char *text)
{
	struct sockaddr_storage addr = la->addr;
	socklen_t len = la->len;
	int one = 1, zero = 0;
	int fd;

	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && la->any_host && errno == EAFNOSUPPORT) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&addr;
		in_port_t port = ((const struct sockaddr_in6 *)&la->addr)->sin6_port;

		memset(&addr, 0, sizeof(addr));
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = port;
		len = sizeof(*sin);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, la->any_host ? &zero : &one, sizeof(int));
	if (bind(fd, (struct sockaddr *)&addr, len) || listen(fd, 128))
		goto fail;
	return fd;
fail:
	log_error("cannot listen on %s: %s", text, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int http_listen(struct http_server *h, const struct config *cfg)
{
	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	for (int i = 0; i < MAX_LISTEN; i++)
		h->listen_fds[i] = -1;
	h->index_page = make_index_page(cfg->telemetry_path);
	if (cfg->web && cfg->web->nusers)
		h->auth = auth_new(cfg->web->users, cfg->web->nusers);
	if (!h->index_page || (cfg->web && cfg->web->nusers && !h->auth)) {
		log_error("out of memory");
		return -1;
	}
	if (h->auth && !cfg->web->tls)
		log_warn("basic authentication without tls_server_config: passwords cross the "
			 "network in the clear");
	for (h->n = 0; h->n < cfg->nlisten; h->n++) {
		h->listen_fds[h->n] = open_listener(&cfg->listen[h->n], cfg->listen_text[h->n]);
		if (h->listen_fds[h->n] < 0)
			return -1;
	}
	return 0;
}

int http_serve(struct http_server *h, struct scraper *scraper)
{
	unsigned int tls_flags = tls_server_setup(&h->tls, h->cfg->web);

	h->scraper = scraper;
	for (int i = 0; i < h->n; i++) {
		h->daemons[i] = MHD_start_daemon(
		    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO |
			MHD_USE_ERROR_LOG | tls_flags,
		    0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		    MHD_OPTION_LISTEN_SOCKET, h->listen_fds[i], MHD_OPTION_THREAD_STACK_SIZE,
		    (size_t)HTTP_THREAD_STACK, MHD_OPTION_CONNECTION_LIMIT,
		    (unsigned int)HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    (unsigned int)HTTP_PER_IP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned int)HTTP_TIMEOUT_SECONDS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)HTTP_CONNECTION_MEMORY, MHD_OPTION_ARRAY, h->tls.options,
		    MHD_OPTION_END);
		if (!h->daemons[i]) {
			log_error("cannot start the HTTP server on %s", h->cfg->listen_text[i]);
			return -1;
		}
		h->listen_fds[i] = -1; /* the daemon owns and closes it now */
		log_info("listening on %s, metrics at %s%s%s", h->cfg->listen_text[i],
			 h->cfg->telemetry_path, tls_flags ? ", HTTPS" : "",
			 h->auth ? ", basic authentication" : "");
	}
	return 0;
}

void http_stop(struct http_server *h)
{
	for (int i = 0; i < MAX_LISTEN; i++) {
		if (h->daemons[i])
			MHD_stop_daemon(h->daemons[i]);
		h->daemons[i] = NULL;
		if (h->listen_fds[i] >= 0)
			close(h->listen_fds[i]);
		h->listen_fds[i] = -1;
	}
	free(h->index_page);
	h->index_page = NULL;
	auth_free(h->auth);
	h->auth = NULL;
}
