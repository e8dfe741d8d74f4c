// SPDX-License-Identifier: GPL-2.0-only
/* Baseline for the per-event cost: tp_btf programs that do nothing, on the
 * tracepoints the exporter uses. What bpf_stats reports for them is the cost
 * of the hook and of the stats themselves. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp_btf/tcp_probe")
int empty_probe(void *ctx)
{
	return 0;
}

SEC("tp_btf/sock_send_length")
int empty_send(void *ctx)
{
	return 0;
}

SEC("tp_btf/sock_recv_length")
int empty_recv(void *ctx)
{
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int empty_set_state(void *ctx)
{
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int empty_retrans(void *ctx)
{
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int empty_rst_sent(void *ctx)
{
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int empty_rst_recv(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
