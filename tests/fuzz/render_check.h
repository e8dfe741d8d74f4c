/* SPDX-License-Identifier: GPL-2.0-only */
/* Reads rendered exposition text back against the scene it was rendered
 * from: every line in the order the catalogue gives, every label value and
 * number as it went in (ill-formed UTF-8 as U+FFFD, empty identity labels
 * left out). A difference fails a property. Built without coverage instrumentation: it is the
 * judge, not the judged. */
#ifndef FUZZ_RENDER_CHECK_H
#define FUZZ_RENDER_CHECK_H

#include <stddef.h>
#include "render.h"
#include "snapshot.h"

#define MAX_ROWS	 3
#define MAX_SELF_SAMPLES 2

/* A row of a scene: the labels snapshot_add() is given for values[r]. */
struct scene_row {
	const char *cgroup;
	struct cgroup_labels labels;
};

/* What one run renders: options, rows and exporter samples; the rows are
 * rendered from a snapshot, piece bytes at a time. */
struct scene {
	struct render_options opts;
	size_t piece;
	size_t nrows;
	struct scene_row rows[MAX_ROWS];
	struct cgroup_values values[MAX_ROWS];
	char *strings[MAX_ROWS][1 + IDENTITY_LABELS];
	size_t nself[SELF_FAMILIES];
	struct self_sample self[SELF_FAMILIES][MAX_SELF_SAMPLES];
};

struct fuzz_input;

/* Options, then row labels, then exporter samples, then the raw values,
 * then the size of the pieces (scene.c); scene_free() what it took. */
void scene_read(struct scene *s, struct fuzz_input *in);
void scene_free(struct scene *s);
/* The scene in a format, rendered as the server does into b (buf_free()
 * it). */
void scene_render(const struct scene *s, enum exposition_format format, struct buf *b);

void render_check(const char *text, size_t len, const struct scene *s);

#endif /* FUZZ_RENDER_CHECK_H */
