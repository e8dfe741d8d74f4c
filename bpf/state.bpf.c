// SPDX-License-Identifier: GPL-2.0-only
/* Connection lifecycle from sock:inet_sock_set_state: handshakes completed
 * and how long they took, outbound handshakes that failed (and why),
 * established connections closed and how long they lived, and the number of
 * sockets in each state. Also the existing sockets' census at start. Each
 * comes in two variants that keep the per-socket state differently; the
 * loader loads the one the kernel can take. */
#include "peers.bpf.h"
#include "procs.bpf.h"

#define EEXIST 17

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

/* Takes a free way for the socket, the one seen free first: another CPU
 * may race for it, the compare-and-swap gives it to one, and the loser
 * tries the others. The entry is in no gauge state yet. */
static __always_inline struct ctcp_sock *sock_claim(struct ctcp_sock_bucket *b, __u64 id, int free)
{
	struct ctcp_sock *st;
	int w = -1;

	if (free >= 0 && __sync_val_compare_and_swap(&b->id[way_at(free)], 0, id) == 0)
		w = free;
	else
#pragma unroll
		for (int i = 0; i < CTCP_SOCKET_WAYS; i++)
			if (w < 0 && __sync_val_compare_and_swap(&b->id[i], 0, id) == 0)
				w = i;
	if (w < 0) {
		count_stat(offsetof(struct ctcp_stats, socket_table_full) / sizeof(__u64));
		return NULL;
	}
	st = &b->way[way_at(w)];
	st->since = 0;
	st->state = TCP_CLOSE;
	st->open = 0;
	st->direction = CTCP_INBOUND;
	return st;
}

/* sock_claim for the hash: the insert that finds the entry already there
 * lost to another program, which counts the socket. */
static __always_inline struct ctcp_sock *sock_insert(__u64 id)
{
	struct ctcp_sock fresh = {.state = TCP_CLOSE, .direction = CTCP_INBOUND};
	long err = bpf_map_update_elem(&ctcp_sockets_hash, &id, &fresh, BPF_NOEXIST);

	if (err) {
		if (err != -EEXIST)
			count_stat(offsetof(struct ctcp_stats, socket_table_full) / sizeof(__u64));
		return NULL;
	}
	return bpf_map_lookup_elem(&ctcp_sockets_hash, &id);
}

/* Takes the socket's unit out of the gauge it is counted in. */
static __always_inline void gauge_leave(struct ctcp_conn *c, __u32 slot, struct ctcp_sock *st)
{
	struct ctcp_conn *was = c;

	if (!gauge_state(st->state))
		return;
	if (st->gauge_slot != slot)
		was = conn_at(st->gauge_slot);
	if (was)
		__sync_fetch_and_add(&was->sockets[state_slot(st->state)], -1);
	st->state = TCP_CLOSE;
}

/* Moves a socket's unit of the gauge to its new state, under the slot of
 * its cgroup now (which is the overflow's while the cgroup has none). */
static __always_inline void gauge_move(struct ctcp_conn *c, __u32 slot, struct ctcp_sock *st,
				       int newstate)
{
	gauge_leave(c, slot, st);
	if (gauge_state(newstate)) {
		__sync_fetch_and_add(&c->sockets[state_slot(newstate)], 1);
		st->state = newstate;
		st->gauge_slot = slot;
	}
}

/* A socket's first state change: leaving CLOSE, or a listener's child born
 * in SYN_RECV. An entry found then belongs to a socket that was freed at the
 * same address without its CLOSE being seen (a run the kernel skipped):
 * its unit leaves the gauge now. */
static __always_inline bool is_birth(int oldstate, int newstate)
{
	return oldstate == TCP_CLOSE || (oldstate == TCP_LISTEN && newstate == TCP_SYN_RECV);
}

/* The handshake's time. Outbound: the round trip from the SYN to the
 * SYN-ACK, which the kernel has just measured into srtt, to the microsecond;
 * when SYNs were retransmitted, the time since SYN_SENT, which the retries'
 * timeouts (a second and more) make long, in jiffies, which are cheaper to
 * read than the clock. Inbound: the kernel's SYN-ACK round trip, which the
 * accepted socket holds as its first srtt when it becomes ESTABLISHED (the
 * SYN_RECV socket itself is born at the final ACK). */
