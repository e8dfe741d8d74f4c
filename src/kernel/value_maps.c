/* SPDX-License-Identifier: GPL-2.0-only */
/* The table of the per-cgroup value maps. */
#include "value_maps.h"

#include "catalogue.h"

/* The collector sums per-CPU values, and packs values, as __u64 words. */
_Static_assert(sizeof(struct ctcp_conn) % sizeof(__u64) == 0 &&
		   sizeof(struct ctcp_io) % sizeof(__u64) == 0 &&
		   sizeof(struct ctcp_hist) % sizeof(__u64) == 0,
	       "value map values must be whole __u64s");

const struct value_map_info value_maps[VALUE_MAPS] = {
    [VALUE_MAP_CONN] = {.name = "ctcp_conn",
			.value_size = sizeof(struct ctcp_conn),
			.offset = offsetof(struct cgroup_values, conn)},
    [VALUE_MAP_IO] = {.name = "ctcp_io",
		      .value_size = sizeof(struct ctcp_io),
		      .percpu = true,
		      .offset = offsetof(struct cgroup_values, io)},
    [VALUE_MAP_IO_SHARED] = {.name = "ctcp_io_shared",
			     .value_size = sizeof(struct ctcp_io),
			     .past_percpu = true,
			     .offset = offsetof(struct cgroup_values, io)},
    [VALUE_MAP_RTT] = {.name = "ctcp_rtt",
		       .value_size = sizeof(struct ctcp_hist),
		       .offset = offsetof(struct cgroup_values, rtt)},
};

size_t value_map_stride(enum value_map m, int ncpus)
{
	return value_maps[m].value_size * (value_maps[m].percpu ? (size_t)ncpus : 1);
}

size_t value_maps_largest(int ncpus)
{
	size_t size = 0;

	for (int m = 0; m < VALUE_MAPS; m++)
		if (value_map_stride(m, ncpus) > size)
			size = value_map_stride(m, ncpus);
	return size;
}
