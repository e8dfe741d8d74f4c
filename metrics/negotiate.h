/* SPDX-License-Identifier: GPL-2.0-only */
/* Content negotiation for scrapes: which exposition format (Accept) and
 * whether to gzip (Accept-Encoding), q-values honoured. Pure functions. */
#ifndef NEGOTIATE_H
#define NEGOTIATE_H

#include <stdbool.h>

enum exposition_format {
	FORMAT_TEXT,	    /* text/plain; version=0.0.4 */
	FORMAT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
	FORMAT_PROTOBUF,    /* application/vnd.google.protobuf, delimited MetricFamily */
};

/* The format the client ranks highest of protobuf (only with
 * proto=io.prometheus.client.MetricFamily and encoding=delimited), OpenMetrics
 * and text, asked for by name; on a tie text before OpenMetrics before
 * protobuf; text for a missing or unreadable header and for wildcards. */
enum exposition_format negotiate_format(const char *accept);
/* gzip when Accept-Encoding allows it with q > 0 (by name or by "*"). */
bool negotiate_gzip(const char *accept_encoding);

#endif /* NEGOTIATE_H */
