/* SPDX-License-Identifier: GPL-2.0-only */
/* gzip compression of a response body with zlib's streaming deflate. */
#include "gzip.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/* windowBits 15 with 16 added: a gzip header and trailer, not zlib's. */
#define GZIP_WINDOW_BITS (15 + 16)
/* Level 1: metrics compress well even at the fastest level. */
#define GZIP_LEVEL 1

int gzip_start(struct gzip_stream *g)
{
	memset(g, 0, sizeof(*g));
	if (deflateInit2(&g->z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -1;
	g->started = true;
	return 0;
}

long gzip_write(struct gzip_stream *g, const char **in, size_t *in_len, char *out, size_t room,
		bool last, bool *done)
{
	uInt offered = *in_len > UINT_MAX ? UINT_MAX : (uInt)*in_len;
	int rc;

	*done = false;
	g->z.next_in = (Bytef *)(uintptr_t)*in;
	g->z.avail_in = offered;
	g->z.next_out = (Bytef *)out;
	g->z.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
	rc = deflate(&g->z, last && offered == *in_len ? Z_FINISH : Z_NO_FLUSH);
	*in += offered - g->z.avail_in;
	*in_len -= offered - g->z.avail_in;
	if (rc == Z_STREAM_END)
		*done = true;
	else if (rc != Z_OK && rc != Z_BUF_ERROR)
		return -1;
	return (long)((room > UINT_MAX ? UINT_MAX : room) - g->z.avail_out);
}

void gzip_end(struct gzip_stream *g)
{
	if (g->started)
		deflateEnd(&g->z);
	g->started = false;
}
