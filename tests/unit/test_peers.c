/* SPDX-License-Identifier: GPL-2.0-only */
/* Peer groups: the built-in groups, longest prefix, ports, IPv6 and
 * IPv4-mapped addresses; the kernel trie's entries give the same answer as
 * the reference match; the --peer.config file and its one-line errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peers/config.h"
#include "peers/groups.h"

static char err[512];

static const char sample[] = "groups:\n"
			     "  postgres: {cidrs: [10.20.0.0/16], ports: [5432]}\n"
			     "  kube-dns:\n"
			     "    cidrs: [10.96.0.10/32]\n"
			     "  office:\n"
			     "    cidrs: [10.20.5.0/24, 2001:db8::/32, 198.51.100.7]\n"
			     "  replica: {cidrs: [10.20.5.0/24], ports: [5432, 5433]}\n"
			     "  db6: {cidrs: ['2001:db8:1::/48'], ports: [5432]}\n";

/* addr as IPv6 (IPv4 mapped). */
static void addr_of(const char *text, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr + 12) == 1) {
		addr[10] = addr[11] = 0xff;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, addr), 1);
}

static const char *group_of(const struct peer_groups *g, const char *text, uint16_t port)
{
	uint8_t addr[16];

	addr_of(text, addr);
	return g->names[peer_match(g, addr, port)];
}

static void load_sample(struct peer_groups *g)
{
	assert_int_equal(peer_groups_init(g), 0);
	if (peer_config_parse(sample, strlen(sample), g, err, sizeof(err)))
		fail_msg("%s", err);
}

static void test_builtin(void **state)
{
	struct peer_groups g;

	(void)state;
	assert_int_equal(peer_groups_init(&g), 0);
	assert_string_equal(group_of(&g, "127.0.0.1", 80), "loopback");
	assert_string_equal(group_of(&g, "127.0.0.2", 0), "loopback");
	assert_string_equal(group_of(&g, "::1", 0), "loopback");
	assert_string_equal(group_of(&g, "10.1.2.3", 0), "private");
	assert_string_equal(group_of(&g, "172.16.0.1", 0), "private");
	assert_string_equal(group_of(&g, "172.32.0.1", 0), "public");
	assert_string_equal(group_of(&g, "192.168.1.1", 0), "private");
	assert_string_equal(group_of(&g, "169.254.1.1", 0), "private");
	assert_string_equal(group_of(&g, "fd00::1", 0), "private");
	assert_string_equal(group_of(&g, "fe80::1", 0), "private");
	assert_string_equal(group_of(&g, "8.8.8.8", 53), "public");
	assert_string_equal(group_of(&g, "2606:4700::1111", 0), "public");
	/* Neither global unicast nor any other built-in range. */
	assert_string_equal(group_of(&g, "ff02::1", 0), "other");
	assert_string_equal(group_of(&g, "::", 0), "other");
	/* IPv4-mapped IPv6: the IPv4 groups. */
	assert_string_equal(group_of(&g, "::ffff:10.0.0.1", 0), "private");
	assert_string_equal(group_of(&g, "::ffff:127.0.0.2", 0), "loopback");
	peer_groups_free(&g);
}

static void test_longest_prefix_and_ports(void **state)
{
	struct peer_groups g;

	(void)state;
	load_sample(&g);
	/* postgres: the port picks it inside 10.20/16; other ports fall back
	 * to the built-in private. */
	assert_string_equal(group_of(&g, "10.20.1.1", 5432), "postgres");
	assert_string_equal(group_of(&g, "10.20.1.1", 80), "private");
	assert_string_equal(group_of(&g, "10.20.1.1", 0), "private");
	/* 10.20.5/24 is longer: office for any port, replica for its ports. */
	assert_string_equal(group_of(&g, "10.20.5.9", 80), "office");
	assert_string_equal(group_of(&g, "10.20.5.9", 5432), "replica");
	assert_string_equal(group_of(&g, "10.20.5.9", 5433), "replica");
	assert_string_equal(group_of(&g, "10.96.0.10", 53), "kube-dns");
	assert_string_equal(group_of(&g, "10.96.0.11", 53), "private");
	/* An address alone is a host route. */
	assert_string_equal(group_of(&g, "198.51.100.7", 443), "office");
	assert_string_equal(group_of(&g, "198.51.100.8", 443), "public");
	assert_string_equal(group_of(&g, "::ffff:198.51.100.7", 443), "office");
	/* IPv6. */
	assert_string_equal(group_of(&g, "2001:db8:2::1", 5432), "office");
	assert_string_equal(group_of(&g, "2001:db8:1::1", 5432), "db6");
	assert_string_equal(group_of(&g, "2001:db8:1::1", 80), "office");
	assert_string_equal(group_of(&g, "2001:db9::1", 80), "public");
	peer_groups_free(&g);
}

