/* Escaping for the Prometheus text formats. */
#include "escape.h"

#include <string.h>

static void buf_escaped(struct buf *b, const char *s, const char *special)
{
	const char *run = s;

	for (; *s; s++) {
		if (!strchr(special, *s))
			continue;
		buf_append(b, run, (size_t)(s - run));
		buf_append(b, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\", 2);
		run = s + 1;
	}
	buf_append(b, run, (size_t)(s - run));
}

void buf_label_value(struct buf *b, const char *s)
{
	buf_escaped(b, s, "\\\"\n");
}

void buf_help_text(struct buf *b, const char *s)
{
	buf_escaped(b, s, "\\\n");
}
