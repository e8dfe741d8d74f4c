/* SPDX-License-Identifier: GPL-2.0-only */
/* The user side of the slot allocator (the programs' side is slot_claim
 * and the per-CPU cache in bpf/counters.bpf.h): gives the special keys
 * their slots before any program runs, takes slots away from freed cgroups,
 * invalidates the programs' caches of them, and zeroes and hands them back
 * to the programs once none can still be writing to them. */
#ifndef SLOTS_H
#define SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "idmap.h"
#include "value_maps.h"

/* A freed slot is checked for reuse once it drained this long (after a
 * wait for the programs that may still hold it, slots.c): the delay only
 * batches the checks. The environment variable CTCP_SLOT_REUSE_MS sets it
 * (tests, docs/testing.md). */
#define SLOTS_REUSE_NS 1000000000LL

struct slots {
	struct kernel_maps maps;
	long long reuse_ns;
	int barrier_fd, inner_fd; /* see wait_for_programs() in slots.c */
	void *zeros;		  /* the largest value of any value map */
	void *conn;		  /* one value of the ctcp_conn map, read back */
	/* Draining: slots taken from their cgroups and not yet reused, with
	 * the cgroup each still holds values of, and when the programs'
	 * caches lost them (0: not yet). */
	struct slot_owner *freed;
	long long *freed_ns; /* CLOCK_MONOTONIC */
	__u32 *ready;	     /* room for the slots one recycling gives back */
	size_t nfreed, cap;
	bool stale_caches;    /* slots were freed since the epoch was bumped */
	struct idmap blocked; /* cgroups whose draining slots wait, while recycling */
};

/* Before any program runs: the unattributed and overflow keys own their
 * slots (overflow is where events go when no slot is left, so it can never
 * be the claim that fails), and every other slot is on the free stack. 0 or
 * a negative errno. */
int slots_seed(const struct kernel_maps *maps);

int slots_init(struct slots *s, const struct kernel_maps *maps);
void slots_free(struct slots *s);
/* Takes a cgroup's slot away from it: later events of the cgroup (a socket
 * that outlived it) claim a new one. The slot drains: while sockets are
 * counted in it (ones that entered it as it was freed), the collector shows
 * its values under the cgroup. */
void slots_free_cgroup(struct slots *s, uint64_t id);
/* Whether a socket is counted in the slot's gauge (or the slot could not be
 * read); buf holds one value of the ctcp_conn map. */
bool slots_counts_sockets(const struct kernel_maps *maps, __u32 slot, void *buf);
/* After a round of frees: makes the programs' cached slots invalid if any
 * was freed, and gives back the slots freed SLOTS_REUSE_NS ago or more
 * that no socket is counted in, of cgroups that own no slot again and
 * have no other slot still draining. */
void slots_recycle(struct slots *s);

#endif /* SLOTS_H */
