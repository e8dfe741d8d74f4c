/* SPDX-License-Identifier: GPL-2.0-only */
/* Loopback TCP workload for prog_cost: repeats a cycle of 64-byte ping-pong
 * on one TCP_NODELAY connection, a bulk transfer on another, short
 * connections, aborts (SO_LINGER 0) and connects to a closed port, until the
 * time or cycle limit; meanwhile connects to a listener that never accepts
 * retransmit their SYNs. 127.0.0.1 only; an alarm ends it if anything
 * hangs. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "loopback.h"

#define PP_MSG		  64
#define PP_PER_CYCLE	  500
#define BULK_CHUNK	  (64 * 1024)
#define BULK_PER_CYCLE	  (4u << 20)
#define CHURN_PER_CYCLE	  40
#define ABORT_PER_CYCLE	  10
#define REFUSED_PER_CYCLE 10
#define STALLED_CONNECTS  64

static void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A socket bound to 127.0.0.1 on a free port; listening with that backlog
 * unless it is negative. Returns the fd and stores the port. */
static int bound_socket(int *port, int backlog)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (backlog >= 0 && listen(fd, backlog)) || getsockname(fd, (struct sockaddr *)&a, &len))
		die("listen socket");
	*port = ntohs(a.sin_port);
	return fd;
}

static int connect_to(int port, int nodelay)
{
	return connect_loopback(port, nodelay ? TCP_NODELAY : 0, 1);
}

/* Connects that never complete: the listener's accept queue (backlog 0)
 * is full after the first, so the kernel drops their SYNs and each
 * retransmits its SYN every second or so, which gives the retransmit
 * tracepoint events; the rest of the workload has no loss. */
static void stall_connects(int port, int *fds, int n)
{
	struct sockaddr_in a = loopback(port);

	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[i] < 0 ||
		    (connect(fds[i], (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS))
			die("stalled connect");
	}
}

static int full_io(int fd, char *buf, size_t n, int writing)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r =
		    writing ? write(fd, buf + done, n - done) : read(fd, buf + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* Echoes 64-byte messages on the one ping-pong connection. */
static void *echo_server(void *arg)
{
	int lfd = *(int *)arg, one = 1;
	char buf[PP_MSG];
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (!full_io(fd, buf, sizeof(buf), 0) && !full_io(fd, buf, sizeof(buf), 1))
		;
	close(fd);
	return NULL;
}

/* Reads and drops everything sent on the bulk connection. */
static void *sink_server(void *arg)
{
	static char buf[BULK_CHUNK];
	int lfd = *(int *)arg;
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return NULL;
}

/* Short connections and aborts: accept, read until EOF or reset, close. */
static void *churn_server(void *arg)
{
	int lfd = *(int *)arg;
	char buf[256];

	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: workload [--seconds S] [--max-cycles N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"seconds", required_argument, NULL, 's'},
					     {"max-cycles", required_argument, NULL, 'c'},
					     {NULL, 0, NULL, 0}};
	static char bulk[BULK_CHUNK];
	double seconds = 20, deadline;
	long max_cycles = 100000, cycles = 0, pingpongs = 0, churned = 0, aborted = 0;
	long refused = 0, errors = 0;
	unsigned long long bulk_bytes = 0;
	int pp_port, bulk_port, churn_port, closed_port, pp_l, bulk_l, churn_l, closed_fd, pp, bk;
	int stall_port, stall_l, stalled[STALLED_CONNECTS];
	struct linger abort_now = {.l_onoff = 1, .l_linger = 0};
	char msg[PP_MSG];
	pthread_t t;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 's')
			seconds = atof(optarg);
		else if (opt == 'c')
			max_cycles = atol(optarg);
		else
			usage();
	}
	if (optind != argc || seconds <= 0 || seconds > 3600 || max_cycles <= 0)
		usage();
	alarm((unsigned)seconds + 30);

	pp_l = bound_socket(&pp_port, 1024);
	bulk_l = bound_socket(&bulk_port, 1024);
	churn_l = bound_socket(&churn_port, 1024);
	stall_l = bound_socket(&stall_port, 0);
	/* Bound but not listening: connects get a reset, and no one else can
	 * take the port meanwhile. */
	closed_fd = bound_socket(&closed_port, -1);
	if (pthread_create(&t, NULL, echo_server, &pp_l) ||
	    pthread_create(&t, NULL, sink_server, &bulk_l) ||
	    pthread_create(&t, NULL, churn_server, &churn_l))
		die("pthread_create");
	pp = connect_to(pp_port, 1);
	bk = connect_to(bulk_port, 0);
	if (pp < 0 || bk < 0)
		die("connect");
	memset(msg, 'p', sizeof(msg));
	memset(bulk, 'b', sizeof(bulk));
	stall_connects(stall_port, stalled, STALLED_CONNECTS);

	deadline = now() + seconds;
	while (cycles < max_cycles && now() < deadline) {
		for (int i = 0; i < PP_PER_CYCLE; i++) {
			if (full_io(pp, msg, sizeof(msg), 1) || full_io(pp, msg, sizeof(msg), 0))
				die("ping-pong");
			pingpongs++;
		}
		for (unsigned sent = 0; sent < BULK_PER_CYCLE; sent += BULK_CHUNK) {
			if (full_io(bk, bulk, sizeof(bulk), 1))
				die("bulk");
			bulk_bytes += BULK_CHUNK;
		}
		for (int i = 0; i < CHURN_PER_CYCLE; i++) {
			int fd = connect_to(churn_port, 0);

			if (fd < 0) {
				errors++;
				continue;
			}
			close(fd);
			churned++;
		}
		for (int i = 0; i < ABORT_PER_CYCLE; i++) {
			int fd = connect_to(churn_port, 0);

			if (fd < 0) {
				errors++;
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof(abort_now));
			close(fd);
			aborted++;
		}
		for (int i = 0; i < REFUSED_PER_CYCLE; i++) {
			int fd = connect_to(closed_port, 0);

			if (fd >= 0) {
				close(fd);
				errors++;
			} else if (errno == ECONNREFUSED) {
				refused++;
			} else {
				errors++;
			}
		}
		cycles++;
	}
	close(pp);
	close(bk);
	close(closed_fd);
	for (int i = 0; i < STALLED_CONNECTS; i++)
		close(stalled[i]);
	close(stall_l);
	printf("cycles=%ld pingpongs=%ld bulk_bytes=%llu short_connections=%ld aborts=%ld "
	       "refused=%ld stalled_connects=%d errors=%ld\n",
	       cycles, pingpongs, bulk_bytes, churned, aborted, refused, STALLED_CONNECTS, errors);
	return 0;
}
