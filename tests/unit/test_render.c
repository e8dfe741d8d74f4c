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

#include "render_text.h"
#include "scrape.h"

static char *render(const struct cgroup_row *rows, size_t n, __u64 map_full)
{
	struct ctcp_stats stats = {.map_full = map_full};
	struct buf b;
	size_t len;

	buf_init(&b);
	render_text(&b, rows, n, &stats);
	assert_false(b.failed);
	return buf_steal(&b, &len);
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
	struct cgroup_row rows[1] = {{.cgroup = "/a"}};
	char *out;

	rows[0].counters.opened[CTCP_OUTBOUND] = 3;
	rows[0].counters.opened[CTCP_INBOUND] = 18446744073709551615ULL;
	rows[0].counters.retransmits = 7;
	out = render(rows, 1, 0);
	assert_non_null(strstr(out, "# HELP cgroup_tcp_connections_opened_total TCP handshakes"));
	assert_non_null(strstr(
	    out, "# TYPE cgroup_tcp_connections_opened_total counter\n"
		 "cgroup_tcp_connections_opened_total{cgroup=\"/a\",direction=\"outbound\"} 3\n"
		 "cgroup_tcp_connections_opened_total{cgroup=\"/a\",direction=\"inbound\"} "
		 "18446744073709551615\n"));
	assert_non_null(strstr(out, "# TYPE cgroup_tcp_retransmits_total counter\n"
				    "cgroup_tcp_retransmits_total{cgroup=\"/a\"} 7\n"));
	free(out);
}

/* Every family: HELP, TYPE, one sample per row and label value, in order. */
static void test_every_family_rendered(void **state)
{
	struct cgroup_row rows[3] = {{.cgroup = ""}, {.cgroup = "/"}, {.cgroup = "/x\"y"}};
	char *out = render(rows, 3, 5);
	char prefix[256];

	for (size_t i = 0; i < cgroup_families_len; i++) {
		const struct family *f = &cgroup_families[i];

		snprintf(prefix, sizeof(prefix), "# HELP %s%s ", f->name, family_sample_suffix(f));
		assert_int_equal(count_lines_starting(out, prefix), 1);
		snprintf(prefix, sizeof(prefix), "# TYPE %s%s %s", f->name, family_sample_suffix(f),
			 family_type_name(f->type));
		assert_int_equal(count_lines_starting(out, prefix), 1);
		snprintf(prefix, sizeof(prefix), "%s%s{", f->name, family_sample_suffix(f));
		assert_int_equal(count_lines_starting(out, prefix), 3 * (int)f->values);
		snprintf(prefix, sizeof(prefix), "%s%s{cgroup=\"/x\\\"y\"", f->name,
			 family_sample_suffix(f));
		assert_int_equal(count_lines_starting(out, prefix), (int)f->values);
	}
	assert_non_null(strstr(out, "\ncgroup_tcp_exporter_map_full_events_total 5\n"));
	assert_int_equal(out[strlen(out) - 1], '\n');
	free(out);
}

static void test_every_value_reaches_its_sample(void **state)
{
	struct cgroup_row row = {.cgroup = "/c"};
	__u64 *v = (__u64 *)&row.counters;
	char *out, want[512];

	/* Distinct values, so a wrong offset shows up as a wrong number. */
	for (size_t i = 0; i < sizeof(row.counters) / sizeof(__u64); i++)
		v[i] = 1000 + i;
	out = render(&row, 1, 0);
	for (size_t i = 0; i < cgroup_families_len; i++) {
		const struct family *f = &cgroup_families[i];

		for (unsigned int k = 0; k < f->values; k++) {
			if (f->label)
				snprintf(want, sizeof(want), "%s%s{cgroup=\"/c\",%s=\"%s\"} %zu\n",
					 f->name, family_sample_suffix(f), f->label,
					 f->label_values[k], 1000 + f->offset / 8 + k);
			else
				snprintf(want, sizeof(want), "%s%s{cgroup=\"/c\"} %zu\n", f->name,
					 family_sample_suffix(f), 1000 + f->offset / 8);
			assert_non_null(strstr(out, want));
		}
	}
	free(out);
}

static void test_rows_merge_sums_same_name(void **state)
{
	struct cgroup_row rows[4] = {
	    {.cgroup = "/b"}, {.cgroup = "/a"}, {.cgroup = "/b"}, {.cgroup = ""}};

	rows[0].counters.sent_bytes = 10;
	rows[2].counters.sent_bytes = 5;
	rows[2].counters.closed[CTCP_INBOUND] = 1;
	assert_int_equal(rows_merge(rows, 4), 3);
	assert_string_equal(rows[0].cgroup, "");
	assert_string_equal(rows[1].cgroup, "/a");
	assert_string_equal(rows[2].cgroup, "/b");
	assert_int_equal(rows[2].counters.sent_bytes, 15);
	assert_int_equal(rows[2].counters.closed[CTCP_INBOUND], 1);
	assert_int_equal(rows_merge(rows, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counter_family_exact),
	    cmocka_unit_test(test_every_family_rendered),
	    cmocka_unit_test(test_every_value_reaches_its_sample),
	    cmocka_unit_test(test_rows_merge_sums_same_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
