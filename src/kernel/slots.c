/* SPDX-License-Identifier: GPL-2.0-only */
/* Slots: seeded, freed, recycled. */
#include "slots.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cgroup_tcp.h"
#include "peer_maps.h"

int slots_seed(const struct kernel_maps *maps)
{
	__u64 keys[] = {CTCP_UNATTRIBUTED_ID, CTCP_OVERFLOW_ID};
	__u32 slots[] = {CTCP_UNATTRIBUTED_SLOT, CTCP_OVERFLOW_SLOT};

	for (size_t k = 0; k < 2; k++)
		if (bpf_map_update_elem(maps->slots_fd, &keys[k], &slots[k], BPF_ANY))
			return -errno;
	/* Every other slot is free, the lowest on top of the stack: a program
	 * takes a slot with one pop, which needs no BPF atomics. */
	for (__u32 slot = maps->nslots; slot-- > CTCP_FIRST_FREE_SLOT;)
		if (bpf_map_update_elem(maps->free_slots_fd, NULL, &slot, BPF_ANY))
			return -errno;
	return 0;
}

int slots_init(struct slots *s, const struct kernel_maps *maps)
{
	int ncpus = libbpf_num_possible_cpus();

	memset(s, 0, sizeof(*s));
	s->maps = *maps;
	if (ncpus <= 0)
		return -EINVAL;
	s->zeros = calloc(1, value_maps_largest(ncpus));
	return s->zeros ? 0 : -ENOMEM;
}

void slots_free(struct slots *s)
{
	free(s->freed);
	free(s->ready);
	free(s->zeros);
	memset(s, 0, sizeof(*s));
}

static long long monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void slots_free_cgroup(struct slots *s, uint64_t id)
{
	__u64 key = id;
	__u32 slot;

	if (bpf_map_lookup_elem(s->maps.slots_fd, &key, &slot) ||
	    bpf_map_delete_elem(s->maps.slots_fd, &key))
		return;
	s->stale_caches = true;
	if (s->nfreed == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct freed_slot *p = realloc(s->freed, cap * sizeof(*p));
		__u32 *ready = realloc(s->ready, cap * sizeof(*ready));

		if (p)
			s->freed = p;
		if (ready)
			s->ready = ready;
		if (!p || !ready)
			return; /* the slot is lost until restart, nothing else */
		s->cap = cap;
	}
	s->freed[s->nfreed++] = (struct freed_slot){.slot = slot, .freed_ns = monotonic_ns()};
}

/* Every program's cached slots become invalid: none still finds a freed
 * slot through its cache. Never 0, which marks an entry being written. */
static void bump_epoch(struct slots *s)
{
	__u32 next = __atomic_load_n(s->maps.slot_epoch, __ATOMIC_RELAXED) + 1;

	__atomic_store_n(s->maps.slot_epoch, next ? next : 1, __ATOMIC_SEQ_CST);
	s->stale_caches = false;
}

/* Zeroes a slot in every value map that holds it; false if one failed. */
static bool zero(struct slots *s, __u32 slot)
{
	bool zeroed = true;

	for (int m = 0; m < VALUE_MAPS; m++)
		if (slot >= s->maps.values_slots[m].first && slot < s->maps.values_slots[m].end &&
		    bpf_map_update_elem(s->maps.values_fd[m], &slot, s->zeros, BPF_ANY))
			zeroed = false;
	return zeroed;
}

void slots_recycle(struct slots *s)
{
	long long now = monotonic_ns();
	size_t kept = 0;

	size_t nready = 0;

	if (s->stale_caches)
		bump_epoch(s);
	for (size_t i = 0; i < s->nfreed; i++) {
		struct freed_slot f = s->freed[i];

		if (now - f.freed_ns < SLOTS_REUSE_NS) {
			s->freed[kept++] = f;
			continue;
		}
		/* A slot that could not be zeroed is never reused. */
		if (zero(s, f.slot))
			s->ready[nready++] = f.slot;
	}
	s->nfreed = kept;
	/* Their pairs go too, before another cgroup can take them. */
	slot_pairs_free(&s->maps, s->ready, nready);
	for (size_t i = 0; i < nready; i++)
		bpf_map_update_elem(s->maps.free_slots_fd, NULL, &s->ready[i], BPF_ANY);
}
