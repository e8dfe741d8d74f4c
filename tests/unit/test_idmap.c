/* SPDX-License-Identifier: GPL-2.0-only */
/* The id map: inserts, lookups and removals that keep every other id
 * findable (linear probing without tombstones). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "idmap.h"

#define IDS 20000

static uint64_t id_at(size_t i)
{
	/* Spread, never 0, some sharing home slots. */
	return (uint64_t)i * 2654435761u + 1;
}

static void put(struct idmap *m, uint64_t id, size_t value)
{
	struct idmap_slot *s = idmap_find(m, id);

	assert_int_equal(s->id, 0);
	assert_int_equal(idmap_reserve(m), 0);
	s = idmap_find(m, id);
	s->id = id;
	s->value = (void *)value;
}

static void test_insert_remove(void **state)
{
	struct idmap m;

	assert_int_equal(idmap_init(&m), 0);
	for (size_t i = 0; i < IDS; i++)
		put(&m, id_at(i), i + 1);
	assert_int_equal(m.used, IDS);
	for (size_t i = 0; i < IDS; i += 2)
		idmap_remove(&m, idmap_find(&m, id_at(i)));
	assert_int_equal(m.used, IDS / 2);
	for (size_t i = 0; i < IDS; i++) {
		struct idmap_slot *s = idmap_find(&m, id_at(i));

		if (i % 2) {
			assert_int_equal(s->id, id_at(i));
			assert_int_equal((size_t)s->value, i + 1);
		} else {
			assert_int_equal(s->id, 0);
		}
	}
	/* Freed slots are usable again. */
	for (size_t i = 0; i < IDS; i += 2)
		put(&m, id_at(i), i + 1);
	for (size_t i = 0; i < IDS; i++)
		assert_int_equal((size_t)idmap_find(&m, id_at(i))->value, i + 1);
	idmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_insert_remove),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
