/* SPDX-License-Identifier: GPL-2.0-only */
/* The protobuf exposition: each family is one MetricFamily message after
 * its length as a varint. The messages are packed by the code protoc-c
 * generates from exposition.proto; only the varint that delimits them is
 * written here, because the format asks for it and protobuf-c has none.
 *
 * A family's length comes before its rows, so a family is walked twice:
 * once summing the packed size of each row's metrics, then again packing
 * them a piece at a time. Each metric is packed as a MetricFamily holding
 * only it: that is the bytes of one element of MetricFamily.metric, and a
 * message is the concatenation of its fields, so the header (name, help,
 * type) followed by those pieces is the whole family. */
#include "render_proto.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "exposition.pb-c.h"
#include "number.h"

#define WORD	       sizeof(__u64)
#define HIST_SUM_WORD  (offsetof(struct ctcp_hist, sum) / WORD)
#define HIST_SLOT_WORD (offsetof(struct ctcp_hist, slots) / WORD)
#define VARINT_MAX     10
/* cgroup, the identity labels and the family's own label. */
#define MAX_LABELS (1 + IDENTITY_LABELS + 2) /* cgroup, identity, peer, the family's */

typedef Io__Prometheus__Client__MetricFamily pb_family;
typedef Io__Prometheus__Client__Metric pb_metric;
typedef Io__Prometheus__Client__LabelPair pb_label;
typedef Io__Prometheus__Client__Histogram pb_histogram;
typedef Io__Prometheus__Client__Bucket pb_bucket;
typedef Io__Prometheus__Client__BucketSpan pb_span;

/* One metric and everything it points to, filled per row and value. */
struct metric_msg {
	pb_metric metric;
	pb_label labels[MAX_LABELS];
	pb_label *label_ptrs[MAX_LABELS];
	Io__Prometheus__Client__Counter counter;
	Io__Prometheus__Client__Gauge gauge;
	pb_histogram hist;
	pb_bucket buckets[CTCP_HIST_SLOTS];
	pb_bucket *bucket_ptrs[CTCP_HIST_SLOTS];
	pb_span span;
	pb_span *span_ptr;
	int64_t deltas[CTCP_HIST_SLOTS];
	pb_family wrap; /* the family that holds only this metric */
	pb_metric *metric_ptr;
};

static size_t put_varint(char *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (char)v;
	return n;
}

static Io__Prometheus__Client__MetricType metric_type(enum family_type type)
{
	switch (type) {
	case FAMILY_COUNTER:
		return IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER;
	case FAMILY_GAUGE:
		return IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE;
	default:
		return IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM;
	}
}

/* Counter families are named as their samples: with _total. */
static void family_name(char *out, size_t len, const struct family *f)
{
	snprintf(out, len, "%s%s", f->name, family_sample_suffix(f));
}

static void family_header(pb_family *m, char *name, const struct family *f)
{
	*m = (pb_family)IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
	m->name = name;
	m->help = (char *)f->help;
	m->has_type = true;
	m->type = metric_type(f->type);
}

/* Appends a whole family: its length, then the header and the metrics. */
static void put_family(struct buf *b, const pb_family *m)
{
	size_t size = io__prometheus__client__metric_family__get_packed_size(m);

	if (!buf_reserve(b, VARINT_MAX + size))
		return;
	b->len += put_varint(b->data + b->len, size);
	b->len += io__prometheus__client__metric_family__pack(m, (uint8_t *)b->data + b->len);
}

/* The most bytes one packed metric of row r takes: its label values are
 * no longer than their escaped text; every other field has a bounded size
 * (a histogram: 26 classic buckets of 22 bytes at most, 26 deltas of 11,
 * fixed fields, the family's label and the messages' framing). */
static size_t metric_max(const struct snapshot *snap, size_t r)
{
	return snap->rows[r].labels_len + MAX_LABELS * 32 + 2048;
}

static void metric_init(struct metric_msg *m)
{
	m->metric = (pb_metric)IO__PROMETHEUS__CLIENT__METRIC__INIT;
	m->metric.label = m->label_ptrs;
	for (unsigned int l = 0; l < MAX_LABELS; l++) {
		m->labels[l] = (pb_label)IO__PROMETHEUS__CLIENT__LABEL_PAIR__INIT;
		m->label_ptrs[l] = &m->labels[l];
	}
	m->wrap = (pb_family)IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
	m->metric_ptr = &m->metric;
	m->wrap.metric = &m->metric_ptr;
	m->wrap.n_metric = 1;
}

