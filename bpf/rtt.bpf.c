// SPDX-License-Identifier: GPL-2.0
/* Smoothed RTT from tcp:tcp_probe, which fires for every segment received on
 * an established socket: the hottest hook. Most events only read the
 * socket's next-sample time and return; a connection gives one sample at
 * its first received segment, then at most one per second while it
 * receives (and state.bpf.c adds one when it leaves ESTABLISHED), so the
 * histogram weighs connections, not packets. */
#include "counters.bpf.h"

#define RTT_SAMPLE_INTERVAL_NS 1000000000ULL

SEC("tp_btf/tcp_probe")
int BPF_PROG(ctcp_probe, struct sock *sk, struct sk_buff *skb)
{
	struct ctcp_sock *st = bpf_sk_storage_get(&ctcp_socks, sk, 0, 0);
	__u64 now;

	if (!st)
		return 0;
	now = bpf_ktime_get_ns();
	if (now < st->rtt_next_ns)
		return 0;
	st->rtt_next_ns = now + RTT_SAMPLE_INTERVAL_NS;
	rtt_sample(sk);
	return 0;
}
