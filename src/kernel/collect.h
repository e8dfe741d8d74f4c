/* Reads the per-cgroup maps into one snapshot per cgroup, summing the CPUs
 * of per-CPU maps and keeping each array's value packed (only its nonzero
 * words): the slots map says which slot of the value arrays each cgroup
 * owns. Uses batched lookups where the kernel has them (5.6+), one key at a
 * time otherwise. */
#ifndef COLLECT_H
#define COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "buf.h"
#include "catalogue.h"
#include "idmap.h"

/* One kernel value array, the slots it holds values of, and where its
 * value goes in struct cgroup_values. */
struct map_source {
	int fd;
	__u32 first, end;
	bool percpu;
	size_t value_size;
	size_t offset;
};

/* The value arrays, in this order everywhere. */
enum collect_map {
	COLLECT_CONN,
	COLLECT_IO,	   /* per CPU, the first slots */
	COLLECT_IO_SHARED, /* the other slots */
	COLLECT_RTT,
	COLLECT_MAPS,
};

struct cgroup_sample {
	__u64 id;
	size_t part[COLLECT_MAPS]; /* its value of each array in parts, + 1; 0: none */
};

/* A range of slots. */
struct slot_range {
	__u32 first, end;
};

/* The kernel side of the per-cgroup values (filled by the loader). */
struct kernel_maps {
	int slots_fd; /* cgroup id -> slot */
	/* arrays indexed by slot, and the slots each holds values of */
	int values_fd[COLLECT_MAPS];
	struct slot_range values_slots[COLLECT_MAPS];
	int free_slots_fd; /* queue of slots ready for another cgroup */
	int stats_fd;
	__u32 *slot_epoch; /* the programs' cache epoch, mapped into memory */
	__u32 nslots;
};

struct collector {
	struct map_source maps[COLLECT_MAPS];
	int slots_fd;
	__u32 nslots;
	int stats_fd;
	int ncpus;
	bool batch; /* cleared when the kernel turns out not to support it */
	__u32 chunk;
	__u64 *ids;	       /* chunk cgroup ids read from the slots map */
	__u32 *slot_keys;      /* chunk slots read from it, or array keys */
	char *values;	       /* chunk * ncpus values of the largest array */
	__u64 *sum;	       /* one value, CPUs summed */
	__u32 *sample_of_slot; /* per slot: sample index + 1, 0 for none */
	__u32 slots_end;       /* sample_of_slot is 0 from here on */
	struct ctcp_stats *stats_values;
	struct idmap index; /* id -> sample index + 1 */
	struct cgroup_sample *samples;
	size_t nsamples;
	size_t entries[COLLECT_MAPS]; /* cgroups each map held at the last read */
	size_t cap;
	struct buf parts; /* the samples' values, packed */
};

int collector_init(struct collector *c, const struct kernel_maps *maps);
void collector_free(struct collector *c);
/* Refills c->samples; 0 or a negative errno. */
int collector_read(struct collector *c, struct ctcp_stats *stats);

/* Adds the values of sample i to *out (gauges too: they are two's
 * complement). */
void collector_values(const struct collector *c, size_t i, struct cgroup_values *out);
/* Gives back the packed values of the last read (they grow with the
 * cgroups read); the samples' values are gone until the next read. */
void collector_release(struct collector *c);

#endif /* COLLECT_H */
