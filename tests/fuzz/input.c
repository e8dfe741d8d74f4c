/* SPDX-License-Identifier: GPL-2.0-only */
/* Cutting fuzz inputs into strings and bytes; failing properties loudly. */
#include "input.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *copy_string(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	if (len)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

char *fuzz_whole_string(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);

	return copy_string(data, nul ? (size_t)(nul - data) : size);
}

char *fuzz_take_string(struct fuzz_input *in)
{
	const uint8_t *nul = memchr(in->data, '\0', in->size);
	size_t len = nul ? (size_t)(nul - in->data) : in->size;
	char *s = copy_string(in->data, len);
	size_t used = nul ? len + 1 : len;

	in->data += used;
	in->size -= used;
	return s;
}

void fuzz_take_bytes(struct fuzz_input *in, void *out, size_t n)
{
	size_t have = n < in->size ? n : in->size;

	memset(out, 0, n);
	if (have)
		memcpy(out, in->data, have);
	in->data += have;
	in->size -= have;
}

uint8_t fuzz_take_byte(struct fuzz_input *in)
{
	uint8_t b;

	fuzz_take_bytes(in, &b, 1);
	return b;
}

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: property failed: %s\n  ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
