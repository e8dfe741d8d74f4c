/* SPDX-License-Identifier: GPL-2.0-only */
/* The protobuf rendering of any scene (rows with any labels and values,
 * exporter samples, any piece size) decoded by protobuf-c: every family
 * equals the text rendering of the same scene, which is itself read back
 * strictly, and the native buckets are exactly the slots. */
#include <stdlib.h>

#include "input.h"
#include "proto_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	struct scene *s = malloc(sizeof(*s));
	struct buf proto, text;

	if (!s)
		abort();
	scene_read(s, &in);
	s->opts.format = FORMAT_TEXT;
	scene_render(s, FORMAT_TEXT, &text);
	render_check(text.data, text.len, s);
	scene_render(s, FORMAT_PROTOBUF, &proto);
	proto_check(proto.data, proto.len, text.data, s);
	buf_free(&proto);
	buf_free(&text);
	scene_free(s);
	free(s);
	return 0;
}
