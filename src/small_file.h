/* SPDX-License-Identifier: GPL-2.0-only */
/* Configuration files (web config, peer groups) are read whole at start,
 * while the exporter still may. */
#ifndef SMALL_FILE_H
#define SMALL_FILE_H

#include <stddef.h>

/* A whole regular file of at most max bytes, NUL-terminated, its length in
 * *len; NULL with the reason in why. */
char *small_file_read(const char *path, size_t max, size_t *len, char *why, size_t whylen);

#endif /* SMALL_FILE_H */
