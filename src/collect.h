/* Reads the per-cgroup maps into one snapshot of struct cgroup_values per
 * cgroup, summing the CPUs of per-CPU maps. Uses batched lookups where the
 * kernel has them (5.6+), one key at a time otherwise. Buffers are kept
 * between scrapes. */
#ifndef COLLECT_H
#define COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "catalogue.h"
#include "idmap.h"

struct cgroup_sample {
	__u64 id;
	struct cgroup_values values;
};

/* One kernel map and where its value goes in struct cgroup_values. */
struct map_source {
	int fd;
	bool percpu;
	size_t value_size;
	size_t offset;
};

#define COLLECT_MAPS 3

struct collector {
	struct map_source maps[COLLECT_MAPS];
	int stats_fd;
	int ncpus;
	bool batch; /* cleared when the kernel turns out not to support it */
	__u32 chunk;
	__u64 *keys;
	char *values; /* chunk * ncpus values of the largest map */
	char *sum;    /* one value, CPUs summed */
	struct ctcp_stats *stats_values;
	struct idmap index; /* id -> sample index + 1 */
	struct cgroup_sample *samples;
	size_t nsamples;
	size_t entries[COLLECT_MAPS]; /* keys each map held at the last read */
	size_t cap;
};

/* fds: the conn, io and rtt maps (loader order). */
int collector_init(struct collector *c, const int map_fds[COLLECT_MAPS], int stats_fd);
void collector_free(struct collector *c);
/* Refills c->samples; 0 or a negative errno. */
int collector_read(struct collector *c, struct ctcp_stats *stats);

/* Adds every value of src into dst (gauges too: they are two's complement). */
void values_add(struct cgroup_values *dst, const struct cgroup_values *src);

#endif /* COLLECT_H */
