// SPDX-License-Identifier: GPL-2.0-only
/* Retransmitted segments and resets sent and received, per cgroup. */
#include "peers.bpf.h"

/* Key 0 has slot 0 from the start: no cache entry for it. */
static __always_inline __u32 slot_for(__u64 cgid)
{
	return cgid == CTCP_UNATTRIBUTED_ID ? CTCP_UNATTRIBUTED_SLOT : slot_of(cgid);
}

#define PEER_FIELD(field) offsetof(struct ctcp_peer, field)

/* Set at load time: since 6.10 the tracepoint also fires for retransmits
 * that failed, with their error in a third argument. Older kernels report
 * successful retransmits only and have no third argument. */
const volatile bool retransmit_reports_err = false;

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(ctcp_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	struct ctcp_conn *c;
	__u32 slot;
	__u16 segs;

	if (retransmit_reports_err && (int)ctx[2] != 0)
		return 0;
	/* Count segments, not skbs, as the kernel's RetransSegs does. The
	 * verifier lets a program read skb->cb as any scalars: no helper call. */
	segs = ((const struct tcp_skb_cb *)skb->cb)->tcp_gso_segs;
	slot = slot_for(cgroup_of(sk));
	c = conn_at(slot);
	if (c)
		__sync_fetch_and_add(&c->retransmits, segs ? segs : 1);
	peer_add(sk, slot, PEER_FIELD(retransmits), segs ? segs : 1, false);
	return 0;
}

/* An RST may be sent with no socket (closed port), from a time-wait socket
 * (no owner left) or from a request socket (owned by its listener). */
static __always_inline __u64 reset_owner(const struct sock *sk)
{
	const struct sock *listener;

	if (!sk)
		return CTCP_UNATTRIBUTED_ID;
	switch (sk->__sk_common.skc_state) {
	case TCP_TIME_WAIT:
		return CTCP_UNATTRIBUTED_ID;
	case TCP_NEW_SYN_RECV:
		listener = BPF_CORE_READ(sk, __sk_common.skc_listener);
		if (!listener)
			return CTCP_UNATTRIBUTED_ID;
		return BPF_CORE_READ(listener, sk_cgrp_data.cgroup, kn, id);
	default:
		return cgroup_of(sk);
	}
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(ctcp_reset_sent, const struct sock *sk)
{
	__u32 slot = slot_for(reset_owner(sk));
	struct ctcp_conn *c = conn_at(slot);

	if (c)
		__sync_fetch_and_add(&c->resets_sent, 1);
	/* A socket already in CLOSE (an abort) has no entry left: its group
	 * is looked up. With no socket there is no peer to name. */
	if (sk)
		peer_add(sk, slot, PEER_FIELD(resets_sent), 1, true);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(ctcp_reset_received, struct sock *sk)
{
	__u32 slot = slot_for(cgroup_of(sk));
	struct ctcp_conn *c = conn_at(slot);

	if (c)
		__sync_fetch_and_add(&c->resets_received, 1);
	peer_add(sk, slot, PEER_FIELD(resets_received), 1, false);
	return 0;
}
