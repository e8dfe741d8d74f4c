/* SPDX-License-Identifier: GPL-2.0-only */
/* The expected output of a scene, line by line, against the real one. */
#include "render_check.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.h"
#include "input.h"

/* The output, consumed one line at a time. */
struct reader {
	const char *at, *end;
	unsigned int line;
	bool openmetrics;
};

static const char *next_line(struct reader *r, size_t *len)
{
	const char *line = r->at, *nl = memchr(r->at, '\n', (size_t)(r->end - r->at));

	fuzz_assert(nl, "line %u: missing or not ended by a newline", r->line + 1);
	r->line++;
	r->at = nl + 1;
	*len = (size_t)(nl - line);
	return line;
}

static void expect_line(struct reader *r, const char *want)
{
	size_t len;
	const char *line = next_line(r, &len);

	fuzz_assert(len == strlen(want) && !memcmp(line, want, len), "line %u: '%.*s', want '%s'",
		    r->line, (int)len, line, want);
}

static void expect_header(struct reader *r, const struct family *f, const char *suffix)
{
	char want[256], *help;
	size_t len, plen;
	const char *line = next_line(r, &len);

	plen = (size_t)snprintf(want, sizeof(want), "# HELP %s%s ", f->name, suffix);
	fuzz_assert(len >= plen && !memcmp(line, want, plen), "line %u: '%.*s', want '%s...'",
		    r->line, (int)len, line, want);
	help = help_text_unescape(line + plen, len - plen, r->openmetrics);
	fuzz_assert(help && !strcmp(help, f->help), "line %u: HELP reads back as '%s'", r->line,
		    help ? help : "(malformed)");
	free(help);
	snprintf(want, sizeof(want), "# TYPE %s%s %s", f->name, suffix, family_type_name(f->type));
	expect_line(r, want);
	if (r->openmetrics && f->unit) {
		snprintf(want, sizeof(want), "# UNIT %s %s", f->name, f->unit);
		expect_line(r, want);
	}
}

/* What one sample line must hold. */
struct expected {
	char name[128];
	const char *label_names[SAMPLE_MAX_LABELS];
	const char *label_values[SAMPLE_MAX_LABELS];
	size_t nlabels;
	bool has_le;
	double le;
	enum { VALUE_U64, VALUE_I64, VALUE_DOUBLE } kind;
	uint64_t u64;
	int64_t i64;
	double dbl;
};

static void add_label(struct expected *e, const char *name, const char *value)
{
	e->label_names[e->nlabels] = name;
	e->label_values[e->nlabels++] = value ? value : "";
}

/* -?D+(.D+)?(e[+-]DD+)?, as Go's 'g' format writes finite numbers. */
static bool plain_decimal(const char *s)
{
	size_t n;

	s += *s == '-';
	n = strspn(s, "0123456789");
	if (!n)
		return false;
	s += n;
	if (*s == '.') {
		n = strspn(++s, "0123456789");
		if (!n)
			return false;
		s += n;
	}
	if (*s == 'e') {
		if (s[1] != '+' && s[1] != '-')
			return false;
		n = strspn(s + 2, "0123456789");
		if (n < 2)
			return false;
		s += 2 + n;
	}
	return !*s;
}

/* A float as either format writes it: OpenMetrics marks whole numbers. */
static void check_float_text(const struct reader *r, const char *text, double want)
{
	char *end;
	double got;

	if (isnan(want)) {
		fuzz_assert(!strcmp(text, "NaN"), "line %u: '%s' for NaN", r->line, text);
		return;
	}
	if (isinf(want)) {
		fuzz_assert(!strcmp(text, want > 0 ? "+Inf" : "-Inf"), "line %u: '%s' for %g",
			    r->line, text, want);
		return;
	}
	got = strtod(text, &end);
	fuzz_assert(!*end && got == want && signbit(got) == signbit(want),
		    "line %u: '%s' reads back as %.17g, want %.17g", r->line, text, got, want);
	fuzz_assert(plain_decimal(text), "line %u: '%s' is not a plain decimal", r->line, text);
	fuzz_assert(!r->openmetrics || strpbrk(text, ".e"),
		    "line %u: OpenMetrics float '%s' without '.' or exponent", r->line, text);
}

static void check_integer_text(const struct reader *r, const char *text, const struct expected *e)
{
	char want[32];

	if (e->kind == VALUE_U64)
		snprintf(want, sizeof(want), "%" PRIu64, e->u64);
	else
		snprintf(want, sizeof(want), "%" PRId64, e->i64);
	fuzz_assert(!strcmp(text, want), "line %u: value '%s', want %s", r->line, text, want);
}

static void expect_sample(struct reader *r, const struct expected *e)
{
	struct sample_line s;
	const char *why = "", *line;
	size_t len, want_labels = e->nlabels + e->has_le;

	line = next_line(r, &len);
	fuzz_assert(sample_line_parse(line, len, &s, &why), "line %u: %s: '%.*s'", r->line, why,
		    (int)len, line);
	fuzz_assert(!strcmp(s.name, e->name), "line %u: name '%s', want '%s'", r->line, s.name,
		    e->name);
	fuzz_assert(s.nlabels == want_labels, "line %u: %zu labels, want %zu", r->line, s.nlabels,
		    want_labels);
	for (size_t l = 0; l < e->nlabels; l++)
		fuzz_assert(!strcmp(s.label_names[l], e->label_names[l]) &&
				shown_as(e->label_values[l], s.label_values[l]),
			    "line %u: label %zu reads back as %s=\"%s\", want %s=\"%s\"", r->line,
			    l, s.label_names[l], s.label_values[l], e->label_names[l],
			    e->label_values[l]);
	if (e->has_le) {
		fuzz_assert(!strcmp(s.label_names[e->nlabels], "le"), "line %u: no le label",
			    r->line);
		check_float_text(r, s.label_values[e->nlabels], e->le);
	}
	if (e->kind == VALUE_DOUBLE)
		check_float_text(r, s.value, e->dbl);
	else
		check_integer_text(r, s.value, e);
	sample_line_free(&s);
}

