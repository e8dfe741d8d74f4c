/* SPDX-License-Identifier: GPL-2.0-only */
/* The metric catalogue: every family the exporter serves, declared once.
 * The renderer, the README's metric table and the tests read it. */
#ifndef CATALOGUE_H
#define CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "cgroup_tcp.h"

/* Everything the exporter knows about one cgroup, summed over CPUs: the
 * source the per-cgroup families read their values from. */
struct cgroup_values {
	struct ctcp_conn conn;
	struct ctcp_io io;
	struct ctcp_hist rtt;
	/* Only in the rows of (cgroup, peer group) pairs... */
	struct ctcp_peer peer;
	/* ... and of (cgroup, command name) pairs (its comm not set). */
	struct ctcp_proc proc;
};

/* Whose rows a family shows: cgroups', or (cgroup, peer group) or
 * (cgroup, command name) pairs', whose rows carry one more label. */
enum row_kind {
	ROWS_CGROUP,
	ROWS_PEER,
	ROWS_PROCESS,
	ROW_KINDS,
};
/* The label each kind's rows add (NULL for cgroups). */
extern const char *const pair_labels[ROW_KINDS];

enum family_type {
	FAMILY_COUNTER,
	FAMILY_GAUGE,
	FAMILY_HISTOGRAM,
};

/* Histogram bounds: slot k of a struct ctcp_hist ends at 2^k bucket units,
 * and a bucket unit is 2^unit_log2 of the family's unit (seconds, bytes), so
 * the classic bounds are le = 2^(k + unit_log2) for k in [first, last], and
 * slot k is bucket k + unit_log2 of a native histogram of schema 0 (slot 0,
 * at most one unit, its zero bucket). The struct ctcp_hist sum divided by
 * sum_divisor is the _sum. A divisor, not a factor: 119 / 1e6 is the double
 * nearest 0.000119, 119 * 1e-6 is not. */
struct hist_spec {
	int unit_log2;
	double sum_divisor;
	unsigned int first;
	unsigned int last;
};

/* One value per value of the optional extra label; value i sits at
 * offset + index(i) * stride in the source struct, where index(i) is i or
 * label_index[i]. Counters and gauges read a __u64 / __s64 there, histograms
 * a struct ctcp_hist. */
struct family {
	const char *name; /* without the _total suffix of counter samples */
	enum family_type type;
	const char *unit; /* OpenMetrics unit, a suffix of name, or NULL */
	const char *help;
	const char *label; /* extra label besides `cgroup`, or NULL */
	/* Exporter families: their labels (NULL-terminated), or NULL. */
	const char *const *label_names;
	const char *const *label_values;
	const unsigned char *label_index;
	unsigned int values;
	size_t offset;
	size_t stride;
	const struct hist_spec *hist;
	/* Whose rows: cgroups' (0), or pairs' (read struct cgroup_values.peer
	 * or .proc). */
	enum row_kind rows;
};

/* Families with a `cgroup` label; values in struct cgroup_values. */
extern const struct family cgroup_families[];
extern const size_t cgroup_families_len;

/* The exporter's own families, indexed by enum self_family; their samples
 * come from the exporter's collectors at scrape time. */
enum self_family {
	SELF_BUILD_INFO,
	SELF_SCRAPE_DURATION,
	SELF_PROGRAM_ATTACHED,
	SELF_PROGRAM_RUN_SECONDS,
	SELF_PROGRAM_RUNS,
	SELF_PROGRAM_MISSED_RUNS,
	SELF_MAP_ENTRIES,
	SELF_MAP_CAPACITY,
	SELF_MAP_FULL,
	SELF_SOCKET_TABLE_FULL,
	SELF_PAIRS_FULL,
	SELF_STATE_CHANGES_UNSEEN,
	SELF_PAIRS,
	SELF_REMOVED_LOST,
	SELF_CGROUPS_EXCLUDED,
	SELF_CGROUPS_FREED,
	SELF_REMOVALS_DEFERRED,
	SELF_CGROUP_CACHE_ENTRIES,
	SELF_CGROUP_CACHE_MISSES,
	SELF_HTTP_RESPONSES,
	SELF_PROCESS_CPU,
	SELF_PROCESS_RSS,
	SELF_PROCESS_VSIZE,
	SELF_PROCESS_OPEN_FDS,
	SELF_PROCESS_MAX_FDS,
	SELF_PROCESS_START,
	SELF_PROCESS_THREADS,
	SELF_FAMILIES,
};
extern const struct family exporter_families[SELF_FAMILIES];
extern const size_t exporter_families_len;

/* The labels every per-cgroup series carries: the cgroup, then who it is. */
#define CGROUP_LABEL	"cgroup"
#define PEER_LABEL	"peer"
#define COMM_LABEL	"comm"
#define IDENTITY_LABELS 5
extern const char *const identity_labels[IDENTITY_LABELS];

const char *family_type_name(enum family_type type);
/* The name samples carry: counters end in _total. */
const char *family_sample_suffix(const struct family *f);
/* Where value i of a family sits in its source struct. */
size_t family_value_offset(const struct family *f, unsigned int i);
const void *family_value(const struct family *f, const void *source, unsigned int i);

#endif /* CATALOGUE_H */
