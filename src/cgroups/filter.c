/* SPDX-License-Identifier: GPL-2.0-only */
/* Include and exclude regexes on cgroup paths. */
#include "filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ere_check.h"

/* Anchored, so "/system.slice/.*" does not match "/x/system.slice/y". */
static int compile(regex_t *re, const char *flag, const char *pattern, char *err, size_t errlen)
{
	size_t len = strlen(pattern) + 5;
	char *anchored, why[160];
	int rc;

	if (ere_check(pattern, why, sizeof(why))) {
		snprintf(err, errlen, "bad %s '%s': %s", flag, pattern, why);
		return -1;
	}
	anchored = malloc(len);
	if (!anchored) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(anchored, len, "^(%s)$", pattern);
	rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc) {
		char why[128];

		regerror(rc, re, why, sizeof(why));
		snprintf(err, errlen, "bad %s '%s': %s", flag, pattern, why);
		return -1;
	}
	return 0;
}

int filter_init(struct cgroup_filter *f, const char *include, const char *exclude, char *err,
		size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (include) {
		if (compile(&f->include, "--cgroup.include", include, err, errlen))
			return -1;
		f->has_include = true;
	}
	if (exclude) {
		if (compile(&f->exclude, "--cgroup.exclude", exclude, err, errlen)) {
			filter_free(f);
			return -1;
		}
		f->has_exclude = true;
	}
	return 0;
}

void filter_free(struct cgroup_filter *f)
{
	if (f->has_include)
		regfree(&f->include);
	if (f->has_exclude)
		regfree(&f->exclude);
	memset(f, 0, sizeof(*f));
}

bool filter_allows(const struct cgroup_filter *f, const char *path)
{
	if (f->has_include && regexec(&f->include, path, 0, NULL, 0))
		return false;
	return !(f->has_exclude && !regexec(&f->exclude, path, 0, NULL, 0));
}
