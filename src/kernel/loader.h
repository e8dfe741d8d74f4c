/* SPDX-License-Identifier: GPL-2.0-only */
/* Loads the BPF programs into the running kernel and attaches them: checks
 * privileges and BTF first, skips tracepoints the kernel lacks, and explains
 * failures in one line. */
#ifndef LOADER_H
#define LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include "variants.h"

struct cgroup_tcp_bpf;
struct bpf_link;
struct bpf_program;
struct kernel_maps;
struct ctcp_peer_key;
struct ctcp_peer_rule;

#define LOADER_MAX_PROGS 16

struct loader {
	struct cgroup_tcp_bpf *skel;
	struct variants variants;
	struct bpf_link *links[LOADER_MAX_PROGS];
	int nlinks;
};

/* How much the kernel side holds: cgroups, of which per_cpu get per-CPU
 * I/O counters, and sockets (a power of two). */
struct loader_capacity {
	unsigned int cgroups;
	unsigned int per_cpu;
	unsigned int sockets;
	/* (cgroup, peer group) pairs, 0 for none, and the peer trie's
	 * entries (src/peers/groups.h). */
	unsigned int pairs;
	const struct ctcp_peer_key *peer_keys;
	const struct ctcp_peer_rule *peer_rules;
	size_t npeer;
	/* --process.attribution, and the names kept apart per cgroup. */
	bool processes;
	unsigned int comms;
};

/* 0 on success; otherwise the reason was logged and everything undone. */
int loader_start(struct loader *l, const struct loader_capacity *cap);
/* Detaches and unloads everything; safe on a loader that failed to start. */
void loader_stop(struct loader *l);

struct program_info {
	const char *name;
	const char *tracepoint;
	bool attached;
	unsigned long long run_time_ns;
	unsigned long long run_count;
	/* Runs the kernel skipped: the program was running on that CPU. */
	unsigned long long missed_runs;
};

/* The tracepoint programs and their kernel statistics; returns how many. */
int loader_programs(const struct loader *l, struct program_info *out, int max);
/* The capacity of a value map (enum value_map). */
unsigned int loader_map_capacity(const struct loader *l, int index);

/* Entries ctcp_pairs can hold, the overflow pair's included. */
unsigned int loader_pairs_capacity(const struct loader *l);
/* The per-cgroup maps, for the collector and the lifecycle. */
void loader_maps(const struct loader *l, struct kernel_maps *out);
int loader_removed_fd(const struct loader *l);
/* Paths of cgroups made since the start, by id (bpf/lifecycle.bpf.c). */
int loader_created_fd(const struct loader *l);

#endif /* LOADER_H */
