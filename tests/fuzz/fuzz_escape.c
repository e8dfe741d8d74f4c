/* SPDX-License-Identifier: GPL-2.0-only */
/* Label value and HELP text escaping: reading the escaped text back gives
 * the input (ill-formed UTF-8 shown as U+FFFD, the result valid UTF-8), no
 * raw newline or unescaped quote is left to end a line or a label value
 * early, and label_value_cmp orders values as they are shown. */
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "exposition.h"
#include "input.h"

/* The value as shown, read back from its escaped form; free() it. */
static char *check_label_value(const char *in)
{
	struct buf b;
	const char *text, *after;
	char *back = NULL;

	buf_init(&b);
	buf_label_value(&b, in);
	fuzz_assert(!b.failed, "out of memory escaping %zu bytes", strlen(in));
	text = b.data ? b.data : "";
	fuzz_assert(!memchr(text, '\n', b.len), "raw newline in '%s'", text);
	/* As inside a sample line: the value and its closing quote. */
	buf_append(&b, "\"", 1);
	text = b.data;
	after = label_value_unescape(text, text + b.len, &back);
	fuzz_assert(after == text + b.len, "value ends early in '%s'", text);
	fuzz_assert(shown_as(in, back), "read back '%s' from '%s'", back, text);
	buf_free(&b);
	return back;
}

static void check_help_text(const char *in)
{
	struct buf b;
	char *back;

	buf_init(&b);
	buf_help_text(&b, in);
	fuzz_assert(!b.failed, "out of memory escaping %zu bytes", strlen(in));
	back = help_text_unescape(b.data ? b.data : "", b.len, false);
	fuzz_assert(back, "malformed HELP text '%s'", b.data);
	fuzz_assert(shown_as(in, back), "read back '%s' from '%s'", back, b.data);
	free(back);
	buf_free(&b);
}

static int sign(int n)
{
	return (n > 0) - (n < 0);
}

/* Two values from the input: label_value_cmp orders them as shown. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	char *a = fuzz_take_string(&in), *b = fuzz_take_string(&in);
	char *shown_a = check_label_value(a), *shown_b = check_label_value(b);

	check_help_text(a);
	fuzz_assert(sign(label_value_cmp(a, b)) == sign(strcmp(shown_a, shown_b)),
		    "label_value_cmp('%s', '%s') = %d, shown as '%s' and '%s'", a, b,
		    label_value_cmp(a, b), shown_a, shown_b);
	free(shown_a);
	free(shown_b);
	free(a);
	free(b);
	return 0;
}
