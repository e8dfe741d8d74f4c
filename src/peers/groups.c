/* SPDX-License-Identifier: GPL-2.0-only */
/* Peer groups: the built-in ones, prefixes, matching, and the trie's
 * entries. */
#include "groups.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const builtin_names[PEER_FIRST_FILE_GROUP] = {
    [CTCP_PEER_OTHER] = "other",
    [PEER_LOOPBACK] = "loopback",
    [PEER_PRIVATE] = "private",
    [PEER_PUBLIC] = "public",
};

/* RFC 1918, RFC 4193 and link-local are private; every other IPv4 address
 * and IPv6's global unicast range are public. */
static const struct {
	const char *cidr;
	unsigned int group;
} builtin_prefixes[] = {
    {"127.0.0.0/8", PEER_LOOPBACK},   {"::1/128", PEER_LOOPBACK},
    {"10.0.0.0/8", PEER_PRIVATE},     {"172.16.0.0/12", PEER_PRIVATE},
    {"192.168.0.0/16", PEER_PRIVATE}, {"169.254.0.0/16", PEER_PRIVATE},
    {"fc00::/7", PEER_PRIVATE},	      {"fe80::/10", PEER_PRIVATE},
    {"0.0.0.0/0", PEER_PUBLIC},	      {"2000::/3", PEER_PUBLIC},
};

int peer_groups_init(struct peer_groups *g)
{
	char err[128];

	memset(g, 0, sizeof(*g));
	for (unsigned int i = 0; i < PEER_FIRST_FILE_GROUP; i++) {
		g->names[i] = strdup(builtin_names[i]);
		if (!g->names[i])
			return -1;
		g->ngroups++;
	}
	for (size_t i = 0; i < sizeof(builtin_prefixes) / sizeof(builtin_prefixes[0]); i++)
		if (peer_groups_add_cidr(g, builtin_prefixes[i].group, builtin_prefixes[i].cidr,
					 NULL, 0, err, sizeof(err)))
			return -1;
	return 0;
}

void peer_groups_free(struct peer_groups *g)
{
	for (unsigned int i = 0; i < g->ngroups; i++)
		free(g->names[i]);
	free(g->prefixes);
	memset(g, 0, sizeof(*g));
}

/* Names are label values that read well in a legend: no quoting needed. */
static bool good_name(const char *name)
{
	size_t n = strlen(name);

	return n && n <= PEER_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") ==
		   n;
}

int peer_groups_add(struct peer_groups *g, const char *name, char *err, size_t errlen)
{
	if (!good_name(name)) {
		snprintf(err, errlen, "group name '%.*s' must be 1 to %d of A-Z a-z 0-9 _ . : -",
			 PEER_NAME_MAX, name, PEER_NAME_MAX);
		return -1;
	}
	for (unsigned int i = 0; i < g->ngroups; i++) {
		if (strcmp(g->names[i], name))
			continue;
		snprintf(err, errlen, "group '%s' %s", name,
			 i < PEER_FIRST_FILE_GROUP ? "is built in: choose another name"
						   : "is named twice");
		return -1;
	}
	if (g->ngroups == CTCP_PEER_GROUPS) {
		snprintf(err, errlen, "more than %d groups",
			 CTCP_PEER_GROUPS - PEER_FIRST_FILE_GROUP);
		return -1;
	}
	g->names[g->ngroups] = strdup(name);
	if (!g->names[g->ngroups]) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return (int)g->ngroups++;
}

/* addr/len as IPv6 (IPv4 mapped); -1 when it is not an address or prefix. */
static int parse_cidr(const char *text, uint8_t addr[16], unsigned int *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t hostlen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned int max = 128, offset = 0;
	char *end;
	long bits;

	if (hostlen >= sizeof(host))
		return -1;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, host, addr + 12) == 1) {
		addr[10] = addr[11] = 0xff;
		max = 32;
		offset = 96;
	} else if (inet_pton(AF_INET6, host, addr) != 1) {
		return -1;
	}
	*len = max;
	if (slash) {
		if (!slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
		    strlen(slash + 1) > 3)
			return -1;
		bits = strtol(slash + 1, &end, 10);
		if (bits > max)
			return -1;
		*len = (unsigned int)bits;
	}
	*len += offset;
	return 0;
}

static bool bit_set(const uint8_t addr[16], unsigned int bit)
{
	return addr[bit / 8] & (0x80 >> (bit % 8));
}

/* Whether addr's first len bits are those of prefix. */
static bool in_prefix(const uint8_t prefix[16], unsigned int len, const uint8_t addr[16])
{
	unsigned int whole = len / 8;

	if (memcmp(prefix, addr, whole))
		return false;
	return len % 8 == 0 || !((prefix[whole] ^ addr[whole]) & (0xff00 >> (len % 8)));
}

int peer_groups_add_cidr(struct peer_groups *g, unsigned int group, const char *cidr,
			 const uint16_t *ports, unsigned int nports, char *err, size_t errlen)
{
	struct peer_prefix p = {.group = group, .nports = nports};

	if (parse_cidr(cidr, p.addr, &p.len)) {
		snprintf(err, errlen, "'%.64s' is not an IPv4 or IPv6 address or CIDR", cidr);
		return -1;
	}
	for (unsigned int bit = p.len; bit < 128; bit++) {
		if (!bit_set(p.addr, bit))
			continue;
		snprintf(err, errlen, "'%.64s' has bits set past its prefix length", cidr);
		return -1;
	}
	if (nports > CTCP_PEER_PORTS) {
		snprintf(err, errlen, "more than %d ports", CTCP_PEER_PORTS);
		return -1;
	}
	if (nports)
		memcpy(p.ports, ports, nports * sizeof(*ports));
	for (size_t i = 0; i < g->nprefixes; i++) {
		const struct peer_prefix *q = &g->prefixes[i];

		if (q->len != p.len || memcmp(q->addr, p.addr, 16) ||
		    q->group < PEER_FIRST_FILE_GROUP || (q->nports > 0) != (nports > 0))
			continue;
		for (unsigned int a = 0; a < nports; a++)
			for (unsigned int b = 0; b < q->nports; b++)
				if (ports[a] == q->ports[b])
					goto clash;
		if (!nports)
			goto clash;
	}
	if (g->nprefixes == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 32;
		struct peer_prefix *grown = realloc(g->prefixes, cap * sizeof(*grown));

		if (!grown) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		g->prefixes = grown;
		g->cap = cap;
	}
	g->prefixes[g->nprefixes++] = p;
	return 0;
clash:
	snprintf(err, errlen, "'%.64s' is already in another group with the same ports", cidr);
	return -1;
}

