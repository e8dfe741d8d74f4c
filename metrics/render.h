/* SPDX-License-Identifier: GPL-2.0-only */
/* Renders the catalogue in the Prometheus text format 0.0.4, in
 * OpenMetrics 1.0 or (render_proto.c) in the protobuf format: per-cgroup
 * families from a snapshot, a bounded piece at a time, and the exporter's
 * own families from samples its collectors made. */
#ifndef RENDER_H
#define RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "catalogue.h"
#include "negotiate.h"
#include "snapshot.h"

#define TEXT_CONTENT_TYPE	 "text/plain; version=0.0.4; charset=utf-8"
#define OPENMETRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define PROTOBUF_CONTENT_TYPE                                                                      \
	"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "               \
	"encoding=delimited"

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

/* A part of a line: text[at, at + len) of struct family_text. */
struct piece {
	uint32_t at;
	uint32_t len;
};

/* The most values a family has (one per value of its extra label). */
#define FAMILY_MAX_VALUES 16
/* A family's value words in struct cgroup_values, at most. */
#define FAMILY_MAX_WORDS 64

/* What every line of one family writes around a row's labels, made once
 * per scrape: name{<row labels><tail> <value>. */
struct family_text {
	struct buf text;
	struct piece prefix[3]; /* name{, or name_bucket{, name_sum{, name_count{ */
	/* Per value: each kept bucket's tail (,label="v",le="x"} ), +Inf's,
	 * then the tail of the plain samples (,label="v"} ). */
	struct piece tail[FAMILY_MAX_VALUES][CTCP_HIST_SLOTS + 2];
	unsigned int bounds;			   /* kept finite bounds */
	unsigned char bound_slot[CTCP_HIST_SLOTS]; /* the slot each one ends */
	size_t first_word, words;		   /* where the values are */
	int sum_decimals;			   /* _sum = integer / 10^d; -1: divide */
	size_t lines;				   /* per row */
	size_t row_bytes;			   /* per row, labels not counted */
};

/* Where the rendering of a snapshot is. */
struct render_cursor {
	size_t family; /* in cgroup_families */
	size_t row;
	bool started; /* the family's header and text are made */
	struct family_text text;
};

/* Where the family's values are in struct cgroup_values; false when they
 * do not fit the renderer's bounds (a catalogue mistake the unit tests
 * catch). */
bool family_words(struct family_text *t, const struct family *f);

void render_cursor_init(struct render_cursor *cur);
void render_cursor_free(struct render_cursor *cur);
/* Renders from the cursor on, whole rows, until b holds at least `until`
 * bytes (SIZE_MAX: all) or the per-cgroup families are done; true then.
 * A family renders the rows of its kind, and is left out when they are
 * NULL (peer groups or process attribution off). An allocation failure
 * sets b->failed. */
bool render_cgroups(struct buf *b, const struct snapshot *const rows[ROW_KINDS],
		    struct render_cursor *cur, const struct render_options *opts, size_t until);
void render_self(struct buf *b, const struct family *f, const struct self_sample *samples, size_t n,
		 const struct render_options *opts);
/* Closes the exposition (OpenMetrics ends with # EOF). */
void render_end(struct buf *b, const struct render_options *opts);

const char *format_content_type(enum exposition_format format);

#endif /* RENDER_H */
