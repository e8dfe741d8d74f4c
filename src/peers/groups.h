/* SPDX-License-Identifier: GPL-2.0-only */
/* Peer groups: named sets of remote addresses (CIDRs) and, optionally,
 * remote ports. A connection belongs to the group of the longest prefix
 * that holds its remote address (and whose ports, if it lists some, hold
 * its remote port; at equal length a prefix with ports wins); `other` when
 * none does. The built-in groups (loopback, private, public) are always
 * there; a file adds its own. IPv4 is written as IPv4-mapped IPv6, so an
 * IPv4 peer of an IPv6 socket matches the IPv4 rules. Pure: the kernel's
 * LPM trie entries are compiled from here. */
#ifndef PEER_GROUPS_H
#define PEER_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "cgroup_tcp.h"

#define PEER_NAME_MAX 63
/* Group 0 is `other`; the built-in groups follow. */
enum peer_builtin {
	PEER_LOOPBACK = 1,
	PEER_PRIVATE,
	PEER_PUBLIC,
	PEER_FIRST_FILE_GROUP,
};

struct peer_prefix {
	uint8_t addr[16]; /* host bits zero */
	unsigned int len; /* 0-128, of the IPv6 form */
	unsigned int group;
	uint16_t ports[CTCP_PEER_PORTS];
	unsigned int nports; /* 0: any port */
};

struct peer_groups {
	char *names[CTCP_PEER_GROUPS];
	unsigned int ngroups;
	struct peer_prefix *prefixes;
	size_t nprefixes, cap;
};

/* The built-in groups only. 0 or -1 (out of memory). */
int peer_groups_init(struct peer_groups *g);
void peer_groups_free(struct peer_groups *g);
/* A new group's id, or -1 with the reason in err. */
int peer_groups_add(struct peer_groups *g, const char *name, char *err, size_t errlen);
/* Adds a prefix ("10.0.0.0/8", "fd00::/8", or an address alone) with its
 * ports to a group; -1 with the reason in err. */
int peer_groups_add_cidr(struct peer_groups *g, unsigned int group, const char *cidr,
			 const uint16_t *ports, unsigned int nports, char *err, size_t errlen);
/* The group of a remote IPv6 (or IPv4-mapped) address and port; port 0
 * matches only prefixes without ports. */
unsigned int peer_match(const struct peer_groups *g, const uint8_t addr[16], uint16_t port);
/* The entries of the kernel's trie, one per distinct prefix: n of them
 * into a malloc'd *keys and *rules. -1 with the reason in err (too many
 * ports under one prefix). */
int peer_compile(const struct peer_groups *g, struct ctcp_peer_key **keys,
		 struct ctcp_peer_rule **rules, size_t *n, char *err, size_t errlen);
/* The group of one trie entry's rule for a port, as the BPF program reads
 * it (bpf/peers.bpf.h: peer_of). */
unsigned int peer_rule_group(const struct ctcp_peer_rule *rule, uint16_t port);
/* The trie's answer for an address, the longest of the n entries that
 * holds it and then its rule, as the kernel finds it: for tests. */
unsigned int peer_trie_group(const struct ctcp_peer_key *keys, const struct ctcp_peer_rule *rules,
			     size_t n, const uint8_t addr[16], uint16_t port);

#endif /* PEER_GROUPS_H */
