/* SPDX-License-Identifier: GPL-2.0-only */
/* The metric catalogue: one entry per family.
 *
 * Adding a per-cgroup metric, step by step:
 * 1. The field, in a value struct of bpf/cgroup_tcp.h: struct ctcp_conn for
 *    connection events (shared by all CPUs, atomic adds), struct ctcp_io for
 *    per-call I/O (per CPU for the first slots, shared for the others). Its
 *    comment names the program that writes it.
 * 2. The program that writes it, in bpf/: it finds the cgroup's slot
 *    with slot_of() (bpf/counters.bpf.h) and adds with __sync_fetch_and_add
 *    or hist_add_atomic() to shared values, with plain adds or hist_add() to
 *    per-CPU ones. A new tracepoint is a new SEC("tp_btf/...") program in
 *    the .bpf.c of its concern (a new file also goes in bpf_sources in
 *    bpf/meson.build): the loader (src/kernel/loader.c) attaches every
 *    program, up to LOADER_MAX_PROGS, and leaves off one whose tracepoint
 *    the kernel lacks.
 * 3. Only for a new value map, not a field of an existing struct: the map
 *    in bpf/counters.bpf.h, its member in struct cgroup_values
 *    (catalogue.h), and its row in value_maps (src/kernel/value_maps.c),
 *    which the loader sizes, the collector reads, the slot recycling zeroes
 *    and the exporter's map metrics show. A field of an existing struct
 *    reaches the snapshot by itself: struct cgroup_values holds whole
 *    structs.
 * 4. The entry here: name, type, unit, help, label and its values, offset
 *    in struct cgroup_values (CONN(field) for ctcp_conn), and a hist_spec
 *    for a histogram.
 * 5. The README's metric table, generated from this file:
 *    `meson compile -C build update-readme` (the docs suite checks it).
 * 6. Tests: tests/unit/test_render.c renders every entry and checks that
 *    each counter and gauge value reaches its sample by itself; for a
 *    histogram add bucket and sum assertions as test_histogram_buckets has
 *    for the RTT. Add exact counts to the integration test whose workload
 *    makes the event: tests/integration/test_counters.py for counters (its
 *    FAMILIES, COUNTERS and expected_client/expected_server),
 *    test_distributions.py for gauges and histograms; test_counters also
 *    checks that the scrape serves exactly the catalogue's families.
 *
 * An exporter metric instead: its enum self_family value (catalogue.h), its
 * entry in exporter_families below, and its samples in src/self.c. */
#include "catalogue.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TCP_STATE(n) (n) /* the kernel's TCP state numbers */

const char *const pair_labels[ROW_KINDS] = {
    [ROWS_PEER] = PEER_LABEL,
    [ROWS_PROCESS] = COMM_LABEL,
};

const char *const identity_labels[IDENTITY_LABELS] = {"container_id", "pod_uid", "namespace", "pod",
						      "container"};

static const char *const directions[CTCP_DIRECTIONS] = {
    [CTCP_OUTBOUND] = "outbound",
    [CTCP_INBOUND] = "inbound",
};

static const char *const fail_reasons[CTCP_FAIL_REASONS] = {
    [CTCP_FAIL_REFUSED] = "refused",
    [CTCP_FAIL_TIMEOUT] = "timeout",
    [CTCP_FAIL_UNREACHABLE] = "unreachable",
    [CTCP_FAIL_ABORTED] = "aborted",
    [CTCP_FAIL_OTHER] = "other",
};

static const char *const io_ops[CTCP_IO_OPS] = {
    [CTCP_SEND] = "send",
    [CTCP_RECEIVE] = "receive",
};

/* The states a live socket can be counted in, with the kernel's numbers. */
static const char *const states[] = {
    "established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2",
    "close_wait",  "last_ack", "closing",  "listen",
};
static const unsigned char state_numbers[ARRAY_LEN(states)] = {
    TCP_STATE(1), TCP_STATE(2), TCP_STATE(3),  TCP_STATE(4),  TCP_STATE(5),
    TCP_STATE(8), TCP_STATE(9), TCP_STATE(11), TCP_STATE(10),
};

/* Buckets of 2^-20 s (0.95 us) units: 2^-17 s = 7.6 us to 16 s, loopback to
 * intercontinental. Sums are kept in microseconds. */
static const struct hist_spec fine_time = {
    .unit_log2 = -CTCP_TIME_SHIFT, .sum_divisor = 1e6, .first = 3, .last = 24};
