/* SPDX-License-Identifier: GPL-2.0-only */
/* The command-line flags as data: one entry a flag with its name, default,
 * bounds or allowed values, the config field it sets, how its value is read
 * and its help. The parser, --help and the README's flags table all come
 * from it, so a default or a bound is written once. */
#ifndef FLAG_TABLE_H
#define FLAG_TABLE_H

#include <stdbool.h>
#include <stddef.h>

enum flag_kind {
	FLAG_NUMBER, /* unsigned int, decimal, from min to max */
	FLAG_CHOICE, /* unsigned int: first + the index of the value in choices */
	FLAG_TEXT,   /* const char *, the value as given */
	FLAG_LISTEN, /* repeatable; the addresses are read once all flags are */
	FLAG_OFF,    /* bool, true unless the flag is given; takes no value */
	FLAG_ON,     /* bool, false unless the flag is given; takes no value */
	FLAG_PARSED, /* read by the entry's parse function */
	FLAG_HELP,
	FLAG_VERSION,
};

struct flag {
	const char *name; /* without the leading "--" */
	const char *arg;  /* N in --cgroup.max=N; NULL when the flag takes no value */
	enum flag_kind kind;
	size_t field; /* offsetof(struct config, ...) */
	/* As it would be given on the command line; NULL: none. */
	const char *def;
	long min, max;
	const char *const *choices; /* NULL-terminated */
	unsigned int first;
	bool pow2;	    /* FLAG_NUMBER: rounded up to a power of two */
	bool empty_is_none; /* FLAG_TEXT: an empty value sets NULL */
	int (*parse)(const char *text, void *field, char *err, size_t errlen);
	/* Markdown, where %v stands for the allowed values. */
	const char *help;
};

#define FLAG_COUNT 20
extern const struct flag flag_table[];

/* The allowed values ("1 to 10000", "2, 4 or 8"), in Markdown or plain. */
void flag_values(const struct flag *f, bool markdown, char *buf, size_t len);
/* The help with %v expanded: Markdown for the README, or plain for --help
 * (no backticks, a link to a README section named as such). */
void flag_help(const struct flag *f, bool markdown, char *buf, size_t len);

#endif /* FLAG_TABLE_H */
