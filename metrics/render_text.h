/* Renders the catalogue in the Prometheus text format 0.0.4. */
#ifndef RENDER_TEXT_H
#define RENDER_TEXT_H

#include <stddef.h>
#include "buf.h"
#include "catalogue.h"

#define TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One cgroup's summed counters, under the label value it is shown with. */
struct cgroup_row {
	const char *cgroup;
	struct ctcp_counters counters;
};

/* rows must be unique by cgroup: the renderer does not merge them. */
void render_text(struct buf *b, const struct cgroup_row *rows, size_t nrows,
		 const struct ctcp_stats *stats);

#endif /* RENDER_TEXT_H */