static __always_inline __u64 handshake_us(const struct tcp_sock *tp, struct ctcp_sock *st,
					  __u32 direction)
{
	__u32 hz = ctcp_hz;

	if (direction == CTCP_OUTBOUND && tp->total_retrans && st && st->since && hz)
		return (bpf_jiffies64() - st->since) * (1000000 / hz);
	return tp->srtt_us >> 3;
}

/* A socket becomes ESTABLISHED while the kernel handles the segment that
 * completes the handshake, right after it read the clock into
 * tp->tcp_mstamp (microseconds of the same clock as bpf_ktime_get_ns):
 * reading that costs much less than the clock. */
static __always_inline void on_established(const struct sock *sk, struct ctcp_conn *c,
					   struct ctcp_sock *st, struct ctcp_peer *pr,
					   __u32 direction)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	__u64 now, us;

	if (!tp)
		return;
	now = tp->tcp_mstamp * 1000;
	us = handshake_us(tp, st, direction);
	__sync_fetch_and_add(&c->opened[direction], 1);
	hist_add_atomic(&c->handshake[direction], time_units(us, CTCP_TIME_SHIFT), us);
	if (pr) {
		__sync_fetch_and_add(&pr->opened[direction & 1], 1);
		hist_add_atomic(&pr->handshake, time_units(us, CTCP_TIME_SHIFT), us);
	}
	if (st) {
		st->since = now;
		st->direction = direction;
		st->open = 1;
	}
}

/* CLOSE comes from many places (an application's abort, a timer) where
 * tp->tcp_mstamp can be as old as the connection's last segment: the
 * clock is read. */
static __always_inline void on_close(const struct sock *sk, struct ctcp_conn *c,
				     struct ctcp_sock *st, struct ctcp_peer *pr, int oldstate)
{
	__u32 direction;
	__u64 us, now;

	if (oldstate == TCP_SYN_SENT) {
		__u32 reason = fail_reason(sk->sk_err);

		__sync_fetch_and_add(&c->connect_failures[reason], 1);
		if (pr)
			__sync_fetch_and_add(&pr->connect_failures[reason], 1);
		return;
	}
	if (!st || !st->open)
		return;
	st->open = 0;
	now = bpf_ktime_get_ns();
	direction = st->direction & 1;
	us = now > st->since ? (now - st->since) / 1000 : 0;
	__sync_fetch_and_add(&c->closed[direction], 1);
	/* Buckets of about a millisecond reach hours in 26 slots. */
	hist_add_atomic(&c->lifetime[direction], time_units(us, CTCP_LIFETIME_SHIFT), us);
}

