/* SPDX-License-Identifier: GPL-2.0-only */
/* A small open-addressing hash map from 64-bit ids (never 0) to pointers. */
#ifndef IDMAP_H
#define IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap_slot {
	uint64_t id; /* 0: empty */
	void *value;
};

struct idmap {
	struct idmap_slot *slots;
	size_t cap; /* a power of two */
	size_t used;
};

int idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
/* The slot of id: either holding it, or the empty one where it would go. */
struct idmap_slot *idmap_find(const struct idmap *m, uint64_t id);
/* Makes room for one more id; call before filling an empty slot. -1 on ENOMEM. */
int idmap_reserve(struct idmap *m);
void idmap_clear(struct idmap *m);
/* Empties a slot idmap_find returned, keeping every other id findable. */
void idmap_remove(struct idmap *m, struct idmap_slot *slot);

#endif /* IDMAP_H */