/* Buckets of 2^-10 s (0.98 ms) units: 2^-10 s to 2^14 s = 4.6 hours. */
static const struct hist_spec coarse_time = {
    .unit_log2 = -CTCP_LIFETIME_SHIFT, .sum_divisor = 1e6, .first = 0, .last = 24};
/* 1 byte to 16 MiB. */
static const struct hist_spec bytes = {.unit_log2 = 0, .sum_divisor = 1, .first = 0, .last = 24};

#define CONN(field)    offsetof(struct cgroup_values, conn.field)
#define U64_SIZE       sizeof(__u64)
#define HIST_SIZE      sizeof(struct ctcp_hist)
#define COUNTER(field) .type = FAMILY_COUNTER, .offset = CONN(field), .stride = U64_SIZE
#define PEER(field)    offsetof(struct cgroup_values, peer.field)
#define PEER_COUNTER(field)                                                                        \
	.type = FAMILY_COUNTER, .offset = PEER(field), .stride = U64_SIZE, .rows = ROWS_PEER
#define PROC(field) offsetof(struct cgroup_values, proc.field)
#define LABELED(label_name, label_set)                                                             \
	.label = label_name, .label_values = label_set, .values = ARRAY_LEN(label_set)

const struct family cgroup_families[] = {
    {
	.name = "cgroup_tcp_connections_opened",
	COUNTER(opened),
	LABELED("direction", directions),
	.help = "TCP handshakes completed by sockets of the cgroup: outbound (SYN_SENT to "
		"ESTABLISHED) and inbound (SYN_RECV to ESTABLISHED).",
    },
    {
	.name = "cgroup_tcp_connect_failures",
	COUNTER(connect_failures),
	LABELED("reason", fail_reasons),
	.help = "Outbound TCP handshakes that ended in CLOSE, by the socket error at that "
		"moment: refused (RST), timeout, unreachable (ICMP), aborted (closed by the "
		"application first), other.",
    },
    {
	.name = "cgroup_tcp_connections_closed",
	COUNTER(closed),
	LABELED("direction", directions),
	.help = "TCP connections that reached CLOSE after a handshake completed while the "
		"exporter ran, by the direction they were opened in.",
    },
    {
	.name = "cgroup_tcp_retransmits",
	COUNTER(retransmits),
	.values = 1,
	.help = "TCP segments retransmitted by sockets of the cgroup (as the kernel's "
		"RetransSegs).",
    },
    {
	.name = "cgroup_tcp_resets_sent",
	COUNTER(resets_sent),
	.values = 1,
	.help = "TCP resets sent by sockets of the cgroup. cgroup=\"\" holds resets the "
		"kernel sent without an owning socket (closed port, time-wait).",
    },
    {
	.name = "cgroup_tcp_resets_received",
	COUNTER(resets_received),
	.values = 1,
	.help = "TCP resets received by sockets of the cgroup.",
    },
    {
	.name = "cgroup_tcp_sent_bytes",
	.type = FAMILY_COUNTER,
	.unit = "bytes",
	.offset = offsetof(struct cgroup_values, io.size[CTCP_SEND].sum),
	.values = 1,
	.help = "Bytes returned by send calls on TCP sockets of the cgroup.",
    },
    {
	.name = "cgroup_tcp_received_bytes",
	.type = FAMILY_COUNTER,
	.unit = "bytes",
	.offset = offsetof(struct cgroup_values, io.size[CTCP_RECEIVE].sum),
	.values = 1,
	.help = "Bytes returned by receive calls on TCP sockets of the cgroup, peeks not "
		"counted.",
    },
    {
	.name = "cgroup_tcp_connections",
	.type = FAMILY_GAUGE,
	LABELED("state", states),
	.label_index = state_numbers,
	.offset = CONN(sockets),
	.stride = U64_SIZE,
	.help = "TCP sockets of the cgroup now in each state, sockets that existed before "
		"the exporter started included (time-wait ones are not the cgroup's any "
		"more).",
    },
    {
	.name = "cgroup_tcp_handshake_duration_seconds",
	.type = FAMILY_HISTOGRAM,
	.unit = "seconds",
	LABELED("direction", directions),
	.offset = CONN(handshake),
	.stride = HIST_SIZE,
	.hist = &fine_time,
	.help = "TCP handshake time: the round trip of the SYN (outbound) or SYN-ACK "
		"(inbound) the kernel measures; outbound, when SYNs were retransmitted, the "
		"whole wait since the connect began, to a clock tick. Its _count equals "
		"cgroup_tcp_connections_opened_total.",
    },
    {
	.name = "cgroup_tcp_connection_duration_seconds",
	.type = FAMILY_HISTOGRAM,
	.unit = "seconds",
	LABELED("direction", directions),
	.offset = CONN(lifetime),
	.stride = HIST_SIZE,
	.hist = &coarse_time,
	.help = "Lifetime of TCP connections from ESTABLISHED to CLOSE. Its _count equals "
		"cgroup_tcp_connections_closed_total.",
    },
    {
	.name = "cgroup_tcp_rtt_seconds",
	.type = FAMILY_HISTOGRAM,
	.unit = "seconds",
	.values = 1,
	.offset = offsetof(struct cgroup_values, rtt),
	.stride = HIST_SIZE,
	.hist = &fine_time,
	.help = "Smoothed RTT of the cgroup's TCP connections, sampled when a connection "
		"receives its first segment of a new second (at most once a second) and when "
		"it leaves ESTABLISHED: it weighs connections, not packets.",
    },
    {
	.name = "cgroup_tcp_io_size_bytes",
	.type = FAMILY_HISTOGRAM,
	.unit = "bytes",
	LABELED("op", io_ops),
	.offset = offsetof(struct cgroup_values, io.size),
	.stride = HIST_SIZE,
	.hist = &bytes,
	.help = "Bytes per send or receive call on TCP sockets of the cgroup; its _sum is "
		"the byte counters.",
    },
    /* Per (cgroup, peer group) pair. */
    {
	.name = "cgroup_tcp_peer_connections_opened",
	PEER_COUNTER(opened),
	LABELED("direction", directions),
	.help = "TCP handshakes completed by sockets of the cgroup with peers of the group, "
		"outbound and inbound (grouped by the client's address).",
    },
    {
	.name = "cgroup_tcp_peer_connect_failures",
	PEER_COUNTER(connect_failures),
	LABELED("reason", fail_reasons),
	.help = "Outbound TCP handshakes of the cgroup to peers of the group that ended in "
		"CLOSE, by reason as cgroup_tcp_connect_failures_total.",
    },
    {
	.name = "cgroup_tcp_peer_retransmits",
	PEER_COUNTER(retransmits),
	.values = 1,
	.help = "TCP segments the cgroup retransmitted to peers of the group.",
    },
    {
	.name = "cgroup_tcp_peer_resets_sent",
	PEER_COUNTER(resets_sent),
	.values = 1,
	.help = "TCP resets sent by sockets of the cgroup to peers of the group "
		"(cgroup=\"\" holds those of time-wait sockets; resets sent without a socket "
		"have no peer group).",
    },
    {
	.name = "cgroup_tcp_peer_resets_received",
	PEER_COUNTER(resets_received),
	.values = 1,
	.help = "TCP resets the cgroup received from peers of the group.",
    },
    {
	.name = "cgroup_tcp_peer_sent_bytes",
	PEER_COUNTER(sent_bytes),
	.unit = "bytes",
	.values = 1,
	.help = "TCP payload bytes of the cgroup that peers of the group acknowledged, added "
		"at most once a second per connection and when it closes.",
    },
    {
	.name = "cgroup_tcp_peer_received_bytes",
	PEER_COUNTER(received_bytes),
	.unit = "bytes",
	.values = 1,
	.help = "TCP payload bytes the cgroup received from peers of the group, added at most "
		"once a second per connection and when it closes.",
    },
    {
	.name = "cgroup_tcp_peer_handshake_duration_seconds",
	.type = FAMILY_HISTOGRAM,
	.unit = "seconds",
	.values = 1,
	.offset = PEER(handshake),
	.stride = HIST_SIZE,
	.hist = &fine_time,
	.rows = ROWS_PEER,
	.help = "TCP handshake time with peers of the group, both directions, measured as "
		"cgroup_tcp_handshake_duration_seconds. Its _count equals the sum of "
		"cgroup_tcp_peer_connections_opened_total.",
    },
    {
	.name = "cgroup_tcp_peer_rtt_seconds",
	.type = FAMILY_HISTOGRAM,
	.unit = "seconds",
	.values = 1,
	.offset = PEER(rtt),
	.stride = HIST_SIZE,
	.hist = &fine_time,
	.rows = ROWS_PEER,
	.help = "Smoothed RTT of the cgroup's TCP connections with peers of the group, sampled "
		"when a connection receives its first segment of a new second and when it "
		"closes.",
    },
    /* Per (cgroup, command name) pair, with --process.attribution. */
    {
	.name = "cgroup_tcp_process_connections_opened",
	.type = FAMILY_COUNTER,
	.offset = PROC(opened),
	.stride = U64_SIZE,
	.rows = ROWS_PROCESS,
	LABELED("direction", directions),
	.help = "TCP handshakes completed by sockets of the cgroup, by the command name of the "
		"process that connected (outbound) or listened (inbound); comm=\"(other)\" holds "
		"names past --process.max-per-cgroup and listeners older than the exporter.",
    },
    {
	.name = "cgroup_tcp_process_connect_failures",
	.type = FAMILY_COUNTER,
	.offset = PROC(connect_failures),
	.stride = U64_SIZE,
	.rows = ROWS_PROCESS,
	LABELED("reason", fail_reasons),
	.help = "Outbound TCP handshakes of the cgroup that ended in CLOSE, by the command name "
		"of the process that connected and the reason, as "
		"cgroup_tcp_connect_failures_total.",
    },
};
const size_t cgroup_families_len = ARRAY_LEN(cgroup_families);

