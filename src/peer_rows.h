/* SPDX-License-Identifier: GPL-2.0-only */
/* The rows of the families of (cgroup, something) pairs: per peer group
 * (ctcp_pairs) and per command name (ctcp_procs), one per pair the kernel
 * counted, named like the cgroup's own rows plus one label. */
#ifndef PEER_ROWS_H
#define PEER_ROWS_H

#include <stddef.h>
#include "kernel/collect.h"
#include "kernel/peer_maps.h"
#include "peers/groups.h"
#include "snapshot.h"

struct cgroup_row;

/* What kind of pairs: the label, where a pair's value is added in struct
 * cgroup_values (its __u64 words from byte `skip` on: a command name is
 * not added), and the groups naming peer pairs (NULL: command names, read
 * from the values). */
struct pair_kind {
	const char *label;
	size_t offset, size, skip;
	const struct peer_groups *groups;
};

/* Adds to out the pairs whose slot a named row's cgroup owns (rows, sorted
 * as rows_snapshot() leaves them), and the overflow pair; pairs that share
 * their labels are summed. -1 when out of memory. */
int pair_rows_snapshot(const struct collector *c, const struct cgroup_row *rows, size_t nrows,
		       const struct pair_values *pairs, const struct pair_kind *kind,
		       struct snapshot *out);

#endif /* PEER_ROWS_H */
