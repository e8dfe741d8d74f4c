/* The per-cgroup counters map and the helpers every program uses to find a
 * socket's cgroup and its counters. Included by each .bpf.c; the maps are
 * weak so the static linker merges them into one. */
#ifndef COUNTERS_BPF_H
#define COUNTERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "cgroup_tcp.h"

#define IPPROTO_TCP 6
#define E2BIG	    7

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct ctcp_counters);
} ctcp_counters SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctcp_stats);
} ctcp_stats SEC(".maps") __weak;

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

/* Slow path, once per cgroup: make room for a new cgroup, or fall back to the
 * unattributed key when the map is full so no event is lost. */
static __noinline struct ctcp_counters *counters_insert(__u64 cgid)
{
	static const struct ctcp_counters zero;
	__u32 stats_key = 0;
	struct ctcp_stats *stats;
	long err;

	err = bpf_map_update_elem(&ctcp_counters, &cgid, &zero, BPF_NOEXIST);
	if (err == -E2BIG) {
		stats = bpf_map_lookup_elem(&ctcp_stats, &stats_key);
		if (stats)
			stats->map_full++;
		cgid = CTCP_UNATTRIBUTED_ID;
	}
	return bpf_map_lookup_elem(&ctcp_counters, &cgid);
}

/* Hot path: per-CPU values changed in place, no locks, no atomics. */
static __always_inline struct ctcp_counters *counters_of(__u64 cgid)
{
	struct ctcp_counters *c = bpf_map_lookup_elem(&ctcp_counters, &cgid);

	return c ? c : counters_insert(cgid);
}

#endif /* COUNTERS_BPF_H */
