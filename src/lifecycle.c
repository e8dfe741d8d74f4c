/* SPDX-License-Identifier: GPL-2.0-only */
/* Removed cgroups: shown, then freed. */
#include "lifecycle.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "cgroup_tcp.h"

int lifecycle_init(struct lifecycle *lc, int removed_fd, const struct kernel_maps *maps)
{
	int err;

	memset(lc, 0, sizeof(*lc));
	lc->removed_fd = removed_fd;
	err = slots_init(&lc->slots, maps);
	if (err)
		return err;
	if (idmap_init(&lc->recent_set) || idmap_init(&lc->pending_set))
		return -ENOMEM;
	return 0;
}

void lifecycle_free(struct lifecycle *lc)
{
	idmap_free(&lc->recent_set);
	idmap_free(&lc->pending_set);
	free(lc->pending);
	slots_free(&lc->slots);
	memset(lc, 0, sizeof(*lc));
}

static bool queued(const struct lifecycle *lc, uint64_t id)
{
	return idmap_find(&lc->pending_set, id)->id != 0;
}

static int queue_now(struct lifecycle *lc, uint64_t id, unsigned int last)
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

/* Queues id: shown through scrape last + 1, freed at its end. Without
 * memory it is counted and left unqueued: the next scrape meets it again
 * (its removal report stays in the kernel's map, a returned id stays in
 * the scrape) and queues it then. */
static int queue(struct lifecycle *lc, uint64_t id, unsigned int last)
{
	int err = queue_now(lc, id, last);

	if (err)
		lc->deferred++;
	return err;
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
	/* A freed cgroup shown only through its draining slots has not come
	 * back: it has no slot to free. */
	for (size_t i = 0; i < c->nsamples; i++) {
		uint64_t id = c->samples[i].id;

		if (c->samples[i].owned && idmap_find(&lc->recent_set, id)->id && !queued(lc, id))
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

void lifecycle_after_scrape(struct lifecycle *lc, struct cgroups *cg)
{
	size_t kept = 0;

	for (size_t i = 0; i < lc->n; i++) {
		uint64_t id = lc->pending[i].id;

		if (lc->pending[i].seen >= lc->scrape) {
			lc->pending[kept++] = lc->pending[i];
			continue;
		}
		slots_free_cgroup(&lc->slots, id);
		bpf_map_delete_elem(lc->removed_fd, &id);
		idmap_remove(&lc->pending_set, idmap_find(&lc->pending_set, id));
		remember(lc, cg, id);
		lc->freed++;
	}
	lc->n = kept;
	slots_recycle(&lc->slots);
}
