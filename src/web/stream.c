/* SPDX-License-Identifier: GPL-2.0-only */
/* A response body rendered and compressed a piece at a time. */
#include "stream.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gzip.h"
#include "log.h"
#include "render.h"
#include "scrape.h"
#include "self.h"

/* Rendered per refill: large enough that a refill's fixed costs (and
 * zlib's) vanish, small enough to stay in the CPU caches. */
#define PIECE_BYTES (128 * 1024)
/* Snapshots above this are given back to the system after the response. */
#define TRIM_BYTES (1 << 20)

struct stream {
	struct scraper *scraper;
	struct scrape scrape;
	struct render_cursor cursor;
	struct buf plain; /* rendered, from `sent` on not handed on yet */
	size_t sent;
	bool rendered; /* everything is in `plain` or past it */
	bool gzipped;
	bool finished; /* the last byte is out */
	double busy;   /* seconds spent making the body */
	size_t snapshot_bytes;
	size_t rows;
	size_t bytes; /* of the body, as sent */
	struct gzip_stream gzip;
};

static double now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct stream *stream_open(struct scraper *s, enum exposition_format format, bool gzipped)
{
	struct stream *st = calloc(1, sizeof(*st));

	if (!st) {
		log_error("scrape failed: out of memory");
		return NULL;
	}
	st->scraper = s;
	st->gzipped = gzipped;
	render_cursor_init(&st->cursor);
	buf_init(&st->plain);
	/* gzip first: a snapshot, once taken, counts as shown (removed
	 * cgroups are shown a limited number of times). */
	if (gzipped && gzip_start(&st->gzip)) {
		log_error("scrape failed: cannot start gzip (out of memory)");
		stream_close(st);
		return NULL;
	}
	if (scraper_take(s, format, &st->scrape)) {
		stream_close(st);
		return NULL;
	}
	st->snapshot_bytes = snapshot_bytes(&st->scrape.rows);
	st->rows = st->scrape.rows.nrows;
	return st;
}

/* Renders the next piece into `plain`, which must be all handed on. */
static int refill(struct stream *st)
{
	const struct render_options *o = &st->scrape.opts;

	const struct snapshot *rows[ROW_KINDS];

	for (int k = 0; k < ROW_KINDS; k++)
		rows[k] = !st->scrape.on[k]  ? NULL
			  : k == ROWS_CGROUP ? &st->scrape.rows
					     : &st->scrape.pair_rows[k];
	buf_reset(&st->plain);
	st->sent = 0;
	if (render_cgroups(&st->plain, rows, &st->cursor, o, PIECE_BYTES)) {
		/* The rows are all out: their memory goes before the tail. */
		scrape_free(&st->scrape);
		render_cursor_free(&st->cursor);
		if (st->scrape.self_metrics)
			render_self_metrics(&st->plain, &st->scrape.self, o);
		render_end(&st->plain, o);
		st->rendered = true;
	}
	if (st->plain.failed) {
		log_error("scrape failed while sending: out of memory");
		return -1;
	}
	return 0;
}

static ssize_t read_plain(struct stream *st, char *out, size_t room)
{
	size_t n = 0;

	while (n < room) {
		size_t left = st->plain.len - st->sent, take;

		if (!left) {
			if (st->rendered)
				break;
			if (refill(st))
				return -1;
			continue;
		}
		take = left < room - n ? left : room - n;
		memcpy(out + n, st->plain.data + st->sent, take);
		st->sent += take;
		n += take;
	}
	st->finished = st->rendered && st->sent == st->plain.len;
	return (ssize_t)n;
}

static ssize_t read_gzipped(struct stream *st, char *out, size_t room)
{
	size_t n = 0;
	bool done = false;

	/* deflate keeps input back until it has a block: feed it until the
	 * room is full or the stream is over. */
	while (n < room && !done) {
		const char *in = st->plain.data + st->sent;
		size_t left = st->plain.len - st->sent;
		long wrote;

		if (!left && !st->rendered) {
			if (refill(st))
				return -1;
			continue;
		}
		wrote = gzip_write(&st->gzip, &in, &left, out + n, room - n, st->rendered, &done);
		if (wrote < 0) {
			log_error("scrape failed while sending: gzip error");
			return -1;
		}
		st->sent = st->plain.len - left;
		n += (size_t)wrote;
	}
	st->finished = done;
	return (ssize_t)n;
}

ssize_t stream_read(struct stream *st, char *out, size_t room)
{
	double start;
	ssize_t n;

	if (st->finished)
		return 0;
	scraper_lock(st->scraper);
	start = now_seconds();
	n = st->gzipped ? read_gzipped(st, out, room) : read_plain(st, out, room);
	st->busy += now_seconds() - start;
	scraper_unlock(st->scraper);
	st->bytes += n > 0 ? (size_t)n : 0;
	if (st->finished) {
		scraper_finished(st->scraper, st->scrape.snapshot_seconds + st->busy);
		log_debug("scrape: %zu cgroups, snapshot %zu bytes in %.2f ms, body %zu bytes%s "
			  "in %.2f ms",
			  st->rows, st->snapshot_bytes, st->scrape.snapshot_seconds * 1e3,
			  st->bytes, st->gzipped ? " gzipped" : "", st->busy * 1e3);
	}
	return n;
}

void stream_close(struct stream *st)
{
	bool big;

	if (!st)
		return;
	big = st->snapshot_bytes > TRIM_BYTES;
	scrape_free(&st->scrape);
	render_cursor_free(&st->cursor);
	buf_free(&st->plain);
	gzip_end(&st->gzip);
	free(st);
	/* glibc keeps freed memory in the thread's arena unless told to give
	 * it back: without this, memory would stay at the biggest scrape's. */
	if (big)
		malloc_trim(0);
}
