/* One scrape: snapshot the maps, attach cgroup names, render. */
#include "scrape.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "escape.h"
#include "flags.h"
#include "loader.h"
#include "log.h"
#include "self.h"

/* Events no live cgroup can be named for are shown under cgroup="". */
static const char unattributed[] = "";
/* Events of cgroups beyond --cgroup.max; paths start with '/', so no cgroup
 * can be shown with this name. */
static const char overflow[] = "(overflow)";

int scraper_init(struct scraper *s, const struct loader *loader, struct cgroups *cgroups,
		 const struct config *cfg)
{
	struct kernel_maps maps;

	memset(s, 0, sizeof(*s));
	s->loader = loader;
	s->cgroups = cgroups;
	s->filter = &cfg->filter;
	s->bucket_step = cfg->bucket_step;
	s->self_metrics = cfg->exporter_metrics;
	pthread_mutex_init(&s->lock, NULL);
	loader_maps(loader, &maps);
	if (kubelet_init(&s->kubelet, cfg->kubelet_log_dir) ||
	    lifecycle_init(&s->lifecycle, loader_removed_fd(loader), &maps))
		return -ENOMEM;
	return collector_init(&s->collector, &maps);
}

void scraper_free(struct scraper *s)
{
	collector_free(&s->collector);
	kubelet_free(&s->kubelet);
	lifecycle_free(&s->lifecycle);
	free(s->rows);
	pthread_mutex_destroy(&s->lock);
}

/* By the labels as shown: two cgroups whose names differ only in bytes that
 * are not UTF-8 are one series. */
static int row_cmp(const void *a, const void *b)
{
	const struct cgroup_row *x = a, *y = b;
	int d = label_value_cmp(x->cgroup, y->cgroup);

	for (unsigned int l = 0; !d && l < IDENTITY_LABELS; l++)
		d = label_value_cmp(x->labels.values[l] ? x->labels.values[l] : "",
				    y->labels.values[l] ? y->labels.values[l] : "");
	return d;
}

size_t rows_merge(struct cgroup_row *rows, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(rows, n, sizeof(*rows), row_cmp);
	for (size_t i = 1; i < n; i++) {
		if (!row_cmp(&rows[i], &rows[out]))
			values_add(rows[out].values, rows[i].values);
		else
			rows[++out] = rows[i];
	}
	return out + 1;
}

/* The labels of one cgroup; false when the filters hide it. */
static bool label_row(struct scraper *s, struct cgroup_row *row, uint64_t id)
{
	const struct cgroup_info *info = NULL;
	const struct kube_names *k;

	memset(&row->labels, 0, sizeof(row->labels));
	row->cgroup = unattributed;
	if (id == CTCP_OVERFLOW_ID) {
		row->cgroup = overflow;
		return true;
	}
	if (id != CTCP_UNATTRIBUTED_ID)
		info = cgroups_lookup(s->cgroups, id);
	/* Removed after this scrape took the kernel's removals: named now, or
	 * its counts would move from cgroup="" to its name next scrape. */
	if (!info && id != CTCP_UNATTRIBUTED_ID &&
	    lifecycle_name_removed(&s->lifecycle, s->cgroups, id))
		info = cgroups_lookup(s->cgroups, id);
	if (!info)
		return true;
	if (!filter_allows(s->filter, info->path))
		return false;
	row->cgroup = info->path;
	row->labels.values[0] = info->identity.container_id;
	row->labels.values[1] = info->identity.pod_uid;
	k = kubelet_lookup(&s->kubelet, info->identity.container_id);
	if (k) {
		row->labels.values[2] = k->namespace;
		row->labels.values[3] = k->pod;
		row->labels.values[4] = k->container;
	}
	return true;
}

static int name_rows(struct scraper *s, size_t *nrows)
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
	for (size_t i = 0; i < c->nsamples; i++) {
		if (!label_row(s, &s->rows[n], c->samples[i].id)) {
			s->excluded++;
			continue;
		}
		s->rows[n++].values = &c->samples[i].values;
	}
	*nrows = rows_merge(s->rows, n);
	return 0;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int scraper_render(struct scraper *s, enum exposition_format format, struct buf *out)
{
	struct render_options opts = {.format = format, .bucket_step = s->bucket_step};
	struct self_sources self = {.loader = s->loader};
	struct timespec start;
	size_t nrows = 0;
	int err;

	pthread_mutex_lock(&s->lock);
	clock_gettime(CLOCK_MONOTONIC, &start);
	lifecycle_before_scrape(&s->lifecycle, s->cgroups);
	err = collector_read(&s->collector, &self.stats);
	if (!err) {
		lifecycle_check_returns(&s->lifecycle, &s->collector);
		err = name_rows(s, &nrows);
	}
	if (!err) {
		render_cgroups(out, s->rows, nrows, &opts);
		if (s->self_metrics) {
			self.collector = &s->collector;
			self.cgroups = s->cgroups;
			self.last_scrape_seconds = s->last_seconds;
			self.excluded = s->excluded;
			self.freed = s->lifecycle.freed;
			render_self_metrics(out, &self, &opts);
		}
		render_end(out, &opts);
		lifecycle_after_scrape(&s->lifecycle, s->cgroups);
		s->last_seconds = seconds_since(&start);
	}
	pthread_mutex_unlock(&s->lock);
	if (err || out->failed) {
		log_error("scrape failed: %s", strerror(err ? -err : ENOMEM));
		return -1;
	}
	return 0;
}
