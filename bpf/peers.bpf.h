/* SPDX-License-Identifier: GPL-2.0-only */
/* Peer groups: the trie of remote prefixes, the (cgroup slot, peer group)
 * pair values, and the helpers that find a connection's group once, when
 * its socket table entry is taken, and its pair's values on later events. */
#ifndef PEERS_BPF_H
#define PEERS_BPF_H

#include "sockets.bpf.h"

#define AF_INET	 2
#define AF_INET6 10
#define E2BIG	 7

/* Remote prefix -> rule, filled by user space before the programs are
 * attached (src/kernel/peer_maps.c). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CTCP_PEER_PREFIXES);
	__type(key, struct ctcp_peer_key);
	__type(value, struct ctcp_peer_rule);
} ctcp_peer_trie SEC(".maps") __weak;

/* (slot, peer group) -> values: --peer.max-pairs pairs, and the overflow
 * pair that user space enters at start. A pair's entry is made by its
 * first event; user space deletes the pairs of a slot when it recycles
 * the slot (src/kernel/slots.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CTCP_MAX_PAIRS + 1);
	__type(key, struct ctcp_slot_key);
	__type(value, struct ctcp_peer);
} ctcp_pairs SEC(".maps") __weak;

/* Set at load time: --peer.max-pairs is not 0. */
const volatile bool ctcp_peers_on __weak = false;

/* The peer group of the socket's remote address and port, from the trie:
 * IPv4 as IPv4-mapped IPv6, so one lookup serves both families. The port
 * is the remote one: a client's own port says nothing, so inbound
 * connections are grouped by address only (by_port false). */
static __always_inline __u8 peer_of(const struct sock *sk, bool by_port)
{
	struct ctcp_peer_key key = {.prefixlen = 128};
	const struct sock_common *skc = &sk->__sk_common;
	struct ctcp_peer_rule *rule;
	__u16 port;

	if (skc->skc_family == AF_INET) {
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], &skc->skc_daddr, 4);
	} else if (skc->skc_family == AF_INET6) {
		__builtin_memcpy(key.addr, &skc->skc_v6_daddr, 16);
	} else {
		return CTCP_PEER_OTHER;
	}
	rule = bpf_map_lookup_elem(&ctcp_peer_trie, &key);
	if (!rule)
		return CTCP_PEER_OTHER;
	port = by_port ? __builtin_bswap16(skc->skc_dport) : 0;
	if (rule->nports && port)
#pragma unroll
		for (int i = 0; i < CTCP_PEER_PORTS; i++)
			if (i < rule->nports && rule->ports[i] == port)
				return rule->port_group[i];
	return rule->group;
}

/* A socket's entry was taken: its group now, once for the connection.
 * A listener has no peer; an entry taken for a socket met after its start
 * gives its peer the bytes from here on only. */
static __always_inline void peer_claimed(const struct sock *sk, struct ctcp_sock *st, int newstate,
					 bool birth)
{
	struct tcp_sock *tp;

	st->peer = CTCP_PEER_OTHER;
	st->peer_acked = 0;
	st->peer_received = 0;
	/* An accepted socket is born before the kernel copies the client's
	 * address into it (5.10 to 6.12 at least): its group is found at
	 * ESTABLISHED. */
	if (!ctcp_peers_on || newstate == TCP_LISTEN || newstate == TCP_SYN_RECV)
		return;
	st->peer = peer_of(sk, true);
	if (birth)
		return;
	tp = bpf_skc_to_tcp_sock((void *)sk);
	if (tp) {
		st->peer_acked = (__u32)tp->bytes_acked;
		st->peer_received = (__u32)tp->bytes_received;
	}
}

/* The values of the (slot, peer) pair, made at its first event; the
 * overflow pair's when --peer.max-pairs pairs exist. */
static __always_inline struct ctcp_peer *pair_of(__u32 slot, __u8 peer)
{
	struct ctcp_slot_key key = {.slot = slot, .id = peer};
	static const struct ctcp_peer zero;
	struct ctcp_peer *v;

	if (!ctcp_peers_on)
		return NULL;
	v = bpf_map_lookup_elem(&ctcp_pairs, &key);
	if (v)
		return v;
	if (bpf_map_update_elem(&ctcp_pairs, &key, &zero, BPF_NOEXIST) == -E2BIG) {
		count_stat(offsetof(struct ctcp_stats, pairs_full) / sizeof(__u64));
		key.slot = CTCP_PAIR_OVERFLOW;
		key.id = 0;
	}
	return bpf_map_lookup_elem(&ctcp_pairs, &key);
}

/* The bytes the peer acked and sent since the last call, to its pair. The
 * kernel's counts are of sequence numbers: `fin_acked` and `fin_received`
 * say our FIN and the peer's are in them, and are not payload. */
