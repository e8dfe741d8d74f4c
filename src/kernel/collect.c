/* SPDX-License-Identifier: GPL-2.0-only */
/* Reads the per-cgroup maps into a snapshot. */
#include "collect.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "packed.h"
#include "slots.h"

#define FIRST_CHUNK 256
/* The kernel's internal ENOTSUPP, which user space headers lack. */
#define KERNEL_ENOTSUPP 524

static void add_u64s(void *dst, const void *src, size_t size)
{
	__u64 *d = dst;
	const __u64 *s = src;

	for (size_t i = 0; i < size / sizeof(__u64); i++)
		d[i] += s[i];
}

static int alloc_chunk(struct collector *c, __u32 chunk)
{
	__u64 *ids = realloc(c->ids, chunk * sizeof(*ids));
	__u32 *slot_keys;
	char *values;

	if (!ids)
		return -ENOMEM;
	c->ids = ids;
	slot_keys = realloc(c->slot_keys, chunk * sizeof(*slot_keys));
	if (!slot_keys)
		return -ENOMEM;
	c->slot_keys = slot_keys;
	values = realloc(c->values, (size_t)chunk * value_maps_largest(c->ncpus));
	if (!values)
		return -ENOMEM;
	c->values = values;
	c->chunk = chunk;
	return 0;
}

int collector_init(struct collector *c, const struct kernel_maps *maps)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->parts);
	c->maps = *maps;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0 || !maps->nslots)
		return -EINVAL;
	c->stats_values = calloc((size_t)c->ncpus, sizeof(*c->stats_values));
	c->sample_of_slot = calloc(maps->nslots, sizeof(*c->sample_of_slot));
	c->sum = malloc(value_maps_largest(1));
	if (!c->stats_values || !c->sample_of_slot || !c->sum || idmap_init(&c->index))
		return -ENOMEM;
	return alloc_chunk(c, FIRST_CHUNK);
}

void collector_free(struct collector *c)
{
	free(c->ids);
	free(c->slot_keys);
	free(c->values);
	free(c->sample_of_slot);
	free(c->sum);
	free(c->stats_values);
	free(c->samples);
	buf_free(&c->parts);
	idmap_free(&c->index);
	memset(c, 0, sizeof(*c));
}

/* The sample of a cgroup, new (no values) on first sight in this read.
 * The index holds no id 0 (idmap.h): cgroup=""'s key has its own. */
static struct cgroup_sample *sample_of(struct collector *c, __u64 id)
{
	struct idmap_slot *slot = id ? idmap_find(&c->index, id) : NULL;
	size_t known = slot ? (size_t)slot->value : c->unattributed;

	if (known)
		return &c->samples[known - 1];
	if (c->nsamples == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct cgroup_sample *s = realloc(c->samples, cap * sizeof(*s));

		if (!s)
			return NULL;
		c->samples = s;
		c->cap = cap;
	}
	if (!id) {
		c->unattributed = c->nsamples + 1;
	} else {
		if (idmap_reserve(&c->index))
			return NULL;
		slot = idmap_find(&c->index, id);
		slot->id = id;
		slot->value = (void *)(c->nsamples + 1);
	}
	memset(&c->samples[c->nsamples], 0, sizeof(c->samples[0]));
	c->samples[c->nsamples].id = id;
	return &c->samples[c->nsamples++];
}

/* Notes that the values of slot are id's; owned: by ctcp_slots, not as
 * a draining slot. */
static int add_owner(struct collector *c, __u64 id, __u32 slot, bool owned)
{
	struct cgroup_sample *s;

	if (slot >= c->maps.nslots)
		return 0;
	s = sample_of(c, id);
	if (!s)
		return -ENOMEM;
	s->owned |= owned;
	c->sample_of_slot[slot] = (__u32)(s - c->samples) + 1;
	if (slot >= c->slots_end)
		c->slots_end = slot + 1;
	for (int m = 0; m < VALUE_MAPS; m++)
		if (slot >= c->maps.values_slots[m].first && slot < c->maps.values_slots[m].end)
			c->entries[m]++;
	return 0;
}

