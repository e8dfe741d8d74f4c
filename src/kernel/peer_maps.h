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
/* Deletes every pair of the n slots: the slots' next owners start with
 * none. */
void peer_maps_free_slots(int pairs_fd, const __u32 *slots, size_t n);

/* Every pair's values, as read at one scrape. */
struct pair_values {
	struct ctcp_pair_key *keys;
	struct ctcp_peer *values;
	size_t n, cap;
};

/* Reads every pair into v (batched lookups, Linux 5.6+); 0 or a negative
 * errno. */
int peer_maps_read(int pairs_fd, struct pair_values *v);
void pair_values_free(struct pair_values *v);

#endif /* PEER_MAPS_H */
