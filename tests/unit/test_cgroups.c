/* cgroup id -> path resolution against a fake cgroup tree (plain
 * directories, whose inode numbers stand for cgroup ids), and the search for
 * the cgroup2 mount in mountinfo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/cgroups.h"

static const char *cgroups_path(struct cgroups *cg, uint64_t id)
{
	const struct cgroup_info *info = cgroups_lookup(cg, id);

	return info ? info->path : NULL;
}

struct tree {
	char root[64];
};

static uint64_t inode_of(const struct tree *t, const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", t->root, rel);
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_ino;
}

static void make_dir(const struct tree *t, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", t->root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void remove_dir(const struct tree *t, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", t->root, rel);
	assert_int_equal(rmdir(path), 0);
}

static const char *const dirs[] = {
    "/system.slice",
    "/system.slice/nginx.service",
    "/kubepods.slice",
    "/kubepods.slice/kubepods-pod1_2.slice",
    "/odd \"name\" \\ \xc3\xa9",
    "/odd \"name\" \\ \xc3\xa9/line\nbreak",
};

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	strcpy(t->root, "/tmp/ctcp-unit-XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		make_dir(t, dirs[i]);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;

	for (size_t i = sizeof(dirs) / sizeof(dirs[0]); i-- > 0;) {
		char path[512];

		snprintf(path, sizeof(path), "%s%s", t->root, dirs[i]);
		rmdir(path);
	}
	rmdir(t->root);
	free(t);
	return 0;
}

static void test_resolves_every_directory(void **state)
{
	struct tree *t = *state;
	struct cgroups *cg = cgroups_open(t->root, -1);

	assert_non_null(cg);
	cgroups_begin_scrape(cg);
	assert_string_equal(cgroups_path(cg, inode_of(t, "")), "/");
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_string_equal(cgroups_path(cg, inode_of(t, dirs[i])), dirs[i]);
	assert_null(cgroups_path(cg, 0));
	cgroups_close(cg);
}

/* A cgroup made after the first walk is found on the next scrape; an id
 * that names nothing is remembered as such and costs no further walks. */
static void test_new_cgroup_next_scrape(void **state)
{
	struct tree *t = *state;
	struct cgroups *cg = cgroups_open(t->root, -1);
	uint64_t id;
	size_t cached;

	cgroups_begin_scrape(cg);
	assert_non_null(cgroups_path(cg, inode_of(t, "/system.slice")));
	make_dir(t, "/late");
	id = inode_of(t, "/late");
	cgroups_begin_scrape(cg);
	assert_string_equal(cgroups_path(cg, id), "/late");

	assert_null(cgroups_path(cg, UINT64_MAX - 1));
	cached = cgroups_cached(cg);
	cgroups_begin_scrape(cg);
	assert_null(cgroups_path(cg, UINT64_MAX - 1));
	assert_int_equal(cgroups_cached(cg), cached);
	remove_dir(t, "/late");
	cgroups_close(cg);
}

/* A removed cgroup keeps the name it had: its last counts stay labeled. */
static void test_removed_cgroup_keeps_name(void **state)
{
	struct tree *t = *state;
	struct cgroups *cg = cgroups_open(t->root, -1);
	uint64_t id;

	make_dir(t, "/gone");
	id = inode_of(t, "/gone");
	cgroups_begin_scrape(cg);
	assert_string_equal(cgroups_path(cg, id), "/gone");
	remove_dir(t, "/gone");
	cgroups_begin_scrape(cg);
	assert_string_equal(cgroups_path(cg, id), "/gone");
	cgroups_close(cg);
}

/* A removed cgroup's kernel-reported path names it; forgetting frees it. */
static void test_name_and_forget(void **state)
{
	struct tree *t = *state;
	struct cgroups *cg = cgroups_open(t->root, -1);
	uint64_t id = UINT64_MAX - 7;

	cgroups_name(cg, id,
		     "/kubepods/besteffort/pod"
		     "0123456789abcdef0123456789abcdef");
	assert_string_equal(cgroups_path(cg, id),
			    "/kubepods/besteffort/pod0123456789abcdef0123456789abcdef");
	assert_string_equal(cgroups_lookup(cg, id)->identity.pod_uid,
			    "0123456789abcdef0123456789abcdef");
	cgroups_forget(cg, id);
	cgroups_begin_scrape(cg);
	assert_null(cgroups_path(cg, id));
	cgroups_close(cg);
}

static void test_open_missing_root_fails(void **state)
{
	assert_null(cgroups_open("/nonexistent/ctcp", -1));
}

static int mount_point_of(const char *mountinfo, char *out, size_t outlen)
{
	FILE *f = fmemopen((void *)mountinfo, strlen(mountinfo), "r");
	int rc;

	assert_non_null(f);
	rc = cgroup2_mount_point(f, out, outlen);
	fclose(f);
	return rc;
}

static void test_mountinfo_hybrid(void **state)
{
	char out[256];

	assert_int_equal(
	    mount_point_of(
		"25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
		"35 25 0:30 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
		"41 35 0:38 / /sys/fs/cgroup/unified rw,relatime shared:10 - cgroup2 cgroup2 "
		"rw,nsdelegate\n"
		"42 35 0:39 / /sys/fs/cgroup/memory rw shared:11 - cgroup cgroup rw,memory\n",
		out, sizeof(out)),
	    0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
}

static void test_mountinfo_escapes_and_root_preferred(void **state)
{
	char out[256];

	assert_int_equal(
	    mount_point_of("50 1 0:40 /kubepods /container/cg rw - cgroup2 cgroup2 rw\n"
			   "51 1 0:40 / /mnt/my\\040cgroups rw master:1 - cgroup2 none "
			   "rw\n",
			   out, sizeof(out)),
	    0);
	assert_string_equal(out, "/mnt/my cgroups");
	assert_int_equal(
	    mount_point_of("50 1 0:40 /kubepods /container/cg rw - cgroup2 cgroup2 rw\n", out,
			   sizeof(out)),
	    0);
	assert_string_equal(out, "/container/cg");
}

static void test_mountinfo_without_cgroup2(void **state)
{
	char out[256];

	assert_int_equal(mount_point_of("35 25 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n"
					"garbage line\n\n",
					out, sizeof(out)),
			 -1);
	assert_int_equal(mount_point_of("", out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_resolves_every_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_cgroup_next_scrape, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_removed_cgroup_keeps_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_name_and_forget, setup, teardown),
	    cmocka_unit_test(test_open_missing_root_fails),
	    cmocka_unit_test(test_mountinfo_hybrid),
	    cmocka_unit_test(test_mountinfo_escapes_and_root_preferred),
	    cmocka_unit_test(test_mountinfo_without_cgroup2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
