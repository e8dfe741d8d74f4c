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
#include <linux/capability.h>
#include <linux/sockios.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "log.h"
#include "privileges.h"

#define MAX_NETNS 65536
/* Processes whose namespace could not be opened, reported by pid. */
#define MAX_REFUSED 4096
/* How many of them the warning names. */
#define NAMED_REFUSED 3

/* A process whose /proc/PID/ns/net open() refused. */
struct refused {
	int pid;
	int err;
	uid_t uid;
	/* its namespace's /proc/PID/net/tcp inode (see net_id), or 0 */
	ino_t net;
};

struct census {
	int link_fd;
	int visited;
	int err;
	/* the namespace the census thread is in */
	ino_t current;
	/* namespaces setns() refused (needs CAP_SYS_ADMIN) */
	int not_entered;
	/* namespaces reached through sockets only (no process in them, no
	 * name under /run/netns) */
	int by_socket;
	/* inode numbers of the namespaces already visited, and the net_id
	 * of each one searched */
	ino_t seen[MAX_NETNS];
	ino_t searched[MAX_NETNS];
	int nseen, nsearched;
	struct refused refused[MAX_REFUSED];
	int nrefused;
	/* beyond MAX_REFUSED */
	int refused_more;
};

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Whose namespace a process is in, where /proc/PID/ns/net is refused: the
 * kernel makes /proc/PID/net/tcp anew for each namespace, and its inode
 * number names that namespace without the ptrace access ns/net needs. */
static ino_t net_id(const char *proc_dir)
{
	char path[320];
	struct stat st;

	snprintf(path, sizeof(path), "%s/net/tcp", proc_dir);
	return stat(path, &st) ? 0 : st.st_ino;
}

static bool seen_before(struct census *c, ino_t ino)
{
	for (int i = 0; i < c->nseen; i++)
		if (c->seen[i] == ino)
			return true;
	if (c->nseen < MAX_NETNS)
		c->seen[c->nseen++] = ino;
	return false;
}

/* An iterator created by a thread walks the sockets of that thread's
 * network namespace; the namespace is per thread, so setns() here does not
 * move the rest of the exporter. Takes nsfd. Returns 1 for a namespace not
 * seen before. */
static int visit_fd(struct census *c, int nsfd, const char *what)
{
	struct stat st;
	int iter, fresh = 0;

	if (fstat(nsfd, &st) || c->nseen == MAX_NETNS || seen_before(c, st.st_ino))
		goto out;
	fresh = 1;
	/* The thread's own namespace needs no setns(), nor its privilege. */
	if (st.st_ino != c->current) {
		if (setns(nsfd, CLONE_NEWNET)) {
			log_debug("census: cannot enter network namespace %s: %s", what,
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
	c->searched[c->nsearched++] = net_id("/proc/thread-self");
out:
	close(nsfd);
	return fresh;
}

static void refuse(struct census *c, const char *proc_dir, int err)
{
	struct refused *r = &c->refused[c->nrefused];
	struct stat st;

	if (c->nrefused == MAX_REFUSED) {
		c->refused_more++;
		return;
	}
	r->pid = atoi(proc_dir + strlen("/proc/"));
	r->err = err;
	r->uid = stat(proc_dir, &st) ? (uid_t)-1 : st.st_uid;
	r->net = net_id(proc_dir);
	c->nrefused++;
}

static void visit(struct census *c, const char *ns_path)
{
	int nsfd = open(ns_path, O_RDONLY | O_CLOEXEC);

	if (nsfd >= 0)
		visit_fd(c, nsfd, ns_path);
}

/* A process's namespace. */
static void visit_process(struct census *c, const char *pid)
{
	char dir[288], path[320];
	int nsfd;

	snprintf(dir, sizeof(dir), "/proc/%s", pid);
	snprintf(path, sizeof(path), "%s/ns/net", dir);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd >= 0)
		visit_fd(c, nsfd, path);
	else if (errno == EACCES || errno == EPERM)
		refuse(c, dir, errno);
	/* Otherwise the process is gone. */
}

/* The namespaces of a process's sockets: a namespace no process is in
 * lives on while a socket of it is open (a process made it there and
 * went back to another namespace). pidfd_getfd() copies the socket's fd
 * (needs ptrace access to the process, as /proc/PID/ns/net does), and
 * SIOCGSKNS gives its namespace (needs CAP_NET_ADMIN there). */
static void visit_sockets(struct census *c, const char *pid)
{
	char dir[288], path[576], link[64];
	struct dirent *e;
	int pidfd = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		ssize_t n;
		int fd, nsfd;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0 || strncmp(link, "socket:", 7))
			continue;
		if (pidfd < 0)
			pidfd = (int)syscall(SYS_pidfd_open, atoi(pid), 0);
		if (pidfd < 0)
			break;
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(e->d_name), 0);
		/* Refused for one fd, refused for all (no ptrace access, the
		 * process gone, or a kernel before 5.6). */
		if (fd < 0 && errno != EBADF)
			break;
		if (fd < 0)
			continue;
		nsfd = ioctl(fd, SIOCGSKNS);
		close(fd);
		if (nsfd >= 0 && visit_fd(c, nsfd, path))
			c->by_socket++;
	}
	if (pidfd >= 0)
		close(pidfd);
	closedir(d);
}

