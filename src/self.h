/* SPDX-License-Identifier: GPL-2.0-only */
/* The exporter's own metrics: build, last scrape time, BPF programs and
 * maps, the cgroup cache, and the process (as Prometheus clients report it). */
#ifndef SELF_H
#define SELF_H

#include "kernel/loader.h"
#include "kernel/value_maps.h"
#include "render.h"

/* The status codes the exporter answers with. */
#define SELF_HTTP_CODES 8

/* Values taken with a scrape's snapshot; the programs and the process are
 * read when the metrics are rendered. */
struct self_sources {
	const struct loader *loader;
	struct ctcp_stats stats;
	size_t map_entries[VALUE_MAPS];
	/* Entries of ctcp_pairs, when the peer groups are on (capacity > 0). */
	size_t pair_entries, pair_capacity;
	size_t cache_entries;
	size_t cache_misses;
	double last_scrape_seconds;
	size_t excluded;
	size_t freed;
	unsigned long long responses[SELF_HTTP_CODES];
	size_t deferred; /* removed cgroups not queued for want of memory */
};

/* Counts an HTTP response sent (web/ calls it); codes not in the list
 * are not counted. Safe from any thread. */
void self_count_response(unsigned int code);
/* The counts so far, in self_http_codes order. */
void self_read_responses(unsigned long long out[SELF_HTTP_CODES]);

void render_self_metrics(struct buf *b, const struct self_sources *src,
			 const struct render_options *opts);

#endif /* SELF_H */
