/* The per-cgroup maps, the per-socket storage and the helpers every program
 * uses to find a socket's cgroup and its values. Included by each .bpf.c;
 * the maps are weak so the static linker merges them into one each. */
#ifndef COUNTERS_BPF_H
#define COUNTERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "cgroup_tcp.h"

#define IPPROTO_TCP 6
#define E2BIG	    7

/* Lifecycle counters, gauges and their histograms: one shared copy per
 * cgroup, changed with atomic adds. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct ctcp_conn);
} ctcp_conn SEC(".maps") __weak;

/* Per-call I/O sizes: the hottest updates, so per CPU and lock-free. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct ctcp_io);
} ctcp_io SEC(".maps") __weak;

/* Smoothed RTT samples, a few per connection: shared, atomic adds. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct ctcp_hist);
} ctcp_rtt SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctcp_stats);
} ctcp_stats SEC(".maps") __weak;

/* Per-socket state, freed by the kernel with the socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ctcp_sock);
} ctcp_socks SEC(".maps") __weak;

/* Zeros to create any value from. */
static const char zero_value[sizeof(struct ctcp_conn)];
_Static_assert(sizeof(struct ctcp_conn) >= sizeof(struct ctcp_io), "zero_value too small");

static __always_inline bool is_tcp(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_TCP;
}

/* The cgroup2 id of the socket's owner. It is stored in the socket, so it is
 * right in softirq context too, where the current task is unrelated. */
static __always_inline __u64 cgroup_of(const struct sock *sk)
{
	return sk->sk_cgrp_data.cgroup->kn->id;
}

static __always_inline void count_stat(__u32 field)
{
	__u32 key = 0;
	__u64 *stats = bpf_map_lookup_elem(&ctcp_stats, &key);

	if (stats && field < sizeof(struct ctcp_stats) / sizeof(__u64))
		stats[field]++;
}

/* Once per cgroup and map: make room for a new cgroup, or fall back to the
 * overflow key (made by user space before any program runs) when the map is
 * full, so no event is lost. *cgid becomes the key used. */
static __always_inline void *value_at(void *map, __u64 *cgid)
{
	void *v = bpf_map_lookup_elem(map, cgid);

	if (v)
		return v;
	if (bpf_map_update_elem(map, cgid, zero_value, BPF_NOEXIST) == -E2BIG) {
		count_stat(offsetof(struct ctcp_stats, map_full) / sizeof(__u64));
		*cgid = CTCP_OVERFLOW_ID;
	}
	return bpf_map_lookup_elem(map, cgid);
}

static __always_inline void *value_of(void *map, __u64 cgid)
{
	return value_at(map, &cgid);
}

/* Slot of v in a log2 histogram: the number of bits of v - 1, so that slot i
 * holds 2^(i-1) < v <= 2^i. A fixed ladder of shifts, no loop. */
static __always_inline __u32 hist_slot(__u64 v)
{
	__u32 bits = 0;

	if (v <= 1)
		return 0;
	v--;
	if (v >> 32) {
		v >>= 32;
		bits += 32;
	}
	if (v >> 16) {
		v >>= 16;
		bits += 16;
	}
	if (v >> 8) {
		v >>= 8;
		bits += 8;
	}
	if (v >> 4) {
		v >>= 4;
		bits += 4;
	}
	if (v >> 2) {
		v >>= 2;
		bits += 2;
	}
	if (v >> 1) {
		v >>= 1;
		bits += 1;
	}
	bits += (__u32)v;
	return bits < CTCP_HIST_SLOTS - 1 ? bits : CTCP_HIST_SLOTS - 1;
}

/* For per-CPU histograms: plain adds. */
static __always_inline void hist_add(struct ctcp_hist *h, __u64 bucket_value, __u64 sum_value)
{
	h->slots[hist_slot(bucket_value)]++;
	h->sum += sum_value;
}

/* For shared histograms: atomic adds. */
static __always_inline void hist_add_atomic(struct ctcp_hist *h, __u64 bucket_value,
					    __u64 sum_value)
{
	__sync_fetch_and_add(&h->slots[hist_slot(bucket_value)], 1);
	__sync_fetch_and_add(&h->sum, sum_value);
}

static __always_inline void rtt_sample(const struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	struct ctcp_hist *h;
	__u32 srtt_us;

	if (!tp)
		return;
	srtt_us = tp->srtt_us >> 3;
	if (!srtt_us)
		return;
	h = value_of(&ctcp_rtt, cgroup_of(sk));
	if (h)
		hist_add_atomic(h, srtt_us, srtt_us);
}

#endif /* COUNTERS_BPF_H */
