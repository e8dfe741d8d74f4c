// SPDX-License-Identifier: GPL-2.0
/* Smoothed RTT from tcp:tcp_probe, which fires for every segment received on
 * an established socket: the hottest hook, so it does no map work on most
 * segments. A connection gives a sample when it receives its first segment
 * of a new second of the kernel's jiffies clock: tcp_probe runs before the
 * segment's ACK is processed, so tp->rcv_tstamp still holds the jiffies of
 * the previous ACK received. That is at most one sample per connection and
 * second, with no per-socket state to read or write (state.bpf.c adds one
 * sample when the connection leaves ESTABLISHED). The histogram weighs
 * connections, not packets. */
#include "counters.bpf.h"

extern int CONFIG_HZ __kconfig;

SEC("tp_btf/tcp_probe")
int BPF_PROG(ctcp_probe, struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u32 now, hz = CONFIG_HZ;

	if (!tp || !hz)
		return 0;
	now = (__u32)bpf_jiffies64();
	if (now / hz == tp->rcv_tstamp / hz)
		return 0;
	rtt_sample(sk);
	return 0;
}
