// SPDX-License-Identifier: GPL-2.0
/* Connection lifecycle from sock:inet_sock_set_state: handshakes completed,
 * outbound handshakes that failed (and why), established connections closed. */
#include "counters.bpf.h"

#define ECONNREFUSED 111
#define ETIMEDOUT    110
#define EHOSTUNREACH 113
#define ENETUNREACH  101
#define EHOSTDOWN    112
#define ENETDOWN     100

/* The close needs the direction the socket was opened in, which the close
 * transition no longer shows: keep it with the socket, freed with it. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ctcp_sock);
} ctcp_socks SEC(".maps");

/* sk_err at SYN_SENT->CLOSE says why the handshake ended; 0 means the
 * application closed the socket first. */
static __always_inline int fail_reason(int err)
{
	switch (err) {
	case 0:
		return CTCP_FAIL_ABORTED;
	case ECONNREFUSED:
		return CTCP_FAIL_REFUSED;
	case ETIMEDOUT:
		return CTCP_FAIL_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return CTCP_FAIL_UNREACHABLE;
	default:
		return CTCP_FAIL_OTHER;
	}
}

static __always_inline void on_established(const struct sock *sk, __u32 direction)
{
	struct ctcp_counters *c = counters_of(cgroup_of(sk));
	struct ctcp_sock *st;

	if (c)
		c->opened[direction]++;
	st = bpf_sk_storage_get(&ctcp_socks, (struct sock *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st) {
		st->flags = CTCP_SOCK_OPEN;
		st->direction = direction;
	}
}

static __always_inline void on_close(const struct sock *sk, int oldstate)
{
	struct ctcp_counters *c;
	struct ctcp_sock *st;
	int reason;

	if (oldstate == TCP_SYN_SENT) {
		reason = fail_reason(sk->sk_err);
		c = counters_of(cgroup_of(sk));
		if (c && reason < CTCP_FAIL_REASONS)
			c->connect_failures[reason]++;
		return;
	}
	st = bpf_sk_storage_get(&ctcp_socks, (struct sock *)sk, 0, 0);
	if (!st || !(st->flags & CTCP_SOCK_OPEN))
		return;
	st->flags &= ~CTCP_SOCK_OPEN;
	c = counters_of(cgroup_of(sk));
	if (c && st->direction < CTCP_DIRECTIONS)
		c->closed[st->direction]++;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ctcp_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if (!is_tcp(sk))
		return 0;
	if (newstate == TCP_ESTABLISHED) {
		if (oldstate == TCP_SYN_SENT)
			on_established(sk, CTCP_OUTBOUND);
		else if (oldstate == TCP_SYN_RECV)
			on_established(sk, CTCP_INBOUND);
	} else if (newstate == TCP_CLOSE) {
		on_close(sk, oldstate);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
