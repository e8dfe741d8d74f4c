/* SPDX-License-Identifier: GPL-2.0-only */
/* Rewrites of comma-separated header values. */
#include "header.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *alloc_text(size_t len)
{
	char *t = malloc(len + 1);

	if (!t)
		abort();
	return t;
}

char *header_append(const char *header, const char *element)
{
	size_t hlen = strlen(header), elen = strlen(element);
	char *t = alloc_text(hlen + 1 + elen);

	memcpy(t, header, hlen);
	t[hlen] = ',';
	memcpy(t + hlen + 1, element, elen + 1);
	return t;
}

char *header_upper(const char *header)
{
	size_t len = strlen(header);
	char *t = alloc_text(len);

	for (size_t i = 0; i <= len; i++)
		t[i] = header[i] >= 'a' && header[i] <= 'z' ? (char)(header[i] - 'a' + 'A')
							    : header[i];
	return t;
}

char *header_spaced(const char *header)
{
	char *t = alloc_text(2 * strlen(header)), *w = t;

	for (const char *s = header; *s; s++) {
		*w++ = *s;
		if (*s == ',')
			*w++ = ' ';
	}
	*w = '\0';
	return t;
}

char *header_reversed(const char *header)
{
	size_t end = strlen(header);
	char *t = alloc_text(end), *w = t;

	/* From the last element back; commas stay between elements. */
	for (;;) {
		size_t start = end;

		while (start > 0 && header[start - 1] != ',')
			start--;
		memcpy(w, header + start, end - start);
		w += end - start;
		if (start == 0)
			break;
		*w++ = ',';
		end = start - 1;
	}
	*w = '\0';
	return t;
}

int header_mentions(const char *header, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *s = header; *s; s++)
		if (!strncasecmp(s, needle, n))
			return 1;
	return 0;
}