/* each() for every process under /proc. */
static void visit_processes(struct census *c, void (*each)(struct census *, const char *))
{
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			each(c, e->d_name);
	closedir(d);
}

static void visit_dir(struct census *c, const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
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
	visit_processes(c, visit_process);
	/* Namespaces kept by a bind mount, with no process in them. */
	visit_dir(c, "/run/netns");
	visit_dir(c, "/var/run/netns");
	/* Last, once the namespaces above are known: few sockets then lead
	 * anywhere new, and only those are searched. */
	visit_processes(c, visit_sockets);
	return NULL;
}

static bool was_searched(const struct census *c, ino_t net)
{
	for (int i = 0; net && i < c->nsearched; i++)
		if (c->searched[i] == net)
			return true;
	return false;
}

/* What the refusals cost: the processes whose namespace was searched
 * anyway (another process, a name or a socket led there) lose nothing;
 * the others are named, with why the kernel refused. */
static void report_refused(const struct census *c)
{
	char named[512] = "";
	size_t used = 0;
	int lost = 0, foreign = 0;
	uid_t me = geteuid();

	for (int i = 0; i < c->nrefused; i++) {
		const struct refused *r = &c->refused[i];

		if (was_searched(c, r->net))
			continue;
		foreign += r->uid != me;
		if (lost++ < NAMED_REFUSED && used < sizeof(named))
			used += (size_t)snprintf(
			    named + used, sizeof(named) - used, "%spid %d (uid %d%s): %s",
			    lost > 1 ? "; " : "", r->pid, (int)r->uid,
			    r->uid == me ? ", the exporter's" : "", strerror(r->err));
	}
	if (c->nrefused - lost)
		log_info("census: /proc/PID/ns/net of %d process(es) refused, their network "
			 "namespaces searched all the same (reached another way)",
			 c->nrefused - lost);
	if (lost)
		log_warn("census: /proc/PID/ns/net of %d process(es) refused and their network "
			 "namespaces not reached another way, so not searched: %s%s%s",
			 lost, named, lost > NAMED_REFUSED ? "; ..." : "",
			 !privileges_have(CAP_SYS_PTRACE)
			     ? (foreign
				    ? " (the exporter lacks CAP_SYS_PTRACE, which processes of "
				      "other users need)"
				    : " (the exporter lacks CAP_SYS_PTRACE, which processes with "
				      "capabilities it has not need)")
			     : " (refused despite CAP_SYS_PTRACE: a security module, or a "
			       "process the kernel lets no one inspect)");
	if (c->refused_more)
		log_warn("census: %d more process(es) refused, not checked", c->refused_more);
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
		report_refused(c);
		if (c->by_socket)
			log_info("census: %d network namespace(s) with no process in them nor "
				 "a name, reached through their sockets",
				 c->by_socket);
		ret = c->err ? c->err : c->visited;
	} else {
		ret = -ret;
	}
	free(c);
	bpf_link__destroy(link);
	return ret;
}