static __always_inline int set_state(const struct sock *sk, int oldstate, int newstate,
				     const bool hashed)
{
	__u64 id = sock_id(sk, hashed);
	struct ctcp_sock_bucket *b = NULL;
	struct ctcp_peer *pr = NULL;
	struct ctcp_sock *st;
	struct ctcp_conn *c;
	int w, free = -1;
	bool birth, fresh;
	__u32 slot;

	if (!is_tcp(sk))
		return 0;
	slot = slot_of(cgroup_of(sk));
	c = conn_at(slot);
	if (!hashed)
		b = bucket_of(id);
	if (!c || (!hashed && !b))
		return 0;
	st = sock_entry(id, hashed, &b, &w, &free);
	birth = is_birth(oldstate, newstate);
	/* The entry is out of step with the kernel: a state change of this
	 * socket, or the close of the socket that had its address before,
	 * never reached this program (the kernel skipped the run, and does
	 * not always count the skip). gauge_move() below puts the unit
	 * right; the count says it was wrong in between. */
	if (st && gauge_state(st->state) && (birth || st->state != oldstate))
		count_stat(offsetof(struct ctcp_stats, state_changes_unseen) / sizeof(__u64));
	if (st && birth) {
		gauge_leave(c, slot, st);
		st->since = 0;
		st->open = 0;
		st->direction = CTCP_INBOUND;
	}
	/* A socket older than the exporter, not yet met by the census: the
	 * first of the two to see it counts it. */
	fresh = !st && newstate != TCP_CLOSE;
	if (fresh)
		st = hashed ? sock_insert(id) : sock_claim(b, id, free);
	if (st && (birth || fresh)) {
		peer_claimed(sk, st, newstate, birth);
		proc_claimed(sk, st, slot, newstate, id);
	}
	if (st)
		gauge_move(c, slot, st, newstate);
	if (st)
		peer_accepted(sk, st, oldstate, newstate);
	if (st && peer_event(oldstate, newstate))
		pr = pair_of(slot, st->peer);
	if (pr)
		peer_state(sk, st, pr, oldstate, newstate);

	if (oldstate == TCP_ESTABLISHED) {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);

		if (tp)
			rtt_add(slot, tp); /* the last sample of the connection */
	}
	if (newstate == TCP_SYN_SENT && st) {
		st->since = bpf_jiffies64();
		st->direction = CTCP_OUTBOUND;
	} else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT) {
		on_established(sk, c, st, pr, CTCP_OUTBOUND);
	} else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
		/* A connect that met a SYN (simultaneous open, and a connect to
		 * the socket's own address) goes SYN_SENT->SYN_RECV->ESTABLISHED
		 * on the connecting socket: the kernel counts it in ActiveOpens
		 * (at the SYN), so it is outbound. Only a listener's child,
		 * whose entry was born in SYN_RECV, is inbound. */
		on_established(sk, c, st, pr, st ? st->direction & 1 : CTCP_INBOUND);
	} else if (newstate == TCP_CLOSE) {
		on_close(sk, c, st, pr, oldstate);
	}
	if (st)
		proc_state(sk, st, slot, oldstate, newstate,
			   oldstate == TCP_SYN_SENT ? fail_reason(sk->sk_err) : 0, id);
	/* Last: the entry is free from here. */
	if (w >= 0 && newstate == TCP_CLOSE) {
		if (hashed)
			bpf_map_delete_elem(&ctcp_sockets_hash, &id);
		else
			WRITE_ONCE_U64(b->id[way_at(w)], 0);
	}
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ctcp_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return set_state(sk, oldstate, newstate, false);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ctcp_set_state_hash, const struct sock *sk, int oldstate, int newstate)
{
	return set_state(sk, oldstate, newstate, true);
}

/* At start: every existing full socket of one network namespace enters the
 * gauge, unless a state change got to it first. iter/tcp runs with the
 * socket locked, so its state cannot change under us. Connections found
 * here have no known start: their close is not counted in lifetimes. */
static __always_inline int census(struct bpf_iter__tcp *ctx, const bool hashed)
{
	struct sock_common *skc = ctx->sk_common;
	struct ctcp_sock_bucket *b = NULL;
	struct tcp_sock *tp;
	struct ctcp_conn *c;
	struct ctcp_sock *st;
	int state, w, free = -1;
	__u64 id;
	__u32 slot;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0; /* time-wait and request sockets are not full sockets */
	state = tp->inet_conn.icsk_inet.sk.__sk_common.skc_state;
	id = sock_id(tp, hashed);
	if (!hashed)
		b = bucket_of(id);
	if (!gauge_state(state) || (!hashed && !b) || sock_entry(id, hashed, &b, &w, &free))
		return 0;
	slot = slot_of(tp->inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup->kn->id);
	c = conn_at(slot);
	if (!c)
		return 0;
	st = hashed ? sock_insert(id) : sock_claim(b, id, free);
	if (st) {
		peer_claimed((struct sock *)tp, st, state, false);
		st->comm = CTCP_COMM_OTHER; /* its process is not known here */
		gauge_move(c, slot, st, state);
		/* A connect still in its handshake (see set_state). */
		if (state == TCP_SYN_SENT)
			st->direction = CTCP_OUTBOUND;
	}
	return 0;
}

SEC("iter/tcp")
int ctcp_census(struct bpf_iter__tcp *ctx)
{
	return census(ctx, false);
}

SEC("iter/tcp")
int ctcp_census_hash(struct bpf_iter__tcp *ctx)
{
	return census(ctx, true);
}

char LICENSE[] SEC("license") = "GPL";
