/* SPDX-License-Identifier: GPL-2.0-only */
/* Content negotiation: Accept (protobuf, OpenMetrics or text) and
 * Accept-Encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "negotiate.h"

static void test_format(void **state)
{
	/* What Prometheus sends. */
	assert_int_equal(negotiate_format("application/openmetrics-text;version=1.0.0,"
					  "application/openmetrics-text;version=0.0.1;q=0.75,"
					  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
			 FORMAT_OPENMETRICS);
	assert_int_equal(negotiate_format("application/openmetrics-text"), FORMAT_OPENMETRICS);
	assert_int_equal(
	    negotiate_format(" Application/OpenMetrics-Text ; q=0.9 , text/plain;q=0.1"),
	    FORMAT_OPENMETRICS);
	assert_int_equal(negotiate_format(NULL), FORMAT_TEXT);
	assert_int_equal(negotiate_format(""), FORMAT_TEXT);
	assert_int_equal(negotiate_format("*/*"), FORMAT_TEXT);
	assert_int_equal(negotiate_format("text/plain"), FORMAT_TEXT);
	assert_int_equal(negotiate_format("application/openmetrics-text;q=0"), FORMAT_TEXT);
	assert_int_equal(negotiate_format("application/openmetrics-text;q=0.5,text/plain"),
			 FORMAT_TEXT);
	assert_int_equal(negotiate_format("application/openmetrics-text;version=0.0.1"),
			 FORMAT_TEXT);
	assert_int_equal(negotiate_format("application/openmetrics-text;q=abc"), FORMAT_TEXT);
	assert_int_equal(negotiate_format(",,;;==,\x01\xff"), FORMAT_TEXT);
}

#define PROTOBUF "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"

static void test_protobuf(void **state)
{
	/* What Prometheus 2.42 sends with native histograms on. */
	assert_int_equal(negotiate_format(PROTOBUF
					  "encoding=delimited,"
					  "application/openmetrics-text;version=1.0.0;q=0.8,"
					  "application/openmetrics-text;version=0.0.1;q=0.75,"
					  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
			 FORMAT_PROTOBUF);
	assert_int_equal(negotiate_format(PROTOBUF "encoding=delimited"), FORMAT_PROTOBUF);
	assert_int_equal(negotiate_format("application/vnd.google.protobuf; "
					  "proto=\"io.prometheus.client.MetricFamily\"; "
					  "encoding=\"delimited\"; q=0.9, text/plain;q=0.8"),
			 FORMAT_PROTOBUF);
	/* Another encoding or message, or no parameters: not this format. */
	assert_int_equal(negotiate_format(PROTOBUF "encoding=text"), FORMAT_TEXT);
	assert_int_equal(negotiate_format(PROTOBUF), FORMAT_TEXT);
	assert_int_equal(negotiate_format("application/vnd.google.protobuf"), FORMAT_TEXT);
	assert_int_equal(negotiate_format("application/vnd.google.protobuf;"
					  "proto=io.prometheus.client.Metric;encoding=delimited"),
			 FORMAT_TEXT);
	/* Ranked below, or tied with, another format: that one. */
	assert_int_equal(negotiate_format(PROTOBUF "encoding=delimited;q=0.5,"
						   "application/openmetrics-text;q=0.6"),
			 FORMAT_OPENMETRICS);
	assert_int_equal(negotiate_format(PROTOBUF "encoding=delimited;q=0.5,text/plain;q=0.5"),
			 FORMAT_TEXT);
	assert_int_equal(negotiate_format(PROTOBUF "encoding=delimited;q=0,*/*"), FORMAT_TEXT);
}

static void test_gzip(void **state)
{
	assert_true(negotiate_gzip("gzip"));
	assert_true(negotiate_gzip("deflate, gzip;q=0.5"));
	assert_true(negotiate_gzip("*"));
	assert_true(negotiate_gzip("GZIP"));
	assert_false(negotiate_gzip(NULL));
	assert_false(negotiate_gzip(""));
	assert_false(negotiate_gzip("identity"));
	assert_false(negotiate_gzip("gzip;q=0"));
	assert_false(negotiate_gzip("gzip;q=0, *"));
	assert_false(negotiate_gzip("*;q=0"));
	assert_false(negotiate_gzip("br"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_protobuf),
	    cmocka_unit_test(test_gzip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
