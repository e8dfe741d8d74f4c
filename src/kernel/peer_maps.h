/* SPDX-License-Identifier: GPL-2.0-only */
/* The user side of the peer maps (bpf/peers.bpf.h): fills the trie of peer
 * prefixes and enters the overflow pair before the programs run, and
 * deletes the pairs of slots being recycled. */
#ifndef PEER_MAPS_H
#define PEER_MAPS_H

#include <stddef.h>
#include <linux/types.h>
#include "cgroup_tcp.h"
#include "value_maps.h"

/* 0 or a negative errno. */
int peer_maps_fill(const struct kernel_maps *maps, int trie_fd, const struct ctcp_peer_key *keys,
		   const struct ctcp_peer_rule *rules, size_t n);
/* Deletes every (slot, peer group) and (slot, command name) pair of the n
 * slots, and zeroes their name counts: the slots' next owners start with
 * none. */
void slot_pairs_free(const struct kernel_maps *maps, const __u32 *slots, size_t n);

/* Every pair's values of one map, as read at one scrape: value i at
 * values + i * value_size. */
struct pair_values {
	struct ctcp_slot_key *keys;
	char *values;
	size_t value_size, n, cap;
};

/* Reads every pair of a map whose values have value_size bytes into v
 * (batched lookups, Linux 5.6+); 0 or a negative errno. */
int slot_pairs_read(int fd, size_t value_size, struct pair_values *v);
void pair_values_free(struct pair_values *v);

#endif /* PEER_MAPS_H */
