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
	    cmocka_unit_test(test_help_escapes_backslash_and_newline_only),
	    cmocka_unit_test(test_buf_printf_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
