// SPDX-License-Identifier: GPL-2.0-only
/* Bytes per send and receive call on TCP sockets (kernel 6.3+), as per-CPU
 * histograms whose sums are the byte counts. These run in process context on
 * every call on any socket: filter first, then the cgroup's slot from a per-CPU
 * cache and two plain adds to this CPU's values, with no hash lookup (atomic
 * adds to shared values for cgroups past --cgroup.max-per-cpu). */
#include "counters.bpf.h"

#define MSG_PEEK 2

static __always_inline void count_io(const struct sock *sk, int bytes, __u32 op)
{
	__u32 slot = slot_of(cgroup_of(sk));
	struct ctcp_io *io;

	if (slot < ctcp_io_percpu_slots) {
		io = bpf_map_lookup_elem(&ctcp_io, &slot);
		if (io)
			hist_add(&io->size[op & 1], (__u64)bytes, (__u64)bytes);
	} else {
		io = bpf_map_lookup_elem(&ctcp_io_shared, &slot);
		if (io)
			hist_add_atomic(&io->size[op & 1], (__u64)bytes, (__u64)bytes);
	}
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(ctcp_send, struct sock *sk, int ret, int flags)
{
	if (ret > 0 && is_tcp(sk))
		count_io(sk, ret, CTCP_SEND);
	return 0;
}

/* A peek returns bytes a later receive returns again. */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(ctcp_recv, struct sock *sk, int ret, int flags)
{
	if (ret > 0 && !(flags & MSG_PEEK) && is_tcp(sk))
		count_io(sk, ret, CTCP_RECEIVE);
	return 0;
}
