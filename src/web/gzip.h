/* SPDX-License-Identifier: GPL-2.0-only */
/* gzip compression of a response body as it is made (zlib, gzip framing):
 * input in pieces, output into whatever room the caller has. */
#ifndef GZIP_H
#define GZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <zlib.h>

struct gzip_stream {
	z_stream z;
	bool started;
};

/* 0, or -1 when zlib cannot start (out of memory). */
int gzip_start(struct gzip_stream *g);
/* Compresses from *in (advancing *in and *in_len) into out[0..room);
 * `last`: no input comes after *in. Returns the bytes written (the stream
 * may hold input back until it has a block), or -1; *done once the gzip
 * trailer is out. */
long gzip_write(struct gzip_stream *g, const char **in, size_t *in_len, char *out, size_t room,
		bool last, bool *done);
void gzip_end(struct gzip_stream *g);

#endif /* GZIP_H */
