/* SPDX-License-Identifier: GPL-2.0-only */
/* The socket table (struct ctcp_sock): finding a socket's entry, in either
 * variant. state.bpf.c takes and gives back entries; the other programs
 * only read the entry of a socket they see (its peer group). */
#ifndef SOCKETS_BPF_H
#define SOCKETS_BPF_H

#include "counters.bpf.h"

/* The socket table of kernels without BPF compare-and-swap (before 5.12):
 * a preallocated hash keyed by the socket's id, whose insert with
 * BPF_NOEXIST gives an entry to one program only. About three times the
 * memory of ctcp_sockets and a hash lookup per state change; the loader
 * creates only one of the two. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTCP_MAX_SOCKETS);
	__type(key, __u64);
	__type(value, struct ctcp_sock);
} ctcp_sockets_hash SEC(".maps") __weak;

/* Set at load time: the socket table is ctcp_sockets_hash (kernels
 * without compare-and-swap). The other table is made with one entry. */
const volatile bool ctcp_socket_hashed __weak = false;

/* A number that names the socket while it lives: its address, as an
 * offset from a fixed one (the variant's socket table), because the
 * verifier lets a pointer become a number only as the difference of two
 * pointers. Never 0. */
static __always_inline __u64 sock_id(const void *sk, const bool hashed)
{
	return (__u64)((long)sk - (hashed ? (long)&ctcp_sockets_hash : (long)&ctcp_sockets));
}

/* The socket's bucket in the socket table: Fibonacci hashing of its address
 * (slab objects are aligned, so the low bits say little). */
static __always_inline struct ctcp_sock_bucket *bucket_of(__u64 id)
{
	__u32 i = (__u32)((id * 0x9e3779b97f4a7c15ULL) >> 32) & ctcp_socket_bucket_mask;

	return bpf_map_lookup_elem(&ctcp_sockets, &i);
}

/* A way index the verifier can see is in bounds (see state_slot). */
static __always_inline __u32 way_at(int w)
{
	barrier_var(w);
	return w & (CTCP_SOCKET_WAYS - 1);
}

/* The way holding the socket's entry, or -1; *free is a free way seen on
 * the way, or -1. */
static __always_inline int sock_find(struct ctcp_sock_bucket *b, __u64 id, int *free)
{
	*free = -1;
#pragma unroll
	for (int w = 0; w < CTCP_SOCKET_WAYS; w++) {
		__u64 held = READ_ONCE_U64(b->id[w]);

		if (held == id)
			return w;
		if (!held && *free < 0)
			*free = w;
	}
	return -1;
}

/* A socket's entry: *w is its way in bucket *b (table), or 0 if the hash
 * holds it; -1 and NULL when it has none. *free is for sock_claim. */
static __always_inline struct ctcp_sock *sock_entry(__u64 id, bool hashed,
						    struct ctcp_sock_bucket **b, int *w, int *free)
{
	struct ctcp_sock *st;

	if (hashed) {
		st = bpf_map_lookup_elem(&ctcp_sockets_hash, &id);
		*w = st ? 0 : -1;
		return st;
	}
	*w = sock_find(*b, id, free);
	return *w >= 0 ? &(*b)->way[way_at(*w)] : NULL;
}

/* The entry of a socket, for programs that only read it; NULL when the
 * table has none. */
static __always_inline struct ctcp_sock *sock_lookup(const void *sk)
{
	const bool hashed = ctcp_socket_hashed;
	__u64 id = sock_id(sk, hashed);
	struct ctcp_sock_bucket *b = NULL;
	int w, free;

	if (!hashed) {
		b = bucket_of(id);
		if (!b)
			return NULL;
	}
	return sock_entry(id, hashed, &b, &w, &free);
}

#endif /* SOCKETS_BPF_H */
