/* SPDX-License-Identifier: GPL-2.0-only */
/* Limits on the POSIX extended regexes of --cgroup.include/--cgroup.exclude
 * before glibc's regcomp sees them. regcomp unrolls bounded repetitions
 * into copies and computes epsilon closures over them, so short patterns
 * such as [a-z]{1,32767}, x++++++++++++++++++++ or ((.?){1,25}){1,25} take
 * seconds and gigabytes; back-references make matching exponential. The
 * check reads the pattern with the POSIX ERE grammar, strictly: what it
 * passes, regcomp reads the same way, and compiles in milliseconds. */
#ifndef ERE_CHECK_H
#define ERE_CHECK_H

#include <stddef.h>

/* Groups nested deeper are refused (regcomp recurses on them). */
#define ERE_MAX_DEPTH 32
/* Elements of the pattern once repetitions are unrolled: a{3} counts 3,
 * a+ 2 (aa*), (ab){2,5} 5 * 3. */
#define ERE_MAX_SIZE 1024

/* 0 when the pattern is well formed and within the limits; -1 with the
 * reason in why. */
int ere_check(const char *pattern, char *why, size_t whylen);

#endif /* ERE_CHECK_H */
