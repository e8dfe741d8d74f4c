/* SPDX-License-Identifier: GPL-2.0-only */
/* Flag parsing: defaults, the accepted forms, and one clear error per bad
 * flag or value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "flags.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static char err[512];

static enum flags_result parse(int argc, char **argv, struct config *cfg)
{
	FILE *out = fopen("/dev/null", "w");
	enum flags_result r;

	err[0] = '\0';
	r = flags_parse(argc, argv, cfg, out, err, sizeof(err));
	fclose(out);
	return r;
}

static void test_defaults(void **state)
{
	char *argv[] = {"x", NULL};
	struct config cfg;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&cfg.listen[0].addr;

	assert_int_equal(parse(ARGC(argv), argv, &cfg), FLAGS_RUN);
	assert_string_equal(cfg.listen_text[0], ":9437");
	assert_int_equal(cfg.nlisten, 1);
	assert_int_equal(cfg.max_requests, 40);
	assert_int_equal(cfg.max_cgroups, 10000);
	assert_int_equal(cfg.max_per_cpu, 1024);
	assert_int_equal(cfg.max_sockets, 262144);
	assert_true(cfg.exporter_metrics);
	assert_string_equal(cfg.telemetry_path, "/metrics");
	assert_true(cfg.listen[0].any_host);
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 9437);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.bucket_step, 1);
	assert_null(cfg.peer_config_file);
	assert_int_equal(cfg.max_pairs, 4096);
	assert_false(cfg.process_attribution);
	assert_int_equal(cfg.max_per_cgroup, 8);
}

static void test_peer_and_process_flags(void **state)
{
	char *set[] = {"x",
		       "--peer.config=/etc/peers.yml",
		       "--peer.max-pairs=0",
		       "--process.attribution",
		       "--process.max-per-cgroup",
		       "3",
		       NULL};
	char *value[] = {"x", "--process.attribution=yes", NULL};
	char *zero[] = {"x", "--process.max-per-cgroup=0", NULL};
	struct config cfg;

	(void)state;
	assert_int_equal(parse(ARGC(set), set, &cfg), FLAGS_RUN);
	assert_string_equal(cfg.peer_config_file, "/etc/peers.yml");
	assert_int_equal(cfg.max_pairs, 0);
	assert_true(cfg.process_attribution);
	assert_int_equal(cfg.max_per_cgroup, 3);
	assert_int_equal(parse(ARGC(value), value, &cfg), FLAGS_BAD);
	assert_non_null(strstr(err, "flag '--process.attribution' takes no value"));
	assert_int_equal(parse(ARGC(zero), zero, &cfg), FLAGS_BAD);
	assert_non_null(
	    strstr(err, "bad --process.max-per-cgroup '0': want a number from 1 to 1000"));
}

static void test_bucket_factor(void **state)
{
	char *four[] = {"x", "--histogram.bucket-factor=4", NULL};
	char *eight[] = {"x", "--histogram.bucket-factor", "8", NULL};
	char *three[] = {"x", "--histogram.bucket-factor=3", NULL};
	struct config cfg;

	assert_int_equal(parse(ARGC(four), four, &cfg), FLAGS_RUN);
	assert_int_equal(cfg.bucket_step, 2);
	assert_int_equal(parse(ARGC(eight), eight, &cfg), FLAGS_RUN);
	assert_int_equal(cfg.bucket_step, 3);
	assert_int_equal(parse(ARGC(three), three, &cfg), FLAGS_BAD);
	assert_non_null(strstr(err, "bad --histogram.bucket-factor '3': want 2, 4 or 8"));
}

static void test_both_value_forms(void **state)
{
	char *argv[] = {"x",
			"--web.listen-address=127.0.0.1:1234",
			"--web.telemetry-path",
			"/m",
			"--log.level=debug",
			NULL};
	struct config cfg;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&cfg.listen[0].addr;

	assert_int_equal(parse(ARGC(argv), argv, &cfg), FLAGS_RUN);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 1234);
	assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_false(cfg.listen[0].any_host);
	assert_string_equal(cfg.telemetry_path, "/m");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
}

static void test_repeated_listen_and_limits(void **state)
{
	char *argv[] = {"x",
			"--web.listen-address=127.0.0.1:1",
			"--web.listen-address=[::1]:2",
			"--web.max-requests=3",
			"--web.disable-exporter-metrics",
			NULL};
	char *zero[] = {"x", "--web.max-requests=0", NULL};
	char *words[] = {"x", "--web.max-requests=many", NULL};
	char *per_cpu[] = {"x", "--cgroup.max=5", "--cgroup.max-per-cpu=0", NULL};
	char *per_cpu_big[] = {"x", "--cgroup.max-per-cpu=1000001", NULL};
	char *sockets[] = {"x", "--socket.max=100000", NULL};
	char *sockets_pow2[] = {"x", "--socket.max=64", NULL};
	char *sockets_small[] = {"x", "--socket.max=63", NULL};
	char *sockets_big[] = {"x", "--socket.max=16777217", NULL};
	struct config cfg;

	assert_int_equal(parse(ARGC(argv), argv, &cfg), FLAGS_RUN);
	assert_int_equal(cfg.nlisten, 2);
	assert_int_equal(cfg.listen[1].addr.ss_family, AF_INET6);
	assert_int_equal(cfg.max_requests, 3);
	assert_false(cfg.exporter_metrics);
	assert_int_equal(parse(ARGC(zero), zero, &cfg), FLAGS_BAD);
	assert_non_null(strstr(err, "bad --web.max-requests '0'"));
	assert_int_equal(parse(ARGC(words), words, &cfg), FLAGS_BAD);
	assert_int_equal(parse(ARGC(per_cpu), per_cpu, &cfg), FLAGS_RUN);
	assert_int_equal(cfg.max_cgroups, 5);
	assert_int_equal(cfg.max_per_cpu, 0);
	assert_int_equal(parse(ARGC(per_cpu_big), per_cpu_big, &cfg), FLAGS_BAD);
	assert_non_null(strstr(err, "bad --cgroup.max-per-cpu '1000001': want a number from 0"));
	assert_int_equal(parse(ARGC(sockets), sockets, &cfg), FLAGS_RUN);
	assert_int_equal(cfg.max_sockets, 131072); /* rounded up to a power of two */
	assert_int_equal(parse(ARGC(sockets_pow2), sockets_pow2, &cfg), FLAGS_RUN);
	assert_int_equal(cfg.max_sockets, 64);
	assert_int_equal(parse(ARGC(sockets_small), sockets_small, &cfg), FLAGS_BAD);
	assert_non_null(strstr(err, "bad --socket.max '63': want a number from 64 to 16777216"));
	assert_int_equal(parse(ARGC(sockets_big), sockets_big, &cfg), FLAGS_BAD);
}

