/* SPDX-License-Identifier: GPL-2.0-only */
/* A validating reader of POSIX extended regexes: alternations of branches
 * of pieces, a piece an atom with repetitions. It sizes what regcomp will
 * build and refuses the constructs it cannot size or that cost too much. */
#include "ere_check.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct scan {
	const char *s;
	unsigned int depth;
	const char *error;
};

/* What a part of the pattern becomes: its unrolled size (capped just past
 * the limit, so nothing overflows) and whether it can match "". */
struct part {
	size_t size;
	bool nullable;
};

static const struct part none = {0, false};

static size_t capped(size_t n)
{
	return n > ERE_MAX_SIZE ? ERE_MAX_SIZE + 1 : n;
}

static size_t times(size_t a, size_t b)
{
	return a && b > (ERE_MAX_SIZE + 1) / a ? ERE_MAX_SIZE + 1 : capped(a * b);
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static struct part fail(struct scan *p, const char *why)
{
	if (!p->error)
		p->error = why;
	return none;
}

static struct part alternation(struct scan *p);

/* "[:alpha:]" and friends inside a bracket expression, s at the "[:". */
static const char *class_end(struct scan *p, const char *s)
{
	static const char *const classes[] = {"alpha",	"upper", "lower", "digit",
					      "xdigit", "space", "print", "punct",
					      "graph",	"cntrl", "blank", "alnum"};
	const char *end = strstr(s + 2, ":]");

	for (size_t i = 0; end && i < sizeof(classes) / sizeof(classes[0]); i++)
		if ((size_t)(end - s - 2) == strlen(classes[i]) &&
		    !strncmp(s + 2, classes[i], strlen(classes[i])))
			return end + 2;
	fail(p, "an unknown character class (want [:alpha:], [:digit:] and the like)");
	return NULL;
}

/* A bracket expression, s at its '['; NULL when malformed. "[]a]" and
 * "[^]a]" hold a ']'; "[.c.]" and "[=c=]" take one character here. */
static const char *bracket_end(struct scan *p, const char *s)
{
	s++;
	if (*s == '^')
		s++;
	if (*s == ']')
		s++;
	while (*s && *s != ']') {
		if (s[0] == '[' && s[1] == ':') {
			s = class_end(p, s);
			if (!s)
				return NULL;
		} else if (s[0] == '[' && (s[1] == '.' || s[1] == '=')) {
			if (!s[2] || s[3] != s[1] || s[4] != ']') {
				fail(p, "collating elements other than one character, as in [.-.]");
				return NULL;
			}
			s += 5;
		} else {
			s++;
		}
	}
	if (!*s) {
		fail(p, "a '[' without its ']'");
		return NULL;
	}
	return s + 1;
}

static struct part escape(struct scan *p)
{
	char c = p->s[1];

	if (!c)
		return fail(p, "a '\\' at the end");
	if (digit(c))
		return fail(p, "a back-reference (\\1 to \\9): not part of POSIX extended "
			       "regexes, and matching them takes exponential time");
	/* Specials quoted, and glibc's single-character classes and anchors. */
	if (!strchr(".[]()*+?{}|^$\\/-wWsSbB<>`'", c))
		return fail(p, "an unknown escape (quote only . [ ] ( ) * + ? { } | ^ $ \\)");
	p->s += 2;
	return (struct part){1, strchr("bB<>`'", c) != NULL};
}

static struct part atom(struct scan *p)
{
	struct part inner;

	switch (*p->s) {
	case '(':
		if (++p->depth > ERE_MAX_DEPTH)
			return fail(p, "groups nested more than 32 deep");
		p->s++;
		inner = alternation(p);
		if (p->error)
			return none;
		if (*p->s != ')')
			return fail(p, "a '(' without its ')'");
		p->s++;
		p->depth--;
		return (struct part){capped(inner.size + 1), inner.nullable};
	case ')':
		/* The pattern is compiled inside "^(...)$": a stray ')' would
		 * close that group and leave the rest unanchored. */
		return fail(p, "a ')' without its '('");
	case '[':
		p->s = bracket_end(p, p->s);
		return p->s ? (struct part){1, false} : none;
	case '\\':
		return escape(p);
	case '*':
	case '+':
	case '?':
	case '{':
		return fail(p, "a repetition (* + ? {}) with nothing to repeat");
	case '^':
	case '$':
		p->s++;
		return (struct part){1, true};
	default:
		p->s++;
		return (struct part){1, false};
	}
}

static size_t number(const char **s)
{
	size_t n = 0;

	for (; digit(**s); (*s)++)
		n = capped(n * 10 + (size_t)(**s - '0'));
	return n;
}

/* An interval, s after its '{': {n}, {n,}, {n,m}, and glibc's {,m}. */
static bool interval(struct scan *p, const char *s, size_t *copies, bool *optional)
{
	size_t lo, hi;

	if (!digit(*s) && !(s[0] == ',' && digit(s[1]))) {
		fail(p, "a '{' that starts no interval {n}, {n,} or {n,m} (write \\{ for the "
			"character)");
		return false;
	}
	lo = hi = number(&s);
	if (*s == ',') {
		s++;
		hi = digit(*s) ? number(&s) : capped(lo + 1); /* {n,}: n copies and a star */
	}
	if (*s != '}' || hi < lo) {
		fail(p, "a malformed interval (want {n}, {n,} or {n,m} with n <= m)");
		return false;
	}
	*copies = hi ? hi : 1;
	*optional = lo == 0;
	p->s = s + 1;
	return true;
}

/* A repetition operator at p->s: how many copies of its operand it makes
 * and whether it allows none; false when there is none. */
static bool repetition(struct scan *p, size_t *copies, bool *optional)
{
	switch (*p->s) {
	case '*':
	case '?':
		*copies = 1;
		*optional = true;
		p->s++;
		return true;
	case '+':
		*copies = 2;
		*optional = false;
		p->s++;
		return true;
	case '{':
		return interval(p, p->s + 1, copies, optional);
	default:
		return false;
	}
}

static struct part piece(struct scan *p)
{
	struct part a = atom(p);
	size_t copies;
	bool optional;

	while (!p->error && repetition(p, &copies, &optional)) {
		/* glibc's closures over copies of an empty match grow with the
		 * cube of their number; the outer repetition adds nothing. */
		if (a.nullable)
			return fail(p, "a repetition of something that can match the empty "
				       "string, as in (a*)*, a?{9} or (b?){1,50}: drop the outer "
				       "repetition");
		a.size = capped(times(a.size, copies) + 1);
		a.nullable = optional;
	}
	return a;
}

static struct part branch(struct scan *p)
{
	struct part b = {0, true};

	while (!p->error && *p->s && *p->s != '|' && !(*p->s == ')' && p->depth)) {
		struct part a = piece(p);

		b.size = capped(b.size + a.size);
		b.nullable = b.nullable && a.nullable;
	}
	return b;
}

static struct part alternation(struct scan *p)
{
	struct part all = branch(p);

	while (!p->error && *p->s == '|') {
		struct part b;

		p->s++;
		b = branch(p);
		all.size = capped(all.size + b.size + 1);
		all.nullable = all.nullable || b.nullable;
	}
	return all;
}

int ere_check(const char *pattern, char *why, size_t whylen)
{
	struct scan p = {pattern, 0, NULL};
	struct part all = alternation(&p);

	if (!p.error && all.size > ERE_MAX_SIZE)
		p.error = "repetitions unroll to more than 1024 elements";
	if (!p.error)
		return 0;
	snprintf(why, whylen, "%s", p.error);
	return -1;
}
