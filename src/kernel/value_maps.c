/* The table of the per-cgroup value maps. */
#include "value_maps.h"

#include "catalogue.h"

/* Per-CPU values are 8-byte aligned in the kernel's buffers, and the
 * collector sums them as __u64s. */
_Static_assert(sizeof(struct cgroup_values) % sizeof(__u64) == 0,
	       "values must be whole __u64s: per-CPU values are 8-byte aligned");

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
