/* SPDX-License-Identifier: GPL-2.0-only */
/* The one-line errors of the YAML configuration files (web config, peer
 * groups): "line N: ..." where the node is known. */
#ifndef YAML_ERROR_H
#define YAML_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <yaml.h>

/* Writes the error into err (control characters become '?', so that it
 * stays one line whatever the file held); returns -1. */
int yaml_error(char *err, size_t errlen, const yaml_node_t *node, const char *fmt, va_list ap);

#endif /* YAML_ERROR_H */
