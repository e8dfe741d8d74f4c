/* SPDX-License-Identifier: GPL-2.0-only */
/* Numbers as text: the integer path for histogram sums must write exactly
 * what the double path (Go's shortest 'g') writes, for every magnitude and
 * both formats; integers must match printf. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

static const double powers[] = {1e0, 1e1, 1e2,	1e3,  1e4,  1e5,  1e6,	1e7,
				1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

static uint64_t xorshift(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* format_decimal against format_double of the double nearest to the
 * quotient, which strtod makes from the exact decimal (units / 10^d made a
 * double first would round twice past 2^53). */
static void check_decimal(uint64_t units, unsigned int decimals)
{
	static const enum exposition_format formats[] = {FORMAT_TEXT, FORMAT_OPENMETRICS};
	char fast[NUMBER_MAX + 1], slow[NUMBER_MAX + 1], exact[48];
	double nearest;

	snprintf(exact, sizeof(exact), "%" PRIu64 "e-%u", units, decimals);
	nearest = strtod(exact, NULL);
	for (size_t f = 0; f < 2; f++) {
		fast[format_decimal(fast, units, decimals, formats[f])] = '\0';
		slow[format_double(slow, nearest, formats[f])] = '\0';
		if (strcmp(fast, slow))
			fail_msg("%" PRIu64 " / 1e%u (%s): integer path \"%s\", double path \"%s\"",
				 units, decimals, f ? "OpenMetrics" : "text", fast, slow);
	}
}

static void test_decimal_edges(void **state)
{
	static const uint64_t edges[] = {0,
					 1,
					 9,
					 10,
					 11,
					 99,
					 100,
					 101,
					 119,
					 999,
					 1000,
					 1001,
					 99999,
					 100000,
					 100001,
					 999999,
					 1000000,
					 1000001,
					 1048576,
					 9999999,
					 10000000,
					 123456789,
					 1000000000,
					 4294967295,
					 4294967296,
					 99999999999999,
					 100000000000000,
					 123456789012345,
					 999999999999999,
					 1000000000000000,
					 1000000000000001,
					 9007199254740991,
					 9007199254740993,
					 12345678901234567,
					 UINT64_MAX / 3,
					 UINT64_MAX};

	for (unsigned int d = 0; d <= 15; d++)
		for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
			check_decimal(edges[i], d);
}

/* Every magnitude, with and without trailing zeros, both sides of the
 * fixed/exponent switch and of the 15-digit limit. */
static void test_decimal_many(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 60000; i++) {
		uint64_t units = xorshift(&seed) >> (xorshift(&seed) % 64);

		if (i % 3 == 0) /* round numbers, like sums of whole milliseconds */
			units -= units % (uint64_t)powers[xorshift(&seed) % 7];
		check_decimal(units, (unsigned int)(xorshift(&seed) % 16));
	}
	for (uint64_t units = 0; units < 3000; units++) {
		check_decimal(units, 6);
		check_decimal(units, 0);
	}
}

static void test_double_canonical(void **state)
{
	char out[NUMBER_MAX + 1];

	out[format_double(out, 0.001, FORMAT_TEXT)] = '\0';
	assert_string_equal(out, "0.001");
	out[format_double(out, 8e-06, FORMAT_TEXT)] = '\0';
	assert_string_equal(out, "8e-06");
	out[format_double(out, 1048576, FORMAT_TEXT)] = '\0';
	assert_string_equal(out, "1.048576e+06");
	out[format_double(out, 100000, FORMAT_OPENMETRICS)] = '\0';
	assert_string_equal(out, "100000.0");
	out[format_double(out, 1, FORMAT_OPENMETRICS)] = '\0';
	assert_string_equal(out, "1.0");
	out[format_decimal(out, 119, 6, FORMAT_TEXT)] = '\0';
	assert_string_equal(out, "0.000119");
	out[format_decimal(out, 5, 6, FORMAT_TEXT)] = '\0';
	assert_string_equal(out, "5e-06");
	out[format_decimal(out, 16777216, 0, FORMAT_OPENMETRICS)] = '\0';
	assert_string_equal(out, "1.6777216e+07");
	out[format_decimal(out, 0, 6, FORMAT_OPENMETRICS)] = '\0';
	assert_string_equal(out, "0.0");
	assert_int_equal(decimals_of(1e6), 6);
	assert_int_equal(decimals_of(1), 0);
	assert_int_equal(decimals_of(1e15), 15);
	assert_int_equal(decimals_of(3), -1);
	assert_int_equal(decimals_of(1e16), -1);
}

static void test_integers(void **state)
{
	uint64_t seed = 12345;
	char out[NUMBER_MAX + 1], want[32];

	for (int i = 0; i < 20000; i++) {
		uint64_t u = xorshift(&seed) >> (xorshift(&seed) % 64);
		int64_t s = (int64_t)xorshift(&seed) >> (xorshift(&seed) % 64);

		if (i == 0) {
			u = UINT64_MAX;
			s = INT64_MIN;
		}
		out[format_u64(out, u)] = '\0';
		snprintf(want, sizeof(want), "%" PRIu64, u);
		assert_string_equal(out, want);
		out[format_i64(out, s)] = '\0';
		snprintf(want, sizeof(want), "%" PRId64, s);
		assert_string_equal(out, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decimal_edges),
	    cmocka_unit_test(test_decimal_many),
	    cmocka_unit_test(test_double_canonical),
	    cmocka_unit_test(test_integers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
