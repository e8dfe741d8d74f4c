/* SPDX-License-Identifier: GPL-2.0-only */
/* Scenes for the rendering harnesses: read from a fuzz input, rendered
 * through a snapshot a piece at a time as the server does. */
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "render_check.h"

/* Realistic counts: cumulative buckets of a real histogram never wrap. */
#define SLOT_MASK ((UINT64_C(1) << 40) - 1)

void scene_read(struct scene *s, struct fuzz_input *in)
{
	uint8_t options = fuzz_take_byte(in);

	memset(s, 0, sizeof(*s));
	s->opts.format = options & 1 ? FORMAT_OPENMETRICS : FORMAT_TEXT;
	s->opts.bucket_step = 1 + (options >> 1) % 3;
	s->nrows = (options >> 3) % (MAX_ROWS + 1);
	for (size_t r = 0; r < s->nrows; r++) {
		for (unsigned int l = 0; l < 1 + IDENTITY_LABELS; l++)
			s->strings[r][l] = fuzz_take_string(in);
		s->rows[r].cgroup = s->strings[r][0];
		/* Unknown labels come as NULL or "": both are left out. */
		for (unsigned int l = 0; l < IDENTITY_LABELS; l++)
			s->rows[r].labels.values[l] =
			    s->strings[r][1 + l][0] || r % 2 ? s->strings[r][1 + l] : NULL;
	}
	for (size_t f = 0; f < SELF_FAMILIES; f++) {
		s->nself[f] = fuzz_take_byte(in) % (MAX_SELF_SAMPLES + 1);
		for (size_t i = 0; i < s->nself[f]; i++) {
			struct self_sample *sample = &s->self[f][i];

			for (unsigned int l = 0; exporter_families[f].label_names &&
						 exporter_families[f].label_names[l];
			     l++)
				sample->labels[l] = fuzz_take_string(in);
			fuzz_take_bytes(in, &sample->value, sizeof(sample->value));
		}
	}
	for (size_t r = 0; r < s->nrows; r++) {
		fuzz_take_bytes(in, &s->values[r], sizeof(s->values[r]));
		for (size_t f = 0; f < cgroup_families_len; f++) {
			if (!cgroup_families[f].hist)
				continue;
			for (unsigned int i = 0; i < cgroup_families[f].values; i++) {
				struct ctcp_hist *h = (struct ctcp_hist *)family_value(
				    &cgroup_families[f], &s->values[r], i);

				for (unsigned int k = 0; k < CTCP_HIST_SLOTS; k++)
					h->slots[k] &= SLOT_MASK;
			}
		}
	}
	/* 0: the whole body at once. */
	s->piece = fuzz_take_byte(in);
	s->piece |= (size_t)fuzz_take_byte(in) << 8;
	if (!s->piece)
		s->piece = SIZE_MAX;
}

void scene_free(struct scene *s)
{
	for (size_t r = 0; r < s->nrows; r++)
		for (unsigned int l = 0; l < 1 + IDENTITY_LABELS; l++)
			free(s->strings[r][l]);
	for (size_t f = 0; f < SELF_FAMILIES; f++)
		for (size_t i = 0; i < s->nself[f]; i++)
			for (unsigned int l = 0; l < SELF_MAX_LABELS; l++)
				free((char *)s->self[f][i].labels[l]);
}

void scene_render(const struct scene *s, enum exposition_format format, struct buf *b)
{
	struct render_options opts = s->opts;
	struct render_cursor cur;
	struct snapshot snap;

	opts.format = format;
	snapshot_init(&snap);
	for (size_t r = 0; r < s->nrows; r++)
		fuzz_assert(
		    !snapshot_add(&snap, s->rows[r].cgroup, &s->rows[r].labels, &s->values[r]),
		    "snapshot failed");
	render_cursor_init(&cur);
	buf_init(b);
	/* Each call stops after the first whole row past the piece. */
	while (!render_cgroups(b, (const struct snapshot *const[ROW_KINDS]){&snap, &snap, &snap},
			       &cur, &opts, s->piece == SIZE_MAX ? SIZE_MAX : b->len + s->piece))
		fuzz_assert(!b->failed, "rendering failed");
	render_cursor_free(&cur);
	snapshot_free(&snap);
	for (size_t n = 0; n < SELF_FAMILIES; n++)
		render_self(b, &exporter_families[n], s->self[n], s->nself[n], &opts);
	render_end(b, &opts);
	/* A protobuf body can be empty: no family has samples. */
	fuzz_assert(buf_reserve(b, 1) && !b->failed, "rendering failed");
	b->data[b->len] = '\0';
}
