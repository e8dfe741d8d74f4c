/* SPDX-License-Identifier: GPL-2.0-only */
/* Process attribution (--process.attribution): the command name of the
 * process that connected, or that listened for an accepted connection,
 * taken in process context when the connection starts (the connect's
 * CLOSE->SYN_SENT and the listen's CLOSE->LISTEN run in the calling
 * process) and kept in the socket's entry as a hash; per (cgroup slot,
 * name) values, at most ctcp_comm_max names a slot. */
#ifndef PROCS_BPF_H
#define PROCS_BPF_H

#include "sockets.bpf.h"

/* (slot, name hash) -> the name and its counts; made by the connect or
 * listen that first uses a name in the slot. User space deletes a slot's
 * entries when it recycles the slot. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CTCP_MAX_PROCS);
	__type(key, struct ctcp_slot_key);
	__type(value, struct ctcp_proc);
} ctcp_procs SEC(".maps") __weak;

/* Names each slot has in ctcp_procs; zeroed with the slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTCP_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, __u64);
} ctcp_comm_count SEC(".maps") __weak;

/* Listening sockets -> the name their accepted connections inherit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CTCP_MAX_LISTENS);
	__type(key, struct ctcp_listen_key);
	__type(value, struct ctcp_listen);
} ctcp_listens SEC(".maps") __weak;

/* Set at load time: --process.attribution, --process.max-per-cgroup. */
const volatile bool ctcp_process_on __weak = false;
const volatile __u32 ctcp_comm_max __weak = 8;

/* FNV-1a of the name; never CTCP_COMM_OTHER. */
static __always_inline __u32 comm_hash(const char *comm)
{
	__u32 h = 2166136261U;

#pragma unroll
	for (int i = 0; i < CTCP_COMM_LEN; i++) {
		if (!comm[i])
			break;
		h = (h ^ (__u8)comm[i]) * 16777619U;
	}
	return h ? h : 1;
}

/* The current process's name, entered for the slot unless the slot has
 * ctcp_comm_max names already (then CTCP_COMM_OTHER). Two CPUs entering
 * names at once may both pass the check: a slot can hold a few more. */
static __always_inline __u32 comm_claim(__u32 slot)
{
	struct ctcp_proc fresh = {};
	struct ctcp_slot_key key = {.slot = slot};
	__u64 *count;

	if (bpf_get_current_comm(fresh.comm, sizeof(fresh.comm)))
		return CTCP_COMM_OTHER;
	key.id = comm_hash(fresh.comm);
	if (bpf_map_lookup_elem(&ctcp_procs, &key))
		return key.id;
	count = bpf_map_lookup_elem(&ctcp_comm_count, &slot);
	if (!count || *count >= ctcp_comm_max)
		return CTCP_COMM_OTHER;
	if (bpf_map_update_elem(&ctcp_procs, &key, &fresh, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(count, 1);
	return key.id;
}

static __always_inline struct ctcp_listen_key listen_key(const struct sock *sk)
{
	struct ctcp_listen_key key = {.port = sk->__sk_common.skc_num};

	key.netns = sk->__sk_common.skc_net.net->ns.inum;
	return key;
}

/* A socket's entry was taken: the name it is counted under. A connect
 * and a listen run in their process; an accepted socket (in softirq) takes
 * its listener's. */
static __always_inline void proc_claimed(const struct sock *sk, struct ctcp_sock *st, __u32 slot,
					 int newstate, __u64 id)
{
	struct ctcp_listen_key key;
	struct ctcp_listen *l;

	st->comm = CTCP_COMM_OTHER;
	if (!ctcp_process_on)
		return;
	if (newstate == TCP_SYN_SENT) {
		st->comm = comm_claim(slot);
	} else if (newstate == TCP_LISTEN) {
		struct ctcp_listen fresh = {.sock = id};

		st->comm = fresh.comm = comm_claim(slot);
		key = listen_key(sk);
		bpf_map_update_elem(&ctcp_listens, &key, &fresh, BPF_ANY);
	} else if (newstate == TCP_SYN_RECV) {
		key = listen_key(sk);
		l = bpf_map_lookup_elem(&ctcp_listens, &key);
		if (l)
			st->comm = l->comm;
	}
}

/* The values of the socket's name in its slot; CTCP_COMM_OTHER's when the
 * name has none there (the slot was recycled since). */
static __always_inline struct ctcp_proc *proc_of(__u32 slot, const struct ctcp_sock *st)
{
	struct ctcp_slot_key key = {.slot = slot, .id = st->comm};
	static const struct ctcp_proc other;
	struct ctcp_proc *p = bpf_map_lookup_elem(&ctcp_procs, &key);

	if (p)
		return p;
	key.id = CTCP_COMM_OTHER;
	p = bpf_map_lookup_elem(&ctcp_procs, &key);
	if (p)
		return p;
	bpf_map_update_elem(&ctcp_procs, &key, &other, BPF_NOEXIST);
	return bpf_map_lookup_elem(&ctcp_procs, &key);
}

/* After a state change's own counting (st->direction is set): a handshake
 * done or a connect failed adds to the name's values; a listener that
 * closes leaves the listeners, unless another took its port since. */
static __always_inline void proc_state(const struct sock *sk, struct ctcp_sock *st, __u32 slot,
				       int oldstate, int newstate, __u32 reason, __u64 id)
{
	struct ctcp_listen_key key;
	struct ctcp_listen *l;
	struct ctcp_proc *p;

	if (!ctcp_process_on)
		return;
	if (oldstate == TCP_LISTEN && newstate == TCP_CLOSE) {
		key = listen_key(sk);
		l = bpf_map_lookup_elem(&ctcp_listens, &key);
		if (l && l->sock == id)
			bpf_map_delete_elem(&ctcp_listens, &key);
		return;
	}
	if (newstate == TCP_ESTABLISHED && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)) {
		p = proc_of(slot, st);
		if (p)
			__sync_fetch_and_add(&p->opened[st->direction & 1], 1);
	} else if (newstate == TCP_CLOSE && oldstate == TCP_SYN_SENT) {
		p = proc_of(slot, st);
		if (p && reason < CTCP_FAIL_REASONS)
			__sync_fetch_and_add(&p->connect_failures[reason], 1);
	}
}

#endif /* PROCS_BPF_H */
