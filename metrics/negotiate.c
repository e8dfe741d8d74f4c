/* SPDX-License-Identifier: GPL-2.0-only */
/* Content negotiation: a small parser of comma-separated media ranges with
 * parameters, as RFC 9110 writes them. */
#include "negotiate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One element of a list: "type;param=value;q=0.5". */
struct element {
	const char *name;
	size_t name_len;
	const char *params;
	size_t params_len;
};

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static size_t trimmed_len(const char *s, size_t len)
{
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return len;
}

/* Splits the next element off *cursor; false at the end of the list. */
static bool next_element(const char **cursor, struct element *e)
{
	const char *s = *cursor, *end, *semi;

	if (!s || !*s)
		return false;
	end = strchr(s, ',');
	if (!end)
		end = s + strlen(s);
	*cursor = *end ? end + 1 : end;
	s = skip_space(s, end);
	semi = memchr(s, ';', (size_t)(end - s));
	e->name = s;
	e->name_len = trimmed_len(s, (size_t)((semi ? semi : end) - s));
	e->params = semi ? semi + 1 : end;
	e->params_len = semi ? (size_t)(end - semi - 1) : 0;
	return true;
}

/* The value of parameter `key` in an element, or NULL. */
static bool param(const struct element *e, const char *key, char *out, size_t outlen)
{
	const char *s = e->params, *end = e->params + e->params_len;
	size_t klen = strlen(key);

	while (s < end) {
		const char *semi = memchr(s, ';', (size_t)(end - s)), *eq;
		const char *stop = semi ? semi : end;
		size_t vlen;

		s = skip_space(s, stop);
		eq = memchr(s, '=', (size_t)(stop - s));
		if (eq && (size_t)(eq - s) == klen && !strncasecmp(s, key, klen)) {
			const char *v = skip_space(eq + 1, stop);

			vlen = trimmed_len(v, (size_t)(stop - v));
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (vlen >= outlen)
				return false;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
		s = semi ? semi + 1 : end;
	}
	return false;
}

/* q in [0, 1]; 1 when absent; -1 when unreadable (the element is ignored). */
static double quality(const struct element *e)
{
	char text[16], *rest;
	double q;

	if (!param(e, "q", text, sizeof(text)))
		return 1;
	q = strtod(text, &rest);
	if (rest == text || *rest || q < 0 || q > 1)
		return -1;
	return q;
}

static bool named(const struct element *e, const char *name)
{
	return e->name_len == strlen(name) && !strncasecmp(e->name, name, e->name_len);
}

/* The protobuf format is only that of delimited MetricFamily messages.
 * The values are compared ignoring case, as the names are: no client
 * means another message by another case. */
static bool protobuf_params(const struct element *e)
{
	char proto[64], encoding[16];

	return param(e, "proto", proto, sizeof(proto)) &&
	       !strcasecmp(proto, "io.prometheus.client.MetricFamily") &&
	       param(e, "encoding", encoding, sizeof(encoding)) &&
	       !strcasecmp(encoding, "delimited");
}

enum exposition_format negotiate_format(const char *accept)
{
	double best_openmetrics = 0, best_text = 0, best_protobuf = 0;
	struct element e;
	char version[32];

	while (next_element(&accept, &e)) {
		double q = quality(&e);

		if (named(&e, "application/openmetrics-text")) {
			/* Only 1.0.0 is spoken here; no version means the newest. */
			if (param(&e, "version", version, sizeof(version)) &&
			    strcmp(version, "1.0.0"))
				continue;
			if (q > best_openmetrics)
				best_openmetrics = q;
		} else if (named(&e, "application/vnd.google.protobuf")) {
			if (protobuf_params(&e) && q > best_protobuf)
				best_protobuf = q;
		} else if (named(&e, "text/plain") || named(&e, "text/*") || named(&e, "*/*")) {
			if (q > best_text)
				best_text = q;
		}
	}
	if (best_protobuf > 0 && best_protobuf > best_text && best_protobuf > best_openmetrics)
		return FORMAT_PROTOBUF;
	return best_openmetrics > 0 && best_openmetrics > best_text ? FORMAT_OPENMETRICS
								    : FORMAT_TEXT;
}

bool negotiate_gzip(const char *accept_encoding)
{
	double gzip = -1, any = -1;
	struct element e;

	while (next_element(&accept_encoding, &e)) {
		if (named(&e, "gzip") || named(&e, "x-gzip"))
			gzip = quality(&e);
		else if (named(&e, "*"))
			any = quality(&e);
	}
	return gzip >= 0 ? gzip > 0 : any > 0;
}
