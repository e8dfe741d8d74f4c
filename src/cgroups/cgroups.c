/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup id -> path resolution with a cache. */
#include "cgroups.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fts.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup_tcp.h"
#include "idmap.h"
#include "log.h"

struct cgroups {
	char *root;
	size_t rootlen;
	int created_fd;
	bool walked; /* this scrape already walked the tree */
	size_t misses;
	/* id -> path; a NULL path means known not to resolve */
	struct idmap cache;
};

/* Takes ownership of path (may be NULL for a negative entry) and makes the
 * cached entry, identity included, from it. */
static const struct cgroup_info *cache_put(struct cgroups *cg, uint64_t id, char *path)
{
	struct idmap_slot *s = idmap_find(&cg->cache, id);
	struct cgroup_info *info = NULL;

	if (path) {
		info = malloc(sizeof(*info) + strlen(path) + 1);
		if (info) {
			strcpy(info->path, path);
			identity_classify(path, &info->identity);
		}
		free(path);
	}
	if (s->id) {
		/* A name seen once is kept: a removed cgroup keeps its last one. */
		if (info && !s->value)
			s->value = info;
		else
			free(info);
		return s->value;
	}
	if (idmap_reserve(&cg->cache)) {
		free(info);
		return NULL;
	}
	s = idmap_find(&cg->cache, id);
	s->id = id;
	s->value = info;
	return info;
}

/* "/" for the root itself, else the part after the root. */
static char *relative_path(const struct cgroups *cg, const char *abs)
{
	const char *rel;

	if (strncmp(abs, cg->root, cg->rootlen))
		return NULL;
	rel = abs + cg->rootlen;
	if (*rel == '\0')
		return strdup("/");
	if (*rel != '/')
		return NULL;
	return strdup(rel);
}

/* Names every directory of the tree not named yet. Only directories are
 * looked at (FTS_NOSTAT): a cgroup directory holds dozens of files, and
 * nftw() would stat each of them. fts still stats directories, to descend
 * into them, and keeps their inode in fts_ino. Mounts inside the tree are
 * not crossed. */
static void walk_tree(struct cgroups *cg)
{
	char *paths[] = {cg->root, NULL};
	FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_NOSTAT | FTS_NOCHDIR | FTS_XDEV, NULL);
	FTSENT *e;
	size_t dirs = 0;

	cg->walked = true;
	if (!fts)
		return;
	while ((e = fts_read(fts))) {
		struct idmap_slot *s;

		if (e->fts_info != FTS_D)
			continue;
		dirs++;
		s = idmap_find(&cg->cache, (uint64_t)e->fts_ino);
		if (!s->id || !s->value)
			cache_put(cg, (uint64_t)e->fts_ino, relative_path(cg, e->fts_path));
	}
	fts_close(fts);
	log_debug("walked the cgroup tree: %zu cgroups", dirs);
}

struct cgroups *cgroups_open(const char *root, int created_fd)
{
	struct cgroups *cg = calloc(1, sizeof(*cg));
	struct stat st;

	if (!cg)
		return NULL;
	cg->root = realpath(root, NULL);
	if (!cg->root || stat(cg->root, &st))
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto fail;
	}
	cg->rootlen = strlen(cg->root);
	if (cg->rootlen == 1) /* "/": keep the leading slash of relative paths */
		cg->rootlen = 0;
	cg->created_fd = created_fd;
	if (idmap_init(&cg->cache))
		goto fail;
	/* At start rather than in the first scrape, which would take it. */
	walk_tree(cg);
	return cg;
fail:
	cgroups_close(cg);
	return NULL;
}

void cgroups_close(struct cgroups *cg)
{
	int saved = errno;

	if (!cg)
		return;
	for (size_t i = 0; i < cg->cache.cap; i++)
		free(cg->cache.slots[i].value);
	idmap_free(&cg->cache);
	free(cg->root);
	free(cg);
	errno = saved;
}

void cgroups_begin_scrape(struct cgroups *cg)
{
	cg->walked = false;
}

size_t cgroups_cached(const struct cgroups *cg)
{
	return cg->cache.used;
}

void cgroups_name(struct cgroups *cg, uint64_t id, const char *path)
{
	char *copy;

	if (!id || !path[0])
		return;
	copy = strdup(path);
	if (copy)
		cache_put(cg, id, copy);
}

void cgroups_forget(struct cgroups *cg, uint64_t id)
{
	struct idmap_slot *s = idmap_find(&cg->cache, id);

	if (!s->id)
		return;
	free(s->value);
	idmap_remove(&cg->cache, s);
}

size_t cgroups_misses(const struct cgroups *cg)
{
	return cg->misses;
}

/* The path the kernel reported when the cgroup was made (relative to the
 * hierarchy's root, like the walk's when the cgroup2 root is mounted), or
 * NULL. The entry is taken: the map keeps only names nobody asked for. */
static char *created_path(struct cgroups *cg, uint64_t id)
{
	char path[CTCP_PATH_MAX];

	if (cg->created_fd < 0 || bpf_map_lookup_elem(cg->created_fd, &id, path))
		return NULL;
	bpf_map_delete_elem(cg->created_fd, &id);
	path[sizeof(path) - 1] = '\0';
	return path[0] == '/' ? strdup(path) : NULL;
}

const struct cgroup_info *cgroups_lookup(struct cgroups *cg, uint64_t id)
{
	struct idmap_slot *s;
	char *path;

	if (id == 0)
		return NULL;
	s = idmap_find(&cg->cache, id);
	if (s->id)
		return s->value;
	cg->misses++;
	path = created_path(cg, id);
	if (path)
		return cache_put(cg, id, path);
	/* Walk, once per scrape and only for ids never seen, so gone cgroups
	 * cost nothing later. */
	if (!cg->walked)
		walk_tree(cg);
	s = idmap_find(&cg->cache, id);
	return s->id ? s->value : cache_put(cg, id, NULL);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

int cgroup2_mount_point(FILE *mountinfo, char *out, size_t outlen)
{
	char *line = NULL;
	size_t cap = 0;
	int found = -1;

	while (getline(&line, &cap, mountinfo) > 0) {
		char *save = NULL, *root = NULL, *point = NULL, *fstype = NULL, *tok;
		int field = 0;
		bool after_dash = false;

		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			if (after_dash) {
				fstype = tok;
				break;
			}
			if (field == 3)
				root = tok;
			else if (field == 4)
				point = tok;
			else if (field > 5 && !strcmp(tok, "-"))
				after_dash = true;
			field++;
		}
		if (!fstype || strcmp(fstype, "cgroup2") || !root || !point)
			continue;
		unescape_octal(point);
		if (strlen(point) >= outlen)
			continue;
		/* A mount of a subtree (a container's view) is used only if
		 * nothing better comes. */
		if (found < 0 || !strcmp(root, "/")) {
			strcpy(out, point);
			found = 0;
			if (!strcmp(root, "/"))
				break;
		}
	}
	free(line);
	return found;
}
