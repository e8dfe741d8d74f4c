/* SPDX-License-Identifier: GPL-2.0-only */
/* Rendering of every catalogue family in the text format from a snapshot,
 * whole or a piece at a time, and the merge of rows that share a cgroup
 * name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "negotiate.h"
#include "packed.h"
#include "scrape.h"

/* A row as a test states it: the cgroup, its values, who it is. */
struct test_row {
	const char *cgroup;
	const struct cgroup_values *values;
	struct cgroup_labels labels;
};

static void make_snapshot(struct snapshot *snap, const struct test_row *rows, size_t n)
{
	snapshot_init(snap);
	for (size_t r = 0; r < n; r++)
		assert_int_equal(
		    snapshot_add(snap, rows[r].cgroup, &rows[r].labels, rows[r].values), 0);
}

/* until: how many bytes each render_cgroups() call may stop after. */
static char *render_pieces(const struct test_row *rows, size_t n, __u64 map_full, unsigned int step,
			   enum exposition_format format, size_t until)
{
	struct self_sample full = {.value = (double)map_full};
	struct render_options opts = {.bucket_step = step, .format = format};
	struct render_cursor cur;
	struct snapshot snap;
	struct buf b;
	size_t len;

	make_snapshot(&snap, rows, n);
	render_cursor_init(&cur);
	buf_init(&b);
	while (!render_cgroups(&b, (const struct snapshot *const[ROW_KINDS]){&snap, &snap, &snap},
			       &cur, &opts, b.len + until))
		assert_false(b.failed);
	render_self(&b, &exporter_families[SELF_MAP_FULL], &full, 1, &opts);
	render_end(&b, &opts);
	assert_false(b.failed);
	render_cursor_free(&cur);
	snapshot_free(&snap);
	return buf_steal(&b, &len);
}

static char *render_format(const struct test_row *rows, size_t n, __u64 map_full, unsigned int step,
			   enum exposition_format format)
{
	return render_pieces(rows, n, map_full, step, format, SIZE_MAX);
}

static char *render_step(const struct test_row *rows, size_t n, __u64 map_full, unsigned int step)
{
	return render_format(rows, n, map_full, step, FORMAT_TEXT);
}

static char *render(const struct test_row *rows, size_t n, __u64 map_full)
{
	return render_step(rows, n, map_full, 1);
}

/* OpenMetrics: family names without _total, UNIT, canonical le, # EOF. */
static void test_openmetrics(void **state)
{
	struct cgroup_values v = {0};
	struct test_row row = {.cgroup = "/o", .values = &v};
	char *out;

	v.io.size[CTCP_SEND].slots[0] = 2;
	v.conn.opened[CTCP_OUTBOUND] = 4;
	out = render_format(&row, 1, 0, 1, FORMAT_OPENMETRICS);
	assert_non_null(strstr(out, "# TYPE cgroup_tcp_connections_opened counter\n"
				    "cgroup_tcp_connections_opened_total{cgroup=\"/"
				    "o\",direction=\"outbound\"} 4\n"));
	assert_non_null(strstr(out, "# TYPE cgroup_tcp_sent_bytes counter\n"
				    "# UNIT cgroup_tcp_sent_bytes bytes\n"));
	assert_non_null(strstr(out, "# UNIT cgroup_tcp_rtt_seconds seconds\n"));
	assert_non_null(strstr(out, "op=\"send\",le=\"1.0\"} 2\n"));
	assert_non_null(strstr(out, "le=\"7.62939453125e-06\"} 0\n"));
	assert_non_null(strstr(out, "cgroup_tcp_exporter_map_full_events_total 0.0\n# EOF\n"));
	/* Quotes in HELP are escaped in OpenMetrics. */
	assert_non_null(strstr(out, "cgroup=\\\"\\\" holds resets"));
	assert_int_equal(strlen(strstr(out, "# EOF\n")), 6);
	free(out);
}

