// SPDX-License-Identifier: GPL-2.0
/* Connection lifecycle from sock:inet_sock_set_state: handshakes completed
 * and how long they took, outbound handshakes that failed (and why),
 * established connections closed and how long they lived, and the number of
 * sockets in each state. Also the existing sockets' census at start. */
#include "counters.bpf.h"

#define ECONNREFUSED 111
#define ETIMEDOUT    110
#define EHOSTUNREACH 113
#define ENETUNREACH  101
#define EHOSTDOWN    112
#define ENETDOWN     100

/* sk_err at SYN_SENT->CLOSE says why the handshake ended; 0 means the
 * application closed the socket first. */
static __always_inline __u32 fail_reason(int err)
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

/* The states the gauge shows: every state a full socket can be in, but the
 * two that mean it is gone (TIME_WAIT belongs to a separate mini socket). */
static __always_inline bool gauge_state(int state)
{
	return state >= TCP_ESTABLISHED && state <= TCP_CLOSING && state != TCP_TIME_WAIT &&
	       state != TCP_CLOSE;
}

/* A gauge index the verifier can see is in bounds: the mask must survive the
 * compiler, which knows gauge_state() already bounded the value. */
static __always_inline __u32 state_slot(__u32 state)
{
	barrier_var(state);
	return state & (CTCP_TCP_STATES - 1);
}

/* The key a socket's values go under: its cgroup, or the overflow. */
static __always_inline __u64 key_of(__u64 cgid, __u32 slot)
{
	return slot == CTCP_OVERFLOW_SLOT ? CTCP_OVERFLOW_ID : cgid;
}

static __always_inline __u32 slot_of_key(__u64 key)
{
	return key == CTCP_OVERFLOW_ID ? CTCP_OVERFLOW_SLOT : slot_of(key);
}

/* Moves a socket's unit of the gauge to its new state. The first to set
 * `counted` (a state change or the census, which holds the socket lock) adds
 * the socket; later moves take it out of the state and the key it was
 * counted under, so the gauge never counts a socket twice nor takes out one
 * it never added. `counted` never goes back to 0: once read set, no atomic
 * operation is needed. */
static __always_inline void gauge_move(struct ctcp_conn *c, __u64 key, struct ctcp_sock *st,
				       int newstate)
{
	__u32 old = st->state;
	struct ctcp_conn *was = c;
	bool counted =
	    READ_ONCE_U32(st->counted) || __sync_val_compare_and_swap(&st->counted, 0, 1) != 0;

	if (counted && gauge_state(old)) {
		if (st->gauge_key != key)
			was = conn_at(slot_of_key(st->gauge_key));
		if (was)
			__sync_fetch_and_add(&was->sockets[state_slot(old)], -1);
	}
	if (gauge_state(newstate)) {
		__sync_fetch_and_add(&c->sockets[state_slot(newstate)], 1);
		st->state = newstate;
		st->gauge_key = key;
	} else {
		st->state = TCP_CLOSE;
	}
}

/* Outbound: from SYN_SENT to ESTABLISHED. Inbound: the kernel's SYN-ACK
 * round trip, which the accepted socket holds as its first srtt when it
 * becomes ESTABLISHED (the SYN_RECV socket itself is born at the final ACK).
 * A connect already under way at start has no SYN_SENT time: srtt too. */
static __always_inline __u64 handshake_us(const struct sock *sk, struct ctcp_sock *st,
					  __u32 direction, __u64 now)
{
	struct tcp_sock *tp;

	if (direction == CTCP_OUTBOUND && st && st->since_ns && now > st->since_ns)
		return (now - st->since_ns) / 1000;
	tp = bpf_skc_to_tcp_sock((void *)sk);
	return tp ? tp->srtt_us >> 3 : 0;
}

/* The clock is read only on the transitions that need it: one read costs
 * about as much as running an empty program. */
static __always_inline void on_established(const struct sock *sk, struct ctcp_conn *c,
					   struct ctcp_sock *st, __u32 direction)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 us = handshake_us(sk, st, direction, now);

	__sync_fetch_and_add(&c->opened[direction], 1);
	hist_add_atomic(&c->handshake[direction], us, us);
	if (st) {
		st->since_ns = now;
		st->direction = direction;
		st->open = 1;
	}
}

static __always_inline void on_close(const struct sock *sk, struct ctcp_conn *c,
				     struct ctcp_sock *st, int oldstate)
{
	__u32 direction;
	__u64 us, now;

	if (oldstate == TCP_SYN_SENT) {
		__sync_fetch_and_add(&c->connect_failures[fail_reason(sk->sk_err)], 1);
		return;
	}
	if (!st || !st->open)
		return;
	st->open = 0;
	now = bpf_ktime_get_ns();
	direction = st->direction & 1;
	us = now > st->since_ns ? (now - st->since_ns) / 1000 : 0;
	__sync_fetch_and_add(&c->closed[direction], 1);
	/* Buckets in milliseconds reach hours in 26 slots. */
	hist_add_atomic(&c->lifetime[direction], us / 1000, us);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ctcp_set_state, const struct sock *sk, int oldstate, int newstate)
{
	struct ctcp_conn *c;
	struct ctcp_sock *st;
	__u64 cgid, key;
	__u32 slot;

	if (!is_tcp(sk))
		return 0;
	cgid = cgroup_of(sk);
	slot = slot_of(cgid);
	key = key_of(cgid, slot);
	c = conn_at(slot);
	if (!c)
		return 0;
	st = bpf_sk_storage_get(&ctcp_socks, (struct sock *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st)
		gauge_move(c, key, st, newstate);
	else
		count_stat(offsetof(struct ctcp_stats, no_storage) / sizeof(__u64));

	if (oldstate == TCP_ESTABLISHED)
		rtt_sample(sk); /* the last one of the connection */
	if (newstate == TCP_SYN_SENT && st)
		st->since_ns = bpf_ktime_get_ns();
	else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT)
		on_established(sk, c, st, CTCP_OUTBOUND);
	else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV)
		on_established(sk, c, st, CTCP_INBOUND);
	else if (newstate == TCP_CLOSE)
		on_close(sk, c, st, oldstate);
	return 0;
}

/* At start: every existing full socket of one network namespace enters the
 * gauge, unless a state change got to it first. iter/tcp runs with the
 * socket locked, so its state cannot change under us. Connections found
 * here have no known start: their close is not counted in lifetimes. */
SEC("iter/tcp")
int ctcp_census(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	struct ctcp_conn *c;
	struct ctcp_sock *st;
	int state;
	__u64 cgid;
	__u32 slot;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0; /* time-wait and request sockets are not full sockets */
	st = bpf_sk_storage_get(&ctcp_socks, tp, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		count_stat(offsetof(struct ctcp_stats, no_storage) / sizeof(__u64));
		return 0;
	}
	state = tp->inet_conn.icsk_inet.sk.__sk_common.skc_state;
	if (!gauge_state(state) || __sync_val_compare_and_swap(&st->counted, 0, 1) != 0)
		return 0;
	cgid = tp->inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup->kn->id;
	slot = slot_of(cgid);
	c = conn_at(slot);
	if (!c)
		return 0;
	__sync_fetch_and_add(&c->sockets[state_slot(state)], 1);
	st->state = state;
	st->gauge_key = key_of(cgid, slot);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