/* name{cgroup="..",<identity>,[family label]: the labels of a row; an
 * identity label without a value is left out (Prometheus reads label=""
 * as no label). */
static void row_sample(struct expected *e, const struct family *f, const char *suffix,
		       const struct scene_row *row, unsigned int i)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s%s", f->name, suffix);
	add_label(e, CGROUP_LABEL, row->cgroup);
	for (unsigned int l = 0; l < IDENTITY_LABELS; l++)
		if (row->labels.values[l] && *row->labels.values[l])
			add_label(e, identity_labels[l], row->labels.values[l]);
	if (f->label)
		add_label(e, f->label, f->label_values[i]);
}

/* The double nearest to sum / sum_divisor: when the divisor is a power of
 * ten, that of the exact decimal (strtod rounds it once), which dividing
 * the sum made a double first may miss. */
static double expected_sum(const struct family *f, uint64_t sum)
{
	char text[48];
	int decimals = 0;

	for (double d = f->hist->sum_divisor; d >= 10 && decimals < 16; d /= 10)
		decimals++;
	if (f->hist->sum_divisor != pow(10, decimals))
		return (double)sum / f->hist->sum_divisor;
	snprintf(text, sizeof(text), "%" PRIu64 "e-%d", sum, decimals);
	return strtod(text, NULL);
}

static void expect_histogram(struct reader *r, const struct family *f, const struct scene_row *row,
			     const struct cgroup_values *values, unsigned int i, unsigned int step)
{
	const struct ctcp_hist *h = family_value(f, values, i);
	uint64_t count = 0, cumulative = 0;
	struct expected e;
	unsigned int slot = 0;

	for (unsigned int k = 0; k < CTCP_HIST_SLOTS; k++)
		count += h->slots[k];
	for (unsigned int k = f->hist->first; k <= f->hist->last; k += step) {
		while (slot <= k)
			cumulative += h->slots[slot++];
		row_sample(&e, f, "_bucket", row, i);
		e.has_le = true;
		e.le = ldexp(1, (int)k + f->hist->unit_log2);
		e.u64 = cumulative;
		expect_sample(r, &e);
	}
	row_sample(&e, f, "_bucket", row, i);
	e.has_le = true;
	e.le = INFINITY;
	e.u64 = count;
	expect_sample(r, &e);
	row_sample(&e, f, "_sum", row, i);
	e.kind = VALUE_DOUBLE;
	e.dbl = expected_sum(f, h->sum);
	expect_sample(r, &e);
	row_sample(&e, f, "_count", row, i);
	e.u64 = count;
	expect_sample(r, &e);
}

static void expect_cgroups(struct reader *r, const struct scene *s)
{
	for (size_t n = 0; n < cgroup_families_len; n++) {
		const struct family *f = &cgroup_families[n];

		expect_header(r, f, r->openmetrics ? "" : family_sample_suffix(f));
		for (size_t row = 0; row < s->nrows; row++) {
			for (unsigned int i = 0; i < f->values; i++) {
				const void *v = family_value(f, &s->values[row], i);
				struct expected e;

				if (f->type == FAMILY_HISTOGRAM) {
					expect_histogram(r, f, &s->rows[row], &s->values[row], i,
							 s->opts.bucket_step);
					continue;
				}
				row_sample(&e, f, family_sample_suffix(f), &s->rows[row], i);
				e.kind = f->type == FAMILY_GAUGE ? VALUE_I64 : VALUE_U64;
				memcpy(&e.i64, v, sizeof(e.i64));
				memcpy(&e.u64, v, sizeof(e.u64));
				expect_sample(r, &e);
			}
		}
	}
}

static void expect_self(struct reader *r, const struct scene *s)
{
	for (size_t n = 0; n < SELF_FAMILIES; n++) {
		const struct family *f = &exporter_families[n];

		expect_header(r, f, r->openmetrics ? "" : family_sample_suffix(f));
		for (size_t i = 0; i < s->nself[n]; i++) {
			struct expected e = {.kind = VALUE_DOUBLE, .dbl = s->self[n][i].value};

			snprintf(e.name, sizeof(e.name), "%s%s", f->name, family_sample_suffix(f));
			for (unsigned int l = 0; f->label_names && f->label_names[l]; l++)
				add_label(&e, f->label_names[l], s->self[n][i].labels[l]);
			expect_sample(r, &e);
		}
	}
}

void render_check(const char *text, size_t len, const struct scene *s)
{
	struct reader r = {text, text + len, 0, s->opts.format == FORMAT_OPENMETRICS};

	fuzz_assert(strlen(text) == len, "a NUL byte in the output");
	expect_cgroups(&r, s);
	expect_self(&r, s);
	if (r.openmetrics)
		expect_line(&r, "# EOF");
	fuzz_assert(r.at == r.end, "line %u: text after the end: '%s'", r.line + 1, r.at);
}