static int count_lines_starting(const char *text, const char *prefix)
{
	int n = 0;
	size_t plen = strlen(prefix);

	for (const char *line = text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (!strncmp(line, prefix, plen))
			n++;
	return n;
}

static void test_counter_family_exact(void **state)
{
	struct cgroup_values v = {0};
	struct test_row rows[1] = {{.cgroup = "/a", .values = &v}};
	char *out;

	v.conn.opened[CTCP_OUTBOUND] = 3;
	v.conn.opened[CTCP_INBOUND] = 18446744073709551615ULL;
	v.conn.retransmits = 7;
	out = render(rows, 1, 0);
	assert_non_null(strstr(out, "# HELP cgroup_tcp_connections_opened_total TCP handshakes"));
	assert_non_null(strstr(out, "# TYPE cgroup_tcp_connections_opened_total counter\n"
				    "cgroup_tcp_connections_opened_total{cgroup=\"/"
				    "a\",direction=\"outbound\"} 3\n"
				    "cgroup_tcp_connections_opened_total{cgroup=\"/"
				    "a\",direction=\"inbound\"} "
				    "18446744073709551615\n"));
	assert_non_null(strstr(out, "# TYPE cgroup_tcp_retransmits_total counter\n"
				    "cgroup_tcp_retransmits_total{cgroup=\"/"
				    "a\"} 7\n"));
	free(out);
}

/* Every family: HELP, TYPE, one sample per row and label value, in order. */
static void test_every_family_rendered(void **state)
{
	struct cgroup_values v[3] = {0};
	struct test_row rows[3] = {
	    {.cgroup = "", .values = &v[0]},
	    {.cgroup = "/", .values = &v[1]},
	    {.cgroup = "/x\"y", .values = &v[2]},
	};
	char *out = render(rows, 3, 5);
	char prefix[256];

	for (size_t i = 0; i < cgroup_families_len; i++) {
		const struct family *f = &cgroup_families[i];

		snprintf(prefix, sizeof(prefix), "# HELP %s%s ", f->name, family_sample_suffix(f));
		assert_int_equal(count_lines_starting(out, prefix), 1);
		snprintf(prefix, sizeof(prefix), "# TYPE %s%s %s", f->name, family_sample_suffix(f),
			 family_type_name(f->type));
		assert_int_equal(count_lines_starting(out, prefix), 1);
		/* A histogram series is its buckets (+Inf too), _sum and _count. */
		int per_series = f->hist ? (int)(f->hist->last - f->hist->first + 2) + 2 : 1;

		snprintf(prefix, sizeof(prefix), "%s%s", f->name,
			 f->hist ? "_bucket{" : family_sample_suffix(f));
		if (!f->hist)
			strcat(prefix, "{");
		assert_int_equal(count_lines_starting(out, prefix),
				 3 * (int)f->values * (f->hist ? per_series - 2 : 1));
		snprintf(prefix, sizeof(prefix), "%s%s{cgroup=\"/x\\\"y\"", f->name,
			 f->hist ? "_count" : family_sample_suffix(f));
		assert_int_equal(count_lines_starting(out, prefix), (int)f->values);
	}
	assert_non_null(strstr(out, "\ncgroup_tcp_exporter_map_full_events_total 5\n"));
	assert_int_equal(out[strlen(out) - 1], '\n');
	free(out);
}

static void test_every_value_reaches_its_sample(void **state)
{
	struct cgroup_values v;
	struct test_row row = {.cgroup = "/c", .values = &v};
	__u64 *word = (__u64 *)&v;
	char *out, want[512];

	/* Distinct values, so a wrong offset shows up as a wrong number. */
	for (size_t i = 0; i < sizeof(v) / sizeof(__u64); i++)
		word[i] = 1000 + i;
	out = render(&row, 1, 0);
	for (size_t i = 0; i < cgroup_families_len; i++) {
		const struct family *f = &cgroup_families[i];

		if (f->hist)
			continue; /* histograms: see test_histogram_buckets */
		for (unsigned int k = 0; k < f->values; k++) {
			size_t index = (size_t)((const __u64 *)family_value(f, &v, k) - word);

			if (f->label)
				snprintf(want, sizeof(want),
					 "%s%s{cgroup=\"/"
					 "c\",%s=\"%s\"} %zu\n",
					 f->name, family_sample_suffix(f), f->label,
					 f->label_values[k], 1000 + index);
			else
				snprintf(want, sizeof(want),
					 "%s%s{cgroup=\"/"
					 "c\"} %zu\n",
					 f->name, family_sample_suffix(f), 1000 + index);
			assert_non_null(strstr(out, want));
		}
	}
	free(out);
}

/* Cumulative buckets at the bounds of the spec, +Inf == _count, exact sum. */
static void test_histogram_buckets(void **state)
{
	struct cgroup_values v = {0};
	struct test_row row = {.cgroup = "/h", .values = &v};
	struct ctcp_hist *h = &v.rtt;
	char *out;

	/* Units of 2^-20 s. */
	h->slots[0] = 1;   /* <= 2^-20 s */
	h->slots[3] = 2;   /* (2^-18, 2^-17] s */
	h->slots[4] = 4;   /* (2^-17, 2^-16] s */
	h->slots[24] = 8;  /* (8, 16] s */
	h->slots[25] = 16; /* above 16 s */
	h->sum = 119;
	out = render(&row, 1, 0);
	assert_non_null(strstr(out, "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
				    "h\",le=\"7.62939453125e-06\"} 3\n"
				    "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
				    "h\",le=\"1.52587890625e-05\"} 7\n"
				    "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
				    "h\",le=\"3.0517578125e-05\"} 7\n"));
	assert_non_null(strstr(out, "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
				    "h\",le=\"8\"} 7\n"
				    "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
				    "h\",le=\"16\"} 15\n"
				    "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
				    "h\",le=\"+Inf\"}"
				    " 31\n"
				    "cgroup_tcp_rtt_seconds_sum{cgroup=\"/"
				    "h\"} 0.000119\n"
				    "cgroup_tcp_rtt_seconds_count{cgroup=\"/"
				    "h\"} 31\n"));
	free(out);
}

/* Factor 8 keeps every third bound; counts at kept bounds are unchanged. */
static void test_histogram_merged_buckets(void **state)
{
	struct cgroup_values v = {0};
	struct test_row row = {.cgroup = "/m", .values = &v};
	char *out;

	v.io.size[CTCP_SEND].slots[1] = 1;   /* 2 bytes */
	v.io.size[CTCP_SEND].slots[2] = 10;  /* 3-4 bytes */
	v.io.size[CTCP_SEND].slots[4] = 100; /* 9-16 bytes */
	out = render_step(&row, 1, 0, 3);
	assert_non_null(strstr(out, "cgroup_tcp_io_size_bytes_bucket{cgroup=\"/"
				    "m\",op=\"send\",le=\"1\"} 0\n"
				    "cgroup_tcp_io_size_bytes_bucket{cgroup=\"/"
				    "m\",op=\"send\",le=\"8\"} 11\n"
				    "cgroup_tcp_io_size_bytes_bucket{cgroup=\"/"
				    "m\",op=\"send\",le=\"64\"} 111\n"));
	assert_null(strstr(out, "op=\"send\",le=\"2\""));
	assert_non_null(strstr(out, "le=\"1.6777216e+07\"} 111\n"));
	free(out);
}

/* Identity labels with a value follow cgroup, in catalogue order; empty or
 * unknown ones are left out; values are escaped. */
static void test_identity_labels(void **state)
{
	struct cgroup_values v = {0};
	struct test_row rows[2] = {
	    {.cgroup = "/k", .values = &v, .labels = {.values = {"abc", "", NULL, "p\"q", ""}}},
	    {.cgroup = "/all", .values = &v, .labels = {.values = {"c", "u", "ns", "pod", "ctr"}}},
	};
	char *out = render(rows, 2, 0);

	assert_non_null(strstr(out, "cgroup_tcp_retransmits_total{cgroup=\"/k\",container_id="
				    "\"abc\",pod=\"p\\\"q\"} 0\n"));
	assert_non_null(strstr(out, "cgroup_tcp_retransmits_total{cgroup=\"/all\",container_id="
				    "\"c\",pod_uid=\"u\",namespace=\"ns\",pod=\"pod\",container="
				    "\"ctr\"} 0\n"));
	free(out);
}

/* Rendered a row at a time, or in any piece size, the text is the same. */
static void test_pieces_equal_whole(void **state)
{
	struct cgroup_values v[4];
	struct test_row rows[4] = {
	    {.cgroup = "", .values = &v[0]},
	    {.cgroup = "/a", .values = &v[1], .labels = {.values = {"id"}}},
	    {.cgroup = "/b", .values = &v[2]},
	    {.cgroup = "/c", .values = &v[3]},
	};
	static const size_t sizes[] = {1, 100, 4096, 65536};
	char *whole;

	for (size_t r = 0; r < 4; r++) {
		__u64 *word = (__u64 *)&v[r];

		for (size_t i = 0; i < sizeof(v[r]) / sizeof(__u64); i++)
			word[i] = (i * 7 + r) % 5 ? 0 : i * 1000003 + r;
	}
	for (int format = FORMAT_TEXT; format <= FORMAT_OPENMETRICS; format++) {
		whole = render_format(rows, 4, 0, 1, format);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			char *pieces = render_pieces(rows, 4, 0, 1, format, sizes[i]);

			assert_string_equal(pieces, whole);
			free(pieces);
		}
		free(whole);
	}
}