/* Notes whose values count read entries of the slots map hold. */
static int add_owners(struct collector *c, __u32 count)
{
	for (__u32 k = 0; k < count; k++)
		if (add_owner(c, c->ids[k], c->slot_keys[k], true))
			return -ENOMEM;
	return 0;
}

/* Says which map could not be read, and why. */
static bool unsupported(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -KERNEL_ENOTSUPP;
}

static int read_failed(const char *map, int err)
{
	log_error("cannot read the BPF map %s: %s%s", map,
		  err == -KERNEL_ENOTSUPP ? "not supported" : strerror(-err),
		  unsupported(err) ? " (batched map lookups need Linux 5.6+)" : "");
	return err;
}

/* Returns -EAGAIN after growing the buffers for a hash bucket larger than
 * them. */
static int read_slots_batched(struct collector *c)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 token = 0;
	bool first = true;
	int err;

	for (;;) {
		__u32 count = c->chunk;

		err = bpf_map_lookup_batch(c->maps.slots_fd, first ? NULL : &token, &token, c->ids,
					   c->slot_keys, &count, &opts);
		err = err ? -errno : 0;
		if (err && err != -ENOENT) {
			if (err == -ENOSPC && c->chunk < (1u << 20))
				return alloc_chunk(c, c->chunk * 2) ? -ENOMEM : -EAGAIN;
			return read_failed("ctcp_slots", err);
		}
		if (add_owners(c, count))
			return -ENOMEM;
		if (err == -ENOENT)
			return 0;
		first = false;
	}
}

static const __u64 *part_at(const struct collector *c, size_t part)
{
	return (const __u64 *)(const void *)(c->parts.data + part - 1);
}

/* Adds the values of count slots of one array to their owners' samples,
 * packed. */
static int add_values(struct collector *c, enum value_map m, const __u32 *slots, __u32 count)
{
	const struct value_map_info *map = &value_maps[m];
	size_t words = map->value_size / sizeof(__u64), stride = value_map_stride(m, c->ncpus);

	for (__u32 k = 0; k < count; k++) {
		__u32 owner = slots[k] < c->slots_end ? c->sample_of_slot[slots[k]] : 0;
		const __u64 *v = (const __u64 *)(const void *)(c->values + k * stride);
		struct cgroup_sample *s;

		if (!owner)
			continue;
		s = &c->samples[owner - 1];
		if (map->percpu || s->part[m]) {
			memset(c->sum, 0, map->value_size);
			for (int cpu = 0; cpu < (map->percpu ? c->ncpus : 1); cpu++)
				add_u64s(c->sum, v + (size_t)cpu * words, map->value_size);
			/* A cgroup met in two slots of one array: both count. */
			if (s->part[m])
				packed_add(part_at(c, s->part[m]), words, 0, words, c->sum);
			v = c->sum;
		}
		s->part[m] = packed_append(&c->parts, v, words) + 1;
		if (c->parts.failed)
			return -ENOMEM;
	}
	return 0;
}

/* In chunks, up to the last slot owned; a batch starts after the key it
 * is given. */
static int read_values_batched(struct collector *c, enum value_map map)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	const struct slot_range *slots = &c->maps.values_slots[map];
	__u32 next = slots->first, end = c->slots_end < slots->end ? c->slots_end : slots->end;
	__u32 token = next - 1;
	int err;

	while (next < end) {
		__u32 count = end - next < c->chunk ? end - next : c->chunk;

		err = bpf_map_lookup_batch(c->maps.values_fd[map], next ? &token : NULL, &token,
					   c->slot_keys, c->values, &count, &opts);
		err = err ? -errno : 0;
		if (err && err != -ENOENT)
			return unsupported(err) && next == slots->first
				   ? -EOPNOTSUPP
				   : read_failed(value_maps[map].name, err);
		if (add_values(c, map, c->slot_keys, count))
			return -ENOMEM;
		next += count;
		if (err == -ENOENT || !count)
			break;
	}
	return 0;
}

