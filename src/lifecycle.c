/* Removed cgroups: shown, then freed. */
#include "lifecycle.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>
#include "cgroup_tcp.h"

int lifecycle_init(struct lifecycle *lc, int removed_fd, const struct kernel_maps *maps)
{
	int ncpus = libbpf_num_possible_cpus();

	memset(lc, 0, sizeof(*lc));
	lc->removed_fd = removed_fd;
	lc->maps = *maps;
	if (ncpus <= 0)
		return -EINVAL;
	/* The largest value: conn, once, or io, once per CPU. */
	lc->zeros = calloc((size_t)ncpus, sizeof(struct ctcp_conn) > sizeof(struct ctcp_io)
					      ? sizeof(struct ctcp_conn)
					      : sizeof(struct ctcp_io));
	if (!lc->zeros || idmap_init(&lc->recent_set) || idmap_init(&lc->pending_set))
		return -ENOMEM;
	return 0;
}

void lifecycle_free(struct lifecycle *lc)
{
	idmap_free(&lc->recent_set);
	idmap_free(&lc->pending_set);
	free(lc->pending);
	free(lc->freed_slots);
	free(lc->zeros);
	memset(lc, 0, sizeof(*lc));
}

static long long monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool queued(const struct lifecycle *lc, uint64_t id)
{
	return idmap_find(&lc->pending_set, id)->id != 0;
}

