/* SPDX-License-Identifier: GPL-2.0-only */
/* Rendering rows with any label values and any counter, gauge and
 * histogram values, and exporter samples with any labels and doubles, in
 * both formats, from a snapshot a piece of any size at a time: the output is
 * read back line by line, strictly, and every label value (as valid UTF-8)
 * and number must come back as it went in. */
#include <stdlib.h>

#include "input.h"
#include "render_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	struct scene *s = malloc(sizeof(*s));
	struct buf b;

	if (!s)
		abort();
	scene_read(s, &in);
	scene_render(s, s->opts.format, &b);
	render_check(b.data, b.len, s);
	buf_free(&b);
	scene_free(s);
	free(s);
	return 0;
}
