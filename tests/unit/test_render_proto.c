/* SPDX-License-Identifier: GPL-2.0-only */
/* The protobuf rendering read back with protobuf-c: delimited families,
 * native buckets of schema 0 from the kernel's slots with the classic ones
 * beside, no family without metrics, pieces equal to the whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.pb-c.h"
#include "render.h"

typedef Io__Prometheus__Client__MetricFamily pb_family;

static struct buf render_rows(const struct cgroup_values *values, size_t n, size_t until)
{
	struct render_options opts = {.format = FORMAT_PROTOBUF, .bucket_step = 1};
	struct render_cursor cur;
	struct snapshot snap;
	struct buf b;

	snapshot_init(&snap);
	for (size_t r = 0; r < n; r++)
		assert_int_equal(snapshot_add(&snap, r ? "/i" : "/h", NULL, &values[r]), 0);
	render_cursor_init(&cur);
	buf_init(&b);
	while (!render_cgroups(&b, (const struct snapshot *const[ROW_KINDS]){&snap, &snap, &snap},
			       &cur, &opts, b.len + until))
		assert_false(b.failed);
	render_cursor_free(&cur);
	snapshot_free(&snap);
	return b;
}

/* The families of a body, in order; *n of them. */
static pb_family **families(const struct buf *b, size_t *n)
{
	pb_family **out = NULL;
	size_t at = 0;

	*n = 0;
	while (at < b->len) {
		size_t size = 0;
		unsigned int shift = 0;

		do {
			size |= (size_t)(b->data[at] & 0x7f) << shift;
			shift += 7;
		} while ((unsigned char)b->data[at++] >= 0x80);
		assert_true(at + size <= b->len);
		out = realloc(out, (*n + 1) * sizeof(*out));
		out[*n] = io__prometheus__client__metric_family__unpack(
		    NULL, size, (const uint8_t *)b->data + at);
		assert_non_null(out[*n]);
		(*n)++;
		at += size;
	}
	return out;
}

static const pb_family *named(pb_family **f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i]->name, name))
			return f[i];
	fail_msg("no family %s", name);
	return NULL;
}

static void free_families(pb_family **f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		io__prometheus__client__metric_family__free_unpacked(f[i], NULL);
	free(f);
}

static void test_native_buckets(void **state)
{
	struct cgroup_values v = {0};
	struct ctcp_hist *h = &v.rtt;
	static const int64_t deltas[] = {2, 2, -4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					 0, 0, 0,  0, 0, 0, 0, 0, 0, 8, 8};
	struct buf b;
	pb_family **f;
	size_t n;

	/* Units of 2^-20 s. */
	h->slots[0] = 1;  /* the zero bucket, [0, 2^-20] s */
	h->slots[3] = 2;  /* (2^-18, 2^-17] s: native bucket -17 */
	h->slots[4] = 4;  /* bucket -16 */
	h->slots[24] = 8; /* (8, 16] s: bucket 4 */
	h->slots[25] = 16;
	h->sum = 119;
	v.conn.opened[CTCP_INBOUND] = 7;
	b = render_rows(&v, 1, SIZE_MAX);
	f = families(&b, &n);
	assert_int_equal(n, cgroup_families_len);

	const pb_family *rtt = named(f, n, "cgroup_tcp_rtt_seconds");
	const Io__Prometheus__Client__Histogram *p;

	assert_int_equal(rtt->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM);
	assert_int_equal(rtt->n_metric, 1);
	assert_int_equal(rtt->metric[0]->n_label, 1);
	assert_string_equal(rtt->metric[0]->label[0]->name, "cgroup");
	assert_string_equal(rtt->metric[0]->label[0]->value, "/h");
	p = rtt->metric[0]->histogram;
	assert_int_equal(p->sample_count, 31);
	assert_true(p->sample_sum == 119 / 1e6);
	assert_true(p->has_schema && p->schema == 0);
	assert_true(p->zero_threshold == ldexp(1, -20));
	assert_int_equal(p->zero_count, 1);
	assert_int_equal(p->n_positive_span, 1);
	assert_int_equal(p->positive_span[0]->offset, -17);
	assert_int_equal(p->positive_span[0]->length, 23);
	assert_int_equal(p->n_positive_delta, 23);
	assert_memory_equal(p->positive_delta, deltas, sizeof(deltas));
	/* Classic: 2^-17 s (slots 0 to 3) to 16 s, no +Inf. */
	assert_int_equal(p->n_bucket, 22);
	assert_true(p->bucket[0]->upper_bound == ldexp(1, -17));
	assert_int_equal(p->bucket[0]->cumulative_count, 3);
	assert_true(p->bucket[21]->upper_bound == 16);
	assert_int_equal(p->bucket[21]->cumulative_count, 15);

	/* Empty: a span of length 0 and a zero threshold mark it native. */
	p = named(f, n, "cgroup_tcp_handshake_duration_seconds")->metric[0]->histogram;
	assert_int_equal(p->sample_count, 0);
	assert_int_equal(p->n_positive_span, 1);
	assert_int_equal(p->positive_span[0]->length, 0);
	assert_int_equal(p->n_positive_delta, 0);
	assert_true(p->zero_threshold == ldexp(1, -20));
	/* Lifetimes count in 2^-10 s, I/O sizes in bytes. */
	p = named(f, n, "cgroup_tcp_connection_duration_seconds")->metric[0]->histogram;
	assert_true(p->zero_threshold == ldexp(1, -10));
	p = named(f, n, "cgroup_tcp_io_size_bytes")->metric[0]->histogram;
	assert_true(p->zero_threshold == 1);

	/* Counters are named as their samples. */
	const pb_family *opened = named(f, n, "cgroup_tcp_connections_opened_total");

	assert_int_equal(opened->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER);
	assert_int_equal(opened->n_metric, 2);
	assert_string_equal(opened->metric[1]->label[1]->value, "inbound");
	assert_true(opened->metric[1]->counter->value == 7);
	free_families(f, n);
	buf_free(&b);
}

static void test_no_rows_no_families(void **state)
{
	struct buf b = render_rows(NULL, 0, SIZE_MAX);

	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_pieces_equal_whole(void **state)
{
	struct cgroup_values v[2] = {0};
	struct buf whole, pieces;

	v[0].rtt.slots[5] = 3;
	v[1].io.size[CTCP_SEND].slots[10] = 9;
	whole = render_rows(v, 2, SIZE_MAX);
	pieces = render_rows(v, 2, 1);
	assert_int_equal(whole.len, pieces.len);
	assert_memory_equal(whole.data, pieces.data, whole.len);
	buf_free(&whole);
	buf_free(&pieces);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_native_buckets),
	    cmocka_unit_test(test_no_rows_no_families),
	    cmocka_unit_test(test_pieces_equal_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