static void test_ipv6_address(void **state)
{
	struct listen_addr la;

	assert_int_equal(parse_listen_address("[::1]:9437", &la, err, sizeof(err)), 0);
	assert_int_equal(la.addr.ss_family, AF_INET6);
	assert_int_equal(parse_listen_address("[::]:80", &la, err, sizeof(err)), 0);
	assert_int_equal(parse_listen_address("localhost:80", &la, err, sizeof(err)), 0);
}

static void expect_bad_listen(const char *text, const char *reason)
{
	struct listen_addr la;

	err[0] = '\0';
	assert_int_equal(parse_listen_address(text, &la, err, sizeof(err)), -1);
	assert_non_null(strstr(err, text));
	assert_non_null(strstr(err, reason));
	assert_null(strchr(err, '\n'));
}

static void test_bad_listen_addresses(void **state)
{
	expect_bad_listen("abc", "host:port");
	expect_bad_listen(":99999", "port must be");
	expect_bad_listen(":-1", "port must be");
	expect_bad_listen(":", "port must be");
	expect_bad_listen(":80x", "port must be");
	expect_bad_listen("::1:80", "[addr]:port");
	expect_bad_listen("[::1]80", "[ipv6]:port");
	expect_bad_listen("[]:80", "IPv6");
	expect_bad_listen("[zz]:80", "[zz]:80");
	expect_bad_listen("no-such-host.invalid:80", "no-such-host");
	expect_bad_listen(":+80", "port must be");
	expect_bad_listen(": 80", "port must be");
}

