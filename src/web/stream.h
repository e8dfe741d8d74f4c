/* SPDX-License-Identifier: GPL-2.0-only */
/* One scrape's response body, made as the HTTP server asks for it: rendered
 * from the scrape's snapshot a bounded piece at a time into a reused
 * buffer, and gzipped on the way when asked, so neither the plain nor the
 * compressed body is ever held whole. */
#ifndef STREAM_H
#define STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "negotiate.h"

struct scraper;
struct stream;

/* Takes the scrape's snapshot (the only step that reads kernel state);
 * NULL when that failed (logged) or memory ran out. */
struct stream *stream_open(struct scraper *s, enum exposition_format format, bool gzipped);
/* The next bytes of the body into out[0..room): how many (at least 1), 0
 * at the end of the body, -1 on a failure (logged). */
ssize_t stream_read(struct stream *st, char *out, size_t room);
void stream_close(struct stream *st);

#endif /* STREAM_H */