/* Gauges are signed; _sum is the integer sum over the family's divisor. */
static void test_gauge_and_sums(void **state)
{
	struct cgroup_values v = {0};
	struct test_row row = {.cgroup = "/g", .values = &v};
	char *out;

	v.conn.sockets[1] = -2;					   /* established */
	v.conn.lifetime[CTCP_INBOUND].sum = 1500000000;		   /* us: 1500 s */
	v.conn.handshake[CTCP_OUTBOUND].sum = 1000000000000000ULL; /* past 15 digits */
	v.io.size[CTCP_RECEIVE].sum = 1048576;
	out = render(&row, 1, 0);
	assert_non_null(
	    strstr(out, "cgroup_tcp_connections{cgroup=\"/g\",state=\"established\"} -2\n"));
	assert_non_null(strstr(out, "cgroup_tcp_connection_duration_seconds_sum{cgroup=\"/"
				    "g\",direction=\"inbound\"} 1500\n"));
	assert_non_null(strstr(out, "cgroup_tcp_handshake_duration_seconds_sum{cgroup=\"/"
				    "g\",direction=\"outbound\"} 1e+09\n"));
	assert_non_null(strstr(out, "cgroup_tcp_io_size_bytes_sum{cgroup=\"/"
				    "g\",op=\"receive\"} 1.048576e+06\n"));
	free(out);
	out = render_format(&row, 1, 0, 1, FORMAT_OPENMETRICS);
	assert_non_null(strstr(out, "cgroup_tcp_connection_duration_seconds_sum{cgroup=\"/"
				    "g\",direction=\"inbound\"} 1500.0\n"));
	free(out);
}