static void expect_bad(int argc, char **argv, const char *reason)
{
	struct config cfg;

	assert_int_equal(parse(argc, argv, &cfg), FLAGS_BAD);
	assert_non_null(strstr(err, reason));
	assert_null(strchr(err, '\n'));
}

static void test_bad_flags(void **state)
{
	char *unknown[] = {"x", "--web.listen", "--nope", NULL};
	char *unknown2[] = {"x", "--nope", NULL};
	char *shortflag[] = {"x", "-z", NULL};
	char *novalue[] = {"x", "--web.telemetry-path", NULL};
	char *badpath[] = {"x", "--web.telemetry-path=metrics", NULL};
	char *rootpath[] = {"x", "--web.telemetry-path=/", NULL};
	char *spacepath[] = {"x", "--web.telemetry-path=/a b", NULL};
	char *badlevel[] = {"x", "--log.level=loud", NULL};
	char *positional[] = {"x", "extra", NULL};

	expect_bad(ARGC(unknown2), unknown2, "unknown flag '--nope'");
	expect_bad(ARGC(shortflag), shortflag, "unknown flag '-z'");
	expect_bad(ARGC(novalue), novalue, "needs a value");
	expect_bad(ARGC(badpath), badpath, "--web.telemetry-path");
	expect_bad(ARGC(rootpath), rootpath, "--web.telemetry-path");
	expect_bad(ARGC(spacepath), spacepath, "no spaces");
	expect_bad(ARGC(badlevel), badlevel, "--log.level 'loud'");
	expect_bad(ARGC(positional), positional, "unexpected argument 'extra'");
	char *prefix[] = {"x", "--web.l=:1", NULL};
	char *prefix2[] = {"x", "--vers", NULL};
	char *novalue2[] = {"x", "--help=3", NULL};

	/* Prefixes of flag names are typos, not the flag. */
	expect_bad(ARGC(unknown), unknown,
		   "unknown flag '--web.listen' (did you mean --web.listen-address?)");
	expect_bad(ARGC(prefix), prefix, "unknown flag '--web.l=:1'");
	expect_bad(ARGC(prefix2), prefix2, "unknown flag '--vers'");
	expect_bad(ARGC(novalue2), novalue2, "flag '--help' takes no value");
}

static const struct runas *runas_of(const char *text, struct config *cfg)
{
	char flag[128];
	char *argv[] = {"x", flag, NULL};

	snprintf(flag, sizeof(flag), "--runas=%s", text);
	assert_int_equal(parse(ARGC(argv), argv, cfg), FLAGS_RUN);
	assert_true(cfg->runas.set);
	return &cfg->runas;
}

/* Names and numbers; without a group the user's own and its supplementary
 * groups (by name), with one that group only. */
static void test_runas(void **state)
{
	const struct passwd *nobody = getpwnam("nobody");
	char *none[] = {"x", NULL};
	struct config cfg;
	const struct runas *r;
	uid_t uid;
	gid_t gid;
	char group[64], numeric[64];

	assert_non_null(nobody);
	uid = nobody->pw_uid;
	gid = nobody->pw_gid;
	assert_non_null(getgrgid(gid));
	snprintf(group, sizeof(group), "nobody:%s", getgrgid(gid)->gr_name);

	assert_int_equal(parse(ARGC(none), none, &cfg), FLAGS_RUN);
	assert_false(cfg.runas.set);

	r = runas_of("nobody", &cfg);
	assert_int_equal(r->uid, uid);
	assert_int_equal(r->gid, gid);
	assert_string_equal(r->user, "nobody");

	snprintf(numeric, sizeof(numeric), "%u", (unsigned)uid);
	r = runas_of(numeric, &cfg);
	assert_int_equal(r->uid, uid);
	assert_int_equal(r->gid, gid);
	assert_string_equal(r->user, "nobody");

	r = runas_of(group, &cfg);
	assert_int_equal(r->uid, uid);
	assert_int_equal(r->gid, gid);
	assert_string_equal(r->user, "");

	/* Numbers need no database entry when the group is given. */
	r = runas_of("4000000001:4000000002", &cfg);
	assert_int_equal(r->uid, 4000000001u);
	assert_int_equal(r->gid, 4000000002u);
	assert_string_equal(r->user, "");
}

