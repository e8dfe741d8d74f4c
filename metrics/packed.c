/* SPDX-License-Identifier: GPL-2.0-only */
/* Packed values: bitmap of the nonzero words, then the words. */
#include "packed.h"

#include <string.h>

#define BITMAP_WORDS(n) (((n) + 63) / 64)

size_t packed_append(struct buf *b, const __u64 *words, size_t n)
{
	size_t at = b->len, map_words = BITMAP_WORDS(n);
	__u64 *out;
	size_t used = map_words;

	if (!buf_reserve(b, (map_words + n) * sizeof(__u64)))
		return at;
	out = (__u64 *)(void *)(b->data + at);
	memset(out, 0, map_words * sizeof(__u64));
	for (size_t i = 0; i < n; i++) {
		if (!words[i])
			continue;
		out[i / 64] |= 1ULL << (i % 64);
		out[used++] = words[i];
	}
	b->len += used * sizeof(__u64);
	return at;
}

void packed_add(const __u64 *packed, size_t n, size_t first, size_t count, __u64 *out)
{
	const __u64 *values = packed + BITMAP_WORDS(n);
	size_t rank = 0;

	/* Words stored before `first` */
	for (size_t w = 0; w < first / 64; w++)
		rank += (size_t)__builtin_popcountll(packed[w]);
	if (first % 64)
		rank +=
		    (size_t)__builtin_popcountll(packed[first / 64] & ((1ULL << (first % 64)) - 1));
	for (size_t w = first / 64; w < BITMAP_WORDS(first + count); w++) {
		__u64 bits = packed[w];

		if (w == first / 64)
			bits &= ~0ULL << (first % 64);
		while (bits) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);

			if (i >= first + count)
				return;
			out[i - first] += values[rank++];
			bits &= bits - 1;
		}
	}
}
