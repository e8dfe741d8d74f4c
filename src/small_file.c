/* SPDX-License-Identifier: GPL-2.0-only */
/* Reads a small configuration file whole. */
#include "small_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *small_file_read(const char *path, size_t max, size_t *len, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st))
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		goto out;
	}
	if ((size_t)st.st_size > max) {
		snprintf(why, whylen, "over %zu bytes", max);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		goto fail;
	/* The size is read again through read(): the file may change. */
	while ((n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	if (n < 0)
		goto fail;
	text[got] = '\0';
	*len = got;
	close(fd);
	return text;
fail:
	snprintf(why, whylen, "%s", strerror(errno));
out:
	free(text);
	if (fd >= 0)
		close(fd);
	return NULL;
}
