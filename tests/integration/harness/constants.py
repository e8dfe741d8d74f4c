# SPDX-License-Identifier: GPL-2.0-only
"""Names the tests share: metric families, content types, where the
workload scripts are, and the ports and firewall of the workload.py
"containers". Defined once; a test imports them from here."""

import os

PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/integration
SOURCE = os.path.dirname(os.path.dirname(HERE))
WORKLOAD = os.path.join(HERE, "workload.py")
WORKLOAD_DIST = os.path.join(HERE, "workload_dist.py")
WORKLOAD_IDENTITY = os.path.join(HERE, "workload_identity.py")

# The start of a skip reason that makes main() exit 77 (skipped).
NEEDS_ROOT = "needs root"

MIB = 1 << 20

# Content types the exporter answers with.
TEXT = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROTOBUF = ("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
            "encoding=delimited")
# What Prometheus 2.42 sends with --enable-feature=native-histograms.
PROMETHEUS_NATIVE_ACCEPT = (
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
    "encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,"
    "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
    "*/*;q=0.1")

# Per-cgroup families.
OPENED = "cgroup_tcp_connections_opened_total"
CLOSED = "cgroup_tcp_connections_closed_total"
FAILURES = "cgroup_tcp_connect_failures_total"
RETRANSMITS = "cgroup_tcp_retransmits_total"
RESETS_SENT = "cgroup_tcp_resets_sent_total"
RESETS_RECEIVED = "cgroup_tcp_resets_received_total"
SENT_BYTES = "cgroup_tcp_sent_bytes_total"
RECEIVED_BYTES = "cgroup_tcp_received_bytes_total"
CONNECTIONS = "cgroup_tcp_connections"
# State changes and other runs the kernel skipped, per program.
MISSED = "cgroup_tcp_exporter_program_missed_runs_total"
UNSEEN = "cgroup_tcp_exporter_state_changes_unseen_total"
HANDSHAKE = "cgroup_tcp_handshake_duration_seconds"
HANDSHAKE_COUNT = HANDSHAKE + "_count"
LIFETIME = "cgroup_tcp_connection_duration_seconds"
RTT = "cgroup_tcp_rtt_seconds"
IO_SIZE = "cgroup_tcp_io_size_bytes"

# The exporter's own families.
MAP_ENTRIES = "cgroup_tcp_exporter_map_entries"
MAP_CAPACITY = "cgroup_tcp_exporter_map_capacity"
MAP_FULL = "cgroup_tcp_exporter_map_full_events_total"
TABLE_FULL = "cgroup_tcp_exporter_socket_table_full_events_total"
REMOVALS_LOST = "cgroup_tcp_exporter_cgroup_removals_lost_total"
CACHE_ENTRIES = "cgroup_tcp_exporter_cgroup_cache_entries"
CACHE_MISSES = "cgroup_tcp_exporter_cgroup_cache_misses_total"
SCRAPE_SECONDS = "cgroup_tcp_exporter_scrape_duration_seconds"
RESPONSES = "cgroup_tcp_exporter_http_responses_total"
RSS = "process_resident_memory_bytes"

# The `cgroup` label of what --cgroup.max folds together.
OVERFLOW = "(overflow)"

# workload.py's ports inside a test's own network namespace: it serves on
# `port` and `reset_port`, nothing listens on `closed_port`, and SYNs to
# `dropped_port` vanish in the namespace's input hook (NFT_RULESET), so
# that connect retransmits its SYN and then times out.
PORTS = {"port": 5001, "closed_port": 5002, "dropped_port": 5003,
         "reset_port": 5004}
NFT_RULESET = f"""
table inet ctcp {{
    chain input {{
        type filter hook input priority 0; policy accept;
        tcp dport {PORTS["dropped_port"]} tcp flags syn drop
    }}
}}
"""
