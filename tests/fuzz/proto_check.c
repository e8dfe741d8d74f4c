/* SPDX-License-Identifier: GPL-2.0-only */
/* The protobuf rendering against the text one: every family with samples
 * is one MetricFamily with the same name, help, type, labels and values;
 * histograms carry the classic buckets, _sum and _count of the text and
 * native buckets of schema 0 that are exactly the scene's slots. */
#include "proto_check.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.h"
#include "exposition.pb-c.h"
#include "input.h"

typedef Io__Prometheus__Client__MetricFamily pb_family;
typedef Io__Prometheus__Client__Metric pb_metric;

/* The text, a line at a time. */
struct lines {
	const char *at;
	unsigned int line;
};

static bool next_line(struct lines *t, const char **line, size_t *len)
{
	const char *nl;

	if (!*t->at)
		return false;
	nl = strchr(t->at, '\n');
	fuzz_assert(nl, "text line %u not ended", t->line + 1);
	*line = t->at;
	*len = (size_t)(nl - t->at);
	t->at = nl + 1;
	t->line++;
	return true;
}

static bool peek_sample(const struct lines *t)
{
	return *t->at && *t->at != '#';
}

static void next_sample(struct lines *t, struct sample_line *s)
{
	const char *line, *why = "";
	size_t len;

	fuzz_assert(next_line(t, &line, &len), "text ends early");
	fuzz_assert(sample_line_parse(line, len, s, &why), "text line %u: %s", t->line, why);
}

/* The next delimited message; NULL at the end. */
static pb_family *next_family(const char **at, const char *end)
{
	uint64_t size = 0;
	unsigned int shift = 0;
	pb_family *f;

	if (*at == end)
		return NULL;
	for (;;) {
		uint8_t byte;

		fuzz_assert(*at < end && shift < 64, "length varint cut or too long");
		byte = (uint8_t) * (*at)++;
		size |= (uint64_t)(byte & 0x7f) << shift;
		shift += 7;
		if (byte < 0x80)
			break;
	}
	fuzz_assert(size <= (uint64_t)(end - *at), "message of %llu bytes past the end",
		    (unsigned long long)size);
	f = io__prometheus__client__metric_family__unpack(NULL, size, (const uint8_t *)*at);
	fuzz_assert(f, "protobuf-c cannot unpack a MetricFamily");
	*at += size;
	return f;
}

/* The sample's labels but le are the metric's, in order. */
static void same_labels(const struct sample_line *s, const pb_metric *m, unsigned int line)
{
	size_t n = s->nlabels;

	if (n && !strcmp(s->label_names[n - 1], "le"))
		n--;
	fuzz_assert(m->n_label == n, "text line %u: %zu labels, protobuf %zu", line, n, m->n_label);
	for (size_t l = 0; l < n; l++)
		fuzz_assert(!strcmp(m->label[l]->name, s->label_names[l]) &&
				!strcmp(m->label[l]->value, s->label_values[l]),
			    "text line %u: label %s=\"%s\", protobuf %s=\"%s\"", line,
			    s->label_names[l], s->label_values[l], m->label[l]->name,
			    m->label[l]->value);
}

static double number(const char *text)
{
	return strcmp(text, "+Inf") ? strtod(text, NULL) : INFINITY;
}

static void same_number(const char *text, double got, unsigned int line)
{
	double want = number(text);

	fuzz_assert(got == want || (isnan(got) && isnan(want)), "text line %u: %s, protobuf %.17g",
		    line, text, got);
}

/* Native buckets, read back, are the slots of the scene's histogram. */
static void native_is_slots(const Io__Prometheus__Client__Histogram *h, const struct family *f,
			    const struct ctcp_hist *want)
{
	int u = f->hist->unit_log2;
	__u64 slots[CTCP_HIST_SLOTS] = {0};
	int64_t count = 0;
	size_t d = 0;
	int index = 0;

	fuzz_assert(h->has_schema && h->schema == 0, "%s: schema %d", f->name, h->schema);
	fuzz_assert(h->zero_threshold == ldexp(1, u), "%s: zero threshold %g", f->name,
		    h->zero_threshold);
	fuzz_assert(h->n_negative_span == 0 && h->n_negative_delta == 0, "%s: negative buckets",
		    f->name);
	fuzz_assert(h->n_positive_span >= 1, "%s: no span marks it native", f->name);
	slots[0] = h->zero_count;
	for (size_t s = 0; s < h->n_positive_span; s++) {
		index += h->positive_span[s]->offset;
		for (uint32_t k = 0; k < h->positive_span[s]->length; k++, index++) {
			int slot = index - u;

			fuzz_assert(d < h->n_positive_delta, "%s: fewer deltas than buckets",
				    f->name);
			count += h->positive_delta[d++];
			fuzz_assert(slot >= 1 && slot < CTCP_HIST_SLOTS && count >= 0,
				    "%s: bucket %d (slot %d) count %lld", f->name, index, slot,
				    (long long)count);
			slots[slot] = (__u64)count;
		}
		if (s == 0 && !h->positive_span[0]->length)
			index -= h->positive_span[0]->offset; /* the no-op span */
	}
	fuzz_assert(d == h->n_positive_delta, "%s: more deltas than buckets", f->name);
	fuzz_assert(!memcmp(slots, want->slots, sizeof(slots)), "%s: native buckets differ",
		    f->name);
}

