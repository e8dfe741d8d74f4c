/* SPDX-License-Identifier: GPL-2.0-only */
/* Sample values as text: integers, doubles in Go's shortest 'g' form, and
 * integer counts of 10^-d units (histogram sums) in that same form without
 * going through printf. */
#include "number.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every power of ten up to 1e15 is exact in a double. */
static const double powers_of_ten[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,	 1e6,  1e7,
				       1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
#define MAX_DECIMALS 15
/* Below 10^15 an integer has at most 15 digits, DBL_DIG: no two such
 * decimals are the same double, so their own digits are the shortest ones
 * that read back as that double. */
#define FAST_DECIMAL_LIMIT 1000000000000000ULL

static const char digit_pairs[] = "00010203040506070809"
				  "10111213141516171819"
				  "20212223242526272829"
				  "30313233343536373839"
				  "40414243444546474849"
				  "50515253545556575859"
				  "60616263646566676869"
				  "70717273747576777879"
				  "80818283848586878889"
				  "90919293949596979899";

size_t format_u64(char *out, uint64_t v)
{
	char text[20];
	size_t i = sizeof(text);

	while (v >= 100) {
		unsigned int pair = (unsigned int)(v % 100) * 2;

		v /= 100;
		text[--i] = digit_pairs[pair + 1];
		text[--i] = digit_pairs[pair];
	}
	if (v >= 10) {
		text[--i] = digit_pairs[v * 2 + 1];
		text[--i] = digit_pairs[v * 2];
	} else {
		text[--i] = (char)('0' + v);
	}
	memcpy(out, text + i, sizeof(text) - i);
	return sizeof(text) - i;
}

size_t format_i64(char *out, int64_t v)
{
	if (v >= 0)
		return format_u64(out, (uint64_t)v);
	out[0] = '-';
	return 1 + format_u64(out + 1, (uint64_t)0 - (uint64_t)v);
}

/* OpenMetrics wants a float to look like one: 1.0, not 1. */
static size_t float_looking(char *out, size_t len, enum exposition_format format)
{
	if (format != FORMAT_OPENMETRICS || memchr(out, '.', len) || memchr(out, 'e', len))
		return len;
	memcpy(out + len, ".0", 2);
	return len + 2;
}

size_t format_double(char *out, double v, enum exposition_format format)
{
	char text[NUMBER_MAX], *e;
	int digits, exponent;
	size_t len;

	if (isnan(v)) {
		memcpy(out, "NaN", 3);
		return 3;
	}
	if (isinf(v)) {
		memcpy(out, v > 0 ? "+Inf" : "-Inf", 4);
		return 4;
	}
	/* The fewest significant digits that read back as v, and the exponent
	 * they come with, as Go's strconv.FormatFloat(v, 'g', -1, 64) finds
	 * them: Prometheus' own clients write numbers this way, and Prometheus
	 * compares le values in this canonical form. */
	for (digits = 1; digits < 17; digits++) {
		snprintf(text, sizeof(text), "%.*e", digits - 1, v);
		if (strtod(text, NULL) == v)
			break;
	}
	snprintf(text, sizeof(text), "%.*e", digits - 1, v);
	e = strchr(text, 'e');
	exponent = e ? atoi(e + 1) : 0;
	if (exponent >= -4 && exponent < 6)
		snprintf(text, sizeof(text), "%.*f",
			 digits - 1 > exponent ? digits - 1 - exponent : 0, v);
	len = strlen(text);
	memcpy(out, text, len);
	return float_looking(out, len, format);
}

size_t format_decimal(char *out, uint64_t units, unsigned int decimals,
		      enum exposition_format format)
{
	char digits[20];
	size_t nd, len = 0;
	int point, exponent;

	if (decimals > MAX_DECIMALS)
		return format_double(out, (double)units, format);
	if (units >= FAST_DECIMAL_LIMIT) {
		/* Made a double first, units would be rounded twice: strtod
		 * rounds the exact decimal once (rare: 10^15 units and more). */
		char exact[NUMBER_MAX];
		size_t n = format_u64(exact, units);

		snprintf(exact + n, sizeof(exact) - n, "e-%u", decimals);
		return format_double(out, strtod(exact, NULL), format);
	}
	if (units == 0) {
		out[0] = '0';
		return float_looking(out, 1, format);
	}
	nd = format_u64(digits, units);
	/* digits[0] sits at 10^(point - 1); trailing zeros are not significant. */
	point = (int)nd - (int)decimals;
	while (digits[nd - 1] == '0')
		nd--;
	exponent = point - 1;
	if (exponent < -4 || exponent >= 6) {
		/* Go's %e: d.ddde-05, e+06; at least two exponent digits. */
		out[len++] = digits[0];
		if (nd > 1) {
			out[len++] = '.';
			memcpy(out + len, digits + 1, nd - 1);
			len += nd - 1;
		}
		out[len++] = 'e';
		out[len++] = exponent < 0 ? '-' : '+';
		if (exponent < 0)
			exponent = -exponent;
		out[len++] = (char)('0' + exponent / 10);
		out[len++] = (char)('0' + exponent % 10);
		return len;
	}
	if (point <= 0) {
		memcpy(out, "0.", 2);
		len = 2;
		memset(out + len, '0', (size_t)-point);
		len += (size_t)-point;
		memcpy(out + len, digits, nd);
		return len + nd;
	}
	if ((size_t)point >= nd) {
		memcpy(out, digits, nd);
		memset(out + nd, '0', (size_t)point - nd);
		return float_looking(out, (size_t)point, format);
	}
	memcpy(out, digits, (size_t)point);
	out[point] = '.';
	memcpy(out + point + 1, digits + point, nd - (size_t)point);
	return nd + 1;
}

int decimals_of(double d)
{
	for (int k = 0; k <= MAX_DECIMALS; k++)
		if (d == powers_of_ten[k])
			return k;
	return -1;
}

void buf_double(struct buf *b, double v, enum exposition_format format)
{
	if (!buf_reserve(b, NUMBER_MAX))
		return;
	b->len += format_double(b->data + b->len, v, format);
	b->data[b->len] = '\0';
}
