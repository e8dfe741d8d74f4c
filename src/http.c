/* The HTTP endpoint, on libmicrohttpd's internal threads. */
#include "http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "log.h"

#define HTTP_THREADS	     2
#define HTTP_MAX_CONNECTIONS 64
#define HTTP_TIMEOUT_SECONDS 30
/* Bounds the request line and headers a client can make us hold. */
#define HTTP_CONNECTION_MEMORY (32 * 1024)

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
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_metrics(struct http_server *h, struct MHD_Connection *conn)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len = 0;
	char *body = scraper_render(h->scraper, &len);

	if (!body)
		return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
				 "scrape failed: see the exporter's log\n");
	r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, TEXT_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	static int seen_headers;
	struct http_server *h = cls;

	/* Other methods are refused at once (and the connection closed). */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
				 "method not allowed: use GET or HEAD\n");
	/* GET and HEAD are answered once libmicrohttpd has the whole request:
	 * an answer queued earlier makes it close the connection (no keep-alive
	 * between scrapes). A body, which they should not have, is dropped. */
	if (!*req_cls) {
		*req_cls = &seen_headers;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, h->cfg->telemetry_path))
		return send_metrics(h, conn);
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
static int open_listener(const struct config *cfg)
{
	struct sockaddr_storage addr = cfg->listen.addr;
	socklen_t len = cfg->listen.len;
	int one = 1, zero = 0;
	int fd;

	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && cfg->listen.any_host && errno == EAFNOSUPPORT) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&addr;
		in_port_t port = ((const struct sockaddr_in6 *)&cfg->listen.addr)->sin6_port;

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
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, cfg->listen.any_host ? &zero : &one,
			   sizeof(int));
	if (bind(fd, (struct sockaddr *)&addr, len) || listen(fd, 128))
		goto fail;
	return fd;
fail:
	log_error("cannot listen on %s: %s", cfg->listen_text, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int http_listen(struct http_server *h, const struct config *cfg)
{
	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	h->listen_fd = -1;
	h->index_page = make_index_page(cfg->telemetry_path);
	if (!h->index_page) {
		log_error("out of memory");
		return -1;
	}
	h->listen_fd = open_listener(cfg);
	return h->listen_fd < 0 ? -1 : 0;
}

int http_serve(struct http_server *h, struct scraper *scraper)
{
	h->scraper = scraper;
	h->daemon = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET,
	    h->listen_fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_SECONDS,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY, MHD_OPTION_END);
	if (!h->daemon) {
		log_error("cannot start the HTTP server on %s", h->cfg->listen_text);
		return -1;
	}
	h->listen_fd = -1; /* the daemon owns and closes it now */
	log_info("listening on %s, metrics at %s", h->cfg->listen_text, h->cfg->telemetry_path);
	return 0;
}

void http_stop(struct http_server *h)
{
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	h->listen_fd = -1;
	free(h->index_page);
	h->index_page = NULL;
}
