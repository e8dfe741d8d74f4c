/* Label value and HELP text escaping: reading the escaped text back gives
 * the input, and no raw newline or unescaped quote is left to end a line or
 * a label value early. */
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "exposition.h"
#include "input.h"

static size_t count_of(const char *s, const char *chars)
{
	size_t n = 0;

	for (; *s; s++)
		n += strchr(chars, *s) != NULL;
	return n;
}

static void check_label_value(const char *in)
{
	struct buf b;
	const char *text, *after;
	char *back = NULL;

	buf_init(&b);
	buf_label_value(&b, in);
	fuzz_assert(!b.failed, "out of memory escaping %zu bytes", strlen(in));
	text = b.data ? b.data : "";
	fuzz_assert(b.len == strlen(in) + count_of(in, "\\\"\n"), "escaped length %zu", b.len);
	fuzz_assert(!memchr(text, '\n', b.len), "raw newline in '%s'", text);
	/* As inside a sample line: the value and its closing quote. */
	buf_append(&b, "\"", 1);
	text = b.data;
	after = label_value_unescape(text, text + b.len, &back);
	fuzz_assert(after == text + b.len, "value ends early in '%s'", text);
	fuzz_assert(!strcmp(back, in), "read back '%s' from '%s'", back, text);
	free(back);
	buf_free(&b);
}

static void check_help_text(const char *in)
{
	struct buf b;
	char *back;

	buf_init(&b);
	buf_help_text(&b, in);
	fuzz_assert(!b.failed, "out of memory escaping %zu bytes", strlen(in));
	fuzz_assert(b.len == strlen(in) + count_of(in, "\\\n"), "escaped length %zu", b.len);
	back = help_text_unescape(b.data ? b.data : "", b.len, false);
	fuzz_assert(back, "malformed HELP text '%s'", b.data);
	fuzz_assert(!strcmp(back, in), "read back '%s' from '%s'", back, b.data);
	free(back);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_whole_string(data, size);

	check_label_value(in);
	check_help_text(in);
	free(in);
	return 0;
}
