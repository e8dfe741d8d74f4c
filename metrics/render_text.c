/* Renders the catalogue in the Prometheus text format 0.0.4: HELP and TYPE
 * for every family, then all of its samples together. */
#include "render_text.h"

#include <inttypes.h>
#include "escape.h"

static __u64 family_value(const void *source, const struct family *f, unsigned int i)
{
	return ((const __u64 *)((const char *)source + f->offset))[i];
}

static void render_header(struct buf *b, const struct family *f)
{
	const char *suffix = family_sample_suffix(f);

	buf_printf(b, "# HELP %s%s ", f->name, suffix);
	buf_help_text(b, f->help);
	buf_printf(b, "\n# TYPE %s%s %s\n", f->name, suffix, family_type_name(f->type));
}

static void render_cgroup_family(struct buf *b, const struct family *f,
				 const struct cgroup_row *rows, size_t nrows)
{
	for (size_t r = 0; r < nrows; r++) {
		for (unsigned int i = 0; i < f->values; i++) {
			buf_printf(b, "%s%s{" CGROUP_LABEL "=\"", f->name, family_sample_suffix(f));
			buf_label_value(b, rows[r].cgroup);
			if (f->label)
				buf_printf(b, "\",%s=\"%s", f->label, f->label_values[i]);
			buf_printf(b, "\"} %" PRIu64 "\n",
				   (uint64_t)family_value(&rows[r].counters, f, i));
		}
	}
}

void render_text(struct buf *b, const struct cgroup_row *rows, size_t nrows,
		 const struct ctcp_stats *stats)
{
	for (size_t i = 0; i < cgroup_families_len; i++) {
		render_header(b, &cgroup_families[i]);
		render_cgroup_family(b, &cgroup_families[i], rows, nrows);
	}
	for (size_t i = 0; i < exporter_families_len; i++) {
		const struct family *f = &exporter_families[i];

		render_header(b, f);
		buf_printf(b, "%s%s %" PRIu64 "\n", f->name, family_sample_suffix(f),
			   (uint64_t)family_value(stats, f, 0));
	}
}