static bool has_port(const struct peer_prefix *p, uint16_t port)
{
	for (unsigned int i = 0; i < p->nports; i++)
		if (p->ports[i] == port)
			return true;
	return false;
}

/* The group among prefixes at most `len` long that hold addr: the longest
 * that matches the port, one with ports before one without. A file's
 * prefix beats a built-in one of the same length. */
static unsigned int best_within(const struct peer_groups *g, const uint8_t addr[16],
				unsigned int len, uint16_t port)
{
	unsigned int best = CTCP_PEER_OTHER, best_rank = 0;

	for (size_t i = 0; i < g->nprefixes; i++) {
		const struct peer_prefix *p = &g->prefixes[i];
		unsigned int rank;

		if (p->len > len || !in_prefix(p->addr, p->len, addr) ||
		    (p->nports && !(port && has_port(p, port))))
			continue;
		rank = 1 + p->len * 4 + (p->nports ? 2 : 0) + (p->group >= PEER_FIRST_FILE_GROUP);
		if (rank > best_rank) {
			best_rank = rank;
			best = p->group;
		}
	}
	return best;
}

unsigned int peer_match(const struct peer_groups *g, const uint8_t addr[16], uint16_t port)
{
	return best_within(g, addr, 128, port);
}

unsigned int peer_rule_group(const struct ctcp_peer_rule *rule, uint16_t port)
{
	for (unsigned int i = 0; port && i < rule->nports && i < CTCP_PEER_PORTS; i++)
		if (rule->ports[i] == port)
			return rule->port_group[i];
	return rule->group;
}

unsigned int peer_trie_group(const struct ctcp_peer_key *keys, const struct ctcp_peer_rule *rules,
			     size_t n, const uint8_t addr[16], uint16_t port)
{
	const struct ctcp_peer_rule *best = NULL;
	unsigned int best_len = 0;

	for (size_t i = 0; i < n; i++) {
		if (!in_prefix(keys[i].addr, keys[i].prefixlen, addr) ||
		    (best && keys[i].prefixlen < best_len))
			continue;
		best = &rules[i];
		best_len = keys[i].prefixlen;
	}
	return best ? peer_rule_group(best, port) : CTCP_PEER_OTHER;
}

/* Whether prefix i is the first of its address and length. */
static bool first_of_its_prefix(const struct peer_groups *g, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (g->prefixes[j].len == g->prefixes[i].len &&
		    !memcmp(g->prefixes[j].addr, g->prefixes[i].addr, 16))
			return false;
	return true;
}

/* The rule of one trie entry: an address whose longest prefix in the trie
 * is p is held by p's prefixes and shorter ones only, so its group is
 * theirs. Ports listed are those whose group differs from the default. */
static int compile_rule(const struct peer_groups *g, const struct peer_prefix *p,
			struct ctcp_peer_rule *rule, char *err, size_t errlen)
{
	char text[INET6_ADDRSTRLEN];

	memset(rule, 0, sizeof(*rule));
	rule->group = (__u8)best_within(g, p->addr, p->len, 0);
	for (size_t i = 0; i < g->nprefixes; i++) {
		const struct peer_prefix *q = &g->prefixes[i];

		if (q->len > p->len || !in_prefix(q->addr, q->len, p->addr))
			continue;
		for (unsigned int k = 0; k < q->nports; k++) {
			unsigned int group = best_within(g, p->addr, p->len, q->ports[k]);

			if (group == rule->group || peer_rule_group(rule, q->ports[k]) == group)
				continue;
			if (rule->nports == CTCP_PEER_PORTS) {
				inet_ntop(AF_INET6, p->addr, text, sizeof(text));
				snprintf(err, errlen,
					 "more than %d ports apply to addresses in %s/%u: use "
					 "fewer ports per prefix",
					 CTCP_PEER_PORTS, text, p->len);
				return -1;
			}
			rule->ports[rule->nports] = q->ports[k];
			rule->port_group[rule->nports++] = (__u8)group;
		}
	}
	return 0;
}

int peer_compile(const struct peer_groups *g, struct ctcp_peer_key **keys,
		 struct ctcp_peer_rule **rules, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	*keys = calloc(g->nprefixes ? g->nprefixes : 1, sizeof(**keys));
	*rules = calloc(g->nprefixes ? g->nprefixes : 1, sizeof(**rules));
	if (!*keys || !*rules) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < g->nprefixes; i++) {
		const struct peer_prefix *p = &g->prefixes[i];

		if (!first_of_its_prefix(g, i))
			continue;
		(*keys)[*n].prefixlen = p->len;
		memcpy((*keys)[*n].addr, p->addr, 16);
		if (compile_rule(g, p, &(*rules)[*n], err, errlen))
			goto fail;
		(*n)++;
	}
	return 0;
fail:
	free(*keys);
	free(*rules);
	*keys = NULL;
	*rules = NULL;
	return -1;
}