static void check_histogram(struct lines *t, const pb_metric *m, const struct family *f,
			    const struct ctcp_hist *want)
{
	const Io__Prometheus__Client__Histogram *h = m->histogram;
	struct sample_line s;

	fuzz_assert(h, "%s: a metric without histogram", f->name);
	for (size_t b = 0; b <= h->n_bucket; b++) {
		next_sample(t, &s);
		same_labels(&s, m, t->line);
		fuzz_assert(s.nlabels && !strcmp(s.label_names[s.nlabels - 1], "le"),
			    "text line %u: no le", t->line);
		if (b == h->n_bucket) {
			fuzz_assert(!strcmp(s.label_values[s.nlabels - 1], "+Inf"),
				    "text line %u: a bucket more than in protobuf", t->line);
			same_number(s.value, (double)h->sample_count, t->line);
		} else {
			same_number(s.label_values[s.nlabels - 1], h->bucket[b]->upper_bound,
				    t->line);
			same_number(s.value, (double)h->bucket[b]->cumulative_count, t->line);
		}
		sample_line_free(&s);
	}
	next_sample(t, &s);
	same_labels(&s, m, t->line);
	same_number(s.value, h->sample_sum, t->line);
	sample_line_free(&s);
	next_sample(t, &s);
	same_labels(&s, m, t->line);
	same_number(s.value, (double)h->sample_count, t->line);
	sample_line_free(&s);
	native_is_slots(h, f, want);
}

/* The catalogue entry of a family name. */
static const struct family *family_named(const char *name)
{
	char full[160];

	for (size_t n = 0; n < cgroup_families_len + exporter_families_len; n++) {
		const struct family *f = n < cgroup_families_len
					     ? &cgroup_families[n]
					     : &exporter_families[n - cgroup_families_len];

		snprintf(full, sizeof(full), "%s%s", f->name, family_sample_suffix(f));
		if (!strcmp(full, name))
			return f;
	}
	fuzz_fail(__FILE__, __LINE__, "family_named", "family %s is in no catalogue", name);
}

static void check_family(struct lines *t, const pb_family *pf, const struct family *f,
			 const struct scene *sc)
{
	static const int types[] = {
	    [FAMILY_COUNTER] = IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER,
	    [FAMILY_GAUGE] = IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE,
	    [FAMILY_HISTOGRAM] = IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM,
	};

	fuzz_assert(pf->has_type && (int)pf->type == types[f->type], "%s: type %d", f->name,
		    pf->type);
	fuzz_assert(pf->help && !strcmp(pf->help, f->help), "%s: help differs", f->name);
	for (size_t i = 0; i < pf->n_metric; i++) {
		const pb_metric *m = pf->metric[i];
		struct sample_line s;

		if (f->hist) {
			const void *v = family_value(f, &sc->values[i / f->values], i % f->values);

			check_histogram(t, m, f, v);
			continue;
		}
		next_sample(t, &s);
		same_labels(&s, m, t->line);
		if (f->type == FAMILY_COUNTER)
			fuzz_assert(m->counter && !m->gauge, "%s: not a counter", f->name);
		else
			fuzz_assert(m->gauge && !m->counter, "%s: not a gauge", f->name);
		same_number(s.value, m->counter ? m->counter->value : m->gauge->value, t->line);
		sample_line_free(&s);
	}
	fuzz_assert(!peek_sample(t), "text line %u: a sample more than in protobuf", t->line + 1);
}

void proto_check(const char *body, size_t len, const char *text, const struct scene *sc)
{
	const char *at = body, *end = body + len, *line;
	struct lines t = {text, 0};
	size_t line_len;
	char name[160];

	while (next_line(&t, &line, &line_len)) {
		const struct family *f;
		pb_family *pf;

		/* # HELP name ...; # TYPE name type; the samples. */
		fuzz_assert(line_len > 7 && !memcmp(line, "# HELP ", 7), "text line %u: no HELP",
			    t.line);
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line + 7, " "), line + 7);
		fuzz_assert(next_line(&t, &line, &line_len), "no TYPE after HELP");
		f = family_named(name);
		if (!peek_sample(&t))
			continue; /* no samples: no MetricFamily either */
		pf = next_family(&at, end);
		fuzz_assert(pf, "protobuf ends before %s", name);
		fuzz_assert(pf->name && !strcmp(pf->name, name), "protobuf family %s, text %s",
			    pf->name ? pf->name : "(none)", name);
		check_family(&t, pf, f, sc);
		io__prometheus__client__metric_family__free_unpacked(pf, NULL);
	}
	fuzz_assert(at == end, "protobuf holds more than the text");
}
