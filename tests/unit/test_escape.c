/* SPDX-License-Identifier: GPL-2.0-only */
/* Label values and HELP text escaping for the text exposition format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

static void expect_label(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b);
	buf_label_value(&b, in);
	assert_false(b.failed);
	assert_string_equal(b.data ? b.data : "", want);
	buf_free(&b);
}

static void test_label_plain(void **state)
{
	expect_label("/system.slice/nginx.service", "/system.slice/nginx.service");
	expect_label("", "");
}

static void test_label_specials(void **state)
{
	expect_label("a\"b", "a\\\"b");
	expect_label("a\\b", "a\\\\b");
	expect_label("a\nb", "a\\nb");
	expect_label("\"\\\n", "\\\"\\\\\\n");
	expect_label("end\\", "end\\\\");
}

static void test_label_utf8_passes(void **state)
{
	expect_label("/caf\xc3\xa9/\xe2\x9c\x93", "/caf\xc3\xa9/\xe2\x9c\x93");
	/* Tabs and other bytes are legal as they are. */
	expect_label("a\tb c", "a\tb c");
}

/* Bytes that are not UTF-8 become U+FFFD, one per maximal ill-formed
 * subsequence: what Python's and WHATWG's decoders do. */
#define FFFD "\xef\xbf\xbd"

static void test_label_invalid_utf8_replaced(void **state)
{
	expect_label("/a\xff", "/a" FFFD);
	expect_label("/a\xff\xfe/b", "/a" FFFD FFFD "/b");
	/* A cut sequence is one subpart; its next byte starts again. */
	expect_label("x\xe2\x9c", "x" FFFD);
	expect_label("x\xe2\x9cy", "x" FFFD "y");
	expect_label("\xf0\x9f\x98\xe2\x9c\x93", FFFD "\xe2\x9c\x93");
	/* Overlong forms, surrogates, beyond U+10FFFF, stray continuations. */
	expect_label("\xc0\xaf", FFFD FFFD);
	expect_label("\xe0\x80\xaf", FFFD FFFD FFFD);
	expect_label("\xed\xa0\x80", FFFD FFFD FFFD);
	expect_label("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	expect_label("\xf5\x80", FFFD FFFD);
	expect_label("\x80\xbf", FFFD FFFD);
	/* Edges that are valid pass. */
	expect_label("\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\xf0\x90\x80\x80",
		     "\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\xf0\x90\x80\x80");
	/* Replacement and escaping together. */
	expect_label("\"\xff\\\n\xc3", "\\\"" FFFD "\\\\\\n" FFFD);
}

static void test_label_control_characters_pass(void **state)
{
	expect_label("\x01\x1f\r\x7f", "\x01\x1f\r\x7f");
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static char *shown(const char *s)
{
	struct buf b;
	char *out;

	buf_init(&b);
	buf_label_value(&b, s);
	out = strdup(b.data ? b.data : "");
	buf_free(&b);
	return out;
}

static void expect_cmp(const char *a, const char *b, int want)
{
	assert_int_equal(sign(label_value_cmp(a, b)), want);
	assert_int_equal(sign(label_value_cmp(b, a)), -want);
}

static void test_cmp_as_shown(void **state)
{
	expect_cmp("/a", "/a", 0);
	expect_cmp("/a", "/b", -1);
	expect_cmp("", "/a", -1);
	expect_cmp("/a\xff", "/a\xfe", 0);
	expect_cmp("/a\xe2\x9c", "/a\xff", 0);
	expect_cmp("/a\xef\xbf\xbd", "/a\xff", 0); /* a real U+FFFD */
	expect_cmp("/a\xff\xff", "/a\xff", 1);
	expect_cmp("/x\xc3\xa9", "/x\xc3\xa8", 1);
	expect_cmp("/\xc3\xa9", "/\xc3", -1);		/* U+00E9 < U+FFFD */
	expect_cmp("\xe2\x9c\x93", "\xe2\x9c\x41", -1); /* U+2713 < U+FFFD A */
	expect_cmp("\x80\x80\xc3\xa9", "\x80\x80\xc3", -1);
}

/* label_value_cmp orders any two values as strcmp orders what is shown. */
static void test_cmp_matches_shown_order(void **state)
{
	static const char alphabet[] = "a\xc3\xa9\xff\x80\xe2\x9c\x93\xef\xbf\xbd\xf0\x9f";
	char values[400][7];
	char *shown_values[400];
	unsigned int seed = 1;

	for (int i = 0; i < 400; i++) {
		int len = i % 7;

		for (int k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			values[i][k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		values[i][len] = '\0';
		shown_values[i] = shown(values[i]);
	}
	for (int i = 0; i < 400; i++)
		for (int j = 0; j < 400; j++)
			assert_int_equal(sign(label_value_cmp(values[i], values[j])),
					 sign(strcmp(shown_values[i], shown_values[j])));
	for (int i = 0; i < 400; i++)
		free(shown_values[i]);
}

static void test_help_escapes_backslash_and_newline_only(void **state)
{
	struct buf b;

	buf_init(&b);
	buf_help_text(&b, "say \"hi\"\\\nnext");
	assert_string_equal(b.data, "say \"hi\"\\\\\\nnext");
	buf_free(&b);
}

static void test_buf_printf_grows(void **state)
{
	struct buf b;
	char big[10000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b);
	buf_printf(&b, "<%s>%d", big, 42);
	assert_false(b.failed);
	assert_int_equal(b.len, sizeof(big) - 1 + 4);
	assert_memory_equal(b.data + b.len - 3, ">42", 3);
	assert_int_equal(b.data[0], '<');
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_label_plain),
	    cmocka_unit_test(test_label_specials),
	    cmocka_unit_test(test_label_utf8_passes),
	    cmocka_unit_test(test_label_invalid_utf8_replaced),
	    cmocka_unit_test(test_label_control_characters_pass),
	    cmocka_unit_test(test_cmp_as_shown),
	    cmocka_unit_test(test_cmp_matches_shown_order),
	    cmocka_unit_test(test_help_escapes_backslash_and_newline_only),
	    cmocka_unit_test(test_buf_printf_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
