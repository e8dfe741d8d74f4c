/* SPDX-License-Identifier: GPL-2.0-only */
/* A strict reader of the exposition text the renderer writes, for checking
 * it: sample lines split into name, labels (unescaped) and value, and the
 * escaping of label values and HELP text undone. Anything the Prometheus
 * and OpenMetrics grammars do not allow is an error here. */
#ifndef FUZZ_EXPOSITION_H
#define FUZZ_EXPOSITION_H

#include <stdbool.h>
#include <stddef.h>

#define SAMPLE_MAX_LABELS 16

struct sample_line {
	char name[128];
	size_t nlabels;
	char label_names[SAMPLE_MAX_LABELS][64];
	char *label_values[SAMPLE_MAX_LABELS]; /* unescaped; freed by sample_line_free */
	char value[64];
};

/* A quoted label value starting after its opening quote: the unescaped
 * bytes in *out (free() them) and the position after the closing quote, or
 * NULL when it is not closed or holds a raw newline or a bad escape. */
const char *label_value_unescape(const char *s, const char *end, char **out);
/* HELP text: \\ and \n escaped, and \" too in OpenMetrics (quotes_escaped,
 * where a raw quote is an error). The unescaped text (free() it) or NULL
 * when it is malformed. */
char *help_text_unescape(const char *s, size_t len, bool quotes_escaped);

/* One sample line without its newline; false with the reason in why. */
bool sample_line_parse(const char *line, size_t len, struct sample_line *out, const char **why);
void sample_line_free(struct sample_line *s);

/* Whether text is valid UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF), as Prometheus wants every label value. */
bool utf8_valid(const char *s);
/* Whether shown is how the renderer may show the value given: valid UTF-8,
 * the value itself when that is valid UTF-8, and otherwise the same ASCII
 * bytes in the same order (only bytes of ill-formed UTF-8 are replaced). */
bool shown_as(const char *given, const char *shown);

/* A metric or label name: [a-zA-Z_:][a-zA-Z0-9_:]* (no colon in labels). */
bool metric_name_ok(const char *s, size_t len);
bool label_name_ok(const char *s, size_t len);

#endif /* FUZZ_EXPOSITION_H */
