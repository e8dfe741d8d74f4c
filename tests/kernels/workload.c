/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel matrix's TCP workload, run inside each booted kernel: the same
 * countable traffic as the host integration test's workload.py, plus a held
 * connection and a listener for the connections gauge. Each role first moves
 * itself into the cgroup given with --cgroup, works on 127.0.0.1 and prints
 * one JSON line of what it did, so the host can tell a workload that went
 * wrong from an exporter that counted wrong. C, so that the guest needs no
 * Python: the initramfs holds it with the libraries ldd names.
 *   server  listens on --port (exchanges), --reset-port (one connection the
 *           peer resets), --dropped-port (a socket filter drops every
 *           segment that reaches it, so SYNs go unanswered, on any kernel
 *           and without netfilter) and
 *           --hold-port (one connection kept open until its peer closes);
 *           prints "ready" once all four listen, exits after the held
 *           connection ended.
 *   hold    connects to --hold-port, prints "held", closes on SIGTERM.
 *   client  --conns exchanges of --bytes each way (active close), --refused
 *           connects to a closed port, one connect to the dropped port
 *           (TCP_SYNCNT 1: one SYN retransmitted, then a timeout) and one
 *           connection to the reset port closed with SO_LINGER 0, then
 *           --self connects of a socket to its own address (outbound, as
 *           the kernel's ActiveOpens says). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "loopback.h"

struct options {
	const char *role;
	const char *cgroup;
	int port, closed_port, dropped_port, reset_port, hold_port;
	int conns, refused, bytes, self;
};

/* What a process did; send and receive calls count those that returned
 * bytes, as the exporter's I/O histogram does. */
struct tally {
	long ok, accepted, refused, timed_out, resets_sent, resets_seen, held, self;
	long bytes_sent, bytes_received, send_calls, recv_calls, errors;
	pthread_mutex_t lock;
};

static struct tally tally = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void add(long *field, long n)
{
	pthread_mutex_lock(&tally.lock);
	*field += n;
	pthread_mutex_unlock(&tally.lock);
}

static void enter_cgroup(const char *dir)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
		die(path);
}

static int listen_on(int port, int backlog)
{
	struct sockaddr_in a = loopback(port);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, backlog))
		die("listen");
	return fd;
}

/* A connected socket, or -1 with errno set; syncnt: SYN retries, 0 for the
 * default. */
static int connect_to(int port, int syncnt)
{
	return connect_loopback(port, syncnt ? TCP_SYNCNT : 0, syncnt);
}

static void send_all(int fd, char fill, long n)
{
	char buf[65536];

	memset(buf, fill, sizeof(buf));
	while (n > 0) {
		ssize_t r = send(fd, buf, n < (long)sizeof(buf) ? (size_t)n : sizeof(buf), 0);

		if (r <= 0)
			die("send");
		add(&tally.send_calls, 1);
		add(&tally.bytes_sent, r);
		n -= r;
	}
}

/* Reads up to `limit` bytes (or to EOF when negative); returns what came,
 * or -1 with errno set when the read failed. */
static long receive(int fd, long limit)
{
	char buf[65536];
	long got = 0;

	while (limit < 0 || got < limit) {
		size_t want = limit < 0 || limit - got > (long)sizeof(buf) ? sizeof(buf)
									   : (size_t)(limit - got);
		ssize_t r = recv(fd, buf, want, 0);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
		add(&tally.recv_calls, 1);
		add(&tally.bytes_received, r);
		got += r;
	}
	return got;
}

/* A listener whose socket filter takes nothing: the kernel drops each SYN
 * to it before any reply. */
static int listen_dropping(int port)
{
	struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = {.len = 1, .filter = &drop_all};
	int fd = listen_on(port, 64);

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		die("SO_ATTACH_FILTER");
	return fd;
}

static int accept_one(int listener)
{
	int fd = accept(listener, NULL, NULL);

	if (fd < 0)
		die("accept");
	add(&tally.accepted, 1);
	return fd;
}

struct server {
	const struct options *o;
	int exchange, reset, hold;
};

/* Per connection: read the bytes, send as many back, read to EOF, close:
 * the passive close, so every exchange ends with FIN and no RST. */
static void *serve_exchanges(void *arg)
{
	const struct server *s = arg;

	for (int i = 0; i < s->o->conns; i++) {
		int fd = accept_one(s->exchange);

		if (receive(fd, s->o->bytes) != s->o->bytes)
			add(&tally.errors, 1);
		send_all(fd, 's', s->o->bytes);
		if (receive(fd, -1) != 0)
			add(&tally.errors, 1);
		close(fd);
	}
	return NULL;
}

static void *serve_reset(void *arg)
{
	const struct server *s = arg;
	int fd = accept_one(s->reset);

	if (receive(fd, -1) < 0 && errno == ECONNRESET)
		add(&tally.resets_seen, 1);
	else
		add(&tally.errors, 1);
	close(fd);
	return NULL;
}

static void *serve_hold(void *arg)
{
	const struct server *s = arg;
	int fd = accept_one(s->hold);

	if (receive(fd, -1) != 0)
		add(&tally.errors, 1);
	close(fd);
	return NULL;
}

