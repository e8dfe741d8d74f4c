/* SPDX-License-Identifier: GPL-2.0-only */
/* One scrape: read the maps and name each cgroup, under a lock that
 * serializes scrapes, into a snapshot the response owns; nothing renders
 * while reading kernel state, and no lock is held while a client reads. */
#ifndef SCRAPE_H
#define SCRAPE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include "cgroups/cgroups.h"
#include "kernel/collect.h"
#include "cgroups/filter.h"
#include "cgroups/kubelet.h"
#include "kernel/peer_maps.h"
#include "lifecycle.h"
#include "peers/groups.h"
#include "render.h"
#include "self.h"
#include "idmap.h"

struct loader;

/* A cgroup being named: its labels point into the cgroup and kubelet
 * caches, valid while the scraper's lock is held. */
/* What a cgroup gets in a scrape: a row, nothing (the filters hide it), or
 * nothing yet (no name found, see nameless() in scrape.c). */
enum row_fate {
	ROW_SHOWN,
	ROW_EXCLUDED,
	ROW_HELD,
};

struct cgroup_row {
	const char *cgroup;
	struct cgroup_labels labels;
	size_t sample; /* in the collector's samples */
};

struct scraper {
	pthread_mutex_t lock;
	struct collector collector;
	struct cgroups *cgroups;
	struct cgroup_row *rows;
	size_t rows_cap, nrows;
	const struct loader *loader;
	const struct cgroup_filter *filter;
	struct kubelet kubelet;
	struct lifecycle lifecycle;
	/* The pairs read at the last scrape (pairs_fd < 0: no peer groups;
	 * procs_fd < 0: no process attribution), and the groups' names. */
	int pairs_fd, procs_fd;
	struct pair_values pairs, procs;
	const struct peer_groups *peers;
	size_t excluded; /* cgroups the filters hid at the last scrape */
	/* Nameless cgroups: held back at the last scrape, at this one, and
	 * shown under cgroup="" for good. */
	struct idmap held, held_next, unnamed;
	unsigned int bucket_step;
	bool self_metrics;
	/* The last finished scrape's duration, in nanoseconds. */
	atomic_uint_fast64_t last_ns;
};

/* What one scrape shows, taken under the scraper's lock; owned by the
 * response that renders it. */
struct scrape {
	struct snapshot rows;
	/* The rows of each kind (catalogue.h: enum row_kind; the cgroups'
	 * are `rows`), and which kinds are on. */
	struct snapshot pair_rows[ROW_KINDS];
	bool on[ROW_KINDS];
	struct render_options opts;
	bool self_metrics;
	struct self_sources self;
	double snapshot_seconds; /* time it took to take */
};

struct config;

/* 0 or a negative errno (what failed beyond memory is logged). */
int scraper_init(struct scraper *s, const struct loader *loader, struct cgroups *cgroups,
		 const struct config *cfg);
void scraper_free(struct scraper *s);
/* Reads the maps into out (scrape_free() it in any case); -1 when the
 * scrape failed (logged). */
int scraper_take(struct scraper *s, enum exposition_format format, struct scrape *out);
void scrape_free(struct scrape *sc);
/* A scrape's response is made: its duration is what the next scrapes
 * report. */
void scraper_finished(struct scraper *s, double seconds);
/* Responses render and compress under the scraper's lock, a piece at a
 * time and never while waiting for a client: however many scrapes are in
 * flight, the exporter's work for them takes one core. */
void scraper_lock(struct scraper *s);
void scraper_unlock(struct scraper *s);

/* Adds the rows to out, sorted by their labels as shown, with the values of
 * rows that share them summed into one row (two ids can name the same path: a
 * cgroup removed and made again; two paths can be shown alike: they differ
 * only in bytes that are not UTF-8). -1 when out of memory. */
/* The order rows_snapshot() sorts rows in: by their labels as shown. */
int cgroup_row_cmp(const struct cgroup_row *a, const struct cgroup_row *b);
int rows_snapshot(const struct collector *c, struct cgroup_row *rows, size_t n,
		  struct snapshot *out);

#endif /* SCRAPE_H */
