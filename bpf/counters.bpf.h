/* SPDX-License-Identifier: GPL-2.0-only */
/* The per-cgroup maps, the per-socket storage and the helpers every program
 * uses to find a socket's cgroup and its values. Included by each .bpf.c;
 * the maps and globals are weak so the static linker merges them into one
 * each. */
#ifndef COUNTERS_BPF_H
#define COUNTERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "cgroup_tcp.h"

#define IPPROTO_TCP 6

/* Where each tracked cgroup's values are: cgroup id -> slot, the index of
 * its values in the arrays below. The one source of truth: programs reach
 * it through the per-CPU cache further down; user space reads it to know
 * whose values each slot holds, and frees the entries of removed cgroups. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, __u32);
} ctcp_slots SEC(".maps") __weak;

/* Slots ready for a new cgroup: user space fills it with every slot at
 * start, the lowest on top, and puts back the slots it frees (values
 * zeroed). A stack, so that a freed slot is taken before a never used one.
 * Taking a slot is one pop: no atomic fetch-add, which kernels before 5.12
 * lack. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(value, __u32);
} ctcp_free_slots SEC(".maps") __weak;

/* Per CPU and direct-mapped: a cgroup's slot without a hash lookup. Per
 * CPU so that an entry is only ever written by its own CPU, in an order
 * that a program interrupting the write on that CPU cannot misread. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTCP_SLOT_CACHE);
	__type(key, __u32);
	__type(value, struct ctcp_slot_cached);
} ctcp_slot_cache SEC(".maps") __weak;

/* Per CPU: a sequence count of the writes of cache entries, odd while one
 * is under way. A program that interrupts a write (or runs while it is
 * preempted) on that CPU writes no entry, since its stores could mix with
 * the other's; a reader takes an entry only if no write began or ended
 * while it read (slot_of). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ctcp_cache_seq SEC(".maps") __weak;

/* Lifecycle counters, gauges and their histograms, by slot: one shared copy
 * per cgroup, changed with atomic adds. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, struct ctcp_conn);
} ctcp_conn SEC(".maps") __weak;

/* Per-call I/O sizes, by slot: the hottest updates, so per CPU and
 * lock-free, for the first ctcp_io_percpu_slots slots (--cgroup.max-per-cpu)
 * ... A new cgroup takes a freed slot before a never used one, so the slots
 * in use stay below the most cgroups ever tracked at once. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, struct ctcp_io);
} ctcp_io SEC(".maps") __weak;

/* ... and shared, with atomic adds, for the others: memory per CPU stays
 * bounded whatever --cgroup.max. Its first ctcp_io_percpu_slots entries are
 * unused. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, struct ctcp_io);
} ctcp_io_shared SEC(".maps") __weak;

/* Smoothed RTT samples, a few per connection, by slot: shared, atomic
 * adds. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, struct ctcp_hist);
} ctcp_rtt SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctcp_stats);
} ctcp_stats SEC(".maps") __weak;

/* Per-socket state: the socket table (see struct ctcp_sock). Preallocated,
 * so following a new socket costs no allocation; the kernel's own socket
 * storage allocates at every socket's first use, which cost more than all
 * the rest of the state-change program. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTCP_MAX_SOCKETS / CTCP_SOCKET_WAYS);
	__type(key, __u32);
	__type(value, struct ctcp_sock_bucket);
} ctcp_sockets SEC(".maps") __weak;

/* Slots in the arrays (--cgroup.max plus the two special keys), set at load
 * time. */
const volatile __u32 ctcp_nslots __weak = CTCP_MAX_CGROUPS;
/* Buckets of ctcp_sockets less one (a power of two less one), set at load
 * time. */
const volatile __u32 ctcp_socket_bucket_mask __weak = CTCP_MAX_SOCKETS / CTCP_SOCKET_WAYS - 1;
/* Entries of ctcp_io, set at load time. */
const volatile __u32 ctcp_io_percpu_slots __weak = CTCP_MAX_CGROUPS;
/* Bumped by user space whenever it frees slots, which invalidates every
 * cache entry. Never 0, the epoch of an empty entry. */
__u32 ctcp_slot_epoch __weak = 1;

/* The kernel's HZ, jiffies per second, measured by user space at load time:
 * the kernel's config file, which says it, is often not installed. */
const volatile __u32 ctcp_hz __weak = 0;

#define READ_ONCE_U32(x)     (*(volatile __u32 *)&(x))
#define READ_ONCE_U64(x)     (*(volatile __u64 *)&(x))
#define WRITE_ONCE_U64(x, v) (*(volatile __u64 *)&(x) = (v))

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

/* Atomic although per CPU: a program nesting on this CPU (softirq over
 * process context) may add to the same counter between a plain add's load
 * and store. */
static __always_inline void count_stat(__u32 field)
{
	__u32 key = 0;
	__u64 *stats = bpf_map_lookup_elem(&ctcp_stats, &key);

	if (stats && field < sizeof(struct ctcp_stats) / sizeof(__u64))
		__sync_fetch_and_add(&stats[field], 1);
}

/* A new cgroup's slot, entered in ctcp_slots unless another CPU entered
 * this cgroup first. False when every slot is taken. */
