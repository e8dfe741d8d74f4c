/* SPDX-License-Identifier: GPL-2.0-only */
/* Rewrites of an HTTP list header (comma-separated elements) that must not
 * change what content negotiation picks: the harnesses of Accept and
 * Accept-Encoding compare the answers for the original and the rewrite. */
#ifndef FUZZ_HEADER_H
#define FUZZ_HEADER_H

/* Each returns a new string; free() it. */
char *header_append(const char *header, const char *element);
/* ASCII letters upper-cased: names and parameters are case-insensitive. */
char *header_upper(const char *header);
/* A space after every comma: optional whitespace. */
char *header_spaced(const char *header);
/* The elements in reverse order. */
char *header_reversed(const char *header);
/* Whether needle occurs in header, ignoring ASCII case. */
int header_mentions(const char *header, const char *needle);

#endif /* FUZZ_HEADER_H */