static void add_label(struct metric_msg *m, const char *name, char *value)
{
	pb_label *l = &m->labels[m->metric.n_label++];

	l->name = (char *)name;
	l->value = value;
}

/* Reads a row's labels back from the text the snapshot escaped them into
 * (name="value",...) into out, each value NUL-terminated, as the text
 * formats show them (UTF-8). */
static void row_labels(struct metric_msg *m, const char *text, size_t len, struct buf *out)
{
	const char *end = text + len;
	size_t starts[MAX_LABELS];
	const char *names[MAX_LABELS];
	unsigned int n = 0;

	buf_reset(out);
	if (!buf_reserve(out, len + 1))
		return;
	while (text < end && n < MAX_LABELS) {
		const char *eq = memchr(text, '=', (size_t)(end - text));
		char *p;

		if (!eq)
			break;
		/* The names are the catalogue's: find the one this is. */
		names[n] = (size_t)(eq - text) == strlen(CGROUP_LABEL) &&
				   !memcmp(text, CGROUP_LABEL, strlen(CGROUP_LABEL))
			       ? CGROUP_LABEL
			       : NULL;
		for (unsigned int k = 0; !names[n] && k < ROW_KINDS; k++)
			if (pair_labels[k] && (size_t)(eq - text) == strlen(pair_labels[k]) &&
			    !memcmp(text, pair_labels[k], strlen(pair_labels[k])))
				names[n] = pair_labels[k];
		for (unsigned int l = 0; !names[n] && l < IDENTITY_LABELS; l++)
			if ((size_t)(eq - text) == strlen(identity_labels[l]) &&
			    !memcmp(text, identity_labels[l], (size_t)(eq - text)))
				names[n] = identity_labels[l];
		starts[n] = out->len;
		p = out->data + out->len;
		for (text = eq + 2; text < end && *text != '"'; text++) {
			if (*text == '\\' && text + 1 < end)
				text++, *p++ = *text == 'n' ? '\n' : *text;
			else
				*p++ = *text;
		}
		*p++ = '\0';
		out->len = (size_t)(p - out->data);
		text += 2; /* the closing quote and the comma */
		n++;
	}
	for (unsigned int l = 0; l < n; l++)
		add_label(m, names[l] ? names[l] : "", out->data + starts[l]);
}

/* The value of the text's _sum sample: the double nearest to
 * sum / sum_divisor. */
static double hist_sum_value(const struct hist_spec *spec, __u64 sum)
{
	int decimals = decimals_of(spec->sum_divisor);
	char text[48];

	/* Below 2^53 the sum is exact as a double: one rounding, at the
	 * division, as strtod would make from the exact decimal. */
	if (decimals < 0 || sum < (UINT64_C(1) << 53))
		return (double)sum / spec->sum_divisor;
	snprintf(text, sizeof(text), "%" PRIu64 "e-%d", (uint64_t)sum, decimals);
	return strtod(text, NULL);
}

/* Classic buckets as the text shows them (every step-th bound, no +Inf);
 * native ones of schema 0: slot 0 is the zero bucket [-2^u, 2^u], slot k
 * bucket k + u, one span from the first non-empty slot to the last (empty
 * slots between are zero deltas: cheaper than more spans). An empty
 * histogram keeps a span of length 0, which marks it native. */