/* A collector holding v[i] as the values of sample i, packed as a read
 * leaves them (the shared I/O array holds none of them). */
static void collector_holding(struct collector *c, struct cgroup_sample *samples,
			      const struct cgroup_values *v, size_t n)
{
	struct kernel_maps maps = {
	    .slots_fd = -1, .free_slots_fd = -1, .stats_fd = -1, .nslots = 1};

	for (int m = 0; m < VALUE_MAPS; m++)
		maps.values_fd[m] = -1;
	assert_int_equal(collector_init(c, &maps), 0);
	for (size_t i = 0; i < n; i++)
		for (int m = 0; m < VALUE_MAPS; m++) {
			if (m == VALUE_MAP_IO_SHARED)
				continue;
			samples[i].part[m] =
			    packed_append(&c->parts,
					  (const __u64 *)(const void *)((const char *)&v[i] +
									value_maps[m].offset),
					  value_maps[m].value_size / sizeof(__u64)) +
			    1;
		}
	c->samples = samples;
	c->nsamples = n;
}

static void collector_done(struct collector *c)
{
	c->samples = NULL;
	collector_free(c);
}

/* The collector's packed values of four samples, two of them named "/b". */
static void test_rows_snapshot_sums_same_name(void **state)
{
	struct cgroup_values v[4] = {0}, got;
	struct cgroup_row rows[4] = {
	    {.cgroup = "/b", .sample = 0},
	    {.cgroup = "/a", .sample = 1},
	    {.cgroup = "/b", .sample = 2},
	    {.cgroup = "", .sample = 3},
	};
	struct cgroup_sample samples[4] = {{0}};
	struct collector c;
	struct snapshot snap;

	v[0].io.size[CTCP_SEND].sum = 10;
	v[2].io.size[CTCP_SEND].sum = 5;
	v[2].conn.closed[CTCP_INBOUND] = 1;
	v[2].conn.sockets[1] = -1;
	v[0].conn.sockets[1] = 3;
	v[3].rtt.slots[2] = 4;
	collector_holding(&c, samples, v, 4);
	snapshot_init(&snap);
	assert_int_equal(rows_snapshot(&c, rows, 4, &snap), 0);
	assert_int_equal(snap.nrows, 3);
	assert_memory_equal(snap.text.data + snap.rows[0].labels_at, "cgroup=\"\"", 9);
	assert_memory_equal(snap.text.data + snap.rows[1].labels_at, "cgroup=\"/a\"", 11);
	assert_memory_equal(snap.text.data + snap.rows[2].labels_at, "cgroup=\"/b\"", 11);
	memset(&got, 0, sizeof(got));
	snapshot_values(&snap, 2, 0, sizeof(got) / sizeof(__u64), (__u64 *)(void *)&got);
	assert_int_equal(got.io.size[CTCP_SEND].sum, 15);
	assert_int_equal(got.conn.closed[CTCP_INBOUND], 1);
	assert_int_equal(got.conn.sockets[1], 2);
	memset(&got, 0, sizeof(got));
	snapshot_values(&snap, 0, 0, sizeof(got) / sizeof(__u64), (__u64 *)(void *)&got);
	assert_int_equal(got.rtt.slots[2], 4);
	assert_int_equal(rows_snapshot(&c, rows, 0, &snap), 0);
	assert_int_equal(snap.nrows, 3);
	snapshot_free(&snap);
	collector_done(&c);
}

