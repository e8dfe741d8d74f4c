/* cgroup id -> path resolution with a cache. */
#include "cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "idmap.h"

/* File handle type of kernfs, whose 8 bytes are the cgroup id. */
#define FILEID_KERNFS	    0xfe
#define CGROUP2_SUPER_MAGIC 0x63677270

struct cgroups {
	char *root;
	size_t rootlen;
	int root_fd;
	bool handles; /* open_by_handle_at works here */
	bool walked;  /* this scrape already walked the tree */
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

/* Returns 0 with *path set (NULL: the cgroup is gone), or -1 when handles
 * cannot be used here at all. */
static int resolve_by_handle(struct cgroups *cg, uint64_t id, char **path)
{
	union {
		struct file_handle fh;
		char space[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[64], target[PATH_MAX + 1];
	ssize_t n;
	int fd;

	*path = NULL;
	h.fh.handle_bytes = sizeof(uint64_t);
	h.fh.handle_type = FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(cg->root_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE || errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	close(fd);
	if (n <= 0 || n >= (ssize_t)sizeof(target) - 1)
		return 0;
	target[n] = '\0';
	*path = relative_path(cg, target);
	return 0;
}

static struct cgroups *walking;

static int walk_one(const char *fpath, const struct stat *st, int type, struct FTW *ftw)
{
	struct idmap_slot *s;

	if (type != FTW_D)
		return 0;
	s = idmap_find(&walking->cache, (uint64_t)st->st_ino);
	if (s->id && s->value)
		return 0;
	cache_put(walking, (uint64_t)st->st_ino, relative_path(walking, fpath));
	return 0;
}

/* nftw has no context argument; walks are rare and serialized by the
 * scrape lock, so a static pointer is enough. */
static void walk_tree(struct cgroups *cg)
{
	walking = cg;
	nftw(cg->root, walk_one, 32, FTW_PHYS | FTW_MOUNT);
	walking = NULL;
	cg->walked = true;
}

struct cgroups *cgroups_open(const char *root)
{
	struct cgroups *cg = calloc(1, sizeof(*cg));
	struct statfs fs;

	if (!cg)
		return NULL;
	cg->root_fd = -1;
	cg->root = realpath(root, NULL);
	if (!cg->root)
		goto fail;
	cg->rootlen = strlen(cg->root);
	if (cg->rootlen == 1) /* "/": keep the leading slash of relative paths */
		cg->rootlen = 0;
	cg->root_fd = open(cg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->root_fd < 0 || idmap_init(&cg->cache))
		goto fail;
	/* Handles name kernfs nodes only on a real cgroup2 mount. */
	cg->handles = fstatfs(cg->root_fd, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
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
	if (cg->root_fd >= 0)
		close(cg->root_fd);
	free(cg->root);
	free(cg);
	errno = saved;
}

const char *cgroups_root(const struct cgroups *cg)
{
	return cg->root;
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

const struct cgroup_info *cgroups_lookup(struct cgroups *cg, uint64_t id)
{
	struct idmap_slot *s;
	char *path = NULL;

	if (id == 0)
		return NULL;
	s = idmap_find(&cg->cache, id);
	if (s->id)
		return s->value;
	cg->misses++;
	if (cg->handles && resolve_by_handle(cg, id, &path) == 0)
		return cache_put(cg, id, path);
	/* No handles (unprivileged, or not a cgroupfs): walk, once per scrape,
	 * and only for ids never seen, so gone cgroups cost nothing later. */
	cg->handles = false;
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
