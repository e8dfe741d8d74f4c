/* SPDX-License-Identifier: GPL-2.0-only */
/* One-line errors for the YAML configuration files. */
#include "yaml_error.h"

#include <stdio.h>

int yaml_error(char *err, size_t errlen, const yaml_node_t *node, const char *fmt, va_list ap)
{
	size_t n = 0;

	if (!errlen)
		return -1;
	if (node)
		n = (size_t)snprintf(err, errlen, "line %zu: ", node->start_mark.line + 1);
	if (n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	for (char *c = err; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			*c = '?';
	return -1;
}
