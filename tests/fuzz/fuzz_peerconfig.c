/* SPDX-License-Identifier: GPL-2.0-only */
/* The --peer.config parser and the peer trie's compiler: any text is
 * refused with one line, or gives groups whose compiled trie entries (as
 * the BPF program reads them: the longest prefix holding the address,
 * then its ports) name the same group as the reference match for each
 * prefix's own address, its neighbours and every listed port. */
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "peers/config.h"
#include "peers/groups.h"

static void check_address(const struct peer_groups *g, const struct ctcp_peer_key *keys,
			  const struct ctcp_peer_rule *rules, size_t n, const uint8_t addr[16])
{
	uint16_t ports[2 + CTCP_PEER_PORTS * 4] = {0, 1};
	size_t nports = 2;

	for (size_t i = 0; i < g->nprefixes && nports < sizeof(ports) / sizeof(ports[0]); i++)
		for (unsigned int k = 0;
		     k < g->prefixes[i].nports && nports < sizeof(ports) / sizeof(ports[0]); k++)
			ports[nports++] = g->prefixes[i].ports[k];
	for (size_t p = 0; p < nports; p++)
		fuzz_assert(peer_trie_group(keys, rules, n, addr, ports[p]) ==
				peer_match(g, addr, ports[p]),
			    "the trie and the match disagree on port %u", ports[p]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctcp_peer_key *keys;
	struct ctcp_peer_rule *rules;
	struct peer_groups g;
	char err[512] = "";
	size_t n;

	if (size > PEER_CONFIG_MAX_BYTES || peer_groups_init(&g))
		return 0;
	if (peer_config_parse((const char *)data, size, &g, err, sizeof(err))) {
		fuzz_assert(err[0] && !strchr(err, '\n'), "refused without one line: '%s'", err);
		peer_groups_free(&g);
		return 0;
	}
	if (peer_compile(&g, &keys, &rules, &n, err, sizeof(err))) {
		fuzz_assert(err[0] && !strchr(err, '\n'), "not compiled, without one line");
		peer_groups_free(&g);
		return 0;
	}
	for (size_t i = 0; i < g.nprefixes; i++) {
		uint8_t addr[16];

		memcpy(addr, g.prefixes[i].addr, 16);
		check_address(&g, keys, rules, n, addr);
		addr[15] ^= 1;
		check_address(&g, keys, rules, n, addr);
		memcpy(addr, g.prefixes[i].addr, 16);
		addr[(g.prefixes[i].len ? g.prefixes[i].len - 1 : 0) / 8] ^= 0x80;
		check_address(&g, keys, rules, n, addr);
	}
	free(keys);
	free(rules);
	peer_groups_free(&g);
	return 0;
}
