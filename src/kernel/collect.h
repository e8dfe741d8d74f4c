/* SPDX-License-Identifier: GPL-2.0-only */
/* Reads the per-cgroup maps into one snapshot per cgroup, summing the CPUs
 * of per-CPU maps and keeping each array's value packed (only its nonzero
 * words): the slots map says which slot of the value arrays each cgroup
 * owns. Reads with batched lookups (Linux 5.6+), one key at a time for a
 * map whose type has none in this kernel (5.10's per-CPU arrays). */
#ifndef COLLECT_H
#define COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "buf.h"
#include "catalogue.h"
#include "idmap.h"
#include "value_maps.h"

struct cgroup_sample {
	__u64 id;
	/* Owns a slot in ctcp_slots; false when only draining slots (taken
	 * from it, kernel/slots.h) hold its values. */
	bool owned;
	size_t part[VALUE_MAPS]; /* its value of each map in parts, + 1; 0: none */
};

struct collector {
	struct kernel_maps maps;
	int ncpus;
	__u32 chunk;
	__u64 *ids;	       /* chunk cgroup ids read from the slots map */
	__u32 *slot_keys;      /* chunk slots read from it, or array keys */
	char *values;	       /* chunk * ncpus values of the largest array */
	__u64 *sum;	       /* one value, CPUs summed */
	__u32 *sample_of_slot; /* per slot: sample index + 1, 0 for none */
	__u32 slots_end;       /* sample_of_slot is 0 from here on */
	struct ctcp_stats *stats_values;
	struct idmap index;  /* id -> sample index + 1, but for id 0: */
	size_t unattributed; /* the sample index + 1 of id 0 (cgroup=""), 0: none */
	struct cgroup_sample *samples;
	size_t nsamples;
	size_t entries[VALUE_MAPS]; /* cgroups each map held at the last read */
	bool by_key[VALUE_MAPS];    /* the kernel has no batched lookups for it */
	size_t cap;
	struct buf parts; /* the samples' values, packed */
};

int collector_init(struct collector *c, const struct kernel_maps *maps);
void collector_free(struct collector *c);
/* Refills c->samples: the slots map's cgroups, and the values of draining
 * slots that still count sockets, or whose cgroup owns a slot again, under
 * the cgroups they were taken from. 0 or a negative errno (logged). */
int collector_read(struct collector *c, struct ctcp_stats *stats, const struct slot_owner *draining,
		   size_t ndraining);

/* Adds the values of sample i to *out (gauges too: they are two's
 * complement). */
void collector_values(const struct collector *c, size_t i, struct cgroup_values *out);
/* Gives back the packed values of the last read (they grow with the
 * cgroups read); the samples' values are gone until the next read. */
void collector_release(struct collector *c);

#endif /* COLLECT_H */
