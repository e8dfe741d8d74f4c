/* SPDX-License-Identifier: GPL-2.0-only */
/* Escaping for the Prometheus text formats, and the one mapping of bytes that
 * are not UTF-8 to U+FFFD that makes every value valid for Prometheus. */
#include "escape.h"

#include <stdbool.h>
#include <string.h>

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* The unit of bytes at s: one well-formed UTF-8 sequence (true), or one
 * maximal subpart of an ill-formed one (false), as in Unicode 3.9 and the
 * WHATWG decoder: a lead byte and the continuation bytes that could still
 * follow it. *len is its length in bytes; a NUL ends every unit. */
static bool utf8_unit(const unsigned char *s, size_t *len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need;

	*len = 1;
	if (c < 0x80)
		return true;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
		hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing above U+10FFFF */
	} else {
		return false;
	}
	for (size_t i = 1; i <= need; i++) {
		if (s[i] < lo || s[i] > hi)
			return false;
		lo = 0x80;
		hi = 0xbf;
		(*len)++;
	}
	return true;
}

static void buf_escaped(struct buf *b, const char *s, const char *special)
{
	const char *run = s;
	size_t len;

	while (*s) {
		if ((unsigned char)*s >= 0x80) {
			if (utf8_unit((const unsigned char *)s, &len)) {
				s += len;
				continue;
			}
			buf_append(b, run, (size_t)(s - run));
			buf_append(b, replacement, sizeof(replacement) - 1);
			s += len;
			run = s;
			continue;
		}
		if (!strchr(special, *s)) {
			s++;
			continue;
		}
		buf_append(b, run, (size_t)(s - run));
		buf_append(b, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\", 2);
		run = ++s;
	}
	buf_append(b, run, (size_t)(s - run));
}

void buf_label_value(struct buf *b, const char *s)
{
	buf_escaped(b, s, "\\\"\n");
}

void buf_utf8(struct buf *b, const char *s)
{
	buf_escaped(b, s, "");
}

void buf_help_text(struct buf *b, const char *s)
{
	buf_escaped(b, s, "\\\n");
}

/* The bytes a unit is shown as; UTF-8 is a prefix code and U+FFFD one of its
 * words, so comparing shown units one by one orders the shown strings. */
static const unsigned char *shown_unit(const unsigned char *s, size_t *len, size_t *shown_len)
{
	if (utf8_unit(s, len)) {
		*shown_len = *len;
		return s;
	}
	*shown_len = sizeof(replacement) - 1;
	return (const unsigned char *)replacement;
}

static bool continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

int label_value_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	size_t i = 0;

	/* Equal bytes are shown equally. Every byte that is no continuation
	 * byte starts a unit, so units are compared from the last such byte
	 * before the first difference. */
	while (x[i] && x[i] == y[i])
		i++;
	if (i > 0 && (continuation(x[i]) || continuation(y[i]))) {
		do
			i--;
		while (i > 0 && continuation(x[i]));
	}
	x += i;
	y += i;
	while (*x && *y) {
		size_t xlen, ylen, xshown, yshown;
		const unsigned char *xs = shown_unit(x, &xlen, &xshown);
		const unsigned char *ys = shown_unit(y, &ylen, &yshown);
		int d = memcmp(xs, ys, xshown < yshown ? xshown : yshown);

		if (d)
			return d;
		if (xshown != yshown)
			return xshown < yshown ? -1 : 1;
		x += xlen;
		y += ylen;
	}
	return (int)*x - (int)*y;
}
