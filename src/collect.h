/* Reads the per-cgroup counters map into a snapshot, summing the CPUs.
 * Uses batched lookups where the kernel has them (5.6+), one key at a time
 * otherwise. Buffers are kept between scrapes. */
#ifndef COLLECT_H
#define COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "cgroup_tcp.h"

struct cgroup_sample {
	__u64 id;
	struct ctcp_counters counters;
};

struct collector {
	int counters_fd;
	int stats_fd;
	int ncpus;
	bool batch; /* cleared when the kernel turns out not to support it */
	__u32 chunk;
	__u64 *keys;
	struct ctcp_counters *values; /* chunk * ncpus */
	struct ctcp_stats *stats_values;
	struct cgroup_sample *samples;
	size_t nsamples;
	size_t cap;
};

int collector_init(struct collector *c, int counters_fd, int stats_fd);
void collector_free(struct collector *c);
/* Refills c->samples; 0 or a negative errno. */
int collector_read(struct collector *c, struct ctcp_stats *stats);

/* Adds every counter of src into dst. */
void counters_add(struct ctcp_counters *dst, const struct ctcp_counters *src);

#endif /* COLLECT_H */
