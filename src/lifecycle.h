/* SPDX-License-Identifier: GPL-2.0-only */
/* Removed cgroups: each is shown in the scrape that notices its removal and
 * in the next one (so events that came in between are shown too), and as
 * long as sockets of it are counted; then its slot (kernel/slots.h) and its
 * cached name are freed. */
#ifndef LIFECYCLE_H
#define LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cgroups/cgroups.h"
#include "kernel/collect.h"
#include "kernel/slots.h"
#include "idmap.h"

/* Freed cgroups whose names are kept a while: a socket can outlive its
 * cgroup, and its late events bring the id back; it is then shown under its
 * name and freed again. */
#define LIFECYCLE_RECENT 4096

struct removal {
	uint64_t id;
	unsigned int seen; /* the scrape that noticed it (or the next one) */
};

struct lifecycle {
	int removed_fd;
	struct slots slots;
	unsigned int scrape;
	struct removal *pending;
	size_t n, cap;
	struct idmap pending_set;	   /* ids in pending: a mass removal queues 65536 */
	size_t freed;			   /* cgroups whose entries were freed, since start */
	size_t deferred;		   /* queue() failures, since start: retried */
	uint64_t recent[LIFECYCLE_RECENT]; /* ring of freed ids, names still cached */
	size_t recent_next;
	struct idmap recent_set;
};

int lifecycle_init(struct lifecycle *lc, int removed_fd, const struct kernel_maps *maps);
void lifecycle_free(struct lifecycle *lc);
/* Before reading the maps: names the cgroups removed since the last scrape
 * (with the path the kernel reported) and queues them. */
void lifecycle_before_scrape(struct lifecycle *lc, struct cgroups *cg);
/* A cgroup that could not be named, removed since the scrape began: names
 * and queues it as above. False when the kernel reported no removal. */
bool lifecycle_name_removed(struct lifecycle *lc, struct cgroups *cg, uint64_t id);
/* After reading the maps: queues freed cgroups that came back, and keeps
 * queued ones while sockets of theirs are still counted. */
void lifecycle_check_returns(struct lifecycle *lc, const struct collector *c);
/* After rendering: frees what the previous scrape already showed, and
 * recycles the slots freed long enough ago. */
void lifecycle_after_scrape(struct lifecycle *lc, struct cgroups *cg);

#endif /* LIFECYCLE_H */
