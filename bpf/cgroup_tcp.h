/* SPDX-License-Identifier: GPL-2.0-only */
/* Structs shared by the BPF programs and user space: per-cgroup counters,
 * histograms and state gauges, and the per-socket state. Fixed-width types
 * only; the includer provides __u64 and friends (vmlinux.h in BPF,
 * <linux/types.h> in user space).
 *
 * Each field says which program writes it: file, then the program (the
 * SEC() function) and the helper that does the write. Every program finds
 * its cgroup's slot with slot_of() (bpf/counters.bpf.h). User space writes
 * no value field; it zeroes a freed slot's values before the slot is
 * reused (src/kernel/slots.c). */
#ifndef CGROUP_TCP_H
#define CGROUP_TCP_H

/* Key that gathers events no cgroup can own: RSTs the kernel sends without a
 * full socket (closed port, TIME_WAIT).
 * No cgroup has id 0. */
#define CTCP_UNATTRIBUTED_ID 0

/* Key of the overflow series: events of cgroups beyond the map capacity.
 * No cgroup has this id either. */
#define CTCP_OVERFLOW_ID 0xffffffffffffffffULL

/* Default capacity of the per-cgroup maps, in cgroups; user space sets it
 * from --cgroup.max (plus the two keys above) at load time. */
#define CTCP_MAX_CGROUPS 10002

/* Each tracked cgroup owns a slot: its index in the per-cgroup arrays. The
 * two keys above own the first two slots from the start. */
#define CTCP_UNATTRIBUTED_SLOT 0
#define CTCP_OVERFLOW_SLOT     1
#define CTCP_FIRST_FREE_SLOT   2

/* Entries of each CPU's cache of cgroup id -> slot. */
#define CTCP_SLOT_CACHE_BITS 12
#define CTCP_SLOT_CACHE	     (1 << CTCP_SLOT_CACHE_BITS)

/* One cache entry. Valid while `epoch` equals the global epoch, which user
 * space bumps whenever it frees slots (src/kernel/slots.c). Written by
 * every program, in slot_remember() (bpf/counters.bpf.h). */
struct ctcp_slot_cached {
	__u64 cgroup_id; /* 0: empty */
	__u32 slot;
	__u32 epoch;
};

/* Removed cgroups not yet handled by user space. */
#define CTCP_MAX_REMOVED 65536
#define CTCP_PATH_MAX	 256

struct ctcp_removed {
	/* Relative to the cgroup2 root, maybe cut. lifecycle.bpf.c:
	 * ctcp_cgroup_rmdir. */
	char path[CTCP_PATH_MAX];
};

/* Cgroups made since the start whose name user space has not taken yet. */
#define CTCP_MAX_CREATED 16384

enum ctcp_direction {
	CTCP_OUTBOUND,
	CTCP_INBOUND,
	CTCP_DIRECTIONS,
};

enum ctcp_fail_reason {
	CTCP_FAIL_REFUSED,
	CTCP_FAIL_TIMEOUT,
	CTCP_FAIL_UNREACHABLE,
	CTCP_FAIL_ABORTED,
	CTCP_FAIL_OTHER,
	CTCP_FAIL_REASONS,
};

enum ctcp_io_op {
	CTCP_SEND,
	CTCP_RECEIVE,
	CTCP_IO_OPS,
};

/* Indexed by the kernel's TCP state numbers (TCP_ESTABLISHED is 1 ...
 * TCP_CLOSING is 11); a power of two so a mask bounds the index. */
#define CTCP_TCP_STATES 16

/* Log2 histogram: slot i counts values v with 2^(i-1) < v <= 2^i (slot 0:
 * v <= 1) in the family's bucket unit; the last slot counts everything above
 * 2^(CTCP_HIST_SLOTS - 2). `sum` is in the family's sum unit. Written with
 * hist_add() (per-CPU values) or hist_add_atomic() (shared values) of
 * bpf/counters.bpf.h; its users are ctcp_conn.handshake and .lifetime,
 * ctcp_io.size, and the ctcp_rtt map, whose value is one ctcp_hist of
 * smoothed RTTs (buckets of 2^-CTCP_TIME_SHIFT s, sum in microseconds), written through rtt_add()
 * (bpf/counters.bpf.h) by rtt.bpf.c: ctcp_probe or ctcp_probe_checked (one
 * sample per connection and second), and by state.bpf.c: ctcp_set_state
 * (the last sample, when a connection leaves ESTABLISHED). */
#define CTCP_HIST_SLOTS 26

/* Bucket units of the time histograms: 2^-CTCP_TIME_SHIFT s (0.95 us) for
 * handshakes and RTTs, 2^-CTCP_LIFETIME_SHIFT s (0.98 ms) for lifetimes.
 * Powers of two of a second, so that the slots are exactly the buckets of
 * a Prometheus native histogram (schema 0); sums stay in microseconds. */