#define LABELS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define SELF(id, metric, kind, text, ...)                                                          \
	[id] = {.name = metric, .type = kind, .help = text, __VA_ARGS__}

const struct family exporter_families[SELF_FAMILIES] = {
    SELF(SELF_BUILD_INFO, "cgroup_tcp_exporter_build_info", FAMILY_GAUGE,
	 "Always 1: the exporter's version and revision, the kernel it runs on and the "
	 "libbpf it uses.",
	 .label_names = LABELS("version", "revision", "kernel", "libbpf")),
    SELF(SELF_SCRAPE_DURATION, "cgroup_tcp_exporter_scrape_duration_seconds", FAMILY_GAUGE,
	 "Time the last finished scrape spent reading the kernel maps and rendering (and "
	 "gzipping) its response; time waiting for the client to take the data is not counted.",
	 .unit = "seconds"),
    SELF(SELF_PROGRAM_ATTACHED, "cgroup_tcp_exporter_program_attached", FAMILY_GAUGE,
	 "1 when the BPF program is attached to its tracepoint, 0 when this kernel lacks the "
	 "tracepoint.",
	 .label_names = LABELS("program", "tracepoint")),
    SELF(SELF_PROGRAM_RUN_SECONDS, "cgroup_tcp_exporter_program_run_seconds", FAMILY_COUNTER,
	 "Time the kernel spent running the BPF program; counts only while "
	 "kernel.bpf_stats_enabled=1.",
	 .unit = "seconds", .label_names = LABELS("program")),
    SELF(SELF_PROGRAM_RUNS, "cgroup_tcp_exporter_program_runs", FAMILY_COUNTER,
	 "Times the kernel ran the BPF program; counts only while kernel.bpf_stats_enabled=1.",
	 .label_names = LABELS("program")),
    SELF(SELF_PROGRAM_MISSED_RUNS, "cgroup_tcp_exporter_program_missed_runs", FAMILY_COUNTER,
	 "Events the kernel did not give the BPF program because it was already running on that "
	 "CPU (an interrupt arrived while it ran); those events are missing from the metrics.",
	 .label_names = LABELS("program")),
    SELF(SELF_MAP_ENTRIES, "cgroup_tcp_exporter_map_entries", FAMILY_GAUGE,
	 "Entries in a per-cgroup BPF map at the last scrape.", .label_names = LABELS("map")),
    SELF(SELF_MAP_CAPACITY, "cgroup_tcp_exporter_map_capacity", FAMILY_GAUGE,
	 "Entries a per-cgroup BPF map can hold.", .label_names = LABELS("map")),
    SELF(SELF_MAP_FULL, "cgroup_tcp_exporter_map_full_events", FAMILY_COUNTER,
	 "Events counted under cgroup=\"(overflow)\" because a per-cgroup map had no "
	 "room for a new cgroup (see --cgroup.max)."),
    SELF(SELF_SOCKET_TABLE_FULL, "cgroup_tcp_exporter_socket_table_full_events", FAMILY_COUNTER,
	 "Socket state changes that found the socket table full (see --socket.max): those "
	 "sockets are missing from cgroup_tcp_connections, cgroup_tcp_connections_closed_total "
	 "and the duration histograms."),
    SELF(SELF_PAIRS_FULL, "cgroup_tcp_exporter_peer_pairs_full_events", FAMILY_COUNTER,
	 "Events counted under cgroup=\"(overflow)\",peer=\"(overflow)\" because the kernel had "
	 "no room for a new (cgroup, peer group) pair (see --peer.max-pairs)."),
    SELF(SELF_STATE_CHANGES_UNSEEN, "cgroup_tcp_exporter_state_changes_unseen", FAMILY_COUNTER,
	 "Socket state changes the BPF program never saw, found at the socket's next change "
	 "(it came from another state than the one recorded) or when a new socket took the "
	 "address of one whose close was not seen. cgroup_tcp_connections counted that socket "
	 "in its old state until then; the connection counters miss the change."),
    SELF(SELF_PAIRS, "cgroup_tcp_exporter_peer_pairs", FAMILY_GAUGE,
	 "(cgroup, peer group) pairs in the kernel at the last scrape, the overflow pair and pairs "
	 "of freed cgroups not yet recycled included; at most --peer.max-pairs + 1."),
    SELF(SELF_REMOVED_LOST, "cgroup_tcp_exporter_cgroup_removals_lost", FAMILY_COUNTER,
	 "cgroup removals the exporter could not queue (too many at once): those cgroups' "
	 "entries stay until restart."),
    SELF(SELF_CGROUPS_EXCLUDED, "cgroup_tcp_exporter_cgroups_excluded", FAMILY_GAUGE,
	 "Cgroups with activity that --cgroup.include / --cgroup.exclude hid at the last "
	 "scrape."),
    SELF(SELF_CGROUPS_FREED, "cgroup_tcp_exporter_cgroups_freed", FAMILY_COUNTER,
	 "Removed cgroups whose last values were shown and whose map entries were freed."),
    SELF(SELF_REMOVALS_DEFERRED, "cgroup_tcp_exporter_cgroup_removals_deferred", FAMILY_COUNTER,
	 "Times a removed cgroup could not be queued for freeing for want of memory; it is "
	 "tried again at the next scrape."),
    SELF(SELF_CGROUP_CACHE_ENTRIES, "cgroup_tcp_exporter_cgroup_cache_entries", FAMILY_GAUGE,
	 "cgroup ids whose path the exporter holds (removed cgroups included)."),
    SELF(SELF_CGROUP_CACHE_MISSES, "cgroup_tcp_exporter_cgroup_cache_misses", FAMILY_COUNTER,
	 "cgroup ids that were not in the cache and had to be resolved."),
    SELF(SELF_HTTP_RESPONSES, "cgroup_tcp_exporter_http_responses", FAMILY_COUNTER,
	 "HTTP responses the exporter sent, by status code (401: a failed login); a scrape "
	 "is counted once it is answered, so not in its own response.",
	 .label_names = LABELS("code")),
    SELF(SELF_PROCESS_CPU, "process_cpu_seconds", FAMILY_COUNTER,
	 "Total user and system CPU time spent in seconds.", .unit = "seconds"),
    SELF(SELF_PROCESS_RSS, "process_resident_memory_bytes", FAMILY_GAUGE,
	 "Resident memory size in bytes.", .unit = "bytes"),
    SELF(SELF_PROCESS_VSIZE, "process_virtual_memory_bytes", FAMILY_GAUGE,
	 "Virtual memory size in bytes.", .unit = "bytes"),
    SELF(SELF_PROCESS_OPEN_FDS, "process_open_fds", FAMILY_GAUGE,
	 "Number of open file descriptors."),
    SELF(SELF_PROCESS_MAX_FDS, "process_max_fds", FAMILY_GAUGE,
	 "Maximum number of open file descriptors."),
    SELF(SELF_PROCESS_START, "process_start_time_seconds", FAMILY_GAUGE,
	 "Start time of the process since unix epoch in seconds.", .unit = "seconds"),
    SELF(SELF_PROCESS_THREADS, "process_threads", FAMILY_GAUGE, "Number of OS threads."),
};
const size_t exporter_families_len = ARRAY_LEN(exporter_families);

const char *family_type_name(enum family_type type)
{
	switch (type) {
	case FAMILY_COUNTER:
		return "counter";
	case FAMILY_GAUGE:
		return "gauge";
	default:
		return "histogram";
	}
}

const char *family_sample_suffix(const struct family *f)
{
	return f->type == FAMILY_COUNTER ? "_total" : "";
}

size_t family_value_offset(const struct family *f, unsigned int i)
{
	unsigned int index = f->label_index ? f->label_index[i] : i;

	return f->offset + index * f->stride;
}

const void *family_value(const struct family *f, const void *source, unsigned int i)
{
	return (const char *)source + family_value_offset(f, i);
}