static __always_inline bool slot_claim(__u64 cgid, __u32 *out)
{
	__u32 slot, *found;

	if (bpf_map_pop_elem(&ctcp_free_slots, &slot) || slot >= ctcp_nslots)
		return false;
	if (bpf_map_update_elem(&ctcp_slots, &cgid, &slot, BPF_NOEXIST) == 0) {
		*out = slot;
		return true;
	}
	bpf_map_push_elem(&ctcp_free_slots, &slot, 0);
	found = bpf_map_lookup_elem(&ctcp_slots, &cgid);
	if (!found)
		return false;
	*out = *found;
	return true;
}

/* Fills a cache entry between two steps of this CPU's sequence count, so
 * that a reader interrupted by it (or interrupting it) sees the count move
 * and does not use what it read. */
static __always_inline void slot_remember(struct ctcp_slot_cached *cached, __u64 cgid, __u32 slot,
					  __u32 epoch)
{
	__u32 zero = 0, *seq = bpf_map_lookup_elem(&ctcp_cache_seq, &zero);

	if (!seq || (*seq & 1))
		return;
	*seq += 1;
	barrier();
	cached->epoch = 0;
	cached->cgroup_id = cgid;
	cached->slot = slot;
	cached->epoch = epoch;
	barrier();
	*seq += 1;
}

/* The cache missed: ask ctcp_slots, or claim a slot for a new cgroup, and
 * remember the answer. Not the overflow: while the table is full every
 * event asks again, so each is counted as an overflow event, and a slot
 * freed meanwhile is taken. The epoch is read before ctcp_slots, so that an
 * answer older than user space's latest free is never valid. */
static __noinline __u32 slot_lookup(__u64 cgid, struct ctcp_slot_cached *cached)
{
	__u32 epoch = READ_ONCE_U32(ctcp_slot_epoch);
	__u32 *found = bpf_map_lookup_elem(&ctcp_slots, &cgid);
	__u32 slot;

	if (found) {
		slot = *found;
	} else if (!slot_claim(cgid, &slot)) {
		count_stat(offsetof(struct ctcp_stats, map_full) / sizeof(__u64));
		return CTCP_OVERFLOW_SLOT;
	}
	if (cached)
		slot_remember(cached, cgid, slot, epoch);
	return slot;
}

/* Fibonacci hashing spreads the ids, which are mostly consecutive. */
static __always_inline __u32 slot_cache_index(__u64 cgid)
{
	return (__u32)((cgid * 0x9e3779b97f4a7c15ULL) >> (64 - CTCP_SLOT_CACHE_BITS));
}

/* The slot of a cgroup's values; CTCP_OVERFLOW_SLOT when there is no room
 * for one more cgroup, so no event is lost. On the hot path: two inlined
 * array lookups.
 *
 * The entry's id, epoch and slot are three loads. A program nesting on
 * this CPU between them (softirq over process context) that misses at the
 * same index rewrites the entry, and the reader would pair the id it read
 * first with another cgroup's slot; the writer restores the same epoch, so
 * the epoch cannot tell. The sequence count can: every write moves it by
 * two, a nested program runs to its end before the interrupted one goes
 * on, and loads on one CPU see that CPU's own stores in program order, so
 * a count equal before and after the three loads (compiler barriers keep
 * them between) means no write touched the entry in between. An odd count
 * means this program interrupted a write: it asks ctcp_slots. */
static __always_inline __u32 slot_of(__u64 cgid)
{
	__u32 i = slot_cache_index(cgid), zero = 0, before, slot;
	struct ctcp_slot_cached *cached = bpf_map_lookup_elem(&ctcp_slot_cache, &i);
	__u32 *seq = bpf_map_lookup_elem(&ctcp_cache_seq, &zero);

	if (cached && seq) {
		before = READ_ONCE_U32(*seq);
		barrier();
		if (!(before & 1) && cached->cgroup_id == cgid &&
		    cached->epoch == READ_ONCE_U32(ctcp_slot_epoch)) {
			slot = cached->slot;
			barrier();
			if (READ_ONCE_U32(*seq) == before)
				return slot;
		}
	}
	return slot_lookup(cgid, cached);
}

static __always_inline struct ctcp_conn *conn_at(__u32 slot)
{
	return bpf_map_lookup_elem(&ctcp_conn, &slot);
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

/* Microseconds as bucket value in units of 2^-shift s, rounded up: then it
 * is at most 2^i exactly when the time is at most 2^i units, and the log2
 * slots are exact bounds in seconds. */
static __always_inline __u64 time_units(__u64 us, __u32 shift)
{
	return ((us << shift) + 999999) / 1000000;
}

/* One smoothed RTT sample of a full TCP socket, under the slot of its
 * cgroup. */
static __always_inline void rtt_add(__u32 slot, const struct tcp_sock *tp)
{
	__u32 srtt_us = tp->srtt_us >> 3;
	struct ctcp_hist *h;

	if (!srtt_us)
		return;
	h = bpf_map_lookup_elem(&ctcp_rtt, &slot);
	if (h)
		hist_add_atomic(h, time_units(srtt_us, CTCP_TIME_SHIFT), srtt_us);
}

#endif /* COUNTERS_BPF_H */
