/* Reads the per-cgroup counters map into a snapshot. */
#include "collect.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CHUNK 256
/* The kernel's internal ENOTSUPP, which user space headers lack. */
#define KERNEL_ENOTSUPP 524

_Static_assert(sizeof(struct ctcp_counters) % sizeof(__u64) == 0,
	       "counters must be whole __u64s: per-CPU values are 8-byte aligned");

void counters_add(struct ctcp_counters *dst, const struct ctcp_counters *src)
{
	__u64 *d = (__u64 *)dst;
	const __u64 *s = (const __u64 *)src;

	for (size_t i = 0; i < sizeof(*dst) / sizeof(__u64); i++)
		d[i] += s[i];
}

static int alloc_chunk(struct collector *c, __u32 chunk)
{
	__u64 *keys = realloc(c->keys, chunk * sizeof(*keys));
	struct ctcp_counters *values;

	if (!keys)
		return -ENOMEM;
	c->keys = keys;
	values = realloc(c->values, (size_t)chunk * (size_t)c->ncpus * sizeof(*values));
	if (!values)
		return -ENOMEM;
	c->values = values;
	c->chunk = chunk;
	return 0;
}

int collector_init(struct collector *c, int counters_fd, int stats_fd)
{
	memset(c, 0, sizeof(*c));
	c->counters_fd = counters_fd;
	c->stats_fd = stats_fd;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0)
		return -EINVAL;
	c->batch = true;
	c->stats_values = calloc((size_t)c->ncpus, sizeof(*c->stats_values));
	if (!c->stats_values)
		return -ENOMEM;
	return alloc_chunk(c, FIRST_CHUNK);
}

void collector_free(struct collector *c)
{
	free(c->keys);
	free(c->values);
	free(c->stats_values);
	free(c->samples);
	memset(c, 0, sizeof(*c));
}

static int add_samples(struct collector *c, __u32 count)
{
	if (c->nsamples + count > c->cap) {
		size_t cap = c->cap ? c->cap : 64;
		struct cgroup_sample *s;

		while (cap < c->nsamples + count)
			cap *= 2;
		s = realloc(c->samples, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		c->samples = s;
		c->cap = cap;
	}
	for (__u32 k = 0; k < count; k++) {
		struct cgroup_sample *s = &c->samples[c->nsamples++];

		s->id = c->keys[k];
		memset(&s->counters, 0, sizeof(s->counters));
		for (int cpu = 0; cpu < c->ncpus; cpu++)
			counters_add(&s->counters, &c->values[(size_t)k * c->ncpus + cpu]);
	}
	return 0;
}

/* Returns -EOPNOTSUPP when the kernel has no batch ops for this map. */
static int read_batched(struct collector *c)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 token = 0;
	bool first = true;
	int err;

	for (;;) {
		__u32 count = c->chunk;

		err = bpf_map_lookup_batch(c->counters_fd, first ? NULL : &token, &token, c->keys,
					   c->values, &count, &opts);
		err = err ? -errno : 0;
		if (err && err != -ENOENT) {
			/* A hash bucket larger than the chunk: grow, start over. */
			if (err == -ENOSPC && c->chunk < (1u << 20)) {
				if (alloc_chunk(c, c->chunk * 2))
					return -ENOMEM;
				c->nsamples = 0;
				first = true;
				continue;
			}
			if (err == -EINVAL || err == -EOPNOTSUPP || err == -KERNEL_ENOTSUPP)
				return -EOPNOTSUPP;
			return err;
		}
		if (add_samples(c, count))
			return -ENOMEM;
		if (err == -ENOENT)
			return 0;
		first = false;
	}
}

/* For kernels before 5.6: one syscall per key. */
static int read_one_by_one(struct collector *c)
{
	__u64 key, next;
	bool first = true;

	while (bpf_map_get_next_key(c->counters_fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		c->keys[0] = key;
		if (bpf_map_lookup_elem(c->counters_fd, &key, c->values))
			continue; /* removed meanwhile */
		if (add_samples(c, 1))
			return -ENOMEM;
	}
	return errno == ENOENT ? 0 : -errno;
}

static void read_stats(struct collector *c, struct ctcp_stats *stats)
{
	__u32 key = 0;

	memset(stats, 0, sizeof(*stats));
	if (bpf_map_lookup_elem(c->stats_fd, &key, c->stats_values))
		return;
	for (int cpu = 0; cpu < c->ncpus; cpu++)
		stats->map_full += c->stats_values[cpu].map_full;
}

int collector_read(struct collector *c, struct ctcp_stats *stats)
{
	int err = -EOPNOTSUPP;

	c->nsamples = 0;
	if (c->batch) {
		err = read_batched(c);
		if (err == -EOPNOTSUPP) {
			c->batch = false;
			c->nsamples = 0;
		}
	}
	if (!c->batch)
		err = read_one_by_one(c);
	read_stats(c, stats);
	return err;
}