#define CTCP_TIME_SHIFT	    20
#define CTCP_LIFETIME_SHIFT 10
struct ctcp_hist {
	__u64 sum;
	__u64 slots[CTCP_HIST_SLOTS];
};

/* Connection lifecycle, per cgroup, shared by all CPUs (atomic adds): these
 * events are rare next to packets and calls, and one copy per cgroup keeps
 * memory flat in the number of CPUs. */
struct ctcp_conn {
	/* state.bpf.c: ctcp_set_state, on_established(). */
	__u64 opened[CTCP_DIRECTIONS];
	/* state.bpf.c: ctcp_set_state, on_close() (connections whose
	 * ESTABLISHED it saw). */
	__u64 closed[CTCP_DIRECTIONS];
	/* state.bpf.c: ctcp_set_state, on_close() at SYN_SENT -> CLOSE. */
	__u64 connect_failures[CTCP_FAIL_REASONS];
	/* errors.bpf.c: ctcp_retransmit (segments). */
	__u64 retransmits;
	/* errors.bpf.c: ctcp_reset_sent. */
	__u64 resets_sent;
	/* errors.bpf.c: ctcp_reset_received. */
	__u64 resets_received;
	/* Sockets now in each state: +1 entering, -1 leaving. state.bpf.c:
	 * ctcp_set_state and, at start, ctcp_census, through gauge_move()
	 * and gauge_leave(). */
	__s64 sockets[CTCP_TCP_STATES];
	/* Buckets of 2^-CTCP_TIME_SHIFT s, sum in microseconds. state.bpf.c:
	 * ctcp_set_state, on_established(). */
	struct ctcp_hist handshake[CTCP_DIRECTIONS];
	/* Buckets of 2^-CTCP_LIFETIME_SHIFT s, sum in microseconds. state.bpf.c:
	 * ctcp_set_state, on_close(). */
	struct ctcp_hist lifetime[CTCP_DIRECTIONS];
};

/* Bytes per send and receive call, per cgroup and CPU: the hot path. The
 * histogram sum is the byte count. In the ctcp_io map (per CPU) for the
 * first slots, in ctcp_io_shared for the others. */
struct ctcp_io {
	/* io.bpf.c: ctcp_send ([CTCP_SEND]) and ctcp_recv ([CTCP_RECEIVE]),
	 * through count_io(). */
	struct ctcp_hist size[CTCP_IO_OPS];
};

/* Counters about the BPF side itself, one per CPU. */
struct ctcp_stats {
	/* Events counted under CTCP_OVERFLOW_ID (its slot) because no slot was
	 * left for a new cgroup. Every program that finds a slot:
	 * slot_lookup() in bpf/counters.bpf.h. */
	__u64 map_full;
	/* State changes of sockets that found no free entry in the socket
	 * table: those sockets are not in the gauge. state.bpf.c:
	 * ctcp_set_state and ctcp_census, in sock_claim(). */
	__u64 socket_table_full;
	/* cgroup removals that found the removed map full: their entries
	 * stay until the exporter restarts. lifecycle.bpf.c:
	 * ctcp_cgroup_rmdir. */
	__u64 removed_lost;
	/* Events counted under the overflow pair because ctcp_pairs had no
	 * room for a new (cgroup, peer group) pair: pair_of() in
	 * bpf/peers.bpf.h. */
	__u64 pairs_full;
	/* State changes that never reached ctcp_set_state, found later: the
	 * socket's next change came from another state than its entry's, or
	 * a socket was born at the address of one whose close was not seen.
	 * state.bpf.c: set_state(). */
	__u64 state_changes_unseen;
};

/* The socket table: per-socket state in buckets of a few ways, found by a
 * hash of the socket's address. Default capacity in sockets; user space
 * sets it from --socket.max at load time (a power of two). */
#define CTCP_MAX_SOCKETS 262144
#define CTCP_SOCKET_WAYS 8

/* A socket's entry, taken at its first state change (or by the census at
 * start) and given back when it reaches CLOSE. Written only by state.bpf.c:
 * ctcp_set_state, and ctcp_census where it says so; sock_claim() resets
 * since, state, open and direction when it takes an entry. */
struct ctcp_sock {
	/* Jiffies at SYN_SENT (ctcp_set_state), then ns at ESTABLISHED
	 * (on_established()); 0: unknown. */
	__u64 since;
	/* The slot whose gauge counts it: gauge_move() (ctcp_set_state,
	 * ctcp_census). */
	__u32 gauge_slot;
	/* The gauge state it is counted in; TCP_CLOSE: none. gauge_move()
	 * and gauge_leave() (ctcp_set_state, ctcp_census). */
	__u8 state;
	/* CTCP_OUTBOUND once the socket was in SYN_SENT (ctcp_set_state,
	 * ctcp_census), which decides a handshake ending in SYN_RECV; then
	 * on_established() (ctcp_set_state). */
	__u8 direction;
	/* Established, close not yet counted: set by on_established(),
	 * cleared by on_close() (ctcp_set_state). */
	__u8 open;
	/* The peer group of the remote address, found once when the entry
	 * is taken: peer_claimed() (ctcp_set_state, ctcp_census). */
	__u8 peer;
	/* Low 32 bits of the connection's bytes acked and received that its
	 * peer group was given: peer_bytes() (ctcp_set_state, ctcp_probe). */
	__u32 peer_acked;
	__u32 peer_received;
	/* With --process.attribution: the hash of the command name the
	 * connection is counted under (0: "(other)"), taken in process
	 * context at the connect or the listen, or the listener's for an
	 * accepted socket: proc_claimed() (ctcp_set_state). */
	__u32 comm;
	__u32 pad2;
};