static void fill_histogram(struct metric_msg *m, const struct hist_spec *spec, const __u64 *h,
			   unsigned int step)
{
	const __u64 *slots = h + HIST_SLOT_WORD;
	pb_histogram *hist = &m->hist;
	__u64 count = 0, cumulative = 0, prev = 0;
	unsigned int slot = 0, lo = 0, hi = 0;
	double bound;

	*hist = (pb_histogram)IO__PROMETHEUS__CLIENT__HISTOGRAM__INIT;
	for (unsigned int k = 0; k < CTCP_HIST_SLOTS; k++) {
		count += slots[k];
		if (k && slots[k]) {
			lo = lo ? lo : k;
			hi = k;
		}
	}
	hist->has_sample_count = hist->has_sample_sum = true;
	hist->sample_count = count;
	hist->sample_sum = hist_sum_value(spec, h[HIST_SUM_WORD]);
	hist->bucket = m->bucket_ptrs;
	/* Doubling a power of two is exact, and cheaper than ldexp. */
	bound = ldexp(1, (int)spec->first + spec->unit_log2);
	for (unsigned int k = spec->first; k <= spec->last && k < CTCP_HIST_SLOTS;
	     k += step, bound *= 1 << step) {
		pb_bucket *bk = &m->buckets[hist->n_bucket];

		while (slot <= k)
			cumulative += slots[slot++];
		*bk = (pb_bucket)IO__PROMETHEUS__CLIENT__BUCKET__INIT;
		bk->has_cumulative_count = bk->has_upper_bound = true;
		bk->cumulative_count = cumulative;
		bk->upper_bound = bound;
		m->bucket_ptrs[hist->n_bucket++] = bk;
	}
	hist->has_schema = hist->has_zero_threshold = hist->has_zero_count = true;
	hist->schema = 0;
	hist->zero_threshold = ldexp(1, spec->unit_log2);
	hist->zero_count = slots[0];
	m->span = (pb_span)IO__PROMETHEUS__CLIENT__BUCKET_SPAN__INIT;
	m->span.has_offset = m->span.has_length = true;
	m->span_ptr = &m->span;
	hist->positive_span = &m->span_ptr;
	hist->n_positive_span = 1;
	hist->positive_delta = m->deltas;
	if (lo) {
		m->span.offset = (int32_t)lo + spec->unit_log2;
		m->span.length = hi - lo + 1;
		for (unsigned int k = lo; k <= hi; k++) {
			m->deltas[k - lo] = (int64_t)(slots[k] - prev);
			prev = slots[k];
		}
		hist->n_positive_delta = m->span.length;
	}
	m->metric.histogram = hist;
}

/* Fills metric i of family f after the row's own labels (the first
 * row_labels of m). */
static void row_metric(struct metric_msg *m, size_t row_labels, const struct family *f,
		       const struct family_text *t, unsigned int i, const __u64 *words,
		       unsigned int step)
{
	const __u64 *v = words + (family_value_offset(f, i) / WORD - t->first_word);

	m->metric.n_label = row_labels;
	m->metric.counter = NULL;
	m->metric.gauge = NULL;
	m->metric.histogram = NULL;
	if (f->label)
		add_label(m, f->label, (char *)f->label_values[i]);
	if (f->hist) {
		fill_histogram(m, f->hist, v, step);
	} else if (f->type == FAMILY_GAUGE) {
		m->gauge = (Io__Prometheus__Client__Gauge)IO__PROMETHEUS__CLIENT__GAUGE__INIT;
		m->gauge.has_value = true;
		m->gauge.value = (double)(int64_t)*v;
		m->metric.gauge = &m->gauge;
	} else {
		m->counter = (Io__Prometheus__Client__Counter)IO__PROMETHEUS__CLIENT__COUNTER__INIT;
		m->counter.has_value = true;
		m->counter.value = (double)*v;
		m->metric.counter = &m->counter;
	}
}

/* A row's values and its labels read back once for all its metrics; the
 * number of those labels. */
static size_t row_start(struct metric_msg *m, const struct snapshot *snap, size_t r,
			struct family_text *t, __u64 *words)
{
	metric_init(m);
	snapshot_values(snap, r, t->first_word, t->words, words);
	row_labels(m, snap->text.data + snap->rows[r].labels_at, snap->rows[r].labels_len,
		   &t->text);
	return m->metric.n_label;
}

void proto_start_family(struct buf *b, const struct snapshot *snap, const struct family *f,
			struct family_text *t, const struct render_options *opts)
{
	unsigned int step = opts->bucket_step ? opts->bucket_step : 1;
	struct metric_msg msg, *m = &msg;
	char name[128];
	pb_family header;
	size_t size;

