/* SPDX-License-Identifier: GPL-2.0-only */
/* One scrape: snapshot the maps, attach cgroup names, hand it over. */
#include "scrape.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "escape.h"
#include "flags.h"
#include "kernel/loader.h"
#include "log.h"
#include "peer_rows.h"

/* Events no live cgroup can be named for are shown under cgroup="". */
static const char unattributed[] = "";
/* Events of cgroups beyond --cgroup.max; paths start with '/', so no cgroup
 * can be shown with this name. */
static const char overflow[] = "(overflow)";

int scraper_init(struct scraper *s, const struct loader *loader, struct cgroups *cgroups,
		 const struct config *cfg)
{
	struct kernel_maps maps;
	int err;

	memset(s, 0, sizeof(*s));
	s->loader = loader;
	s->cgroups = cgroups;
	s->filter = &cfg->filter;
	s->bucket_step = cfg->bucket_step;
	s->self_metrics = cfg->exporter_metrics;
	atomic_init(&s->last_ns, 0);
	pthread_mutex_init(&s->lock, NULL);
	loader_maps(loader, &maps);
	s->pairs_fd = maps.pairs_fd;
	s->procs_fd = maps.procs_fd;
	s->peers = cfg->peers;
	if (kubelet_init(&s->kubelet, cfg->kubelet_log_dir) || idmap_init(&s->held) ||
	    idmap_init(&s->held_next) || idmap_init(&s->unnamed))
		return -ENOMEM;
	err = lifecycle_init(&s->lifecycle, loader_removed_fd(loader), &maps);
	return err ? err : collector_init(&s->collector, &maps);
}

void scraper_free(struct scraper *s)
{
	collector_free(&s->collector);
	pair_values_free(&s->pairs);
	pair_values_free(&s->procs);
	kubelet_free(&s->kubelet);
	lifecycle_free(&s->lifecycle);
	idmap_free(&s->held);
	idmap_free(&s->held_next);
	idmap_free(&s->unnamed);
	free(s->rows);
	pthread_mutex_destroy(&s->lock);
}

/* By the labels as shown: two cgroups whose names differ only in bytes that
 * are not UTF-8 are one series. */
static int row_cmp(const void *a, const void *b)
{
	return cgroup_row_cmp(a, b);
}

int cgroup_row_cmp(const struct cgroup_row *x, const struct cgroup_row *y)
{
	int d = label_value_cmp(x->cgroup, y->cgroup);

	for (unsigned int l = 0; !d && l < IDENTITY_LABELS; l++)
		d = label_value_cmp(x->labels.values[l] ? x->labels.values[l] : "",
				    y->labels.values[l] ? y->labels.values[l] : "");
	return d;
}

int rows_snapshot(const struct collector *c, struct cgroup_row *rows, size_t n,
		  struct snapshot *out)
{
	struct cgroup_values sum;
	size_t next;

	qsort(rows, n, sizeof(*rows), row_cmp);
	for (size_t i = 0; i < n; i = next) {
		memset(&sum, 0, sizeof(sum));
		for (next = i; next < n && !row_cmp(&rows[next], &rows[i]); next++)
			collector_values(c, rows[next].sample, &sum);
		if (snapshot_add(out, rows[i].cgroup, &rows[i].labels, &sum))
			return -1;
	}
	return 0;
}

static bool in(const struct idmap *m, uint64_t id)
{
	return idmap_find(m, id)->id != 0;
}

static int add(struct idmap *m, uint64_t id)
{
	if (in(m, id))
		return 0;
	if (idmap_reserve(m))
		return -ENOMEM;
	idmap_find(m, id)->id = id;
	return 0;
}

/* A cgroup no name is found for is one removed in the short window where
 * the kernel has taken its directory but not yet reported the removal: it
 * is left out of this scrape and named in the next. Shown under cgroup=""
 * now and under its name then, its counts would leave cgroup="", a counter
 * going down. One still nameless at the next scrape never will be named
 * (removed before the exporter started, or its report lost): it is shown
 * under cgroup="" from then on, even if a name turns up later. */
static enum row_fate nameless(struct scraper *s, uint64_t id)
{
	if (in(&s->held, id) || add(&s->held_next, id))
		return add(&s->unnamed, id) ? ROW_HELD : ROW_SHOWN;
	return ROW_HELD;
}

/* The labels of one cgroup, or why it has no row. */
static enum row_fate label_row(struct scraper *s, struct cgroup_row *row, uint64_t id)
{
	const struct cgroup_info *info = NULL;
	const struct kube_names *k;

	memset(&row->labels, 0, sizeof(row->labels));
	row->cgroup = unattributed;
	if (id == CTCP_OVERFLOW_ID) {
		row->cgroup = overflow;
		return ROW_SHOWN;
	}
	if (id == CTCP_UNATTRIBUTED_ID || in(&s->unnamed, id))
		return ROW_SHOWN;
	info = cgroups_lookup(s->cgroups, id);
	/* Removed after this scrape took the kernel's removals: named now, or
	 * its counts would move from cgroup="" to its name next scrape. */
	if (!info && lifecycle_name_removed(&s->lifecycle, s->cgroups, id))
		info = cgroups_lookup(s->cgroups, id);
	if (!info)
		return nameless(s, id);
	if (!filter_allows(s->filter, info->path))
		return ROW_EXCLUDED;
	row->cgroup = info->path;
	row->labels.values[0] = info->identity.container_id;
	row->labels.values[1] = info->identity.pod_uid;
	k = kubelet_lookup(&s->kubelet, info->identity.container_id);
	if (k) {
		row->labels.values[2] = k->namespace;
		row->labels.values[3] = k->pod;
		row->labels.values[4] = k->container;
	}
	return ROW_SHOWN;
}

