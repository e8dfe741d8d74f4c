/* Removed cgroups: each is shown in the scrape that notices its removal and
 * in the next one (so events that came in between are shown too), then its
 * kernel map entries and its cached name are freed. */
#ifndef LIFECYCLE_H
#define LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>
#include "cgroups.h"
#include "collect.h"

struct removal {
	uint64_t id;
	unsigned int seen; /* the scrape that noticed it */
};

struct lifecycle {
	int removed_fd;
	int map_fds[COLLECT_MAPS];
	unsigned int scrape;
	struct removal *pending;
	size_t n, cap;
	size_t freed; /* cgroups whose entries were freed, since start */
};

int lifecycle_init(struct lifecycle *lc, int removed_fd, const int map_fds[COLLECT_MAPS]);
void lifecycle_free(struct lifecycle *lc);
/* Before reading the maps: names the cgroups removed since the last scrape
 * (with the path the kernel reported) and queues them. */
void lifecycle_before_scrape(struct lifecycle *lc, struct cgroups *cg);
/* After rendering: frees what the previous scrape already showed. */
void lifecycle_after_scrape(struct lifecycle *lc, struct cgroups *cg);

#endif /* LIFECYCLE_H */
