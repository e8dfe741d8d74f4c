// SPDX-License-Identifier: GPL-2.0-only
/* Smoothed RTT from tcp:tcp_probe, which fires for every segment received on
 * an established socket: the hottest hook, so it does no map work on most
 * segments. A connection gives a sample when it receives its first segment
 * of a new second of the kernel's jiffies clock: tcp_probe runs before the
 * segment's ACK is processed, so tp->rcv_tstamp still holds the jiffies of
 * the previous ACK received. That is at most one sample per connection and
 * second, with no per-socket state to read or write for the cgroup's
 * sample (state.bpf.c adds one when the connection leaves ESTABLISHED); the
 * peer group's sample, and the bytes since the last, read and write the
 * socket's entry at that same rate. The histograms weigh connections, not
 * packets. */
#include "peers.bpf.h"

/* Linux 6.2+: a free cast, where bpf_skc_to_tcp_sock() is a helper call
 * that checks the socket. Weak: the loader runs ctcp_probe_checked instead
 * on kernels without it. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

static __always_inline void probe(const struct sock *sk, const struct tcp_sock *tp)
{
	__u32 now, hz = ctcp_hz, slot;

	if (!hz)
		return;
	now = (__u32)bpf_jiffies64();
	if (now / hz == tp->rcv_tstamp / hz)
		return;
	slot = slot_of(cgroup_of(sk));
	rtt_add(slot, tp);
	peer_sample(sk, slot, tp);
}

/* The tracepoint fires in tcp_rcv_established() only: sk is always a full
 * TCP socket, so the cast needs no check. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(ctcp_probe, struct sock *sk, struct sk_buff *skb)
{
	probe(sk, bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock)));
	return 0;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(ctcp_probe_checked, struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	if (tp)
		probe(sk, tp);
	return 0;
}
