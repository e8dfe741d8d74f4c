/* SPDX-License-Identifier: GPL-2.0-only */
/* Sample values as text, in the canonical form of Prometheus clients. The
 * format_* functions write into a caller's array of NUMBER_MAX bytes (no
 * terminating NUL) and return the length, so the renderer can put them
 * straight into space it reserved. */
#ifndef NUMBER_H
#define NUMBER_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "negotiate.h"

/* "-1.2345678901234567e-308" and ".0" fit with room to spare. */
#define NUMBER_MAX 32

size_t format_u64(char *out, uint64_t v);
size_t format_i64(char *out, int64_t v);
/* v in Go's strconv.FormatFloat(v, 'g', -1, 64) form: the fewest digits
 * that read back as v ("0.001", "8e-06", "1.048576e+06"); whole numbers
 * get ".0" in OpenMetrics. */
size_t format_double(char *out, double v, enum exposition_format format);
/* The same text for the double nearest to units / 10^decimals, made from
 * the integer's digits (no printf); decimals at most 15. */
size_t format_decimal(char *out, uint64_t units, unsigned int decimals,
		      enum exposition_format format);
/* The power of ten d is (1, 10, ..., 1e15), or -1 when it is none. */
int decimals_of(double d);

void buf_double(struct buf *b, double v, enum exposition_format format);

#endif /* NUMBER_H */
