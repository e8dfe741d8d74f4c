/* The metric catalogue: every family the exporter serves, declared once.
 * The renderer, the README's metric table and the tests read it. */
#ifndef CATALOGUE_H
#define CATALOGUE_H

#include <stddef.h>
#include <linux/types.h>
#include "cgroup_tcp.h"

enum family_type {
	FAMILY_COUNTER,
	FAMILY_GAUGE,
};

/* A family's values are consecutive __u64s in a source struct, one per value
 * of its optional extra label, starting at `offset`. */
struct family {
	const char *name; /* without the _total suffix of counter samples */
	enum family_type type;
	const char *help;
	const char *label; /* extra label besides `cgroup`, or NULL */
	const char *const *label_values;
	unsigned int values;
	size_t offset;
};

/* Families with a `cgroup` label; values in struct ctcp_counters. */
extern const struct family cgroup_families[];
extern const size_t cgroup_families_len;

/* The exporter's own families; values in struct ctcp_stats. */
extern const struct family exporter_families[];
extern const size_t exporter_families_len;

/* The label every per-cgroup series carries. */
#define CGROUP_LABEL "cgroup"

const char *family_type_name(enum family_type type);
/* The name samples carry: counters end in _total. */
const char *family_sample_suffix(const struct family *f);

#endif /* CATALOGUE_H */
