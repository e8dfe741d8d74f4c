/* Renders the catalogue: HELP, TYPE (and UNIT in OpenMetrics) for every
 * family, then all of its samples together; histograms with cumulative
 * buckets, +Inf equal to _count, then _sum and _count. */
#include "render.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"

const char *format_content_type(enum exposition_format format)
{
	return format == FORMAT_OPENMETRICS ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE;
}

void buf_double(struct buf *b, double v, enum exposition_format format)
{
	char text[64], *e;
	int digits, exponent;

	if (isnan(v)) {
		buf_puts(b, "NaN");
		return;
	}
	if (isinf(v)) {
		buf_puts(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* The fewest significant digits that read back as v, and the exponent
	 * they come with, as Go's strconv.FormatFloat(v, 'g', -1, 64) finds
	 * them: Prometheus' own clients write numbers this way, and Prometheus
	 * compares le values in this canonical form. */
	for (digits = 1; digits < 17; digits++) {
		snprintf(text, sizeof(text), "%.*e", digits - 1, v);
		if (strtod(text, NULL) == v)
			break;
	}
	snprintf(text, sizeof(text), "%.*e", digits - 1, v);
	e = strchr(text, 'e');
	exponent = e ? atoi(e + 1) : 0;
	if (exponent >= -4 && exponent < 6)
		snprintf(text, sizeof(text), "%.*f",
			 digits - 1 > exponent ? digits - 1 - exponent : 0, v);
	buf_puts(b, text);
	/* OpenMetrics wants a float to look like one: 1.0, not 1. */
	if (format == FORMAT_OPENMETRICS && !strpbrk(text, ".e"))
		buf_puts(b, ".0");
}

/* In OpenMetrics a family is named without the counter's _total. */
static const char *family_suffix(const struct family *f, const struct render_options *opts)
{
	return opts->format == FORMAT_OPENMETRICS ? "" : family_sample_suffix(f);
}

static void render_header(struct buf *b, const struct family *f, const struct render_options *o)
{
	const char *suffix = family_suffix(f, o);

	buf_printf(b, "# HELP %s%s ", f->name, suffix);
	if (o->format == FORMAT_OPENMETRICS)
		buf_label_value(b, f->help); /* OpenMetrics escapes quotes in HELP too */
	else
		buf_help_text(b, f->help);
	buf_printf(b, "\n# TYPE %s%s %s\n", f->name, suffix, family_type_name(f->type));
	if (o->format == FORMAT_OPENMETRICS && f->unit)
		buf_printf(b, "# UNIT %s %s\n", f->name, f->unit);
}

static void buf_u64(struct buf *b, uint64_t v)
{
	char text[20];
	size_t i = sizeof(text);

	do {
		text[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_append(b, text + i, sizeof(text) - i);
}

static void buf_i64(struct buf *b, int64_t v)
{
	if (v < 0) {
		buf_append(b, "-", 1);
		buf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		buf_u64(b, (uint64_t)v);
	}
}

/* A row's labels, escaped once per scrape: cgroup="...",<identity>. */
struct row_text {
	size_t offset;
	size_t len;
};

static void row_labels(struct buf *b, const struct cgroup_row *row)
{
	buf_puts(b, CGROUP_LABEL "=\"");
	buf_label_value(b, row->cgroup);
	for (unsigned int l = 0; l < IDENTITY_LABELS; l++) {
		buf_append(b, "\",", 2);
		buf_puts(b, identity_labels[l]);
		buf_append(b, "=\"", 2);
		buf_label_value(b, row->labels.values[l] ? row->labels.values[l] : "");
	}
	buf_append(b, "\"", 1);
}

/* name{<row labels>,label="value" — the caller closes the braces. */
static void open_sample(struct buf *b, const struct family *f, const char *suffix,
			const char *labels, size_t labels_len, unsigned int i)
{
	buf_puts(b, f->name);
	buf_puts(b, suffix);
	buf_append(b, "{", 1);
	buf_append(b, labels, labels_len);
	if (f->label) {
		buf_append(b, ",", 1);
		buf_puts(b, f->label);
		buf_append(b, "=\"", 2);
		buf_puts(b, f->label_values[i]);
		buf_append(b, "\"", 1);
	}
}

/* The le values of a histogram family, formatted once per scrape. */
struct bounds {
	char text[CTCP_HIST_SLOTS][32];
};

static void format_bounds(struct bounds *out, const struct hist_spec *spec,
			  enum exposition_format format)
{
	struct buf b;

	for (unsigned int k = spec->first; k <= spec->last && k < CTCP_HIST_SLOTS; k++) {
		buf_init(&b);
		buf_double(&b, ldexp(1, (int)k) / spec->bucket_divisor, format);
		snprintf(out->text[k], sizeof(out->text[k]), "%s", b.failed ? "" : b.data);
		buf_free(&b);
	}
}

static void render_histogram(struct buf *b, const struct family *f, const char *labels,
			     size_t labels_len, unsigned int i, const struct ctcp_hist *h,
			     const struct bounds *le, const struct render_options *o)
{
	const struct hist_spec *spec = f->hist;
	unsigned int step = o->bucket_step ? o->bucket_step : 1;
	uint64_t cumulative = 0, count = 0;
	unsigned int slot = 0;

	for (unsigned int k = 0; k < CTCP_HIST_SLOTS; k++)
		count += h->slots[k];
	for (unsigned int k = spec->first; k <= spec->last; k += step) {
		while (slot <= k)
			cumulative += h->slots[slot++];
		open_sample(b, f, "_bucket", labels, labels_len, i);
		buf_puts(b, ",le=\"");
		buf_puts(b, le->text[k]);
		buf_append(b, "\"} ", 3);
		buf_u64(b, cumulative);
		buf_append(b, "\n", 1);
	}
	open_sample(b, f, "_bucket", labels, labels_len, i);
	buf_puts(b, ",le=\"+Inf\"} ");
	buf_u64(b, count);
	buf_append(b, "\n", 1);
	open_sample(b, f, "_sum", labels, labels_len, i);
	buf_append(b, "} ", 2);
	buf_double(b, (double)h->sum / spec->sum_divisor, o->format);
	buf_append(b, "\n", 1);
	open_sample(b, f, "_count", labels, labels_len, i);
	buf_append(b, "} ", 2);
	buf_u64(b, count);
	buf_append(b, "\n", 1);
}

static void render_cgroup_family(struct buf *b, const struct family *f,
				 const struct cgroup_row *rows, size_t nrows,
				 const struct buf *text, const struct row_text *at,
				 const struct render_options *o)
{
	struct bounds le;

	if (f->hist)
		format_bounds(&le, f->hist, o->format);
	for (size_t r = 0; r < nrows; r++) {
		const char *labels = text->data + at[r].offset;

		for (unsigned int i = 0; i < f->values; i++) {
			const void *v = family_value(f, rows[r].values, i);

			if (f->type == FAMILY_HISTOGRAM) {
				render_histogram(b, f, labels, at[r].len, i, v, &le, o);
				continue;
			}
			open_sample(b, f, family_sample_suffix(f), labels, at[r].len, i);
			buf_append(b, "} ", 2);
			if (f->type == FAMILY_GAUGE)
				buf_i64(b, *(const int64_t *)v);
			else
				buf_u64(b, *(const uint64_t *)v);
			buf_append(b, "\n", 1);
		}
	}
}

void render_cgroups(struct buf *b, const struct cgroup_row *rows, size_t nrows,
		    const struct render_options *opts)
{
	struct row_text *at = calloc(nrows ? nrows : 1, sizeof(*at));
	struct buf text;

	buf_init(&text);
	if (!at) {
		b->failed = true;
		return;
	}
	for (size_t r = 0; r < nrows; r++) {
		at[r].offset = text.len;
		row_labels(&text, &rows[r]);
		at[r].len = text.len - at[r].offset;
	}
	if (text.failed || (nrows && !text.data)) {
		b->failed = true;
	} else {
		for (size_t i = 0; i < cgroup_families_len; i++) {
			render_header(b, &cgroup_families[i], opts);
			render_cgroup_family(b, &cgroup_families[i], rows, nrows, &text, at, opts);
		}
	}
	buf_free(&text);
	free(at);
}

void render_self(struct buf *b, const struct family *f, const struct self_sample *samples, size_t n,
		 const struct render_options *opts)
{
	render_header(b, f, opts);
	for (size_t s = 0; s < n; s++) {
		buf_printf(b, "%s%s", f->name, family_sample_suffix(f));
		for (unsigned int l = 0; f->label_names && f->label_names[l]; l++) {
			buf_printf(b, "%s%s=\"", l ? "," : "{", f->label_names[l]);
			buf_label_value(b, samples[s].labels[l] ? samples[s].labels[l] : "");
			buf_puts(b, "\"");
		}
		buf_puts(b, f->label_names ? "} " : " ");
		buf_double(b, samples[s].value, opts->format);
		buf_puts(b, "\n");
	}
}

void render_end(struct buf *b, const struct render_options *opts)
{
	if (opts->format == FORMAT_OPENMETRICS)
		buf_puts(b, "# EOF\n");
}
