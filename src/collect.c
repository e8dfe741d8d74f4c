/* Reads the per-cgroup maps into a snapshot. */
#include "collect.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CHUNK 256
/* The kernel's internal ENOTSUPP, which user space headers lack. */
#define KERNEL_ENOTSUPP 524

_Static_assert(sizeof(struct cgroup_values) % sizeof(__u64) == 0,
	       "values must be whole __u64s: per-CPU values are 8-byte aligned");

static void add_u64s(void *dst, const void *src, size_t size)
{
	__u64 *d = dst;
	const __u64 *s = src;

	for (size_t i = 0; i < size / sizeof(__u64); i++)
		d[i] += s[i];
}

void values_add(struct cgroup_values *dst, const struct cgroup_values *src)
{
	add_u64s(dst, src, sizeof(*dst));
}

static size_t largest_value(const struct collector *c)
{
	size_t size = 0;

	for (int m = 0; m < COLLECT_MAPS; m++)
		if (c->maps[m].value_size * (c->maps[m].percpu ? (size_t)c->ncpus : 1) > size)
			size = c->maps[m].value_size * (c->maps[m].percpu ? (size_t)c->ncpus : 1);
	return size;
}

static int alloc_chunk(struct collector *c, __u32 chunk)
{
	__u64 *keys = realloc(c->keys, chunk * sizeof(*keys));
	char *values;

	if (!keys)
		return -ENOMEM;
	c->keys = keys;
	values = realloc(c->values, (size_t)chunk * largest_value(c));
	if (!values)
		return -ENOMEM;
	c->values = values;
	c->chunk = chunk;
	return 0;
}

int collector_init(struct collector *c, const int map_fds[COLLECT_MAPS], int stats_fd)
{
	static const struct map_source layout[COLLECT_MAPS] = {
	    {.percpu = false,
	     .value_size = sizeof(struct ctcp_conn),
	     .offset = offsetof(struct cgroup_values, conn)},
	    {.percpu = true,
	     .value_size = sizeof(struct ctcp_io),
	     .offset = offsetof(struct cgroup_values, io)},
	    {.percpu = false,
	     .value_size = sizeof(struct ctcp_hist),
	     .offset = offsetof(struct cgroup_values, rtt)},
	};

	memset(c, 0, sizeof(*c));
	for (int m = 0; m < COLLECT_MAPS; m++) {
		c->maps[m] = layout[m];
		c->maps[m].fd = map_fds[m];
	}
	c->stats_fd = stats_fd;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0)
		return -EINVAL;
	c->batch = true;
	c->stats_values = calloc((size_t)c->ncpus, sizeof(*c->stats_values));
	c->sum = malloc(sizeof(struct cgroup_values));
	if (!c->stats_values || !c->sum || idmap_init(&c->index))
		return -ENOMEM;
	return alloc_chunk(c, FIRST_CHUNK);
}

void collector_free(struct collector *c)
{
	free(c->keys);
	free(c->values);
	free(c->sum);
	free(c->stats_values);
	free(c->samples);
	idmap_free(&c->index);
	memset(c, 0, sizeof(*c));
}

/* The sample of a cgroup, made zero on first sight in this scrape. */
static struct cgroup_sample *sample_of(struct collector *c, __u64 id)
{
	struct idmap_slot *slot = idmap_find(&c->index, id);

	if (slot->id)
		return &c->samples[(size_t)slot->value - 1];
	if (c->nsamples == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct cgroup_sample *s = realloc(c->samples, cap * sizeof(*s));

		if (!s)
			return NULL;
		c->samples = s;
		c->cap = cap;
	}
	if (idmap_reserve(&c->index))
		return NULL;
	slot = idmap_find(&c->index, id);
	slot->id = id;
	slot->value = (void *)(c->nsamples + 1);
	memset(&c->samples[c->nsamples], 0, sizeof(c->samples[0]));
	c->samples[c->nsamples].id = id;
	return &c->samples[c->nsamples++];
}

/* Adds count read entries of one map into the samples. */
static int add_entries(struct collector *c, const struct map_source *m, __u32 count)
{
	size_t stride = m->value_size * (m->percpu ? (size_t)c->ncpus : 1);

	c->entries[m - c->maps] += count;
	for (__u32 k = 0; k < count; k++) {
		struct cgroup_sample *s = sample_of(c, c->keys[k]);
		const char *v = c->values + k * stride;

		if (!s)
			return -ENOMEM;
		for (int cpu = 0; cpu < (m->percpu ? c->ncpus : 1); cpu++)
			add_u64s((char *)&s->values + m->offset, v + cpu * m->value_size,
				 m->value_size);
	}
	return 0;
}

/* Returns -EOPNOTSUPP when the kernel has no batch ops for this map. */
static int read_batched(struct collector *c, const struct map_source *m)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 token = 0;
	bool first = true;
	int err;

	for (;;) {
		__u32 count = c->chunk;

		err = bpf_map_lookup_batch(m->fd, first ? NULL : &token, &token, c->keys, c->values,
					   &count, &opts);
		err = err ? -errno : 0;
		if (err && err != -ENOENT) {
			/* A hash bucket larger than the chunk: grow, and read
			 * this map again from the start into fresh samples. */
			if (err == -ENOSPC && c->chunk < (1u << 20))
				return alloc_chunk(c, c->chunk * 2) ? -ENOMEM : -EAGAIN;
			if (err == -EINVAL || err == -EOPNOTSUPP || err == -KERNEL_ENOTSUPP)
				return -EOPNOTSUPP;
			return err;
		}
		if (add_entries(c, m, count))
			return -ENOMEM;
		if (err == -ENOENT)
			return 0;
		first = false;
	}
}

/* For kernels before 5.6: one syscall per key. */
static int read_one_by_one(struct collector *c, const struct map_source *m)
{
	__u64 key, next;
	bool first = true;

	while (bpf_map_get_next_key(m->fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		c->keys[0] = key;
		if (bpf_map_lookup_elem(m->fd, &key, c->values))
			continue; /* removed meanwhile */
		if (add_entries(c, m, 1))
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
		add_u64s(stats, &c->stats_values[cpu], sizeof(*stats));
}

static void reset_samples(struct collector *c)
{
	c->nsamples = 0;
	memset(c->entries, 0, sizeof(c->entries));
	idmap_clear(&c->index);
}

int collector_read(struct collector *c, struct ctcp_stats *stats)
{
	int err = 0;

	reset_samples(c);
	for (int m = 0; m < COLLECT_MAPS && !err; m++) {
		err = -EOPNOTSUPP;
		if (c->batch)
			err = read_batched(c, &c->maps[m]);
		if (err == -EAGAIN) {
			/* Partial reads of this map are in the samples: start over. */
			reset_samples(c);
			m = -1;
			err = 0;
			continue;
		}
		if (err == -EOPNOTSUPP) {
			c->batch = false;
			err = read_one_by_one(c, &c->maps[m]);
		}
	}
	read_stats(c, stats);
	return err;
}
