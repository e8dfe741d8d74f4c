/* The exporter's own metrics: build, last scrape time, BPF programs and
 * maps, the cgroup cache, and the process (as Prometheus clients report it). */
#ifndef SELF_H
#define SELF_H

#include "cgroups.h"
#include "collect.h"
#include "loader.h"
#include "render.h"

struct self_sources {
	const struct loader *loader;
	const struct collector *collector;
	const struct cgroups *cgroups;
	struct ctcp_stats stats;
	double last_scrape_seconds;
	size_t excluded;
	size_t freed;
};

void render_self_metrics(struct buf *b, const struct self_sources *src,
			 const struct render_options *opts);

#endif /* SELF_H */
