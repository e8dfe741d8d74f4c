// SPDX-License-Identifier: GPL-2.0-only
/* Bytes per send and receive call on TCP sockets, as per-CPU histograms
 * whose sums are the byte counts: from the calls' tracepoints (6.3+), or on
 * older kernels from the return of tcp_sendmsg() and tcp_recvmsg(), which
 * those calls reach on TCP sockets (the loader attaches one or the other).
 * These run in process context on every call: filter first, then the
 * cgroup's slot from a per-CPU cache and two plain adds to this CPU's
 * values, with no hash lookup (atomic adds to shared values for cgroups past
 * --cgroup.max-per-cpu). */
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

/* Kernels before 6.3: the same points, with BPF trampolines. */
SEC("fexit/tcp_sendmsg")
int BPF_PROG(ctcp_send_fexit, struct sock *sk, struct msghdr *msg, size_t size, int ret)
{
	if (ret > 0)
		count_io(sk, ret, CTCP_SEND);
	return 0;
}

/* tcp_recvmsg() as of 5.19 ... */
SEC("fexit/tcp_recvmsg")
int BPF_PROG(ctcp_recv_fexit, struct sock *sk, struct msghdr *msg, size_t len, int flags,
	     int *addr_len, int ret)
{
	if (ret > 0 && !(flags & MSG_PEEK))
		count_io(sk, ret, CTCP_RECEIVE);
	return 0;
}

/* ... and before, with a nonblock argument ahead of the flags. */
SEC("fexit/tcp_recvmsg")
int BPF_PROG(ctcp_recv_fexit_nonblock, struct sock *sk, struct msghdr *msg, size_t len,
	     int nonblock, int flags, int *addr_len, int ret)
{
	if (ret > 0 && !(flags & MSG_PEEK))
		count_io(sk, ret, CTCP_RECEIVE);
	return 0;
}
