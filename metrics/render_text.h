/* Renders the catalogue in the Prometheus text format 0.0.4. */
#ifndef RENDER_TEXT_H
#define RENDER_TEXT_H

#include <stddef.h>
#include "buf.h"
#include "catalogue.h"

#define TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One cgroup's values, under the label value it is shown with. */
struct cgroup_row {
	const char *cgroup;
	struct cgroup_values *values;
};

struct render_options {
	/* Histograms show every bucket_step-th bound (1: all, 2: factor 4,
	 * 3: factor 8); merging is exact because the bounds are powers of 2. */
	unsigned int bucket_step;
};

/* rows must be unique by cgroup: the renderer does not merge them. */
void render_text(struct buf *b, const struct cgroup_row *rows, size_t nrows,
		 const struct ctcp_stats *stats, const struct render_options *opts);

/* The shortest decimal that reads back as v ("0.000008", "16.777216"). */
void buf_double(struct buf *b, double v);

#endif /* RENDER_TEXT_H */