static void test_bad_runas(void **state)
{
	char *root[] = {"x", "--runas=root", NULL};
	char *zero[] = {"x", "--runas", "0:0", NULL};
	char *unknown[] = {"x", "--runas=no-such-user-ctcp", NULL};
	char *no_group[] = {"x", "--runas=4000000001", NULL};
	char *bad_group[] = {"x", "--runas=nobody:no-such-group-ctcp", NULL};
	char *empty[] = {"x", "--runas=", NULL};
	char *empty_user[] = {"x", "--runas=:5", NULL};
	char *empty_group[] = {"x", "--runas=nobody:", NULL};
	char *minus_one[] = {"x", "--runas=4294967295:1", NULL};
	char *too_big[] = {"x", "--runas=99999999999:1", NULL};
	char *no_value[] = {"x", "--runas", NULL};
	char *group_0[] = {"x", "--runas=nobody:0", NULL};
	char *group_root[] = {"x", "--runas=65534:root", NULL};

	expect_bad(ARGC(root), root, "bad --runas 'root': that is root");
	expect_bad(ARGC(zero), zero, "bad --runas '0:0': that is root");
	expect_bad(ARGC(unknown), unknown, "bad --runas 'no-such-user-ctcp': no such user");
	expect_bad(ARGC(no_group), no_group, "give the group too, as UID:GID");
	expect_bad(ARGC(bad_group), bad_group, "no such group");
	expect_bad(ARGC(empty), empty, "want USER or USER:GROUP");
	expect_bad(ARGC(empty_user), empty_user, "want USER or USER:GROUP");
	expect_bad(ARGC(empty_group), empty_group, "want USER or USER:GROUP");
	/* (uid_t)-1 means "unchanged" to setresuid(): not a user. */
	expect_bad(ARGC(minus_one), minus_one, "no such user");
	expect_bad(ARGC(too_big), too_big, "no such user");
	expect_bad(ARGC(no_value), no_value, "needs a value");
	/* Group 0 is refused as uid 0 is. */
	expect_bad(ARGC(group_0), group_0, "bad --runas 'nobody:0': group 0 is root's");
	expect_bad(ARGC(group_root), group_root, "bad --runas '65534:root': group 0 is root's");
}

/* Values are echoed with control bytes escaped: the error stays one line. */
static void test_bad_value_echoed_on_one_line(void **state)
{
	char *newline[] = {"x", "--log.level=a\nb", NULL};
	char *escape[] = {"x", "extra\x1b[2J\t", NULL};
	char *lone[] = {"x", "\n", NULL};

	expect_bad(ARGC(newline), newline, "bad --log.level 'a\\nb'");
	expect_bad(ARGC(escape), escape, "unexpected argument 'extra\\x1b[2J\\t'");
	expect_bad(ARGC(lone), lone, "unexpected argument '\\n' (see --help)");
	assert_null(strchr(err, '\n'));
}

static void test_help_and_version_exit_ok(void **state)
{
	char *help[] = {"x", "--help", NULL};
	char *version[] = {"x", "--version", NULL};
	struct config cfg;

	assert_int_equal(parse(ARGC(help), help, &cfg), FLAGS_EXIT_OK);
	assert_int_equal(parse(ARGC(version), version, &cfg), FLAGS_EXIT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_both_value_forms),
	    cmocka_unit_test(test_bucket_factor),
	    cmocka_unit_test(test_ipv6_address),
	    cmocka_unit_test(test_repeated_listen_and_limits),
	    cmocka_unit_test(test_bad_listen_addresses),
	    cmocka_unit_test(test_bad_flags),
	    cmocka_unit_test(test_runas),
	    cmocka_unit_test(test_bad_runas),
	    cmocka_unit_test(test_peer_and_process_flags),
	    cmocka_unit_test(test_bad_value_echoed_on_one_line),
	    cmocka_unit_test(test_help_and_version_exit_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
