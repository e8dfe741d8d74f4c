/* Rendering of every catalogue family in the text format, and the merge of
 * rows that share a cgroup name. */
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
#include "scrape.h"

static char *render_format(const struct cgroup_row *rows, size_t n, __u64 map_full,
			   unsigned int step, enum exposition_format format)
{
	struct self_sample full = {.value = (double)map_full};
	struct render_options opts = {.bucket_step = step, .format = format};
	struct buf b;
	size_t len;

	buf_init(&b);
	render_cgroups(&b, rows, n, &opts);
	render_self(&b, &exporter_families[SELF_MAP_FULL], &full, 1, &opts);
	render_end(&b, &opts);
	assert_false(b.failed);
	return buf_steal(&b, &len);
}

static char *render_step(const struct cgroup_row *rows, size_t n, __u64 map_full, unsigned int step)
{
	return render_format(rows, n, map_full, step, FORMAT_TEXT);
}

static char *render(const struct cgroup_row *rows, size_t n, __u64 map_full)
{
	return render_step(rows, n, map_full, 1);
}

/* OpenMetrics: family names without _total, UNIT, canonical le, # EOF. */
static void test_openmetrics(void **state)
{
	struct cgroup_values v = {0};
	struct cgroup_row row = {.cgroup = "/o", .values = &v};
	char *out;

	v.io.size[CTCP_SEND].slots[0] = 2;
	v.conn.opened[CTCP_OUTBOUND] = 4;
	out = render_format(&row, 1, 0, 1, FORMAT_OPENMETRICS);
	assert_non_null(strstr(out, "# TYPE cgroup_tcp_connections_opened counter\n"
				    "cgroup_tcp_connections_opened_total{cgroup=\"/"
				    "o\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\","
				    "container=\"\",direction=\"outbound\"} 4\n"));
	assert_non_null(strstr(out, "# TYPE cgroup_tcp_sent_bytes counter\n"
				    "# UNIT cgroup_tcp_sent_bytes bytes\n"));
	assert_non_null(strstr(out, "# UNIT cgroup_tcp_rtt_seconds seconds\n"));
	assert_non_null(strstr(out, "op=\"send\",le=\"1.0\"} 2\n"));
	assert_non_null(strstr(out, "le=\"8e-06\"} 0\n"));
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
	struct cgroup_row rows[1] = {{.cgroup = "/a", .values = &v}};
	char *out;

	v.conn.opened[CTCP_OUTBOUND] = 3;
	v.conn.opened[CTCP_INBOUND] = 18446744073709551615ULL;
	v.conn.retransmits = 7;
	out = render(rows, 1, 0);
	assert_non_null(strstr(out, "# HELP cgroup_tcp_connections_opened_total TCP handshakes"));
	assert_non_null(strstr(out, "# TYPE cgroup_tcp_connections_opened_total counter\n"
				    "cgroup_tcp_connections_opened_total{cgroup=\"/"
				    "a\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\","
				    "container=\"\",direction=\"outbound\"} 3\n"
				    "cgroup_tcp_connections_opened_total{cgroup=\"/"
				    "a\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\","
				    "container=\"\",direction=\"inbound\"} "
				    "18446744073709551615\n"));
	assert_non_null(strstr(
	    out, "# TYPE cgroup_tcp_retransmits_total counter\n"
		 "cgroup_tcp_retransmits_total{cgroup=\"/"
		 "a\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\",container=\"\"} 7\n"));
	free(out);
}

