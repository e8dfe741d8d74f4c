/* SPDX-License-Identifier: GPL-2.0-only */
/* Slots: seeded, freed, recycled. */
#include "slots.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cgroup_tcp.h"
#include "log.h"
#include "peer_maps.h"

int slots_seed(const struct kernel_maps *maps)
{
	__u64 keys[] = {CTCP_UNATTRIBUTED_ID, CTCP_OVERFLOW_ID};
	__u32 slots[] = {CTCP_UNATTRIBUTED_SLOT, CTCP_OVERFLOW_SLOT};

	for (size_t k = 0; k < 2; k++)
		if (bpf_map_update_elem(maps->slots_fd, &keys[k], &slots[k], BPF_ANY))
			return -errno;
	/* Every other slot is free, the lowest on top of the stack: a program
	 * takes a slot with one pop, which needs no BPF atomics. */
	for (__u32 slot = maps->nslots; slot-- > CTCP_FIRST_FREE_SLOT;)
		if (bpf_map_update_elem(maps->free_slots_fd, NULL, &slot, BPF_ANY))
			return -errno;
	return 0;
}

/* CTCP_SLOT_REUSE_MS, for tests: a positive number of milliseconds. */
static long long reuse_ns(void)
{
	const char *ms = getenv("CTCP_SLOT_REUSE_MS");
	char *end;
	long long v;

	if (!ms || !*ms)
		return SLOTS_REUSE_NS;
	errno = 0;
	v = strtoll(ms, &end, 10);
	if (errno || *end || v <= 0 || v > 3600000) {
		log_warn("CTCP_SLOT_REUSE_MS=%s is not a number of milliseconds in [1, 3600000]: "
			 "freed slots are reused after %lld ms",
			 ms, SLOTS_REUSE_NS / 1000000);
		return SLOTS_REUSE_NS;
	}
	return v * 1000000;
}

/* A map of maps whose only use is that updating it from user space waits
 * for every BPF program running anywhere to end: the kernel calls
 * synchronize_rcu() after such an update (maybe_wait_bpf_programs(), Linux
 * 4.12 and later), and programs other than sleepable ones, which this
 * exporter has none of, run inside an RCU read-side section, preempted or
 * not. Made at start, while the exporter may still create maps. */
static int programs_barrier(struct slots *s)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);

	s->inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ctcp_sync_in", 4, 4, 1, NULL);
	if (s->inner_fd < 0)
		return -errno;
	opts.inner_map_fd = s->inner_fd;
	s->barrier_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "ctcp_sync", 4, 4, 1, &opts);
	return s->barrier_fd < 0 ? -errno : 0;
}

/* Returns once every program that was running has ended. */
static int wait_for_programs(struct slots *s)
{
	__u32 key = 0;

	return bpf_map_update_elem(s->barrier_fd, &key, &s->inner_fd, BPF_ANY) ? -errno : 0;
}

int slots_init(struct slots *s, const struct kernel_maps *maps)
{
	int ncpus = libbpf_num_possible_cpus();
	int err;

	memset(s, 0, sizeof(*s));
	s->maps = *maps;
	s->inner_fd = s->barrier_fd = -1;
	s->reuse_ns = reuse_ns();
	err = programs_barrier(s);
	if (err) {
		log_error("cannot make the BPF map that waits for running programs: %s",
			  strerror(-err));
		return err;
	}
	if (ncpus <= 0)
		return -EINVAL;
	s->zeros = calloc(1, value_maps_largest(ncpus));
	s->conn = malloc(value_map_stride(VALUE_MAP_CONN, ncpus));
	if (!s->zeros || !s->conn || idmap_init(&s->blocked))
		return -ENOMEM;
	return 0;
}

void slots_free(struct slots *s)
{
	free(s->freed);
	free(s->freed_ns);
	free(s->ready);
	free(s->zeros);
	free(s->conn);
	idmap_free(&s->blocked);
	if (s->barrier_fd >= 0)
		close(s->barrier_fd);
	if (s->inner_fd >= 0)
		close(s->inner_fd);
	memset(s, 0, sizeof(*s));
}

static long long monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Room for one more draining slot, made before a slot is taken away: a
 * slot taken and not noted would hide the values still counted in it. */
static bool room(struct slots *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct slot_owner *owners;
	long long *ns;
	__u32 *ready;

	if (s->nfreed < s->cap)
		return true;
	owners = realloc(s->freed, cap * sizeof(*owners));
	if (!owners)
		return false;
	s->freed = owners;
	ns = realloc(s->freed_ns, cap * sizeof(*ns));
	if (!ns)
		return false;
	s->freed_ns = ns;
	ready = realloc(s->ready, cap * sizeof(*ready));
	if (!ready)
		return false;
	s->ready = ready;
	s->cap = cap;
	return true;
}

void slots_free_cgroup(struct slots *s, uint64_t id)
{
	__u64 key = id;
	__u32 slot;

	/* Without room the cgroup keeps its slot: freed at a later scrape. */
	if (!room(s) || bpf_map_lookup_elem(s->maps.slots_fd, &key, &slot) ||
	    bpf_map_delete_elem(s->maps.slots_fd, &key))
		return;
	s->stale_caches = true;
	s->freed[s->nfreed] = (struct slot_owner){.id = id, .slot = slot};
	s->freed_ns[s->nfreed++] = 0;
}

/* Every program's cached slots become invalid: none still finds a freed
 * slot through its cache. Never 0, the epoch of an empty entry. */
