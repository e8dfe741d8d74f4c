/* SPDX-License-Identifier: GPL-2.0-only */
/* Renders the catalogue: HELP, TYPE (and UNIT in OpenMetrics) for every
 * family, then all of its samples together; histograms with cumulative
 * buckets, +Inf equal to _count, then _sum and _count.
 *
 * Every line is made of pieces known before the rows are read: the text
 * before a row's labels, the labels (escaped once per scrape), the text
 * after them, the number. A row of a family reserves its room once and is
 * copied in without further checks. */
#include "render.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "number.h"
#include "render_proto.h"

#define WORD	       sizeof(__u64)
#define HIST_SUM_WORD  (offsetof(struct ctcp_hist, sum) / WORD)
#define HIST_SLOT_WORD (offsetof(struct ctcp_hist, slots) / WORD)

const char *format_content_type(enum exposition_format format)
{
	switch (format) {
	case FORMAT_OPENMETRICS:
		return OPENMETRICS_CONTENT_TYPE;
	case FORMAT_PROTOBUF:
		return PROTOBUF_CONTENT_TYPE;
	default:
		return TEXT_CONTENT_TYPE;
	}
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

void render_cursor_init(struct render_cursor *cur)
{
	memset(cur, 0, sizeof(*cur));
	buf_init(&cur->text.text);
}

void render_cursor_free(struct render_cursor *cur)
{
	buf_free(&cur->text.text);
	render_cursor_init(cur);
}

/* Appends text made of up to three strings as one piece. */
static struct piece add_piece(struct buf *b, const char *a, const char *m, const char *z)
{
	struct piece p = {.at = (uint32_t)b->len};

	buf_puts(b, a);
	buf_puts(b, m);
	buf_puts(b, z);
	p.len = (uint32_t)(b->len - p.at);
	return p;
}

bool family_words(struct family_text *t, const struct family *f)
{
	size_t size = f->hist ? sizeof(struct ctcp_hist) : WORD, lo = SIZE_MAX, hi = 0;

	for (unsigned int i = 0; i < f->values; i++) {
		size_t at = family_value_offset(f, i);

		lo = at < lo ? at : lo;
		hi = at + size > hi ? at + size : hi;
	}
	t->first_word = lo / WORD;
	t->words = (hi - lo) / WORD;
	return f->values <= FAMILY_MAX_VALUES && t->words <= FAMILY_MAX_WORDS && lo % WORD == 0;
}

static size_t piece_line(const struct family_text *t, struct piece prefix, struct piece tail)
{
	return prefix.len + tail.len + NUMBER_MAX + 1;
}

static bool prepare_family(struct family_text *t, const struct family *f,
			   const struct render_options *o)
{
	struct buf *b = &t->text;
	unsigned int step = o->bucket_step ? o->bucket_step : 1;
	char label[256], bound[NUMBER_MAX + 1];

	buf_reset(b);
	t->bounds = 0;
	t->lines = 0;
	t->row_bytes = 0;
	if (!family_words(t, f))
		return false;
	if (!f->hist) {
		t->prefix[0] = add_piece(b, f->name, family_sample_suffix(f), "{");
	} else {
		t->prefix[0] = add_piece(b, f->name, "_bucket", "{");
		t->prefix[1] = add_piece(b, f->name, "_sum", "{");
		t->prefix[2] = add_piece(b, f->name, "_count", "{");
		t->sum_decimals = decimals_of(f->hist->sum_divisor);
		for (unsigned int k = f->hist->first; k <= f->hist->last && k < CTCP_HIST_SLOTS;
		     k += step)
			t->bound_slot[t->bounds++] = (unsigned char)k;
	}
	for (unsigned int i = 0; i < f->values; i++) {
		label[0] = '\0';
		if (f->label)
			snprintf(label, sizeof(label), ",%s=\"%s\"", f->label, f->label_values[i]);
		if (!f->hist) {
			t->tail[i][0] = add_piece(b, label, "} ", "");
			t->row_bytes += piece_line(t, t->prefix[0], t->tail[i][0]);
			t->lines++;
			continue;
		}
		for (unsigned int j = 0; j < t->bounds; j++) {
			double le = ldexp(1, t->bound_slot[j] + f->hist->unit_log2);

			bound[format_double(bound, le, o->format)] = '\0';
			t->tail[i][j] = add_piece(b, label, ",le=\"", bound);
			buf_puts(b, "\"} ");
			t->tail[i][j].len += 3;
			t->row_bytes += piece_line(t, t->prefix[0], t->tail[i][j]);
		}
		t->tail[i][t->bounds] = add_piece(b, label, ",le=\"+Inf\"} ", "");
		t->tail[i][t->bounds + 1] = add_piece(b, label, "} ", "");
		t->row_bytes += piece_line(t, t->prefix[0], t->tail[i][t->bounds]) +
				piece_line(t, t->prefix[1], t->tail[i][t->bounds + 1]) +
				piece_line(t, t->prefix[2], t->tail[i][t->bounds + 1]);
		t->lines += t->bounds + 3;
	}
	/* Room for whole-block copies of the last piece. */
	buf_reserve(b, SNAPSHOT_TEXT_SLACK);
	return !b->failed;
}

/* Copies a short piece in whole blocks: fixed-size copies compile to a
 * move or two where a memcpy call costs more than the copy itself. Up to
 * COPY_BLOCK - 1 bytes past the piece are read (the family text and the
 * snapshot's labels have that slack) and written (rows reserve it), then
 * overwritten by what follows. */
#define COPY_BLOCK SNAPSHOT_TEXT_SLACK
static inline char *copy_piece(char *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i += COPY_BLOCK)
		memcpy(p + i, s + i, COPY_BLOCK);
	return p + n;
}

