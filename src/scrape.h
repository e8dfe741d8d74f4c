/* One scrape: read the maps, name each cgroup, render. Scrapes are
 * serialized; nothing renders while reading kernel state. */
#ifndef SCRAPE_H
#define SCRAPE_H

#include <pthread.h>
#include <stddef.h>
#include "cgroups.h"
#include "collect.h"
#include "render_text.h"

struct scraper {
	pthread_mutex_t lock;
	struct collector collector;
	struct cgroups *cgroups;
	struct cgroup_row *rows;
	size_t rows_cap;
	struct render_options opts;
};

int scraper_init(struct scraper *s, const int map_fds[COLLECT_MAPS], int stats_fd,
		 struct cgroups *cgroups, const struct render_options *opts);
void scraper_free(struct scraper *s);
/* A malloc'd body for the caller, or NULL when the scrape failed. */
char *scraper_render(struct scraper *s, size_t *len);

/* Sorts rows by cgroup and sums rows that share one into the first of them
 * (two ids can name the same path: a cgroup removed and made again).
 * Returns the new count. */
size_t rows_merge(struct cgroup_row *rows, size_t n);

#endif /* SCRAPE_H */
