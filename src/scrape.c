/* One scrape: snapshot the maps, attach cgroup names, render. */
#include "scrape.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"

/* Events no live cgroup can be named for are shown under cgroup="". */
static const char unattributed[] = "";

int scraper_init(struct scraper *s, const int map_fds[COLLECT_MAPS], int stats_fd,
		 struct cgroups *cgroups, const struct render_options *opts)
{
	memset(s, 0, sizeof(*s));
	s->cgroups = cgroups;
	s->opts = *opts;
	pthread_mutex_init(&s->lock, NULL);
	return collector_init(&s->collector, map_fds, stats_fd);
}

void scraper_free(struct scraper *s)
{
	collector_free(&s->collector);
	free(s->rows);
	pthread_mutex_destroy(&s->lock);
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cgroup_row *)a)->cgroup,
		      ((const struct cgroup_row *)b)->cgroup);
}

size_t rows_merge(struct cgroup_row *rows, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(rows, n, sizeof(*rows), row_cmp);
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(rows[i].cgroup, rows[out].cgroup))
			values_add(rows[out].values, rows[i].values);
		else
			rows[++out] = rows[i];
	}
	return out + 1;
}

static int name_rows(struct scraper *s, size_t *nrows)
{
	const struct collector *c = &s->collector;

	if (c->nsamples > s->rows_cap) {
		struct cgroup_row *rows = realloc(s->rows, c->nsamples * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		s->rows = rows;
		s->rows_cap = c->nsamples;
	}
	cgroups_begin_scrape(s->cgroups);
	for (size_t i = 0; i < c->nsamples; i++) {
		const char *path = NULL;

		if (c->samples[i].id != CTCP_UNATTRIBUTED_ID)
			path = cgroups_path(s->cgroups, c->samples[i].id);
		s->rows[i].cgroup = path ? path : unattributed;
		s->rows[i].values = &c->samples[i].values;
	}
	*nrows = rows_merge(s->rows, c->nsamples);
	return 0;
}

char *scraper_render(struct scraper *s, size_t *len)
{
	struct ctcp_stats stats;
	struct buf out;
	size_t nrows = 0;
	int err;

	buf_init(&out);
	pthread_mutex_lock(&s->lock);
	err = collector_read(&s->collector, &stats);
	if (!err)
		err = name_rows(s, &nrows);
	if (!err)
		render_text(&out, s->rows, nrows, &stats, &s->opts);
	pthread_mutex_unlock(&s->lock);
	if (err || out.failed) {
		log_error("scrape failed: %s", strerror(err ? -err : ENOMEM));
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out, len);
}
