/* SPDX-License-Identifier: GPL-2.0-only */
/* Renders the catalogue in Prometheus' protobuf exposition format
 * (delimited MetricFamily messages), histograms as native histograms of
 * schema 0 with their classic buckets beside, a family at a time and a
 * bounded number of rows at a time: the body is never held whole. */
#ifndef RENDER_PROTO_H
#define RENDER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include "render.h"

/* For render_cgroups() (render.h): a family's length and header, which
 * need every row of the snapshot (t is the cursor's scratch), then its
 * rows one at a time. */
void proto_start_family(struct buf *b, const struct snapshot *snap, const struct family *f,
			struct family_text *t, const struct render_options *opts);
void proto_render_row(struct buf *b, const struct snapshot *snap, size_t r, const struct family *f,
		      struct family_text *t, const struct render_options *opts);
void proto_render_self(struct buf *b, const struct family *f, const struct self_sample *samples,
		       size_t n);

#endif /* RENDER_PROTO_H */
