/* The metric catalogue: one entry per family. Adding a metric is adding an
 * entry here and a field in bpf/cgroup_tcp.h. */
#include "catalogue.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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

#define COUNTER(field, metric, text)                                                               \
	{                                                                                          \
		.name = metric, .type = FAMILY_COUNTER, .help = text, .values = 1,                 \
		.offset = offsetof(struct ctcp_counters, field),                                   \
	}
#define COUNTER_BY(field, metric, text, label_name, label_set)                                     \
	{                                                                                          \
		.name = metric, .type = FAMILY_COUNTER, .help = text, .label = label_name,         \
		.label_values = label_set, .values = ARRAY_LEN(label_set),                         \
		.offset = offsetof(struct ctcp_counters, field),                                   \
	}

const struct family cgroup_families[] = {
    COUNTER_BY(opened, "cgroup_tcp_connections_opened",
	       "TCP handshakes completed by sockets of the cgroup: outbound (SYN_SENT to "
	       "ESTABLISHED) and inbound (SYN_RECV to ESTABLISHED).",
	       "direction", directions),
    COUNTER_BY(connect_failures, "cgroup_tcp_connect_failures",
	       "Outbound TCP handshakes that ended in CLOSE, by the socket error at that moment: "
	       "refused (RST), timeout, unreachable (ICMP), aborted (closed by the application "
	       "first), other.",
	       "reason", fail_reasons),
    COUNTER_BY(closed, "cgroup_tcp_connections_closed",
	       "TCP connections that reached CLOSE after a handshake completed while the "
	       "exporter ran, by the direction they were opened in.",
	       "direction", directions),
    COUNTER(retransmits, "cgroup_tcp_retransmits",
	    "TCP segments retransmitted by sockets of the cgroup (as the kernel's "
	    "RetransSegs)."),
    COUNTER(resets_sent, "cgroup_tcp_resets_sent",
	    "TCP resets sent by sockets of the cgroup. cgroup=\"\" holds resets the kernel sent "
	    "without an owning socket (closed port, time-wait)."),
    COUNTER(resets_received, "cgroup_tcp_resets_received",
	    "TCP resets received by sockets of the cgroup."),
    COUNTER(sent_bytes, "cgroup_tcp_sent_bytes",
	    "Bytes returned by send calls on TCP sockets of the cgroup."),
    COUNTER(received_bytes, "cgroup_tcp_received_bytes",
	    "Bytes returned by receive calls on TCP sockets of the cgroup (peeks not counted)."),
};
const size_t cgroup_families_len = ARRAY_LEN(cgroup_families);

const struct family exporter_families[] = {
    {
	.name = "cgroup_tcp_exporter_map_full_events",
	.type = FAMILY_COUNTER,
	.help = "Events counted under cgroup=\"\" because the per-cgroup map had no room "
		"for a new cgroup.",
	.values = 1,
	.offset = offsetof(struct ctcp_stats, map_full),
    },
};
const size_t exporter_families_len = ARRAY_LEN(exporter_families);

const char *family_type_name(enum family_type type)
{
	return type == FAMILY_COUNTER ? "counter" : "gauge";
}

const char *family_sample_suffix(const struct family *f)
{
	return f->type == FAMILY_COUNTER ? "_total" : "";
}
