/* SPDX-License-Identifier: GPL-2.0-only */
/* A growable output buffer for rendered metrics. An allocation failure is
 * sticky: later appends are dropped and the owner checks `failed` once. */
#ifndef BUF_H
#define BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Hands the bytes to the caller (free() them) and leaves b empty. */
char *buf_steal(struct buf *b, size_t *len);
void buf_reset(struct buf *b);
/* Makes room for n more bytes after len; false when out of memory. */
bool buf_reserve(struct buf *b, size_t n);
void buf_append(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* BUF_H */