/* The sockets' ids first, together, so that finding one reads a single
 * cache line; id 0 marks a free way. An id is taken by sock_claim() and
 * given back by ctcp_set_state at CLOSE (state.bpf.c). */
struct ctcp_sock_bucket {
	__u64 id[CTCP_SOCKET_WAYS];
	struct ctcp_sock way[CTCP_SOCKET_WAYS];
};

/* Peer groups: named sets of remote addresses (and ports), found once per
 * connection in an LPM trie that user space fills at start
 * (src/peers/groups.c compiles the rules). IPv4 addresses are keyed as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d), so both families share one trie. */
#define CTCP_PEER_OTHER	   0 /* no rule matched */
#define CTCP_PEER_GROUPS   256
#define CTCP_PEER_PORTS	   16
#define CTCP_PEER_PREFIXES 16384

struct ctcp_peer_key {
	__u32 prefixlen; /* of addr, 0-128 */
	__u8 addr[16];
};

/* What a remote address in the prefix belongs to: the group of ports[i] is
 * port_group[i], of any other port `group`. */
struct ctcp_peer_rule {
	__u16 ports[CTCP_PEER_PORTS];
	__u8 port_group[CTCP_PEER_PORTS];
	__u8 nports;
	__u8 group;
	__u8 pad[6];
};

/* The key of the maps of (cgroup slot, something) pairs: ctcp_pairs
 * (id: the peer group; the overflow pair, events of pairs beyond
 * --peer.max-pairs, has slot CTCP_PAIR_OVERFLOW) and ctcp_procs (id: the
 * command name's hash). */
#define CTCP_PAIR_OVERFLOW 0xffffffffU
#define CTCP_MAX_PAIRS	   4096
struct ctcp_slot_key {
	__u32 slot;
	__u32 id;
};

/* A pair's values, shared by all CPUs (atomic adds). Written through
 * pair_of() (bpf/peers.bpf.h). */
struct ctcp_peer {
	/* state.bpf.c: ctcp_set_state, on_established(). */
	__u64 opened[CTCP_DIRECTIONS];
	/* state.bpf.c: ctcp_set_state, on_close() at SYN_SENT -> CLOSE. */
	__u64 connect_failures[CTCP_FAIL_REASONS];
	/* errors.bpf.c: ctcp_retransmit, ctcp_reset_sent, ctcp_reset_received. */
	__u64 retransmits;
	__u64 resets_sent;
	__u64 resets_received;
	/* Bytes acked by the peer and received from it (TCP payload), added
	 * at each RTT sample and at CLOSE: peer_bytes() (rtt.bpf.c:
	 * ctcp_probe, state.bpf.c: ctcp_set_state). */
	__u64 sent_bytes;
	__u64 received_bytes;
	/* As ctcp_conn.handshake, both directions. state.bpf.c:
	 * on_established(). */
	struct ctcp_hist handshake;
	/* As the ctcp_rtt map: rtt_add() (rtt.bpf.c, state.bpf.c). */
	struct ctcp_hist rtt;
};

/* Process attribution: per (cgroup slot, command name) values in
 * ctcp_procs, at most ctcp_comm_max names a slot (ctcp_comm_count); the
 * others share id CTCP_COMM_OTHER. Written by state.bpf.c: ctcp_set_state,
 * through proc_state() (bpf/procs.bpf.h). */
#define CTCP_COMM_LEN	 16
#define CTCP_COMM_OTHER	 0
#define CTCP_MAX_PROCS	 1024
#define CTCP_MAX_LISTENS 65536
struct ctcp_proc {
	char comm[CTCP_COMM_LEN]; /* empty for CTCP_COMM_OTHER */
	__u64 opened[CTCP_DIRECTIONS];
	__u64 connect_failures[CTCP_FAIL_REASONS];
};

/* Listening sockets by network namespace and port: the command name their
 * accepted connections are counted under. */
struct ctcp_listen_key {
	__u32 netns;
	__u32 port;
};
struct ctcp_listen {
	__u64 sock; /* the listener's id (state.bpf.c: sock_id()) */
	__u32 comm;
	__u32 pad;
};

#endif /* CGROUP_TCP_H */
