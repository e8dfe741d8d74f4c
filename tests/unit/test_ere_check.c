/* The limits on --cgroup.include/--cgroup.exclude patterns: the patterns
 * glibc's regcomp takes seconds and gigabytes on are refused with a reason,
 * the patterns people write pass. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cgroups/ere_check.h"
#include "cgroups/filter.h"

static void expect_ok(const char *pattern)
{
	char why[160] = "";

	if (ere_check(pattern, why, sizeof(why)))
		fail_msg("'%s' refused: %s", pattern, why);
}

static void expect_refused(const char *pattern, const char *reason)
{
	char why[160] = "";

	if (!ere_check(pattern, why, sizeof(why)))
		fail_msg("'%s' accepted", pattern);
	if (!strstr(why, reason))
		fail_msg("'%s' refused for '%s', want '%s'", pattern, why, reason);
}

static void test_everyday_patterns_pass(void **state)
{
	expect_ok("/system.slice/.*");
	expect_ok("/kubepods.slice/.*(docker|cri-containerd|crio)-[0-9a-f]{64}\\.scope");
	expect_ok("/system.slice(/.*)?");
	expect_ok("(/[a-z0-9-]+)*/nginx\\.service");
	expect_ok("[[:alpha:]]+[]a-z]*[^]x]?");
	expect_ok("[)]\\)");
	expect_ok("[0-9a-f]{1,64}");
	expect_ok(".{1000}");
	expect_ok("(.{1,30}){1,30}");
	expect_ok("((a+)+)+");
	expect_ok("");
	expect_ok("a|()|b{0}|c{,3}|\\w+\\<x\\>|[.]\\.\\/");
}

/* What the check cannot size the way regcomp reads it is refused, with
 * what to write instead. */
static void test_malformed_patterns_refused(void **state)
{
	expect_refused("(", "without its ')'");
	expect_refused("a)", "without its '('");
	expect_refused("[a", "without its ']'");
	expect_refused("[[:alfa:]]", "unknown character class");
	expect_refused("[[.space.]]", "collating");
	expect_refused("a{,", "starts no interval");
	expect_refused("a{x}", "starts no interval");
	expect_refused("a{3,1}", "malformed interval");
	expect_refused("a{1\\,32767}", "malformed interval"); /* glibc reads {1,32767} */
	expect_refused("*a", "nothing to repeat");
	expect_refused("a|+", "nothing to repeat");
	expect_refused("(a)\\1", "back-reference");
	expect_refused("\\d", "unknown escape");
	expect_refused("a\\", "at the end");
}

/* Each of these took regcomp (glibc 2.36) from 0.3 s to over 30 s and up
 * to 8 GB; the first is what the flags fuzzer found. */
static void test_costly_patterns_refused(void **state)
{
	expect_refused("/b.rup.oup*includ+++++++++++++++++++++++++++++e=/b.**", "");
	expect_refused("includ+++++++++++++++++++++++++++++e", "unroll");
	expect_refused("[a-z]{1,32767}", "unroll");
	expect_refused("(a|b){1,4000}", "unroll");
	expect_refused("[a-z1]{,32767}", "unroll"); /* found by the filter fuzzer */
	expect_refused("((.{1,100}){1,100}){1,10}", "unroll");
	expect_refused("(.?){1,500}", "empty string");
	expect_refused("((.?){1,25}){1,25}", "empty string");
	expect_refused("((.*)*){1,30}", "empty string");
	expect_refused("(((.?)?)?){1,100}", "empty string");
	expect_refused("a**", "empty string");
	expect_refused("(^)*", "empty string");
	/* A stray ')' would end the anchoring group around the pattern; the
	 * second one is the timeout the filter fuzzer found. */
	expect_refused("x)|(.*", "without its '('");
	expect_refused("//sy+sy++++|)+++++++k)", "without its '('");
	expect_refused("((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))",
		       "nested");
}

/* Through the filter: the reason comes with the flag and the pattern. */
static void test_filter_explains(void **state)
{
	struct cgroup_filter f;
	char err[256];

	assert_int_equal(filter_init(&f, "[a-z]{1,32767}", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "bad --cgroup.include '[a-z]{1,32767}': repetitions unroll to "
				 "more than 1024 elements");
	assert_int_equal(filter_init(&f, NULL, "/system.slice/.*", err, sizeof(err)), 0);
	assert_false(filter_allows(&f, "/system.slice/nginx.service"));
	assert_true(filter_allows(&f, "/user.slice"));
	filter_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_everyday_patterns_pass),
	    cmocka_unit_test(test_costly_patterns_refused),
	    cmocka_unit_test(test_malformed_patterns_refused),
	    cmocka_unit_test(test_filter_explains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
