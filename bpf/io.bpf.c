// SPDX-License-Identifier: GPL-2.0
/* Bytes moved by send and receive calls on TCP sockets (kernel 6.3+). These
 * run in process context on every call on any socket: filter first. */
#include "counters.bpf.h"

#define MSG_PEEK 2

SEC("tp_btf/sock_send_length")
int BPF_PROG(ctcp_send, struct sock *sk, int ret, int flags)
{
	struct ctcp_counters *c;

	if (ret <= 0 || !is_tcp(sk))
		return 0;
	c = counters_of(cgroup_of(sk));
	if (c)
		c->sent_bytes += ret;
	return 0;
}

/* A peek returns bytes a later receive returns again. */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(ctcp_recv, struct sock *sk, int ret, int flags)
{
	struct ctcp_counters *c;

	if (ret <= 0 || (flags & MSG_PEEK) || !is_tcp(sk))
		return 0;
	c = counters_of(cgroup_of(sk));
	if (c)
		c->received_bytes += ret;
	return 0;
}
