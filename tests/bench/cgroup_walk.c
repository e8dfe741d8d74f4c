/* SPDX-License-Identifier: GPL-2.0-only */
/* What naming a new cgroup costs when the kernel did not report its path
 * (src/cgroups/cgroups.c): a scrape that meets such an id walks the cgroup tree
 * once, as the start does. Makes a tree of N cgroups
 * (default 1000 and 10000) in a private directory under the cgroup2 mount,
 * times a few scrapes that each meet one new cgroup, prints the median walk
 * in ms and in µs per cgroup, and removes the tree. Needs root.
 *
 * usage: cgroup_walk [N...] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cgroups/cgroups.h"

#define ROUNDS	 7
#define FANOUT	 100 /* children per parent, as pods under a QoS slice */
#define PATHLEN	 512
#define BASELEN	 256 /* a path of the tree's directory */
#define MOUNTLEN 200

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void child_path(char *out, const char *base, long i)
{
	snprintf(out, PATHLEN, "%s/p%ld/c%ld", base, i / FANOUT, i);
}

static int make_tree(const char *base, long n)
{
	char path[PATHLEN];

	if (mkdir(base, 0755))
		return -1;
	for (long i = 0; i < n; i++) {
		if (i % FANOUT == 0) {
			snprintf(path, sizeof(path), "%s/p%ld", base, i / FANOUT);
			if (mkdir(path, 0755))
				return -1;
		}
		child_path(path, base, i);
		if (mkdir(path, 0755))
			return -1;
	}
	return 0;
}

static void remove_tree(const char *base, long n)
{
	char path[PATHLEN];

	for (long i = n; i-- > 0;) {
		child_path(path, base, i);
		rmdir(path);
		if (i % FANOUT == 0) {
			snprintf(path, sizeof(path), "%s/p%ld", base, i / FANOUT);
			rmdir(path);
		}
	}
	rmdir(base);
}

static int measure(const char *mount, long n)
{
	char base[BASELEN], extra[PATHLEN];
	double ms[ROUNDS];
	struct cgroups *cg;
	struct stat st;
	int rc = -1;

	snprintf(base, sizeof(base), "%s/ctcp-bench-walk-%d", mount, (int)getpid());
	if (make_tree(base, n)) {
		fprintf(stderr, "cgroup_walk: cannot make %ld cgroups under %s: %s\n", n, base,
			strerror(errno));
		goto out;
	}
	cg = cgroups_open(base, -1);
	if (!cg)
		goto out;
	for (int r = 0; r < ROUNDS; r++) {
		double start;

		snprintf(extra, sizeof(extra), "%s/new%d", base, r);
		if (mkdir(extra, 0755) || stat(extra, &st))
			break;
		cgroups_begin_scrape(cg);
		start = now();
		if (!cgroups_lookup(cg, st.st_ino))
			fprintf(stderr, "cgroup_walk: %s not found\n", extra);
		ms[r] = (now() - start) * 1e3;
		rmdir(extra);
	}
	cgroups_close(cg);
	qsort(ms, ROUNDS, sizeof(ms[0]), cmp_double);
	printf("%8ld cgroups: walk %8.2f ms (median of %d; min %.2f, max %.2f), %.2f us/cgroup\n",
	       n, ms[ROUNDS / 2], ROUNDS, ms[0], ms[ROUNDS - 1], ms[ROUNDS / 2] * 1e3 / (double)n);
	rc = 0;
out:
	remove_tree(base, n);
	return rc;
}

int main(int argc, char **argv)
{
	long defaults[] = {1000, 10000};
	char mount[MOUNTLEN];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f || cgroup2_mount_point(f, mount, sizeof(mount))) {
		fprintf(stderr, "cgroup_walk: no cgroup2 mount\n");
		return 1;
	}
	fclose(f);
	if (argc == 1)
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			if (measure(mount, defaults[i]))
				return 1;
	for (int i = 1; i < argc; i++)
		if (measure(mount, strtol(argv[i], NULL, 10)))
			return 1;
	return 0;
}
