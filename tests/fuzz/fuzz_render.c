/* SPDX-License-Identifier: GPL-2.0-only */
/* Rendering rows with any label values and any counter, gauge and
 * histogram values, and exporter samples with any labels and doubles, in
 * both formats, from a snapshot a piece of any size at a time: the output is
 * read back line by line, strictly, and every label value (as valid UTF-8)
 * and number must come back as it went in. */
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "render_check.h"

/* Realistic counts: cumulative buckets of a real histogram never wrap. */
#define SLOT_MASK ((UINT64_C(1) << 40) - 1)

/* Options, then row labels, then exporter samples, then the raw values,
 * then the size of the pieces. */
static void scene_read(struct scene *s, struct fuzz_input *in)
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

static void scene_free(struct scene *s)
{
	for (size_t r = 0; r < s->nrows; r++)
		for (unsigned int l = 0; l < 1 + IDENTITY_LABELS; l++)
			free(s->strings[r][l]);
	for (size_t f = 0; f < SELF_FAMILIES; f++)
		for (size_t i = 0; i < s->nself[f]; i++)
			for (unsigned int l = 0; l < SELF_MAX_LABELS; l++)
				free((char *)s->self[f][i].labels[l]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	struct scene *s = malloc(sizeof(*s));
	struct render_cursor cur;
	struct snapshot snap;
	struct buf b;

	if (!s)
		abort();
	scene_read(s, &in);
	snapshot_init(&snap);
	for (size_t r = 0; r < s->nrows; r++)
		fuzz_assert(
		    !snapshot_add(&snap, s->rows[r].cgroup, &s->rows[r].labels, &s->values[r]),
		    "snapshot failed");
	render_cursor_init(&cur);
	buf_init(&b);
	/* Each call stops after the first whole row past the piece. */
	while (!render_cgroups(&b, &snap, &cur, &s->opts,
			       s->piece == SIZE_MAX ? SIZE_MAX : b.len + s->piece))
		fuzz_assert(!b.failed, "rendering failed");
	render_cursor_free(&cur);
	snapshot_free(&snap);
	for (size_t n = 0; n < SELF_FAMILIES; n++)
		render_self(&b, &exporter_families[n], s->self[n], s->nself[n], &s->opts);
	render_end(&b, &s->opts);
	fuzz_assert(!b.failed && b.data, "rendering failed");
	render_check(b.data, b.len, s);
	buf_free(&b);
	scene_free(s);
	free(s);
	return 0;
}
