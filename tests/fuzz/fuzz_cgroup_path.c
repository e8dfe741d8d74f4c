/* SPDX-License-Identifier: GPL-2.0-only */
/* Container id and pod UID from a cgroup path: what is found is well formed
 * and stands in the path, and the answer does not change with empty path
 * components, sub-cgroups below the container, or a leading slash. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/identity.h"
#include "input.h"

#define INNER_ID "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static bool lower_hex(const char *s, size_t n)
{
	return strspn(s, "0123456789abcdef") >= n;
}

/* The UID stands in the path, dashes maybe written as systemd's '_'. */
static bool uid_in_path(const char *path, const char *uid)
{
	size_t n = strlen(uid);

	for (const char *p = path; *p; p++) {
		size_t i = 0;

		while (i < n && p[i] && (p[i] == uid[i] || (uid[i] == '-' && p[i] == '_')))
			i++;
		if (i == n)
			return true;
	}
	return false;
}

static char *joined(const char *a, const char *b)
{
	size_t alen = strlen(a), blen = strlen(b);
	char *t = malloc(alen + blen + 1);

	if (!t)
		abort();
	memcpy(t, a, alen);
	memcpy(t + alen, b, blen + 1);
	return t;
}

static char *slashes_doubled(const char *path)
{
	char *t = malloc(2 * strlen(path) + 1), *w = t;

	if (!t)
		abort();
	for (; *path; path++) {
		*w++ = *path;
		if (*path == '/')
			*w++ = '/';
	}
	*w = '\0';
	return t;
}

static void same_identity(const char *path, char *rewrite, const struct cgroup_identity *want,
			  const char *how)
{
	struct cgroup_identity got;

	identity_classify(rewrite, &got);
	fuzz_assert(!strcmp(got.container_id, want->container_id) &&
			!strcmp(got.pod_uid, want->pod_uid),
		    "%s changed '%s'/'%s' to '%s'/'%s': '%s' -> '%s'", how, want->container_id,
		    want->pod_uid, got.container_id, got.pod_uid, path, rewrite);
	free(rewrite);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_whole_string(data, size);
	struct cgroup_identity id, inner;
	size_t uid_len;
	char *nested;

	identity_classify(path, &id);
	fuzz_assert(!id.container_id[0] || (strlen(id.container_id) == CONTAINER_ID_LEN &&
					    lower_hex(id.container_id, CONTAINER_ID_LEN) &&
					    strstr(path, id.container_id)),
		    "container id '%s' from '%s'", id.container_id, path);
	uid_len = strlen(id.pod_uid);
	fuzz_assert(!uid_len || ((uid_len == 32 || uid_len == 36) &&
				 strspn(id.pod_uid, "0123456789abcdef-") == uid_len &&
				 uid_in_path(path, id.pod_uid) && strstr(path, "kubepods")),
		    "pod UID '%s' from '%s'", id.pod_uid, path);

	same_identity(path, joined("/", path), &id, "a leading slash");
	same_identity(path, joined(path, "/sub"), &id, "a sub-cgroup");
	same_identity(path, slashes_doubled(path), &id, "empty components");

	/* A container started inside: its id is the innermost, the pod stays. */
	nested = joined(path, "/docker-" INNER_ID ".scope");
	identity_classify(nested, &inner);
	fuzz_assert(!strcmp(inner.container_id, INNER_ID) && !strcmp(inner.pod_uid, id.pod_uid),
		    "nested container in '%s' gave '%s'/'%s'", nested, inner.container_id,
		    inner.pod_uid);
	free(nested);
	free(path);
	return 0;
}
