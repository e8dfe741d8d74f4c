/* SPDX-License-Identifier: GPL-2.0-only */
/* One-line log messages on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level current = LOG_INFO;
static const char *const names[] = {"error", "warning", "info", "debug"};

void log_set_level(enum log_level level)
{
	current = level;
}

bool log_enabled(enum log_level level)
{
	return level <= current;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	flockfile(stderr);
	fprintf(stderr, "cgroup_tcp_exporter: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}
