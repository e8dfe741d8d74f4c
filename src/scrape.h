/* One scrape: read the maps, name each cgroup, render. Scrapes are
 * serialized; nothing renders while reading kernel state. */
#ifndef SCRAPE_H
#define SCRAPE_H

#include <pthread.h>
#include <stddef.h>
#include "cgroups.h"
#include "collect.h"
#include "filter.h"
#include "kubelet.h"
#include "lifecycle.h"
#include "render.h"

struct loader;

struct scraper {
	pthread_mutex_t lock;
	struct collector collector;
	struct cgroups *cgroups;
	struct cgroup_row *rows;
	size_t rows_cap;
	const struct loader *loader;
	const struct cgroup_filter *filter;
	struct kubelet kubelet;
	struct lifecycle lifecycle;
	size_t excluded; /* cgroups the filters hid at the last scrape */
	unsigned int bucket_step;
	bool self_metrics;
	double last_seconds; /* the previous scrape's duration */
};

struct config;

int scraper_init(struct scraper *s, const struct loader *loader, struct cgroups *cgroups,
		 const struct config *cfg);
void scraper_free(struct scraper *s);
/* Renders into out (which the caller owns); -1 when the scrape failed. */
int scraper_render(struct scraper *s, enum exposition_format format, struct buf *out);

/* Sorts rows by their labels as shown and sums rows that share them into the
 * first (two ids can name the same path: a cgroup removed and made again; two
 * paths can be shown alike: they differ only in bytes that are not UTF-8).
 * Returns the new count. */
size_t rows_merge(struct cgroup_row *rows, size_t n);

#endif /* SCRAPE_H */
