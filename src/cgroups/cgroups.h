/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup id -> path, relative to the cgroup2 root. An id is the inode number
 * of the cgroup's directory. Names are cached for the exporter's lifetime.
 * The cgroups of the start are named by a walk of the tree; later ones by
 * the path the kernel reported when they were made, or else by one more
 * walk per scrape. Neither needs privilege (opening a cgroup by its id
 * would need CAP_DAC_READ_SEARCH). */
#ifndef CGROUPS_H
#define CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "identity.h"

/* What the exporter knows of a cgroup: its path and who it is. */
struct cgroup_info {
	struct cgroup_identity identity;
	char path[]; /* starts with '/' ("/" for the root) */
};

struct cgroups;

/* root: a cgroup2 mount point, or a plain directory tree for tests;
 * created_fd: the BPF map of new cgroups' paths by id, or -1. Walks the tree
 * once. Returns NULL and sets errno on failure. */
struct cgroups *cgroups_open(const char *root, int created_fd);
void cgroups_close(struct cgroups *cg);

/* Marks the start of a scrape: at most one tree walk happens per scrape. */
void cgroups_begin_scrape(struct cgroups *cg);
/* The cgroup of an id, or NULL if it names no cgroup that exists or ever was
 * seen. Lives until cgroups_forget(id) or cgroups_close(). */
const struct cgroup_info *cgroups_lookup(struct cgroups *cg, uint64_t id);
/* Names an id whose path is known otherwise (a removed cgroup), unless it
 * has a name already. */
void cgroups_name(struct cgroups *cg, uint64_t id, const char *path);
/* Drops what is known of a removed cgroup. */
void cgroups_forget(struct cgroups *cg, uint64_t id);
size_t cgroups_cached(const struct cgroups *cg);
/* Ids that were not in the cache when asked for. */
size_t cgroups_misses(const struct cgroups *cg);

/* Finds the cgroup2 mount point in a mountinfo file (/proc/self/mountinfo),
 * preferring a mount of the hierarchy's root. */
int cgroup2_mount_point(FILE *mountinfo, char *out, size_t outlen);

#endif /* CGROUPS_H */
