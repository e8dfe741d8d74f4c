/* Structs shared by the BPF programs and user space: per-cgroup counters,
 * histograms and state gauges, and the per-socket state. Fixed-width types
 * only; the includer provides __u64 and friends (vmlinux.h in BPF,
 * <linux/types.h> in user space). */
#ifndef CGROUP_TCP_H
#define CGROUP_TCP_H

/* Key that gathers events no cgroup can own: RSTs the kernel sends without a
 * full socket (closed port, TIME_WAIT), and events that found a map full.
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
 * space bumps whenever it frees slots. */
struct ctcp_slot_cached {
	__u64 cgroup_id; /* 0: empty */
	__u32 slot;
	__u32 epoch;
};

/* Removed cgroups not yet handled by user space. */
#define CTCP_MAX_REMOVED 65536
#define CTCP_PATH_MAX	 256

struct ctcp_removed {
	char path[CTCP_PATH_MAX]; /* relative to the cgroup2 root, maybe cut */
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
 * 2^(CTCP_HIST_SLOTS - 2). `sum` is in the family's sum unit. */
#define CTCP_HIST_SLOTS 26
struct ctcp_hist {
	__u64 sum;
	__u64 slots[CTCP_HIST_SLOTS];
};

/* Connection lifecycle, per cgroup, shared by all CPUs (atomic adds): these
 * events are rare next to packets and calls, and one copy per cgroup keeps
 * memory flat in the number of CPUs. */
struct ctcp_conn {
	__u64 opened[CTCP_DIRECTIONS];
	__u64 closed[CTCP_DIRECTIONS];
	__u64 connect_failures[CTCP_FAIL_REASONS];
	__u64 retransmits;
	__u64 resets_sent;
	__u64 resets_received;
	/* Sockets now in each state: +1 entering, -1 leaving. */
	__s64 sockets[CTCP_TCP_STATES];
	/* Microseconds. */
	struct ctcp_hist handshake[CTCP_DIRECTIONS];
	/* Buckets in milliseconds, sum in microseconds. */
	struct ctcp_hist lifetime[CTCP_DIRECTIONS];
};

/* Bytes per send and receive call, per cgroup and CPU: the hot path. The
 * histogram sum is the byte count. */
struct ctcp_io {
	struct ctcp_hist size[CTCP_IO_OPS];
};

/* Counters about the BPF side itself, one per CPU. */
struct ctcp_stats {
	/* Events counted under CTCP_UNATTRIBUTED_ID because a per-cgroup map
	 * had no room for a new cgroup. */
	__u64 map_full;
	/* State changes of sockets that found no free entry in the socket
	 * table: those sockets are not in the gauge. */
	__u64 socket_table_full;
	/* cgroup removals that found the removed map full: their entries
	 * stay until the exporter restarts. */
	__u64 removed_lost;
};

/* The socket table: per-socket state in buckets of a few ways, found by a
 * hash of the socket's address. Default capacity in sockets; user space
 * sets it from --socket.max at load time (a power of two). */
#define CTCP_MAX_SOCKETS 262144
#define CTCP_SOCKET_WAYS 8

/* A socket's entry, taken at its first state change (or by the census at
 * start) and given back when it reaches CLOSE. */
struct ctcp_sock {
	__u64 since;	  /* jiffies at SYN_SENT, then ns at ESTABLISHED; 0: unknown */
	__u32 gauge_slot; /* the slot whose gauge counts it */
	__u8 state;	  /* the gauge state it is counted in; TCP_CLOSE: none */
	__u8 direction;
	__u8 open; /* established, close not yet counted */
	__u8 pad;
};

/* The sockets' ids first, together, so that finding one reads a single
 * cache line; id 0 marks a free way. */
struct ctcp_sock_bucket {
	__u64 id[CTCP_SOCKET_WAYS];
	struct ctcp_sock way[CTCP_SOCKET_WAYS];
};

#endif /* CGROUP_TCP_H */
