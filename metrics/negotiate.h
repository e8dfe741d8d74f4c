/* SPDX-License-Identifier: GPL-2.0-only */
/* Content negotiation for scrapes: which exposition format (Accept) and
 * whether to gzip (Accept-Encoding), q-values honoured. Pure functions. */
#ifndef NEGOTIATE_H
#define NEGOTIATE_H

#include <stdbool.h>

enum exposition_format {
	FORMAT_TEXT,	    /* text/plain; version=0.0.4 */
	FORMAT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

/* OpenMetrics when the client ranks it above text; text otherwise, also for
 * a missing or unreadable header. */
enum exposition_format negotiate_format(const char *accept);
/* gzip when Accept-Encoding allows it with q > 0 (by name or by "*"). */
bool negotiate_gzip(const char *accept_encoding);

#endif /* NEGOTIATE_H */