/* Every family: HELP, TYPE, one sample per row and label value, in order. */
static void test_every_family_rendered(void **state)
{
	struct cgroup_values v[3] = {0};
	struct cgroup_row rows[3] = {
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
	struct cgroup_row row = {.cgroup = "/c", .values = &v};
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
					 "c\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod="
					 "\"\",container=\"\",%s=\"%s\"} %zu\n",
					 f->name, family_sample_suffix(f), f->label,
					 f->label_values[k], 1000 + index);
			else
				snprintf(want, sizeof(want),
					 "%s%s{cgroup=\"/"
					 "c\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod="
					 "\"\",container=\"\"} %zu\n",
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
	struct cgroup_row row = {.cgroup = "/h", .values = &v};
	struct ctcp_hist *h = &v.rtt;
	char *out;

	h->slots[0] = 1;   /* <= 1 us */
	h->slots[3] = 2;   /* (4, 8] us */
	h->slots[4] = 4;   /* (8, 16] us */
	h->slots[24] = 8;  /* (2^23, 2^24] us */
	h->slots[25] = 16; /* above 2^24 us */
	h->sum = 119;
	out = render(&row, 1, 0);
	assert_non_null(strstr(out, "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
				    "h\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\","
				    "container=\"\",le=\"8e-06\"} 3\n"
				    "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
				    "h\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\","
				    "container=\"\",le=\"1.6e-05\"} 7\n"
				    "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
				    "h\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\","
				    "container=\"\",le=\"3.2e-05\"} 7\n"));
	assert_non_null(strstr(
	    out,
	    "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
	    "h\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\",container=\"\",le=\"8."
	    "388608\"} 7\n"
	    "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
	    "h\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\",container=\"\",le=\"16."
	    "777216\"} 15\n"
	    "cgroup_tcp_rtt_seconds_bucket{cgroup=\"/"
	    "h\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\",container=\"\",le=\"+Inf\"}"
	    " 31\n"
	    "cgroup_tcp_rtt_seconds_sum{cgroup=\"/"
	    "h\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\",container=\"\"} 0.000119\n"
	    "cgroup_tcp_rtt_seconds_count{cgroup=\"/"
	    "h\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\",container=\"\"} 31\n"));
	free(out);
}

/* Factor 8 keeps every third bound; counts at kept bounds are unchanged. */
static void test_histogram_merged_buckets(void **state)
{
	struct cgroup_values v = {0};
	struct cgroup_row row = {.cgroup = "/m", .values = &v};
	char *out;

	v.io.size[CTCP_SEND].slots[1] = 1;   /* 2 bytes */
	v.io.size[CTCP_SEND].slots[2] = 10;  /* 3-4 bytes */
	v.io.size[CTCP_SEND].slots[4] = 100; /* 9-16 bytes */
	out = render_step(&row, 1, 0, 3);
	assert_non_null(strstr(out, "cgroup_tcp_io_size_bytes_bucket{cgroup=\"/"
				    "m\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\","
				    "container=\"\",op=\"send\",le=\"1\"} 0\n"
				    "cgroup_tcp_io_size_bytes_bucket{cgroup=\"/"
				    "m\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\","
				    "container=\"\",op=\"send\",le=\"8\"} 11\n"
				    "cgroup_tcp_io_size_bytes_bucket{cgroup=\"/"
				    "m\",container_id=\"\",pod_uid=\"\",namespace=\"\",pod=\"\","
				    "container=\"\",op=\"send\",le=\"64\"} 111\n"));
	assert_null(strstr(out, "le=\"2\""));
	assert_non_null(strstr(out, "le=\"1.6777216e+07\"} 111\n"));
	free(out);
}

static void test_rows_merge_sums_same_name(void **state)
{
	struct cgroup_values v[4] = {0};
	struct cgroup_row rows[4] = {
	    {.cgroup = "/b", .values = &v[0]},
	    {.cgroup = "/a", .values = &v[1]},
	    {.cgroup = "/b", .values = &v[2]},
	    {.cgroup = "", .values = &v[3]},
	};

	v[0].io.size[CTCP_SEND].sum = 10;
	v[2].io.size[CTCP_SEND].sum = 5;
	v[2].conn.closed[CTCP_INBOUND] = 1;
	v[2].conn.sockets[1] = -1;
	v[0].conn.sockets[1] = 3;
	assert_int_equal(rows_merge(rows, 4), 3);
	assert_string_equal(rows[0].cgroup, "");
	assert_string_equal(rows[1].cgroup, "/a");
	assert_string_equal(rows[2].cgroup, "/b");
	assert_int_equal(rows[2].values->io.size[CTCP_SEND].sum, 15);
	assert_int_equal(rows[2].values->conn.closed[CTCP_INBOUND], 1);
	assert_int_equal(rows[2].values->conn.sockets[1], 2);
	assert_int_equal(rows_merge(rows, 0), 0);
}

/* Names that differ only in bytes that are not UTF-8 are shown alike, as one
 * series; the same name with other identity labels stays apart. */
static void test_rows_merge_by_shown_labels(void **state)
{
	struct cgroup_values v[4] = {0};
	struct cgroup_row rows[4] = {
	    {.cgroup = "/x\xff", .values = &v[0]},
	    {.cgroup = "/x\xfe", .values = &v[1]},
	    {.cgroup = "/x\xef\xbf\xbd", .values = &v[2]},
	    {.cgroup = "/x\xff", .labels = {.values = {"c"}}, .values = &v[3]},
	};

	for (int i = 0; i < 4; i++)
		v[i].conn.opened[CTCP_OUTBOUND] = 1u << i;
	assert_int_equal(rows_merge(rows, 4), 2);
	assert_int_equal(rows[0].values->conn.opened[CTCP_OUTBOUND], 7);
	assert_string_equal(rows[1].labels.values[0], "c");
	assert_int_equal(rows[1].values->conn.opened[CTCP_OUTBOUND], 8);
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
	    cmocka_unit_test(test_rows_merge_sums_same_name),
	    cmocka_unit_test(test_rows_merge_by_shown_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
