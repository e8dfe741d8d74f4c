/* SPDX-License-Identifier: GPL-2.0-only */
/* Packed values: a struct of n __u64 words stored as a bitmap of its
 * nonzero words followed by those words. A cgroup leaves most histogram
 * slots at zero, so a scrape's snapshot of thousands of cgroups takes a
 * fraction of the dense size (1.7 KiB per cgroup). */
#ifndef PACKED_H
#define PACKED_H

#include <stddef.h>
#include <linux/types.h>
#include "buf.h"

/* Appends words[0..n) packed to b (whose length stays a multiple of 8);
 * returns where it starts in b. On failure b->failed is set. */
size_t packed_append(struct buf *b, const __u64 *words, size_t n);
/* Adds words [first, first + count) of a packed struct of n words to
 * out[0..count). */
void packed_add(const __u64 *packed, size_t n, size_t first, size_t count, __u64 *out);

#endif /* PACKED_H */