	if (!family_words(t, f)) {
		b->failed = true;
		return;
	}
	family_name(name, sizeof(name), f);
	family_header(&header, name, f);
	size = io__prometheus__client__metric_family__get_packed_size(&header);
	for (size_t r = 0; r < snap->nrows; r++) {
		__u64 words[FAMILY_MAX_WORDS] = {0};
		size_t labels = row_start(m, snap, r, t, words);

		for (unsigned int i = 0; i < f->values; i++) {
			row_metric(m, labels, f, t, i, words, step);
			size += io__prometheus__client__metric_family__get_packed_size(&m->wrap);
		}
	}
	/* Labels that could not be read back would make another family. */
	if (t->text.failed || !buf_reserve(b, VARINT_MAX + size)) {
		b->failed = true;
		return;
	}
	b->len += put_varint(b->data + b->len, size);
	b->len += io__prometheus__client__metric_family__pack(&header, (uint8_t *)b->data + b->len);
}

void proto_render_row(struct buf *b, const struct snapshot *snap, size_t r, const struct family *f,
		      struct family_text *t, const struct render_options *opts)
{
	unsigned int step = opts->bucket_step ? opts->bucket_step : 1;
	__u64 words[FAMILY_MAX_WORDS] = {0};
	struct metric_msg msg, *m = &msg;
	size_t labels = row_start(m, snap, r, t, words);

	/* protobuf-c's pack sizes every message again: an upper bound
	 * spares the sizing of the whole metric once more. */
	if (t->text.failed || !buf_reserve(b, f->values * metric_max(snap, r))) {
		b->failed = true;
		return;
	}
	for (unsigned int i = 0; i < f->values; i++) {
		row_metric(m, labels, f, t, i, words, step);
		b->len += io__prometheus__client__metric_family__pack(&m->wrap,
								      (uint8_t *)b->data + b->len);
	}
}

void proto_render_self(struct buf *b, const struct family *f, const struct self_sample *samples,
		       size_t n)
{
	struct buf text;
	struct {
		pb_metric metric;
		pb_label labels[SELF_MAX_LABELS];
		pb_label *label_ptrs[SELF_MAX_LABELS];
		Io__Prometheus__Client__Counter counter;
		Io__Prometheus__Client__Gauge gauge;
	} *ms = calloc(n ? n : 1, sizeof(*ms));
	pb_metric **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	size_t *at = calloc((n ? n : 1) * SELF_MAX_LABELS, sizeof(*at));
	char name[128];
	pb_family family;

	buf_init(&text);
	if (!n) /* Prometheus refuses a family without metrics */
		goto out;
	if (!ms || !ptrs || !at) {
		b->failed = true;
		goto out;
	}
	/* Label values as the text formats show them: valid UTF-8. */
	for (size_t s = 0; s < n; s++)
		for (unsigned int l = 0; f->label_names && f->label_names[l]; l++) {
			at[s * SELF_MAX_LABELS + l] = text.len;
			buf_utf8(&text, samples[s].labels[l] ? samples[s].labels[l] : "");
			buf_append(&text, "", 1);
		}
	if (text.failed) {
		b->failed = true;
		goto out;
	}
	for (size_t s = 0; s < n; s++) {
		pb_metric *m = &ms[s].metric;

		*m = (pb_metric)IO__PROMETHEUS__CLIENT__METRIC__INIT;
		m->label = ms[s].label_ptrs;
		for (unsigned int l = 0; f->label_names && f->label_names[l]; l++) {
			ms[s].labels[l] = (pb_label)IO__PROMETHEUS__CLIENT__LABEL_PAIR__INIT;
			ms[s].labels[l].name = (char *)f->label_names[l];
			ms[s].labels[l].value = text.data + at[s * SELF_MAX_LABELS + l];
			ms[s].label_ptrs[m->n_label++] = &ms[s].labels[l];
		}
		if (f->type == FAMILY_COUNTER) {
			ms[s].counter =
			    (Io__Prometheus__Client__Counter)IO__PROMETHEUS__CLIENT__COUNTER__INIT;
			ms[s].counter.has_value = true;
			ms[s].counter.value = samples[s].value;
			m->counter = &ms[s].counter;
		} else {
			ms[s].gauge =
			    (Io__Prometheus__Client__Gauge)IO__PROMETHEUS__CLIENT__GAUGE__INIT;
			ms[s].gauge.has_value = true;
			ms[s].gauge.value = samples[s].value;
			m->gauge = &ms[s].gauge;
		}
		ptrs[s] = m;
	}
	family_name(name, sizeof(name), f);
	family_header(&family, name, f);
	family.metric = ptrs;
	family.n_metric = n;
	put_family(b, &family);
out:
	buf_free(&text);
	free(at);
	free(ptrs);
	free(ms);
}
