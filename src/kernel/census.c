/* SPDX-License-Identifier: GPL-2.0-only */
/* The start-up census of existing sockets, in every network namespace. */
#include "census.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"

#define MAX_NETNS 65536

struct census {
	int link_fd;
	int visited;
	int err;
	/* the namespace the census thread is in */
	ino_t current;
	/* /proc/PID/ns/net of other users' processes (needs CAP_SYS_PTRACE) */
	int not_opened;
	/* namespaces setns() refused (needs CAP_SYS_ADMIN) */
	int not_entered;
	/* inode numbers of the namespaces already visited */
	ino_t seen[MAX_NETNS];
	int nseen;
};

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* An iterator created by a thread walks the sockets of that thread's
 * network namespace; the namespace is per thread, so setns() here does not
 * move the rest of the exporter. */
static void visit(struct census *c, const char *ns_path)
{
	struct stat st;
	int nsfd, iter;

	nsfd = open(ns_path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		/* Otherwise the process is gone. */
		if (errno == EACCES || errno == EPERM)
			c->not_opened++;
		return;
	}
	if (fstat(nsfd, &st) || c->nseen == MAX_NETNS)
		goto out;
	for (int i = 0; i < c->nseen; i++)
		if (c->seen[i] == st.st_ino)
			goto out;
	c->seen[c->nseen++] = st.st_ino;
	/* The thread's own namespace needs no setns(), nor its privilege. */
	if (st.st_ino != c->current) {
		if (setns(nsfd, CLONE_NEWNET)) {
			log_debug("census: cannot enter network namespace %s: %s", ns_path,
				  strerror(errno));
			c->not_entered++;
			goto out;
		}
		c->current = st.st_ino;
	}
	iter = bpf_iter_create(c->link_fd);
	if (iter < 0) {
		c->err = -errno;
		goto out;
	}
	drain(iter);
	close(iter);
	c->visited++;
out:
	close(nsfd);
}

static void visit_dir(struct census *c, const char *dir, const char *suffix, int numeric_only)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (numeric_only && !strchr("0123456789", e->d_name[0])))
			continue;
		snprintf(path, sizeof(path), "%s/%s%s", dir, e->d_name, suffix);
		visit(c, path);
	}
	closedir(d);
}

static void *census_thread(void *arg)
{
	struct census *c = arg;
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) == 0)
		c->current = st.st_ino;
	visit(c, "/proc/self/ns/net"); /* our own first */
	visit_dir(c, "/proc", "/ns/net", 1);
	/* Namespaces kept by a bind mount, with no process in them. */
	visit_dir(c, "/run/netns", "", 0);
	visit_dir(c, "/var/run/netns", "", 0);
	return NULL;
}

int census_run(struct bpf_program *iter_prog)
{
	struct bpf_link *link = bpf_program__attach_iter(iter_prog, NULL);
	struct census *c;
	pthread_t thread;
	int ret;

	if (!link)
		return -errno;
	c = calloc(1, sizeof(*c));
	if (!c) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	c->link_fd = bpf_link__fd(link);
	ret = pthread_create(&thread, NULL, census_thread, c);
	if (ret == 0) {
		pthread_join(thread, NULL);
		if (c->not_entered)
			log_warn(
			    "census: %d network namespace(s) not searched: entering them needs "
			    "CAP_SYS_ADMIN",
			    c->not_entered);
		if (c->not_opened)
			log_warn("census: /proc/PID/ns/net of %d process(es) of other users not "
				 "opened (needs CAP_SYS_PTRACE): namespaces only they are in are "
				 "not searched",
				 c->not_opened);
		ret = c->err ? c->err : c->visited;
	} else {
		ret = -ret;
	}
	free(c);
	bpf_link__destroy(link);
	return ret;
}