static void test_trie_agrees(void **state)
{
	static const char *const addrs[] = {
	    "10.20.0.0",    "10.20.255.255",	 "10.20.5.0",	 "10.20.5.255", "10.20.4.255",
	    "10.96.0.10",   "10.96.0.9",	 "127.0.0.1",	 "0.0.0.0",	"255.255.255.255",
	    "198.51.100.7", "2001:db8::",	 "2001:db8:1::", "::1",		"::2",
	    "fe80::1",	    "2001:db8:1:ffff::1"};
	static const uint16_t ports[] = {0, 1, 80, 5432, 5433, 65535};
	struct ctcp_peer_key *keys;
	struct ctcp_peer_rule *rules;
	struct peer_groups g;
	uint8_t addr[16];
	size_t n;

	(void)state;
	load_sample(&g);
	assert_int_equal(peer_compile(&g, &keys, &rules, &n, err, sizeof(err)), 0);
	/* One entry per distinct prefix: 10 built-in, 6 of the file (office and
	 * replica share 10.20.5.0/24). */
	assert_int_equal(n, 10 + 6);
	for (size_t a = 0; a < sizeof(addrs) / sizeof(addrs[0]); a++) {
		addr_of(addrs[a], addr);
		for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); p++)
			assert_int_equal(peer_trie_group(keys, rules, n, addr, ports[p]),
					 peer_match(&g, addr, ports[p]));
	}
	/* And random ones near the prefixes. */
	srand(1);
	for (int i = 0; i < 20000; i++) {
		addr_of(addrs[i % (sizeof(addrs) / sizeof(addrs[0]))], addr);
		addr[15 - rand() % 4] ^= (uint8_t)rand();
		uint16_t port = ports[rand() % 6];

		assert_int_equal(peer_trie_group(keys, rules, n, addr, port),
				 peer_match(&g, addr, port));
	}
	free(keys);
	free(rules);
	peer_groups_free(&g);
}

/* The text is refused with one line holding `want`. */
static void refused(const char *text, const char *want)
{
	struct peer_groups g;

	assert_int_equal(peer_groups_init(&g), 0);
	err[0] = '\0';
	if (!peer_config_parse(text, strlen(text), &g, err, sizeof(err)))
		fail_msg("accepted: %s", text);
	if (!strstr(err, want) || strchr(err, '\n'))
		fail_msg("error '%s' lacks '%s'", err, want);
	peer_groups_free(&g);
}

static void test_bad_files(void **state)
{
	(void)state;
	refused("", "empty");
	refused("groups: [a]\n", "line 1: groups: want a map of group names");
	refused("group:\n  a: {cidrs: [10.0.0.0/8]}\n",
		"line 1: unknown key 'group' (want groups)");
	refused("groups:\n  a: {cidrs: [10.0.0.0/8], port: [1]}\n",
		"line 2: group 'a': unknown key 'port'");
	refused("groups:\n  a: {ports: [1]}\n", "line 2: group 'a': cidrs is missing");
	refused("groups:\n  a: {cidrs: [10.0.0.0/33]}\n", "'10.0.0.0/33' is not an IPv4 or IPv6");
	refused("groups:\n  a: {cidrs: [10.0.0.1/8]}\n", "bits set past its prefix length");
	refused("groups:\n  a: {cidrs: [example.com]}\n", "not an IPv4 or IPv6");
	refused("groups:\n  a: {cidrs: [10.0.0.0/8], ports: [0]}\n", "not a port from 1 to 65535");
	refused("groups:\n  a: {cidrs: [10.0.0.0/8], ports: [65536]}\n", "not a port");
	refused("groups:\n  a: {cidrs: [10.0.0.0/8], ports: [80, 80]}\n", "80 is listed twice");
	refused("groups:\n  private: {cidrs: [10.0.0.0/8]}\n", "group 'private' is built in");
	refused("groups:\n  other: {cidrs: [10.0.0.0/8]}\n", "group 'other' is built in");
	refused("groups:\n  a: {cidrs: [10.0.0.0/8]}\n  a: {cidrs: [11.0.0.0/8]}\n",
		"line 3: group 'a' is named twice");
	refused("groups:\n  a: {cidrs: [10.0.0.0/8]}\n  b: {cidrs: [10.0.0.0/8]}\n",
		"already in another group");
	refused("groups:\n  'a b': {cidrs: [10.0.0.0/8]}\n", "group name 'a b' must be");
	refused("groups:\n  a: {cidrs: [10.0.0.0/8]\n", "bad YAML");
	refused("groups: {}\ngroups: {}\n", "groups is set twice");
	refused("groups:\n  a: {cidrs: [\"10.0.0.0/8\\0x\"]}\n",
		"cidrs: want a list of plain values");
}

static void test_same_prefix_other_ports(void **state)
{
	const char text[] = "groups:\n"
			    "  web: {cidrs: [10.0.0.0/8], ports: [80]}\n"
			    "  db: {cidrs: [10.0.0.0/8], ports: [5432]}\n";
	struct peer_groups g;

	(void)state;
	assert_int_equal(peer_groups_init(&g), 0);
	assert_int_equal(peer_config_parse(text, strlen(text), &g, err, sizeof(err)), 0);
	assert_string_equal(group_of(&g, "10.1.1.1", 80), "web");
	assert_string_equal(group_of(&g, "10.1.1.1", 5432), "db");
	assert_string_equal(group_of(&g, "10.1.1.1", 22), "private");
	peer_groups_free(&g);
	refused("groups:\n  web: {cidrs: [10.0.0.0/8], ports: [80]}\n"
		"  db: {cidrs: [10.0.0.0/8], ports: [80]}\n",
		"already in another group with the same ports");
}

static void test_load_missing(void **state)
{
	struct peer_groups g;

	(void)state;
	assert_int_equal(peer_groups_init(&g), 0);
	assert_int_equal(peer_config_load("/nonexistent/peers.yml", &g, err, sizeof(err)), -1);
	assert_string_equal(err,
			    "peer config file /nonexistent/peers.yml: No such file or directory");
	peer_groups_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_builtin),
	    cmocka_unit_test(test_longest_prefix_and_ports),
	    cmocka_unit_test(test_trie_agrees),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_same_prefix_other_ports),
	    cmocka_unit_test(test_load_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
