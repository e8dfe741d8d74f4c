/* gzip compression of a response body (zlib, gzip framing). */
#ifndef GZIP_H
#define GZIP_H

#include "buf.h"

/* Compresses in into out (reset first); -1 on failure. */
int gzip_buf(const struct buf *in, struct buf *out);

#endif /* GZIP_H */