static int name_rows(struct scraper *s, struct snapshot *out)
{
	const struct collector *c = &s->collector;
	size_t n = 0;

	if (c->nsamples > s->rows_cap) {
		struct cgroup_row *rows = realloc(s->rows, c->nsamples * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		s->rows = rows;
		s->rows_cap = c->nsamples;
	}
	cgroups_begin_scrape(s->cgroups);
	kubelet_begin_scrape(&s->kubelet);
	s->excluded = 0;
	idmap_clear(&s->held_next);
	for (size_t i = 0; i < c->nsamples; i++) {
		enum row_fate fate = label_row(s, &s->rows[n], c->samples[i].id);

		if (fate == ROW_EXCLUDED)
			s->excluded++;
		if (fate == ROW_SHOWN)
			s->rows[n++].sample = i;
	}
	/* Those held back now are the ones shown under "" if still nameless
	 * next time. */
	{
		struct idmap t = s->held;

		s->held = s->held_next;
		s->held_next = t;
	}
	s->nrows = n;
	return rows_snapshot(c, s->rows, n, out) ? -ENOMEM : 0;
}

/* After name_rows: s->rows are the named rows, sorted. */
static int name_pairs(struct scraper *s, int fd, const char *map, struct pair_values *v,
		      const struct pair_kind *kind, struct snapshot *out)
{
	int err = slot_pairs_read(fd, kind->size, v);

	if (err) {
		log_error("cannot read the BPF map %s: %s", map, strerror(-err));
		return err;
	}
	return pair_rows_snapshot(&s->collector, s->rows, s->nrows, v, kind, out) ? -ENOMEM : 0;
}

static int name_all_pairs(struct scraper *s, struct scrape *out)
{
	const struct pair_kind peers = {PEER_LABEL, offsetof(struct cgroup_values, peer),
					sizeof(struct ctcp_peer), 0, s->peers};
	const struct pair_kind procs = {COMM_LABEL, offsetof(struct cgroup_values, proc),
					sizeof(struct ctcp_proc),
					offsetof(struct ctcp_proc, opened), NULL};
	int err = 0;

	if (out->on[ROWS_PEER])
		err = name_pairs(s, s->pairs_fd, "ctcp_pairs", &s->pairs, &peers,
				 &out->pair_rows[ROWS_PEER]);
	if (!err && out->on[ROWS_PROCESS])
		err = name_pairs(s, s->procs_fd, "ctcp_procs", &s->procs, &procs,
				 &out->pair_rows[ROWS_PROCESS]);
	return err;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* What the exporter's own metrics show, copied while the lock is held. */
static void self_values(struct scraper *s, struct self_sources *out)
{
	out->loader = s->loader;
	for (int m = 0; m < VALUE_MAPS; m++)
		out->map_entries[m] = s->collector.entries[m];
	if (s->pairs_fd >= 0 && s->peers) {
		out->pair_entries = s->pairs.n;
		out->pair_capacity = loader_pairs_capacity(s->loader);
	}
	out->cache_entries = cgroups_cached(s->cgroups);
	out->cache_misses = cgroups_misses(s->cgroups);
	out->excluded = s->excluded;
	out->freed = s->lifecycle.freed;
	self_read_responses(out->responses);
	out->deferred = s->lifecycle.deferred;
	out->last_scrape_seconds = (double)atomic_load(&s->last_ns) / 1e9;
}

int scraper_take(struct scraper *s, enum exposition_format format, struct scrape *out)
{
	struct timespec start;
	int err;

	memset(out, 0, sizeof(*out));
	snapshot_init(&out->rows);
	for (int k = 0; k < ROW_KINDS; k++)
		snapshot_init(&out->pair_rows[k]);
	out->on[ROWS_CGROUP] = true;
	out->on[ROWS_PEER] = s->pairs_fd >= 0 && s->peers;
	out->on[ROWS_PROCESS] = s->procs_fd >= 0;
	out->opts = (struct render_options){.format = format, .bucket_step = s->bucket_step};
	out->self_metrics = s->self_metrics;
	pthread_mutex_lock(&s->lock);
	clock_gettime(CLOCK_MONOTONIC, &start);
	lifecycle_before_scrape(&s->lifecycle, s->cgroups);
	err = collector_read(&s->collector, &out->self.stats, s->lifecycle.slots.freed,
			     s->lifecycle.slots.nfreed);
	if (!err) {
		lifecycle_check_returns(&s->lifecycle, &s->collector);
		err = name_rows(s, &out->rows);
	}
	if (!err)
		err = name_all_pairs(s, out);
	if (!err) {
		self_values(s, &out->self);
		/* The snapshot holds copies of the names it shows. */
		lifecycle_after_scrape(&s->lifecycle, s->cgroups);
	}
	collector_release(&s->collector);
	out->snapshot_seconds = seconds_since(&start);
	pthread_mutex_unlock(&s->lock);
	if (err) {
		log_error("scrape failed: %s", strerror(-err));
		return -1;
	}
	return 0;
}

void scrape_free(struct scrape *sc)
{
	snapshot_free(&sc->rows);
	for (int k = 0; k < ROW_KINDS; k++)
		snapshot_free(&sc->pair_rows[k]);
}

void scraper_finished(struct scraper *s, double seconds)
{
	atomic_store(&s->last_ns, (uint_fast64_t)(seconds * 1e9));
}

void scraper_lock(struct scraper *s)
{
	pthread_mutex_lock(&s->lock);
}

void scraper_unlock(struct scraper *s)
{
	pthread_mutex_unlock(&s->lock);
}
