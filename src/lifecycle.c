/* Removed cgroups: shown, then freed. */
#include "lifecycle.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "cgroup_tcp.h"

int lifecycle_init(struct lifecycle *lc, int removed_fd, const int map_fds[COLLECT_MAPS])
{
	memset(lc, 0, sizeof(*lc));
	lc->removed_fd = removed_fd;
	memcpy(lc->map_fds, map_fds, sizeof(lc->map_fds));
	return idmap_init(&lc->recent_set) ? -ENOMEM : 0;
}

void lifecycle_free(struct lifecycle *lc)
{
	idmap_free(&lc->recent_set);
	free(lc->pending);
	memset(lc, 0, sizeof(*lc));
}

static bool queued(const struct lifecycle *lc, uint64_t id)
{
	for (size_t i = 0; i < lc->n; i++)
		if (lc->pending[i].id == id)
			return true;
	return false;
}

static int queue(struct lifecycle *lc, uint64_t id)
{
	if (lc->n == lc->cap) {
		size_t cap = lc->cap ? lc->cap * 2 : 64;
		struct removal *p = realloc(lc->pending, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		lc->pending = p;
		lc->cap = cap;
	}
	lc->pending[lc->n++] = (struct removal){.id = id, .seen = lc->scrape};
	return 0;
}

void lifecycle_before_scrape(struct lifecycle *lc, struct cgroups *cg)
{
	struct ctcp_removed removed;
	/* No cgroup has id 0, so the walk from it starts at the first entry
	 * (and the key pointer is never NULL, which valgrind cannot model). */
	__u64 key = 0, next;

	lc->scrape++;
	while (bpf_map_get_next_key(lc->removed_fd, &key, &next) == 0) {
		key = next;
		if (queued(lc, key) || bpf_map_lookup_elem(lc->removed_fd, &key, &removed))
			continue;
		removed.path[sizeof(removed.path) - 1] = '\0';
		/* The kernel's path is the name even if we never resolved it. */
		cgroups_name(cg, key, removed.path[0] == '/' ? removed.path : "");
		queue(lc, key);
	}
}

void lifecycle_check_returns(struct lifecycle *lc, const struct collector *c)
{
	if (!lc->recent_set.used)
		return;
	for (size_t i = 0; i < c->nsamples; i++) {
		uint64_t id = c->samples[i].id;

		if (idmap_find(&lc->recent_set, id)->id && !queued(lc, id))
			queue(lc, id);
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

		if (lc->pending[i].seen == lc->scrape) {
			lc->pending[kept++] = lc->pending[i];
			continue;
		}
		for (int m = 0; m < COLLECT_MAPS; m++)
			bpf_map_delete_elem(lc->map_fds[m], &id);
		bpf_map_delete_elem(lc->removed_fd, &id);
		remember(lc, cg, id);
		lc->freed++;
	}
	lc->n = kept;
}
