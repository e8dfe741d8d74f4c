/* Renders the catalogue in the Prometheus text format 0.0.4: HELP and TYPE
 * for every family, then all of its samples together; histograms with
 * cumulative buckets, +Inf equal to _count, then _sum and _count. */
#include "render_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "escape.h"

void buf_double(struct buf *b, double v)
{
	char text[32];

	for (int precision = 1; precision <= 17; precision++) {
		snprintf(text, sizeof(text), "%.*g", precision, v);
		if (strtod(text, NULL) == v)
			break;
	}
	buf_puts(b, text);
}

static void render_header(struct buf *b, const struct family *f)
{
	const char *suffix = family_sample_suffix(f);

	buf_printf(b, "# HELP %s%s ", f->name, suffix);
	buf_help_text(b, f->help);
	buf_printf(b, "\n# TYPE %s%s %s\n", f->name, suffix, family_type_name(f->type));
}

/* name{cgroup="...",label="value" — the caller closes the braces. */
static void open_sample(struct buf *b, const struct family *f, const char *suffix,
			const char *cgroup, unsigned int i)
{
	buf_printf(b, "%s%s{" CGROUP_LABEL "=\"", f->name, suffix);
	buf_label_value(b, cgroup);
	buf_puts(b, "\"");
	if (f->label)
		buf_printf(b, ",%s=\"%s\"", f->label, f->label_values[i]);
}

static void render_histogram(struct buf *b, const struct family *f, const char *cgroup,
			     unsigned int i, const struct ctcp_hist *h, unsigned int step)
{
	const struct hist_spec *spec = f->hist;
	uint64_t cumulative = 0, count = 0;
	unsigned int slot = 0;

	for (unsigned int k = 0; k < CTCP_HIST_SLOTS; k++)
		count += h->slots[k];
	for (unsigned int k = spec->first; k <= spec->last; k += step) {
		while (slot <= k)
			cumulative += h->slots[slot++];
		open_sample(b, f, "_bucket", cgroup, i);
		buf_puts(b, ",le=\"");
		buf_double(b, ldexp(1, (int)k) / spec->bucket_divisor);
		buf_printf(b, "\"} %" PRIu64 "\n", cumulative);
	}
	open_sample(b, f, "_bucket", cgroup, i);
	buf_printf(b, ",le=\"+Inf\"} %" PRIu64 "\n", count);
	open_sample(b, f, "_sum", cgroup, i);
	buf_puts(b, "} ");
	buf_double(b, (double)h->sum / spec->sum_divisor);
	buf_puts(b, "\n");
	open_sample(b, f, "_count", cgroup, i);
	buf_printf(b, "} %" PRIu64 "\n", count);
}

static void render_cgroup_family(struct buf *b, const struct family *f,
				 const struct cgroup_row *rows, size_t nrows, unsigned int step)
{
	for (size_t r = 0; r < nrows; r++) {
		for (unsigned int i = 0; i < f->values; i++) {
			const void *v = family_value(f, rows[r].values, i);

			if (f->type == FAMILY_HISTOGRAM) {
				render_histogram(b, f, rows[r].cgroup, i, v, step);
				continue;
			}
			open_sample(b, f, family_sample_suffix(f), rows[r].cgroup, i);
			if (f->type == FAMILY_GAUGE)
				buf_printf(b, "} %" PRId64 "\n", *(const int64_t *)v);
			else
				buf_printf(b, "} %" PRIu64 "\n", *(const uint64_t *)v);
		}
	}
}

void render_text(struct buf *b, const struct cgroup_row *rows, size_t nrows,
		 const struct ctcp_stats *stats, const struct render_options *opts)
{
	unsigned int step = opts && opts->bucket_step ? opts->bucket_step : 1;

	for (size_t i = 0; i < cgroup_families_len; i++) {
		render_header(b, &cgroup_families[i]);
		render_cgroup_family(b, &cgroup_families[i], rows, nrows, step);
	}
	for (size_t i = 0; i < exporter_families_len; i++) {
		const struct family *f = &exporter_families[i];

		render_header(b, f);
		buf_printf(b, "%s%s %" PRIu64 "\n", f->name, family_sample_suffix(f),
			   *(const uint64_t *)family_value(f, stats, 0));
	}
}
