/* SPDX-License-Identifier: GPL-2.0-only */
/* 127.0.0.1 addresses and connects for the C test workloads (the kernel
 * matrix's and the benchmark's), header-only so each stays one file. */
#ifndef TESTS_LOOPBACK_H
#define TESTS_LOOPBACK_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static inline struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A socket connected to 127.0.0.1:port, with one IPPROTO_TCP option set
 * first when `option` is nonzero; -1 with errno set if the socket or the
 * connect failed (errno of the connect: ECONNREFUSED, ETIMEDOUT...). */
static inline int connect_loopback(int port, int option, int value)
{
	struct sockaddr_in a = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if ((option && setsockopt(fd, IPPROTO_TCP, option, &value, sizeof(value))) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

#endif /* TESTS_LOOPBACK_H */
