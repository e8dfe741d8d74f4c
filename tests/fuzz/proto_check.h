/* SPDX-License-Identifier: GPL-2.0-only */
/* Reads a protobuf rendering back with protobuf-c against the text
 * rendering of the same scene, family by family, and the native buckets
 * against the scene's slot counts. Built without coverage instrumentation:
 * it is the judge, not the judged. */
#ifndef FUZZ_PROTO_CHECK_H
#define FUZZ_PROTO_CHECK_H

#include <stddef.h>
#include "render_check.h"

/* body: the protobuf rendering; text: the text format 0.0.4 rendering of
 * the same scene, already checked by render_check(). */
void proto_check(const char *body, size_t len, const char *text, const struct scene *s);

#endif /* FUZZ_PROTO_CHECK_H */