static void bump_epoch(struct slots *s)
{
	__u32 next = __atomic_load_n(s->maps.slot_epoch, __ATOMIC_RELAXED) + 1;

	__atomic_store_n(s->maps.slot_epoch, next ? next : 1, __ATOMIC_SEQ_CST);
	s->stale_caches = false;
}

/* Zeroes a slot in every value map that holds it; false if one failed. */
static bool zero(struct slots *s, __u32 slot)
{
	bool zeroed = true;

	for (int m = 0; m < VALUE_MAPS; m++)
		if (slot >= s->maps.values_slots[m].first && slot < s->maps.values_slots[m].end &&
		    bpf_map_update_elem(s->maps.values_fd[m], &slot, s->zeros, BPF_ANY))
			zeroed = false;
	return zeroed;
}

bool slots_counts_sockets(const struct kernel_maps *maps, __u32 slot, void *buf)
{
	const struct ctcp_conn *conn = buf;

	if (bpf_map_lookup_elem(maps->values_fd[VALUE_MAP_CONN], &slot, buf))
		return true;
	for (int state = 0; state < CTCP_TCP_STATES; state++)
		if (conn->sockets[state])
			return true;
	return false;
}

/* Whether the slot can be zeroed and reused: see slots_recycle. */
static bool drained(struct slots *s, size_t i, long long now)
{
	return s->freed_ns[i] && now - s->freed_ns[i] >= s->reuse_ns &&
	       !slots_counts_sockets(&s->maps, s->freed[i].slot, s->conn);
}

/* Whether the cgroup owns a slot again (a socket that outlived it). */
static bool owns_slot(struct slots *s, uint64_t id)
{
	__u64 key = id;
	__u32 slot;

	return bpf_map_lookup_elem(s->maps.slots_fd, &key, &slot) == 0;
}

/* Why a drained slot is safe to zero and reuse. The scrape decided to free
 * the cgroup from values it read before it deleted the cgroup's entry in
 * ctcp_slots: a socket may have entered the slot's gauge in between, and
 * the socket table remembers that slot (gauge_slot) to take the unit out
 * of it again, whatever slot the cgroup has by then. After the delete and
 * the epoch bump, a program reaches the slot in two ways only:
 *  - through an answer it got before them (its cache entry or a lookup),
 *    while it runs. wait_for_programs() returns once every program that
 *    was running has ended, however long it was preempted: called after
 *    the bump, no program holds such an answer any more;
 *  - through a socket's gauge_slot, in gauge_leave(), which only ever
 *    subtracts (gauge_move() adds to the slot the cgroup has now).
 * So after that wait the slot's gauges only go down, and each state's
 * gauge is the number of sockets whose gauge_slot is this slot in that
 * state. All zero: no socket refers to the slot and no program will write
 * it again, so zeroing it loses nothing and its next cgroup starts from
 * zero. Not all zero: the slot stays out of the free stack and its values
 * are shown under its cgroup (the collector reads draining slots that
 * count sockets) until those sockets have left it; checked again at every
 * scrape. reuse_ns only
 * batches the checks: a slot is looked at once it drained that long.
 *
 * A cgroup's draining slots are reused together, and only once it owns no
 * slot: its series then leaves the scrape whole. Reusing one while others
 * (or a new slot) still show the cgroup would take its counts out of a
 * series that stays, a counter going down. */
void slots_recycle(struct slots *s)
{
	long long now = monotonic_ns();
	size_t kept = 0, nready = 0;
	bool due = false;
	int err;

	/* Slots freed since the last round are stamped after the bump: the
	 * wait below must come after it. */
	for (size_t i = 0; i < s->nfreed; i++)
		due |= s->freed_ns[i] && now - s->freed_ns[i] >= s->reuse_ns;
	err = due ? wait_for_programs(s) : 0;
	if (err) {
		log_warn("cannot wait for running BPF programs: %s; freed slots wait",
			 strerror(-err));
		due = false;
	}
	if (s->stale_caches)
		bump_epoch(s);
	idmap_clear(&s->blocked);
	for (size_t i = 0; i < s->nfreed; i++) {
		struct idmap_slot *b;

		b = idmap_find(&s->blocked, s->freed[i].id);
		if (b->id || (due && drained(s, i, now) && !owns_slot(s, s->freed[i].id)))
			continue;
		/* Without memory the slots are only kept longer. */
		if (idmap_reserve(&s->blocked))
			return;
		idmap_find(&s->blocked, s->freed[i].id)->id = s->freed[i].id;
	}
	for (size_t i = 0; i < s->nfreed; i++) {
		if (idmap_find(&s->blocked, s->freed[i].id)->id) {
			s->freed[kept] = s->freed[i];
			s->freed_ns[kept++] = s->freed_ns[i];
			continue;
		}
		/* A slot that could not be zeroed is never reused. */
		if (zero(s, s->freed[i].slot))
			s->ready[nready++] = s->freed[i].slot;
	}
	s->nfreed = kept;
	/* Their pairs go too, before another cgroup can take them. */
	slot_pairs_free(&s->maps, s->ready, nready);
	for (size_t i = 0; i < nready; i++)
		bpf_map_update_elem(s->maps.free_slots_fd, NULL, &s->ready[i], BPF_ANY);
	for (size_t i = 0; i < s->nfreed; i++)
		if (!s->freed_ns[i])
			s->freed_ns[i] = now;
}
