/* SPDX-License-Identifier: GPL-2.0-only */
/* --cgroup.include/--cgroup.exclude: any pattern compiles quickly or is
 * refused with a reason (a slow one trips libFuzzer's timeout or memory
 * limit), and a pattern that spells a path literally matches that path. */
#include <stdlib.h>
#include <string.h>

#include "cgroups/filter.h"
#include "input.h"

/* ERE specials get a backslash; other bytes stand for themselves. */
static char *literal(const char *path)
{
	char *t = malloc(2 * strlen(path) + 1), *w = t;

	if (!t)
		abort();
	for (; *path; path++) {
		if (strchr(".[]()*+?{}|^$\\", *path))
			*w++ = '\\';
		*w++ = *path;
	}
	*w = '\0';
	return t;
}

static void check_literal(const char *path)
{
	char *pattern = literal(path), err[512] = "";
	struct cgroup_filter f;

	if (strlen(pattern) > 1000) /* within the size limit */
		goto out;
	fuzz_assert(!filter_init(&f, pattern, NULL, err, sizeof(err)), "'%s' refused: %s", pattern,
		    err);
	fuzz_assert(filter_allows(&f, path), "include '%s' does not match '%s'", pattern, path);
	filter_free(&f);
	fuzz_assert(!filter_init(&f, NULL, pattern, err, sizeof(err)), "'%s' refused: %s", pattern,
		    err);
	fuzz_assert(!filter_allows(&f, path), "exclude '%s' does not match '%s'", pattern, path);
	filter_free(&f);
out:
	free(pattern);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	char *include = fuzz_take_string(&in), *exclude = fuzz_take_string(&in),
	     *path = fuzz_take_string(&in), err[512] = "";
	struct cgroup_filter f;

	if (!filter_init(&f, include, *exclude ? exclude : NULL, err, sizeof(err))) {
		(void)filter_allows(&f, path);
		(void)filter_allows(&f, "/kubepods.slice/kubepods-burstable.slice/kubepods-"
					"burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/"
					"cri-containerd-0123456789abcdef0123456789abcdef0123456789"
					"abcdef0123456789abcdef.scope");
		filter_free(&f);
	} else {
		fuzz_assert(err[0], "refused without a reason: '%s'", include);
	}
	check_literal(path);
	free(include);
	free(exclude);
	free(path);
	return 0;
}
