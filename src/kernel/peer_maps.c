/* SPDX-License-Identifier: GPL-2.0-only */
/* The peer trie and the pairs' lifecycle. */
#include "peer_maps.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int peer_maps_fill(const struct kernel_maps *maps, int trie_fd, const struct ctcp_peer_key *keys,
		   const struct ctcp_peer_rule *rules, size_t n)
{
	struct ctcp_slot_key overflow = {.slot = CTCP_PAIR_OVERFLOW, .id = 0};
	static const struct ctcp_peer zero;

	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(trie_fd, &keys[i], &rules[i], BPF_NOEXIST))
			return -errno;
	/* Present from the start, so the programs' fallback never fails. */
	if (bpf_map_update_elem(maps->pairs_fd, &overflow, &zero, BPF_NOEXIST))
		return -errno;
	return 0;
}

static bool listed(__u32 slot, const __u32 *slots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i] == slot)
			return true;
	return false;
}

static void free_keys(int pairs_fd, const __u32 *slots, size_t n)
{
	struct ctcp_slot_key key, next;
	bool first = true;

	if (pairs_fd < 0 || !n)
		return;
	/* A deleted key's successor is looked up from the key before it. */
	while (bpf_map_get_next_key(pairs_fd, first ? NULL : &key, &next) == 0) {
		if (next.slot != CTCP_PAIR_OVERFLOW && listed(next.slot, slots, n) &&
		    bpf_map_delete_elem(pairs_fd, &next) == 0)
			continue;
		key = next;
		first = false;
	}
}

static int grow(struct pair_values *v, size_t cap)
{
	struct ctcp_slot_key *keys = realloc(v->keys, cap * sizeof(*keys));
	char *values;

	if (!keys)
		return -ENOMEM;
	v->keys = keys;
	values = realloc(v->values, cap * v->value_size);
	if (!values)
		return -ENOMEM;
	v->values = values;
	v->cap = cap;
	return 0;
}

void slot_pairs_free(const struct kernel_maps *maps, const __u32 *slots, size_t n)
{
	__u64 zero = 0;

	free_keys(maps->pairs_fd, slots, n);
	free_keys(maps->procs_fd, slots, n);
	for (size_t i = 0; maps->procs_fd >= 0 && i < n; i++)
		bpf_map_update_elem(maps->comm_count_fd, &slots[i], &zero, BPF_ANY);
}

int slot_pairs_read(int fd, size_t value_size, struct pair_values *v)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct ctcp_slot_key token;
	bool first = true;

	v->n = 0;
	v->value_size = value_size;
	if (!v->cap && grow(v, 256))
		return -ENOMEM;
	for (;;) {
		__u32 count;
		int err;

		if (v->cap - v->n < 64 && grow(v, v->cap * 2))
			return -ENOMEM;
		count = (__u32)(v->cap - v->n);
		err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, v->keys + v->n,
					   v->values + v->n * value_size, &count, &opts);
		err = err ? -errno : 0;
		/* A hash bucket larger than the room left: more room, again. */
		if (err == -ENOSPC) {
			if (grow(v, v->cap * 2))
				return -ENOMEM;
			continue;
		}
		if (err && err != -ENOENT)
			return err;
		v->n += count;
		if (err == -ENOENT)
			return 0;
		first = false;
	}
}

void pair_values_free(struct pair_values *v)
{
	free(v->keys);
	free(v->values);
	memset(v, 0, sizeof(*v));
}