/* prefix, the row's labels, tail: all but the number and the newline. */
static inline char *line_start(char *p, const struct family_text *t, struct piece prefix,
			       const char *labels, size_t labels_len, struct piece tail)
{
	p = copy_piece(p, t->text.data + prefix.at, prefix.len);
	p = copy_piece(p, labels, labels_len);
	return copy_piece(p, t->text.data + tail.at, tail.len);
}

static char *histogram_lines(char *p, const struct family_text *t, const struct family *f,
			     unsigned int i, const __u64 *h, const char *labels, size_t labels_len,
			     enum exposition_format format)
{
	const __u64 *slots = h + HIST_SLOT_WORD, sum = h[HIST_SUM_WORD];
	__u64 cumulative = 0, count = 0;
	unsigned int slot = 0;

	for (unsigned int k = 0; k < CTCP_HIST_SLOTS; k++)
		count += slots[k];
	for (unsigned int j = 0; j < t->bounds; j++) {
		while (slot <= t->bound_slot[j])
			cumulative += slots[slot++];
		p = line_start(p, t, t->prefix[0], labels, labels_len, t->tail[i][j]);
		p += format_u64(p, cumulative);
		*p++ = '\n';
	}
	p = line_start(p, t, t->prefix[0], labels, labels_len, t->tail[i][t->bounds]);
	p += format_u64(p, count);
	*p++ = '\n';
	p = line_start(p, t, t->prefix[1], labels, labels_len, t->tail[i][t->bounds + 1]);
	if (t->sum_decimals >= 0)
		p += format_decimal(p, sum, (unsigned int)t->sum_decimals, format);
	else
		p += format_double(p, (double)sum / f->hist->sum_divisor, format);
	*p++ = '\n';
	p = line_start(p, t, t->prefix[2], labels, labels_len, t->tail[i][t->bounds + 1]);
	p += format_u64(p, count);
	*p++ = '\n';
	return p;
}

static void render_row(struct buf *b, const struct snapshot *snap, size_t r, const struct family *f,
		       const struct family_text *t, const struct render_options *o)
{
	const char *labels = snap->text.data + snap->rows[r].labels_at;
	size_t labels_len = snap->rows[r].labels_len;
	__u64 words[FAMILY_MAX_WORDS] = {0};
	char *p;

	if (!buf_reserve(b, t->row_bytes + t->lines * labels_len + COPY_BLOCK))
		return;
	snapshot_values(snap, r, t->first_word, t->words, words);
	p = b->data + b->len;
	for (unsigned int i = 0; i < f->values; i++) {
		const __u64 *v = words + (family_value_offset(f, i) / WORD - t->first_word);

		if (f->hist) {
			p = histogram_lines(p, t, f, i, v, labels, labels_len, o->format);
			continue;
		}
		p = line_start(p, t, t->prefix[0], labels, labels_len, t->tail[i][0]);
		if (f->type == FAMILY_GAUGE)
			p += format_i64(p, (int64_t)*v);
		else
			p += format_u64(p, *v);
		*p++ = '\n';
	}
	b->len = (size_t)(p - b->data);
	b->data[b->len] = '\0';
}

bool render_cgroups(struct buf *b, const struct snapshot *const rows[ROW_KINDS],
		    struct render_cursor *cur, const struct render_options *opts, size_t until)
{
	bool proto = opts->format == FORMAT_PROTOBUF;

	while (cur->family < cgroup_families_len) {
		const struct family *f = &cgroup_families[cur->family];
		const struct snapshot *snap = rows[f->rows];

		/* Prometheus refuses a protobuf family without metrics. */
		if (!snap || (proto && !snap->nrows)) {
			cur->family++;
			continue;
		}
		if (!cur->started) {
			if (proto) {
				proto_start_family(b, snap, f, &cur->text, opts);
			} else {
				render_header(b, f, opts);
				if (!prepare_family(&cur->text, f, opts))
					b->failed = true;
			}
			cur->started = true;
			cur->row = 0;
		}
		for (; cur->row < snap->nrows; cur->row++) {
			if (b->failed)
				return true;
			if (b->len >= until)
				return false;
			if (proto)
				proto_render_row(b, snap, cur->row, f, &cur->text, opts);
			else
				render_row(b, snap, cur->row, f, &cur->text, opts);
		}
		cur->family++;
		cur->started = false;
	}
	return true;
}

void render_self(struct buf *b, const struct family *f, const struct self_sample *samples, size_t n,
		 const struct render_options *opts)
{
	if (opts->format == FORMAT_PROTOBUF) {
		proto_render_self(b, f, samples, n);
		return;
	}
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
