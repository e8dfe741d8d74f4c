/* SPDX-License-Identifier: GPL-2.0-only */
/* The rows of the peer families: one per (cgroup as shown, peer group)
 * pair the kernel counted, named like the cgroup's own rows. */
#ifndef PEER_ROWS_H
#define PEER_ROWS_H

#include <stddef.h>
#include "kernel/collect.h"
#include "kernel/peer_maps.h"
#include "peers/groups.h"
#include "snapshot.h"

struct cgroup_row;

/* Adds to out the pairs whose slot a named row's cgroup owns (rows, sorted
 * as rows_snapshot() leaves them), and the overflow pair; pairs that share
 * their labels are summed. -1 when out of memory. */
int peer_rows_snapshot(const struct collector *c, const struct cgroup_row *rows, size_t nrows,
		       const struct pair_values *pairs, const struct peer_groups *g,
		       struct snapshot *out);

#endif /* PEER_ROWS_H */
