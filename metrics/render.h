/* Renders the catalogue in the Prometheus text format 0.0.4 or in
 * OpenMetrics 1.0: per-cgroup families from a snapshot, the exporter's own
 * families from samples its collectors made. */
#ifndef RENDER_H
#define RENDER_H

#include <stddef.h>
#include "buf.h"
#include "catalogue.h"
#include "negotiate.h"

#define TEXT_CONTENT_TYPE	 "text/plain; version=0.0.4; charset=utf-8"
#define OPENMETRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Who a cgroup is: values of identity_labels, in order ("" or NULL when
 * unknown). */
struct cgroup_labels {
	const char *values[IDENTITY_LABELS];
};

/* One cgroup's values, under the labels it is shown with. */
struct cgroup_row {
	const char *cgroup;
	struct cgroup_labels labels;
	struct cgroup_values *values;
};

/* One sample of an exporter family: its label values, in the order of the
 * family's label_names. */
#define SELF_MAX_LABELS 4
struct self_sample {
	const char *labels[SELF_MAX_LABELS];
	double value;
};

struct render_options {
	enum exposition_format format;
	/* Histograms show every bucket_step-th bound (1: all, 2: factor 4,
	 * 3: factor 8); merging is exact because the bounds are powers of 2. */
	unsigned int bucket_step;
};

/* rows must be unique by cgroup: the renderer does not merge them. */
void render_cgroups(struct buf *b, const struct cgroup_row *rows, size_t nrows,
		    const struct render_options *opts);
void render_self(struct buf *b, const struct family *f, const struct self_sample *samples, size_t n,
		 const struct render_options *opts);
/* Closes the exposition (OpenMetrics ends with # EOF). */
void render_end(struct buf *b, const struct render_options *opts);

const char *format_content_type(enum exposition_format format);

/* v in the canonical form of Prometheus clients (Go's 'g' with the fewest
 * digits: "0.001", "8e-06", "1.048576e+06"); whole numbers get ".0" in
 * OpenMetrics. */
void buf_double(struct buf *b, double v, enum exposition_format format);

#endif /* RENDER_H */
