// SPDX-License-Identifier: GPL-2.0-only
/* Removed cgroups, from cgroup:cgroup_rmdir: user space shows their last
 * values once more under the path captured here (which it may never have
 * resolved itself), then frees their map entries. New cgroups, from
 * cgroup:cgroup_mkdir: their paths, so that user space, which holds no
 * privilege to open a cgroup by its id, names them without walking the tree. */
#include "counters.bpf.h"

/* Allocated as cgroups come: most of it is never used. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTCP_MAX_CREATED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, char[CTCP_PATH_MAX]);
} ctcp_created SEC(".maps");

/* Allocated as cgroups go (preallocated, 65,536 reports would hold 20 MiB
 * of kernel memory for bursts that seldom come). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTCP_MAX_REMOVED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct ctcp_removed);
} ctcp_removed SEC(".maps");

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(ctcp_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	struct ctcp_removed removed = {};
	__u64 id;

	/* Only the cgroup2 hierarchy (id 0) owns sockets' cgroup ids. */
	if (cgrp->root->hierarchy_id != 0)
		return 0;
	id = cgrp->kn->id;
	bpf_map_delete_elem(&ctcp_created, &id);
	bpf_probe_read_kernel_str(removed.path, sizeof(removed.path), path);
	if (bpf_map_update_elem(&ctcp_removed, &id, &removed, BPF_ANY))
		count_stat(offsetof(struct ctcp_stats, removed_lost) / sizeof(__u64));
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(ctcp_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	char name[CTCP_PATH_MAX];
	__u64 id;

	if (cgrp->root->hierarchy_id != 0)
		return 0;
	id = cgrp->kn->id;
	/* A path that may be cut, or a full map, is left to the tree walk. */
	if (bpf_probe_read_kernel_str(name, sizeof(name), path) < (long)sizeof(name))
		bpf_map_update_elem(&ctcp_created, &id, name, BPF_NOEXIST);
	return 0;
}