static __always_inline void peer_bytes(struct ctcp_peer *pr, struct ctcp_sock *st,
				       const struct tcp_sock *tp, bool fin_acked, bool fin_received)
{
	__u32 acked = (__u32)tp->bytes_acked - st->peer_acked;
	__u32 received = (__u32)tp->bytes_received - st->peer_received;

	st->peer_acked += acked;
	st->peer_received += received;
	if (fin_acked && acked)
		acked--;
	if (fin_received && received)
		received--;
	__sync_fetch_and_add(&pr->sent_bytes, acked);
	__sync_fetch_and_add(&pr->received_bytes, received);
}

/* An accepted connection's group, by the client's address (its port says
 * nothing), once the kernel has set it: at SYN_RECV -> ESTABLISHED. */
static __always_inline void peer_accepted(const struct sock *sk, struct ctcp_sock *st, int oldstate,
					  int newstate)
{
	/* A connect that met a SYN also ends SYN_RECV->ESTABLISHED: its group,
	 * ports included, was found at SYN_SENT (state.bpf.c: direction). */
	if (ctcp_peers_on && oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED &&
	    st->direction == CTCP_INBOUND)
		st->peer = peer_of(sk, false);
}

/* The state changes that add to a pair: handshakes done, connects failed,
 * the last RTT sample and bytes at CLOSE (two pair lookups a connection).
 * A listener has no peer. */
static __always_inline bool peer_event(int oldstate, int newstate)
{
	return oldstate != TCP_LISTEN && (newstate == TCP_ESTABLISHED || newstate == TCP_CLOSE);
}

static __always_inline void peer_rtt(struct ctcp_peer *pr, const struct tcp_sock *tp)
{
	__u32 srtt_us = tp->srtt_us >> 3;

	if (srtt_us)
		hist_add_atomic(&pr->rtt, time_units(srtt_us, CTCP_TIME_SHIFT), srtt_us);
}

/* A state change of a socket with a pair: its byte counts from ESTABLISHED
 * on (the SYN is acked by then, and is no payload); at CLOSE the last RTT
 * sample (none for a handshake that failed: srtt is 0) and the last bytes,
 * without the FINs. */
static __always_inline void peer_state(const struct sock *sk, struct ctcp_sock *st,
				       struct ctcp_peer *pr, int oldstate, int newstate)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);

	if (!tp)
		return;
	if (newstate == TCP_ESTABLISHED) {
		st->peer_acked = (__u32)tp->bytes_acked;
		st->peer_received = (__u32)tp->bytes_received;
	} else if (newstate == TCP_CLOSE) {
		peer_rtt(pr, tp);
		/* Our FIN is acked once past FIN_WAIT1 and LAST_ACK; the
		 * peer's is in from CLOSE_WAIT on (and ends FIN_WAIT2). */
		peer_bytes(pr, st, tp,
			   oldstate == TCP_FIN_WAIT2 || oldstate == TCP_LAST_ACK ||
			       oldstate == TCP_CLOSING,
			   oldstate == TCP_FIN_WAIT2 || oldstate == TCP_LAST_ACK ||
			       oldstate == TCP_CLOSING || oldstate == TCP_CLOSE_WAIT);
	}
}

/* One smoothed RTT sample, and the bytes since the last, to the peer of a
 * socket that has an entry. */
static __always_inline void peer_sample(const struct sock *sk, __u32 slot,
					const struct tcp_sock *tp)
{
	struct ctcp_sock *st;
	struct ctcp_peer *pr;

	if (!ctcp_peers_on)
		return;
	st = sock_lookup(sk);
	pr = st ? pair_of(slot, st->peer) : NULL;
	if (!pr)
		return;
	peer_rtt(pr, tp);
	peer_bytes(pr, st, tp, false, false);
}

/* Adds n to one counter of the socket's pair (by offset in struct
 * ctcp_peer). A socket without an entry has no pair, unless `any`: then
 * its group is looked up now (a reset sent after CLOSE, or by a request
 * or time-wait socket: rare events). */
static __always_inline void peer_add(const struct sock *sk, __u32 slot, __u32 offset, __u64 n,
				     bool any)
{
	struct ctcp_sock *st;
	struct ctcp_peer *pr = NULL;

	if (!ctcp_peers_on)
		return;
	st = sock_lookup(sk);
	if (st)
		pr = pair_of(slot, st->peer);
	else if (any)
		pr = pair_of(slot, peer_of(sk, true));
	if (pr && offset < sizeof(*pr) && offset % sizeof(__u64) == 0)
		__sync_fetch_and_add((__u64 *)((char *)pr + offset), n);
}

#endif /* PEERS_BPF_H */
