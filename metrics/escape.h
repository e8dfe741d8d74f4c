/* SPDX-License-Identifier: GPL-2.0-only */
/* Escaping for the Prometheus text formats. */
#ifndef ESCAPE_H
#define ESCAPE_H

#include "buf.h"

/* Label value: backslash, double quote and newline are escaped; bytes that
 * are not UTF-8 are shown as U+FFFD, one for each maximal ill-formed
 * subsequence (as Unicode 3.9 and WHATWG decoders do), because Prometheus
 * rejects a whole scrape with one invalid label value. Every other byte
 * (UTF-8, control characters) passes through. */
void buf_label_value(struct buf *b, const char *s);
/* Any text as valid UTF-8, bytes that are not replaced as above, nothing
 * escaped: for the protobuf format. */
void buf_utf8(struct buf *b, const char *s);
/* HELP text: backslash and newline are escaped; not UTF-8 as above. */
void buf_help_text(struct buf *b, const char *s);
/* Orders label values as buf_label_value shows them: 0 when two values are
 * shown alike (they differ only where they are not UTF-8). */
int label_value_cmp(const char *a, const char *b);

#endif /* ESCAPE_H */