static void run_server(const struct options *o)
{
	struct server s = {o, listen_on(o->port, 64), listen_on(o->reset_port, 64),
			   listen_on(o->hold_port, 64)};
	int dropped = listen_dropping(o->dropped_port);
	void *(*serve[])(void *) = {serve_exchanges, serve_reset, serve_hold};
	pthread_t threads[3];

	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < 3; i++)
		if (pthread_create(&threads[i], NULL, serve[i], &s))
			die("pthread_create");
	for (int i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);
	close(s.exchange);
	close(s.reset);
	close(s.hold);
	close(dropped);
}

static void run_hold(const struct options *o)
{
	sigset_t term;
	int fd = connect_to(o->hold_port, 0), sig;

	if (fd < 0)
		die("connect to the hold port");
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	tally.held = 1;
	printf("held\n");
	fflush(stdout);
	sigwait(&term, &sig);
	close(fd);
}

/* A socket connected to its own address (a simultaneous open with
 * itself: SYN_SENT, SYN_RECV, ESTABLISHED), then closed. */
static void connect_to_self(void)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die("connect to self");
	close(fd);
	tally.self++;
}

static void run_client(const struct options *o)
{
	struct linger abort_close = {.l_onoff = 1, .l_linger = 0};
	int fd;

	for (int i = 0; i < o->conns; i++) {
		fd = connect_to(o->port, 0);
		if (fd < 0)
			die("connect");
		send_all(fd, 'c', o->bytes);
		if (receive(fd, o->bytes) == o->bytes)
			tally.ok++;
		close(fd);
	}
	for (int i = 0; i < o->refused; i++) {
		if (connect_to(o->closed_port, 0) >= 0 || errno != ECONNREFUSED)
			tally.errors++;
		else
			tally.refused++;
	}
	if (connect_to(o->dropped_port, 1) >= 0 || errno != ETIMEDOUT)
		tally.errors++;
	else
		tally.timed_out++;
	fd = connect_to(o->reset_port, 0);
	if (fd < 0)
		die("connect to the reset port");
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close)))
		die("SO_LINGER");
	close(fd);
	tally.resets_sent++;
	for (int i = 0; i < o->self; i++)
		connect_to_self();
}

static void print_tally(const char *role)
{
	const struct tally *t = &tally;

	printf("{\"role\": \"%s\", \"ok\": %ld, \"accepted\": %ld, \"refused\": %ld, "
	       "\"timed_out\": %ld, \"resets_sent\": %ld, \"resets_seen\": %ld, "
	       "\"held\": %ld, \"self\": %ld, \"bytes_sent\": %ld, \"bytes_received\": %ld, "
	       "\"send_calls\": %ld, \"recv_calls\": %ld, \"errors\": %ld}\n",
	       role, t->ok, t->accepted, t->refused, t->timed_out, t->resets_sent, t->resets_seen,
	       t->held, t->self, t->bytes_sent, t->bytes_received, t->send_calls, t->recv_calls,
	       t->errors);
	fflush(stdout);
}

/* --NAME=NUMBER for each number of struct options, and --cgroup=DIR. */
static void parse(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {{"port", required_argument, NULL, 0},
					      {"closed-port", required_argument, NULL, 0},
					      {"dropped-port", required_argument, NULL, 0},
					      {"reset-port", required_argument, NULL, 0},
					      {"hold-port", required_argument, NULL, 0},
					      {"conns", required_argument, NULL, 0},
					      {"refused", required_argument, NULL, 0},
					      {"bytes", required_argument, NULL, 0},
					      {"self", required_argument, NULL, 0},
					      {"cgroup", required_argument, NULL, 0},
					      {NULL, 0, NULL, 0}};
	int *numbers[] = {&o->port,	  &o->closed_port, &o->dropped_port,
			  &o->reset_port, &o->hold_port,   &o->conns,
			  &o->refused,	  &o->bytes,	   &o->self};
	int i, c;

	while ((c = getopt_long(argc, argv, "", longs, &i)) != -1) {
		if (c != 0)
			exit(2);
		if (i < (int)(sizeof(numbers) / sizeof(numbers[0])))
			*numbers[i] = atoi(optarg);
		else
			o->cgroup = optarg;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: workload [--NAME=VALUE...] server|hold|client\n");
		exit(2);
	}
	o->role = argv[optind];
}

int main(int argc, char **argv)
{
	struct options o = {.port = 5001,
			    .closed_port = 5002,
			    .dropped_port = 5003,
			    .reset_port = 5004,
			    .hold_port = 5005,
			    .conns = 20,
			    .refused = 7,
			    .bytes = 10000,
			    .self = 2};

	parse(argc, argv, &o);
	/* A safety net: a wedged workload must not hang the guest. */
	alarm(60);
	if (o.cgroup)
		enter_cgroup(o.cgroup);
	if (!strcmp(o.role, "server"))
		run_server(&o);
	else if (!strcmp(o.role, "hold"))
		run_hold(&o);
	else if (!strcmp(o.role, "client"))
		run_client(&o);
	else
		return 2;
	print_tally(o.role);
	return 0;
}