/* Only nonzero words are stored; any range reads back. */
static void test_packed_ranges(void **state)
{
	__u64 words[130] = {0}, out[130];
	struct buf b;
	size_t at;

	words[0] = 1;
	words[63] = 2;
	words[64] = 3;
	words[100] = 4;
	words[129] = 5;
	buf_init(&b);
	at = packed_append(&b, words, 130);
	assert_int_equal(b.len - at, (3 + 5) * sizeof(__u64));
	for (size_t first = 0; first < 130; first++)
		for (size_t count = 0; first + count <= 130; count += 7) {
			memset(out, 0, sizeof(out));
			packed_add((const __u64 *)(const void *)(b.data + at), 130, first, count,
				   out);
			assert_memory_equal(out, words + first, count * sizeof(__u64));
		}
	buf_free(&b);
}

/* Names that differ only in bytes that are not UTF-8 are shown alike, as one
 * series; the same name with other identity labels stays apart. */
static void test_rows_merge_by_shown_labels(void **state)
{
	struct cgroup_values v[4] = {0}, got;
	struct cgroup_row rows[4] = {
	    {.cgroup = "/x\xff", .sample = 0},
	    {.cgroup = "/x\xfe", .sample = 1},
	    {.cgroup = "/x\xef\xbf\xbd", .sample = 2},
	    {.cgroup = "/x\xff", .labels = {.values = {"c"}}, .sample = 3},
	};
	static const char alike[] = "cgroup=\"/x\xef\xbf\xbd\"";
	static const char apart[] = "cgroup=\"/x\xef\xbf\xbd\",container_id=\"c\"";
	struct cgroup_sample samples[4] = {{0}};
	struct collector c;
	struct snapshot snap;

	for (int i = 0; i < 4; i++)
		v[i].conn.opened[CTCP_OUTBOUND] = 1u << i;
	collector_holding(&c, samples, v, 4);
	snapshot_init(&snap);
	assert_int_equal(rows_snapshot(&c, rows, 4, &snap), 0);
	assert_int_equal(snap.nrows, 2);
	assert_int_equal(snap.rows[0].labels_len, sizeof(alike) - 1);
	assert_memory_equal(snap.text.data + snap.rows[0].labels_at, alike, sizeof(alike) - 1);
	assert_int_equal(snap.rows[1].labels_len, sizeof(apart) - 1);
	assert_memory_equal(snap.text.data + snap.rows[1].labels_at, apart, sizeof(apart) - 1);
	for (size_t r = 0; r < 2; r++) {
		memset(&got, 0, sizeof(got));
		snapshot_values(&snap, r, 0, sizeof(got) / sizeof(__u64), (__u64 *)(void *)&got);
		assert_int_equal(got.conn.opened[CTCP_OUTBOUND], r ? 8 : 7);
	}
	snapshot_free(&snap);
	collector_done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counter_family_exact),
	    cmocka_unit_test(test_every_family_rendered),
	    cmocka_unit_test(test_every_value_reaches_its_sample),
	    cmocka_unit_test(test_histogram_buckets),
	    cmocka_unit_test(test_openmetrics),
	    cmocka_unit_test(test_histogram_merged_buckets),
	    cmocka_unit_test(test_identity_labels),
	    cmocka_unit_test(test_pieces_equal_whole),
	    cmocka_unit_test(test_gauge_and_sums),
	    cmocka_unit_test(test_rows_snapshot_sums_same_name),
	    cmocka_unit_test(test_rows_merge_by_shown_labels),
	    cmocka_unit_test(test_packed_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
