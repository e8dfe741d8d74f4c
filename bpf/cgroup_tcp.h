/* Structs shared by the BPF programs and user space: the per-cgroup counters
 * and the per-socket state. Fixed-width types only; the includer provides
 * __u64 and friends (vmlinux.h in BPF, <linux/types.h> in user space). */
#ifndef CGROUP_TCP_H
#define CGROUP_TCP_H

/* Key of the counters map that gathers events no cgroup can own: RSTs the
 * kernel sends without a full socket (closed port, TIME_WAIT), and events
 * that found the counters map full. No cgroup has id 0. */
#define CTCP_UNATTRIBUTED_ID 0

/* Default capacity of the counters map, in cgroups. */
#define CTCP_MAX_CGROUPS 16384

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

/* One value per cgroup and CPU; user space sums the CPUs. */
struct ctcp_counters {
	__u64 opened[CTCP_DIRECTIONS];
	__u64 closed[CTCP_DIRECTIONS];
	__u64 connect_failures[CTCP_FAIL_REASONS];
	__u64 retransmits;
	__u64 resets_sent;
	__u64 resets_received;
	__u64 sent_bytes;
	__u64 received_bytes;
};

/* Counters about the BPF side itself, one per CPU. */
struct ctcp_stats {
	/* Events counted under CTCP_UNATTRIBUTED_ID because the counters map
	 * had no room for a new cgroup. */
	__u64 map_full;
};

/* Socket local storage: set when a socket completes its handshake, so the
 * close can be counted once and in the right direction. */
#define CTCP_SOCK_OPEN 0x1
struct ctcp_sock {
	__u32 flags;
	__u32 direction;
};

#endif /* CGROUP_TCP_H */
