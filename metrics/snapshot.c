/* SPDX-License-Identifier: GPL-2.0-only */
/* One scrape's per-cgroup rows: escaped labels and packed values. */
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "packed.h"

#define VALUE_WORDS (sizeof(struct cgroup_values) / sizeof(__u64))

_Static_assert(sizeof(struct cgroup_values) % sizeof(__u64) == 0,
	       "values must be whole 64-bit words");

void snapshot_init(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->text);
	buf_init(&s->values);
}

void snapshot_free(struct snapshot *s)
{
	buf_free(&s->text);
	buf_free(&s->values);
	free(s->rows);
	snapshot_init(s);
}

/* cgroup="...", then each identity label that has a value: Prometheus
 * treats label="" as no label, and the lines stay short. */
static void escape_labels(struct buf *b, const char *cgroup, const struct cgroup_labels *labels,
			  const char *label, const char *value)
{
	buf_append(b, CGROUP_LABEL "=\"", sizeof(CGROUP_LABEL "=\"") - 1);
	buf_label_value(b, cgroup);
	buf_append(b, "\"", 1);
	for (unsigned int l = 0; l < IDENTITY_LABELS; l++) {
		const char *value = labels ? labels->values[l] : NULL;

		if (!value || !*value)
			continue;
		buf_append(b, ",", 1);
		buf_puts(b, identity_labels[l]);
		buf_append(b, "=\"", 2);
		buf_label_value(b, value);
		buf_append(b, "\"", 1);
	}
	if (label) {
		buf_append(b, ",", 1);
		buf_puts(b, label);
		buf_append(b, "=\"", 2);
		buf_label_value(b, value);
		buf_append(b, "\"", 1);
	}
}

int snapshot_add(struct snapshot *s, const char *cgroup, const struct cgroup_labels *labels,
		 const struct cgroup_values *values)
{
	return snapshot_add_pair(s, cgroup, labels, NULL, NULL, values);
}

int snapshot_add_pair(struct snapshot *s, const char *cgroup, const struct cgroup_labels *labels,
		      const char *label, const char *value, const struct cgroup_values *values)
{
	struct snapshot_row *row;

	if (s->nrows == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct snapshot_row *rows = realloc(s->rows, cap * sizeof(*rows));

		if (!rows)
			return -1;
		s->rows = rows;
		s->cap = cap;
	}
	row = &s->rows[s->nrows];
	row->labels_at = s->text.len;
	escape_labels(&s->text, cgroup, labels, label, value);
	row->labels_len = s->text.len - row->labels_at;
	buf_reserve(&s->text, SNAPSHOT_TEXT_SLACK);
	row->values_at =
	    packed_append(&s->values, (const __u64 *)(const void *)values, VALUE_WORDS);
	if (s->text.failed || s->values.failed)
		return -1;
	s->nrows++;
	return 0;
}

void snapshot_values(const struct snapshot *s, size_t r, size_t first, size_t count, __u64 *out)
{
	packed_add((const __u64 *)(const void *)(s->values.data + s->rows[r].values_at),
		   VALUE_WORDS, first, count, out);
}

size_t snapshot_bytes(const struct snapshot *s)
{
	return s->text.cap + s->values.cap + s->cap * sizeof(*s->rows);
}
