/* Reads rendered exposition text back against the scene it was rendered
 * from: every line in the order the catalogue gives, every label value and
 * number as it went in (ill-formed UTF-8 as U+FFFD). A difference fails a property. Built
 * without coverage instrumentation: it is the judge, not the judged. */
#ifndef FUZZ_RENDER_CHECK_H
#define FUZZ_RENDER_CHECK_H

#include <stddef.h>
#include "render.h"

#define MAX_ROWS	 3
#define MAX_SELF_SAMPLES 2

/* What one run renders: options, rows and exporter samples. */
struct scene {
	struct render_options opts;
	size_t nrows;
	struct cgroup_row rows[MAX_ROWS];
	struct cgroup_values values[MAX_ROWS];
	char *strings[MAX_ROWS][1 + IDENTITY_LABELS];
	size_t nself[SELF_FAMILIES];
	struct self_sample self[SELF_FAMILIES][MAX_SELF_SAMPLES];
};

void render_check(const char *text, size_t len, const struct scene *s);

#endif /* FUZZ_RENDER_CHECK_H */
