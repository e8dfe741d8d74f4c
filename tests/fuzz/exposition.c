/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading back exposition lines, strictly. */
#include "exposition.h"

#include <stdlib.h>
#include <string.h>

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

static bool name_ok(const char *s, size_t len, bool colon)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i], i == 0, colon))
			return false;
	return true;
}

bool metric_name_ok(const char *s, size_t len)
{
	return name_ok(s, len, true);
}

bool label_name_ok(const char *s, size_t len)
{
	return name_ok(s, len, false);
}

static char *alloc_text(size_t len)
{
	char *t = malloc(len + 1);

	if (!t)
		abort();
	return t;
}

const char *label_value_unescape(const char *s, const char *end, char **out)
{
	char *text = alloc_text((size_t)(end - s)), *w = text;

	while (s < end && *s != '"') {
		if (*s == '\n')
			break;
		if (*s != '\\') {
			*w++ = *s++;
			continue;
		}
		if (s + 1 >= end || (s[1] != '\\' && s[1] != '"' && s[1] != 'n'))
			break;
		*w++ = s[1] == 'n' ? '\n' : s[1];
		s += 2;
	}
	if (s >= end || *s != '"') {
		free(text);
		return NULL;
	}
	*w = '\0';
	*out = text;
	return s + 1;
}

char *help_text_unescape(const char *s, size_t len, bool quotes_escaped)
{
	char *text = alloc_text(len), *w = text;
	const char *end = s + len;

	while (s < end) {
		bool escape_ok =
		    s + 1 < end && (s[1] == '\\' || s[1] == 'n' || (quotes_escaped && s[1] == '"'));

		if (*s == '\n' || (quotes_escaped && *s == '"') || (*s == '\\' && !escape_ok)) {
			free(text);
			return NULL;
		}
		if (*s == '\\') {
			*w++ = s[1] == 'n' ? '\n' : s[1];
			s += 2;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
	return text;
}

bool utf8_valid(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s) {
		unsigned int cp, n;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			n = 1, cp = *s & 0x1f;
		else if (*s >= 0xe0 && *s <= 0xef)
			n = 2, cp = *s & 0x0f;
		else if (*s >= 0xf0 && *s <= 0xf4)
			n = 3, cp = *s & 0x07;
		else
			return false;
		for (unsigned int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

/* The next ASCII byte at or after *s (NUL at the end). */
static char next_ascii(const char **s)
{
	while ((unsigned char)**s >= 0x80)
		(*s)++;
	return *(*s)++;
}

bool shown_as(const char *given, const char *shown)
{
	char g, w;

	if (!utf8_valid(shown))
		return false;
	if (utf8_valid(given))
		return !strcmp(given, shown);
	/* Replacing ill-formed bytes leaves the ASCII bytes as they are. */
	do {
		g = next_ascii(&given);
		w = next_ascii(&shown);
		if (g != w)
			return false;
	} while (g);
	return true;
}

static bool fail(const char **why, const char *reason)
{
	*why = reason;
	return false;
}

static bool copy_name(char *dst, size_t dstlen, const char *s, size_t len)
{
	if (len >= dstlen)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

/* The labels between braces, s after the '{'; the position after '}'. */
static const char *parse_labels(const char *s, const char *end, struct sample_line *out,
				const char **why)
{
	if (s < end && *s == '}')
		return s + 1;
	for (;;) {
		const char *eq = memchr(s, '=', (size_t)(end - s));
		size_t n = out->nlabels;

		if (!eq || !label_name_ok(s, (size_t)(eq - s)))
			return fail(why, "bad label name"), NULL;
		if (n == SAMPLE_MAX_LABELS ||
		    !copy_name(out->label_names[n], sizeof(out->label_names[n]), s,
			       (size_t)(eq - s)))
			return fail(why, "too many labels or too long a label name"), NULL;
		if (eq + 1 >= end || eq[1] != '"')
			return fail(why, "label value not quoted"), NULL;
		s = label_value_unescape(eq + 2, end, &out->label_values[n]);
		if (!s)
			return fail(why, "label value badly escaped or not closed"), NULL;
		out->nlabels++;
		if (s < end && *s == '}')
			return s + 1;
		if (s >= end || *s != ',')
			return fail(why, "no ',' or '}' after a label value"), NULL;
		s++;
	}
}

bool sample_line_parse(const char *line, size_t len, struct sample_line *out, const char **why)
{
	const char *end = line + len, *s = line, *space;

	memset(out, 0, sizeof(*out));
	while (s < end && *s != '{' && *s != ' ')
		s++;
	if (!metric_name_ok(line, (size_t)(s - line)) ||
	    !copy_name(out->name, sizeof(out->name), line, (size_t)(s - line)))
		return fail(why, "bad metric name");
	if (s < end && *s == '{') {
		s = parse_labels(s + 1, end, out, why);
		if (!s)
			return false;
	}
	if (s >= end || *s != ' ')
		return fail(why, "no space before the value");
	s++;
	space = memchr(s, ' ', (size_t)(end - s));
	if (space)
		return fail(why, "more than a value after the labels (timestamps are not written)");
	if (s == end || !copy_name(out->value, sizeof(out->value), s, (size_t)(end - s)))
		return fail(why, "empty or overlong value");
	return true;
}

void sample_line_free(struct sample_line *s)
{
	for (size_t i = 0; i < s->nlabels; i++)
		free(s->label_values[i]);
	s->nlabels = 0;
}
