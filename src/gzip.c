/* gzip compression of a response body with zlib. */
#include "gzip.h"

#include <string.h>
#include <zlib.h>

/* windowBits 15 with 16 added: a gzip header and trailer, not zlib's. */
#define GZIP_WINDOW_BITS (15 + 16)
/* Level 1: metrics compress well even at the fastest level. */
#define GZIP_LEVEL 1

int gzip_buf(const struct buf *in, struct buf *out)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -1;
	buf_reset(out);
	z.next_in = (Bytef *)in->data;
	z.avail_in = (uInt)in->len;
	do {
		/* Make room, then let zlib fill what is free. */
		if (!buf_reserve(out, in->len / 4 + 4096)) {
			deflateEnd(&z);
			return -1;
		}
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)(out->cap - out->len - 1);
		rc = deflate(&z, Z_FINISH);
		out->len = out->cap - 1 - z.avail_out;
	} while (rc == Z_OK || rc == Z_BUF_ERROR);
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}
