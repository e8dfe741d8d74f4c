/* SPDX-License-Identifier: GPL-2.0-only */
/* The exporter's own metrics, read at scrape time. */
#include "self.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "version.h"

static const unsigned int http_codes[SELF_HTTP_CODES] = {200, 400, 401, 404, 405, 413, 500, 503};
static const char *const http_code_names[SELF_HTTP_CODES] = {"200", "400", "401", "404",
							     "405", "413", "500", "503"};
/* One HTTP server per process, answering on many threads. */
static atomic_ullong responses[SELF_HTTP_CODES];

void self_count_response(unsigned int code)
{
	for (int i = 0; i < SELF_HTTP_CODES; i++)
		if (http_codes[i] == code)
			atomic_fetch_add_explicit(&responses[i], 1, memory_order_relaxed);
}

void self_read_responses(unsigned long long out[SELF_HTTP_CODES])
{
	for (int i = 0; i < SELF_HTTP_CODES; i++)
		out[i] = atomic_load_explicit(&responses[i], memory_order_relaxed);
}

static void render_responses(struct buf *b, const struct self_sources *src,
			     const struct render_options *o)
{
	struct self_sample s[SELF_HTTP_CODES];

	for (int i = 0; i < SELF_HTTP_CODES; i++)
		s[i] = (struct self_sample){.labels = {http_code_names[i]},
					    .value = (double)src->responses[i]};
	render_self(b, &exporter_families[SELF_HTTP_RESPONSES], s, SELF_HTTP_CODES, o);
}

static void one(struct buf *b, enum self_family id, double value, const struct render_options *o)
{
	struct self_sample s = {.value = value};

	render_self(b, &exporter_families[id], &s, 1, o);
}

/* Read once: responses render these concurrently. */
static char libbpf[32];
static struct utsname uts;
static pthread_once_t build_once = PTHREAD_ONCE_INIT;

static void read_build(void)
{
	uname(&uts);
	snprintf(libbpf, sizeof(libbpf), "%u.%u", libbpf_major_version(), libbpf_minor_version());
}

static void render_build(struct buf *b, const struct render_options *o)
{
	struct self_sample s = {.value = 1};

	pthread_once(&build_once, read_build);
	s.labels[0] = CTCP_VERSION;
	s.labels[1] = CTCP_REVISION;
	s.labels[2] = uts.release;
	s.labels[3] = libbpf;
	render_self(b, &exporter_families[SELF_BUILD_INFO], &s, 1, o);
}

static void render_programs(struct buf *b, const struct loader *l, const struct render_options *o)
{
	struct program_info progs[LOADER_MAX_PROGS];
	struct self_sample attached[LOADER_MAX_PROGS], seconds[LOADER_MAX_PROGS],
	    runs[LOADER_MAX_PROGS], missed[LOADER_MAX_PROGS];
	int n = loader_programs(l, progs, LOADER_MAX_PROGS);

	for (int i = 0; i < n; i++) {
		attached[i] = (struct self_sample){.labels = {progs[i].name, progs[i].tracepoint},
						   .value = progs[i].attached};
		seconds[i] = (struct self_sample){.labels = {progs[i].name},
						  .value = (double)progs[i].run_time_ns / 1e9};
		runs[i] = (struct self_sample){.labels = {progs[i].name},
					       .value = (double)progs[i].run_count};
		missed[i] = (struct self_sample){.labels = {progs[i].name},
						 .value = (double)progs[i].missed_runs};
	}
	render_self(b, &exporter_families[SELF_PROGRAM_ATTACHED], attached, (size_t)n, o);
	render_self(b, &exporter_families[SELF_PROGRAM_RUN_SECONDS], seconds, (size_t)n, o);
	render_self(b, &exporter_families[SELF_PROGRAM_RUNS], runs, (size_t)n, o);
	render_self(b, &exporter_families[SELF_PROGRAM_MISSED_RUNS], missed, (size_t)n, o);
}

static void render_maps(struct buf *b, const struct self_sources *src,
			const struct render_options *o)
{
	struct self_sample entries[VALUE_MAPS], capacity[VALUE_MAPS];

	for (int i = 0; i < VALUE_MAPS; i++) {
		entries[i] = (struct self_sample){.labels = {value_maps[i].name},
						  .value = (double)src->map_entries[i]};
		capacity[i] = (struct self_sample){.labels = {value_maps[i].name},
						   .value = loader_map_capacity(src->loader, i)};
	}
	render_self(b, &exporter_families[SELF_MAP_ENTRIES], entries, VALUE_MAPS, o);
	render_self(b, &exporter_families[SELF_MAP_CAPACITY], capacity, VALUE_MAPS, o);
	if (src->pair_capacity)
		one(b, SELF_PAIRS, (double)src->pair_entries, o);
}

static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own descriptor */
}

static double boot_time(void)
{
	char line[256];
	double btime = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lf", &btime) == 1)
			break;
	fclose(f);
	return btime;
}

/* Fields of /proc/self/stat after the command name, which may hold spaces. */
static void render_process(struct buf *b, const struct render_options *o)
{
	unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
	long long rss = 0, threads = 0;
	double ticks = (double)sysconf(_SC_CLK_TCK);
	struct rlimit nofile = {0};
	char stat[1024], *after;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;

	if (f)
		fclose(f);
	stat[n] = '\0';
	after = strrchr(stat, ')');
	if (after)
		sscanf(after + 2,
		       "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
		       "%lld %*d %llu %llu %lld",
		       &utime, &stime, &threads, &start, &vsize, &rss);
	getrlimit(RLIMIT_NOFILE, &nofile);
	one(b, SELF_PROCESS_CPU, (double)(utime + stime) / ticks, o);
	one(b, SELF_PROCESS_RSS, (double)rss * (double)sysconf(_SC_PAGESIZE), o);
	one(b, SELF_PROCESS_VSIZE, (double)vsize, o);
	one(b, SELF_PROCESS_OPEN_FDS, count_open_fds(), o);
	one(b, SELF_PROCESS_MAX_FDS, (double)nofile.rlim_cur, o);
	one(b, SELF_PROCESS_START, boot_time() + (double)start / ticks, o);
	one(b, SELF_PROCESS_THREADS, (double)threads, o);
}

void render_self_metrics(struct buf *b, const struct self_sources *src,
			 const struct render_options *o)
{
	render_build(b, o);
	one(b, SELF_SCRAPE_DURATION, src->last_scrape_seconds, o);
	render_programs(b, src->loader, o);
	render_maps(b, src, o);
	one(b, SELF_MAP_FULL, (double)src->stats.map_full, o);
	one(b, SELF_SOCKET_TABLE_FULL, (double)src->stats.socket_table_full, o);
	one(b, SELF_PAIRS_FULL, (double)src->stats.pairs_full, o);
	one(b, SELF_STATE_CHANGES_UNSEEN, (double)src->stats.state_changes_unseen, o);
	one(b, SELF_REMOVED_LOST, (double)src->stats.removed_lost, o);
	one(b, SELF_CGROUPS_EXCLUDED, (double)src->excluded, o);
	one(b, SELF_CGROUPS_FREED, (double)src->freed, o);
	one(b, SELF_REMOVALS_DEFERRED, (double)src->deferred, o);
	one(b, SELF_CGROUP_CACHE_ENTRIES, (double)src->cache_entries, o);
	one(b, SELF_CGROUP_CACHE_MISSES, (double)src->cache_misses, o);
	render_responses(b, src, o);
	render_process(b, o);
}
