/* SPDX-License-Identifier: GPL-2.0-only */
/* The per-cgroup value maps, described once: each is an array of values
 * indexed by slot, and this table says which BPF map it is, how large its
 * value is, whether each CPU has its own copy, and where the value goes in
 * the snapshot's struct cgroup_values. The loader, the collector, the slot
 * recycling and the exporter's own metrics all read it. */
#ifndef VALUE_MAPS_H
#define VALUE_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* The value maps, in the order of the table. */
enum value_map {
	VALUE_MAP_CONN,
	VALUE_MAP_IO,	     /* per CPU, the first slots */
	VALUE_MAP_IO_SHARED, /* the other slots */
	VALUE_MAP_RTT,
	VALUE_MAPS,
};

struct value_map_info {
	const char *name; /* of the BPF map (bpf/counters.bpf.h) */
	size_t value_size;
	/* One value per CPU: such a map holds only the first slots
	 * (--cgroup.max-per-cpu), to bound memory per CPU. */
	bool percpu;
	/* Holds the values of the slots past those of the per-CPU map. */
	bool past_percpu;
	size_t offset; /* in struct cgroup_values */
};

extern const struct value_map_info value_maps[VALUE_MAPS];

/* Bytes of one value of map m as the kernel reads and writes it: for
 * each of ncpus CPUs if it is per CPU. */
size_t value_map_stride(enum value_map m, int ncpus);
/* The largest stride of all value maps. */
size_t value_maps_largest(int ncpus);

/* A range of slots. */
struct slot_range {
	__u32 first, end;
};

/* A slot and the cgroup whose values it holds. */
struct slot_owner {
	__u64 id;
	__u32 slot;
};

/* The kernel side of the per-cgroup values, filled by the loader. */
struct kernel_maps {
	int slots_fd; /* cgroup id -> slot */
	/* the value maps, and the slots each holds values of */
	int values_fd[VALUE_MAPS];
	struct slot_range values_slots[VALUE_MAPS];
	int free_slots_fd; /* stack of slots ready for another cgroup */
	int stats_fd;
	__u32 *slot_epoch; /* the programs' cache epoch, mapped into memory */
	int pairs_fd;	   /* (slot, peer group) -> values; -1: no peer groups */
	int procs_fd;	   /* (slot, command name) -> values; -1: no attribution */
	int comm_count_fd; /* slot -> command names it has in procs_fd */
	__u32 nslots;
};

#endif /* VALUE_MAPS_H */
