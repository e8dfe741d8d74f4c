/* Escaping for the Prometheus text formats. */
#ifndef ESCAPE_H
#define ESCAPE_H

#include "buf.h"

/* Label value: backslash, double quote and newline are escaped; every other
 * byte (UTF-8 included) passes through. */
void buf_label_value(struct buf *b, const char *s);
/* HELP text: backslash and newline are escaped. */
void buf_help_text(struct buf *b, const char *s);

#endif /* ESCAPE_H */
