/* SPDX-License-Identifier: GPL-2.0-only */
/* Workload of the container test, built static and run in a busybox
 * image with no network but loopback: CONNECTS connections to a listener of
 * its own, each carrying BYTES bytes each way and closed by the client
 * first, then REFUSED connects to a port nobody listens on. Prints "done"
 * and then waits for a signal, so its cgroup stays alive, unless "exit"
 * is given.
 *   loopback CONNECTS BYTES REFUSED [exit] */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static struct sockaddr_in loopback(unsigned short port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void transfer(int from, int to, char *buf, size_t bytes)
{
	size_t got = 0;

	if (write(from, buf, bytes) != (ssize_t)bytes)
		die("write");
	while (got < bytes) {
		ssize_t n = read(to, buf + got, bytes - got);

		if (n <= 0)
			die("read");
		got += (size_t)n;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = loopback(0);
	socklen_t len = sizeof(addr);
	int connects, refused, listener;
	size_t bytes;
	char *buf;

	if (argc < 4)
		return 2;
	connects = atoi(argv[1]);
	bytes = (size_t)atol(argv[2]);
	refused = atoi(argv[3]);
	buf = calloc(1, bytes + 1);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (!buf || listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(listener, 16) || getsockname(listener, (struct sockaddr *)&addr, &len))
		die("listener");
	for (int i = 0; i < connects; i++) {
		int client = socket(AF_INET, SOCK_STREAM, 0), server;
		char end;

		if (client < 0 || connect(client, (struct sockaddr *)&addr, sizeof(addr)))
			die("connect");
		server = accept(listener, NULL, NULL);
		if (server < 0)
			die("accept");
		transfer(client, server, buf, bytes);
		transfer(server, client, buf, bytes);
		/* Client first, then the server once it has read the FIN. */
		close(client);
		if (read(server, &end, 1) != 0)
			die("read FIN");
		close(server);
	}
	close(listener);
	for (int i = 0; i < refused; i++) {
		struct sockaddr_in closed = addr; /* just closed: nobody listens */
		int s = socket(AF_INET, SOCK_STREAM, 0);

		if (s < 0 || !connect(s, (struct sockaddr *)&closed, sizeof(closed)) ||
		    errno != ECONNREFUSED)
			die("refused connect");
		close(s);
	}
	printf("done\n");
	fflush(stdout);
	if (argc > 4 && !strcmp(argv[4], "exit"))
		return 0;
	pause();
	return 0;
}
