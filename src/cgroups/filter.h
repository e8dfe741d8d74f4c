/* SPDX-License-Identifier: GPL-2.0-only */
/* --cgroup.include and --cgroup.exclude: POSIX extended regexes that must
 * match a whole cgroup path. */
#ifndef FILTER_H
#define FILTER_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

struct cgroup_filter {
	bool has_include, has_exclude;
	regex_t include, exclude;
};

/* NULL patterns mean no filter. -1 with the reason in err on a bad one. */
int filter_init(struct cgroup_filter *f, const char *include, const char *exclude, char *err,
		size_t errlen);
void filter_free(struct cgroup_filter *f);
bool filter_allows(const struct cgroup_filter *f, const char *path);

#endif /* FILTER_H */
