/* SPDX-License-Identifier: GPL-2.0-only */
/* A small open-addressing hash map from 64-bit ids to pointers. */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 256

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

struct idmap_slot *idmap_find(const struct idmap *m, uint64_t id)
{
	size_t mask = m->cap - 1;

	for (size_t i = mix(id) & mask;; i = (i + 1) & mask)
		if (m->slots[i].id == id || m->slots[i].id == 0)
			return &m->slots[i];
}

static int grow(struct idmap *m)
{
	struct idmap old = *m;

	m->cap = old.cap ? old.cap * 2 : FIRST_CAP;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -1;
	}
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].id)
			*idmap_find(m, old.slots[i].id) = old.slots[i];
	free(old.slots);
	return 0;
}

int idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof(*m));
	return grow(m);
}

void idmap_free(struct idmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

int idmap_reserve(struct idmap *m)
{
	/* Keep at most 3/4 full so probes stay short. */
	if ((m->used + 1) * 4 > m->cap * 3 && grow(m))
		return -1;
	m->used++;
	return 0;
}

void idmap_clear(struct idmap *m)
{
	memset(m->slots, 0, m->cap * sizeof(*m->slots));
	m->used = 0;
}

/* Linear probing without tombstones: move later members of the run back
 * into the hole when their home slot allows it. */
void idmap_remove(struct idmap *m, struct idmap_slot *slot)
{
	size_t mask = m->cap - 1, hole = (size_t)(slot - m->slots);

	m->slots[hole].id = 0;
	m->slots[hole].value = NULL;
	m->used--;
	for (size_t i = (hole + 1) & mask; m->slots[i].id; i = (i + 1) & mask) {
		size_t home = mix(m->slots[i].id) & mask;

		/* Can it move to the hole: is the hole between home and i? */
		if ((i > hole && (home <= hole || home > i)) ||
		    (i < hole && home <= hole && home > i)) {
			m->slots[hole] = m->slots[i];
			m->slots[i].id = 0;
			m->slots[i].value = NULL;
			hole = i;
		}
	}
}