/* Queues id: shown through scrape last + 1, freed at its end. */
static int queue(struct lifecycle *lc, uint64_t id, unsigned int last)
{
	if (lc->n == lc->cap) {
		size_t cap = lc->cap ? lc->cap * 2 : 64;
		struct removal *p = realloc(lc->pending, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		lc->pending = p;
		lc->cap = cap;
	}
	if (idmap_reserve(&lc->pending_set))
		return -ENOMEM;
	idmap_find(&lc->pending_set, id)->id = id;
	lc->pending[lc->n++] = (struct removal){.id = id, .seen = last};
	return 0;
}

/* Names a removed cgroup with the path the kernel reported and queues it;
 * false when the kernel reported no removal of id. */
static bool take_removal(struct lifecycle *lc, struct cgroups *cg, uint64_t id, unsigned int last)
{
	struct ctcp_removed removed;
	__u64 key = id;

	if (bpf_map_lookup_elem(lc->removed_fd, &key, &removed))
		return false;
	removed.path[sizeof(removed.path) - 1] = '\0';
	/* The kernel's path is the name even if we never resolved it. */
	cgroups_name(cg, id, removed.path[0] == '/' ? removed.path : "");
	queue(lc, id, last);
	return true;
}

void lifecycle_before_scrape(struct lifecycle *lc, struct cgroups *cg)
{
	/* No cgroup has id 0, so the walk from it starts at the first entry
	 * (and the key pointer is never NULL, which valgrind cannot model). */
	__u64 key = 0, next;

	lc->scrape++;
	while (bpf_map_get_next_key(lc->removed_fd, &key, &next) == 0) {
		key = next;
		if (!queued(lc, key))
			take_removal(lc, cg, key, lc->scrape);
	}
}

bool lifecycle_name_removed(struct lifecycle *lc, struct cgroups *cg, uint64_t id)
{
	/* This scrape read the maps before the removal, maybe before the last
	 * events: the next one is the first to show all of them. */
	return !queued(lc, id) && take_removal(lc, cg, id, lc->scrape + 1);
}

static bool has_sockets(const struct collector *c, size_t sample)
{
	struct cgroup_values v = {0};

	collector_values(c, sample, &v);
	for (int state = 0; state < CTCP_TCP_STATES; state++)
		if (v.conn.sockets[state])
			return true;
	return false;
}

void lifecycle_check_returns(struct lifecycle *lc, const struct collector *c)
{
	/* Freeing a cgroup whose sockets are still counted (one closing, one
	 * handed to another cgroup's process) would drop their +1, and their
	 * later -1 would show a negative gauge: it waits for them. */
	for (size_t i = 0; i < lc->n; i++) {
		const struct idmap_slot *slot = idmap_find(&c->index, lc->pending[i].id);

		if (slot->id && has_sockets(c, (size_t)slot->value - 1) &&
		    lc->pending[i].seen < lc->scrape)
			lc->pending[i].seen = lc->scrape;
	}
	if (!lc->recent_set.used)
		return;
	for (size_t i = 0; i < c->nsamples; i++) {
		uint64_t id = c->samples[i].id;

		if (idmap_find(&lc->recent_set, id)->id && !queued(lc, id))
			queue(lc, id, lc->scrape);
	}
}

/* Keeps a freed id's name for a while; forgets the oldest one. */
static void remember(struct lifecycle *lc, struct cgroups *cg, uint64_t id)
{
	uint64_t oldest = lc->recent[lc->recent_next];
	struct idmap_slot *slot;

	if (idmap_find(&lc->recent_set, id)->id)
		return;
	if (oldest) {
		cgroups_forget(cg, oldest);
		slot = idmap_find(&lc->recent_set, oldest);
		if (slot->id)
			idmap_remove(&lc->recent_set, slot);
	}
	lc->recent[lc->recent_next] = id;
	lc->recent_next = (lc->recent_next + 1) % LIFECYCLE_RECENT;
	if (idmap_reserve(&lc->recent_set) == 0)
		idmap_find(&lc->recent_set, id)->id = id;
}

/* Takes a cgroup's slot away from it: later events of the cgroup (a socket
 * that outlived it) claim a new one. True if it had one. */
static bool free_slot(struct lifecycle *lc, uint64_t id, long long now)
{
	__u32 slot;

	if (bpf_map_lookup_elem(lc->maps.slots_fd, &id, &slot) ||
	    bpf_map_delete_elem(lc->maps.slots_fd, &id))
		return false;
	if (lc->nfreed_slots == lc->freed_slots_cap) {
		size_t cap = lc->freed_slots_cap ? lc->freed_slots_cap * 2 : 64;
		struct freed_slot *p = realloc(lc->freed_slots, cap * sizeof(*p));

		if (!p)
			return true; /* the slot is lost until restart, nothing else */
		lc->freed_slots = p;
		lc->freed_slots_cap = cap;
	}
	lc->freed_slots[lc->nfreed_slots++] = (struct freed_slot){.slot = slot, .freed_ns = now};
	return true;
}

/* Every program's cached slots become invalid: none still finds a freed
 * slot through its cache. Never 0, which marks an entry being written. */
static void bump_epoch(struct lifecycle *lc)
{
	__u32 next = __atomic_load_n(lc->maps.slot_epoch, __ATOMIC_RELAXED) + 1;

	__atomic_store_n(lc->maps.slot_epoch, next ? next : 1, __ATOMIC_SEQ_CST);
}

/* Zeroes the slots freed long enough ago and gives them to the programs. */
static void reuse_slots(struct lifecycle *lc, long long now)
{
	size_t kept = 0;

	for (size_t i = 0; i < lc->nfreed_slots; i++) {
		struct freed_slot f = lc->freed_slots[i];
		bool zeroed = true;

		if (now - f.freed_ns < LIFECYCLE_SLOT_REUSE_NS) {
			lc->freed_slots[kept++] = f;
			continue;
		}
		for (int m = 0; m < COLLECT_MAPS; m++)
			if (f.slot >= lc->maps.values_slots[m].first &&
			    f.slot < lc->maps.values_slots[m].end &&
			    bpf_map_update_elem(lc->maps.values_fd[m], &f.slot, lc->zeros, BPF_ANY))
				zeroed = false;
		/* A slot that could not be zeroed is never reused. */
		if (zeroed)
			bpf_map_update_elem(lc->maps.free_slots_fd, NULL, &f.slot, BPF_ANY);
	}
	lc->nfreed_slots = kept;
}

void lifecycle_after_scrape(struct lifecycle *lc, struct cgroups *cg)
{
	long long now = monotonic_ns();
	bool freed = false;
	size_t kept = 0;

	for (size_t i = 0; i < lc->n; i++) {
		uint64_t id = lc->pending[i].id;

		if (lc->pending[i].seen >= lc->scrape) {
			lc->pending[kept++] = lc->pending[i];
			continue;
		}
		freed |= free_slot(lc, id, now);
		bpf_map_delete_elem(lc->removed_fd, &id);
		idmap_remove(&lc->pending_set, idmap_find(&lc->pending_set, id));
		remember(lc, cg, id);
		lc->freed++;
	}
	lc->n = kept;
	if (freed)
		bump_epoch(lc);
	reuse_slots(lc, now);
}