/* One lookup per owned slot: for maps whose type has no batched lookups in
 * this kernel (Linux 5.10's per-CPU arrays, for one). */
static int read_values_by_key(struct collector *c, enum value_map map)
{
	const struct slot_range *slots = &c->maps.values_slots[map];
	__u32 end = c->slots_end < slots->end ? c->slots_end : slots->end;

	for (__u32 slot = slots->first; slot < end; slot++) {
		if (!c->sample_of_slot[slot])
			continue;
		if (bpf_map_lookup_elem(c->maps.values_fd[map], &slot, c->values))
			return read_failed(value_maps[map].name, -errno);
		if (add_values(c, map, &slot, 1))
			return -ENOMEM;
	}
	return 0;
}

static void read_stats(struct collector *c, struct ctcp_stats *stats)
{
	__u32 key = 0;

	memset(stats, 0, sizeof(*stats));
	if (bpf_map_lookup_elem(c->maps.stats_fd, &key, c->stats_values))
		return;
	for (int cpu = 0; cpu < c->ncpus; cpu++)
		add_u64s(stats, &c->stats_values[cpu], sizeof(*stats));
}

static void reset_samples(struct collector *c)
{
	c->nsamples = 0;
	memset(c->entries, 0, sizeof(c->entries));
	memset(c->sample_of_slot, 0, c->slots_end * sizeof(*c->sample_of_slot));
	c->slots_end = 0;
	c->unattributed = 0;
	idmap_clear(&c->index);
	buf_reset(&c->parts);
}

static int read_slots(struct collector *c, const struct slot_owner *draining, size_t ndraining)
{
	int err;

	do {
		reset_samples(c);
		err = read_slots_batched(c);
	} while (err == -EAGAIN);
	/* A unit that entered a slot as it was freed is its cgroup's until
	 * the socket leaves. A cgroup that came back (owns a slot again)
	 * keeps the counts of its draining slots, which are reused only after
	 * it is freed again: its counters never go down. Otherwise a draining
	 * slot shows nothing, so a removed cgroup leaves the scrape when it is
	 * freed. */
	for (size_t i = 0; i < ndraining && !err; i++) {
		const struct idmap_slot *known = idmap_find(&c->index, draining[i].id);

		if ((known->id && c->samples[(size_t)known->value - 1].owned) ||
		    slots_counts_sockets(&c->maps, draining[i].slot, c->sum))
			err = add_owner(c, draining[i].id, draining[i].slot, false);
	}
	return err;
}

int collector_read(struct collector *c, struct ctcp_stats *stats, const struct slot_owner *draining,
		   size_t ndraining)
{
	int err = read_slots(c, draining, ndraining);

	for (int m = 0; m < VALUE_MAPS && !err; m++) {
		err = c->by_key[m] ? -EOPNOTSUPP : read_values_batched(c, m);
		if (err == -EOPNOTSUPP) {
			if (!c->by_key[m])
				log_info("the kernel has no batched lookups for BPF map %s: it is "
					 "read one cgroup at a time",
					 value_maps[m].name);
			c->by_key[m] = true;
			err = read_values_by_key(c, m);
		}
	}
	read_stats(c, stats);
	return err;
}

void collector_values(const struct collector *c, size_t i, struct cgroup_values *out)
{
	for (int m = 0; m < VALUE_MAPS; m++)
		if (c->samples[i].part[m])
			packed_add(part_at(c, c->samples[i].part[m]),
				   value_maps[m].value_size / sizeof(__u64), 0,
				   value_maps[m].value_size / sizeof(__u64),
				   (__u64 *)(void *)((char *)out + value_maps[m].offset));
}

void collector_release(struct collector *c)
{
	buf_free(&c->parts);
}
