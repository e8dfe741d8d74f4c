/* SPDX-License-Identifier: GPL-2.0-only */
/* One scrape's per-cgroup rows, owned by its response: each row's labels
 * escaped once and its values packed, so the response renders from it
 * without any lock and with memory that grows little with idle histogram
 * slots. */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "catalogue.h"

/* Who a cgroup is: values of identity_labels, in order ("" or NULL when
 * unknown: the label is left out). */
struct cgroup_labels {
	const char *values[IDENTITY_LABELS];
};

/* Bytes that can be read after any row's labels: renderers copy them in
 * whole blocks of this size. */
#define SNAPSHOT_TEXT_SLACK 16

struct snapshot_row {
	size_t labels_at; /* in text: cgroup="...",container_id="..." */
	size_t labels_len;
	size_t values_at; /* in values: a packed struct cgroup_values */
};

struct snapshot {
	struct buf text;
	struct buf values;
	struct snapshot_row *rows;
	size_t nrows;
	size_t cap;
};

void snapshot_init(struct snapshot *s);
void snapshot_free(struct snapshot *s);
/* Adds a row; rows must be unique by cgroup (the renderer does not merge
 * them). -1 when out of memory. */
int snapshot_add(struct snapshot *s, const char *cgroup, const struct cgroup_labels *labels,
		 const struct cgroup_values *values);
/* Adds a row of a (cgroup, something) pair: the labels end with
 * label="value" (peer="...", comm="..."). */
int snapshot_add_pair(struct snapshot *s, const char *cgroup, const struct cgroup_labels *labels,
		      const char *label, const char *value, const struct cgroup_values *values);
/* Adds words [first, first + count) of row r's struct cgroup_values to
 * out[0..count). */
void snapshot_values(const struct snapshot *s, size_t r, size_t first, size_t count, __u64 *out);
/* Bytes the snapshot holds. */
size_t snapshot_bytes(const struct snapshot *s);

#endif /* SNAPSHOT_H */
