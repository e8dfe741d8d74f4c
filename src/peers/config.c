/* SPDX-License-Identifier: GPL-2.0-only */
/* Parses the --peer.config file with libyaml, as strictly as the web
 * config: every error names its line. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "small_file.h"
#include "yaml_error.h"

struct parser {
	yaml_document_t *doc;
	struct peer_groups *groups;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	yaml_error(p->err, p->errlen, node, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *text_of(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* A scalar whose text holds no NUL ("\0" in a quoted string), which
 * would cut it short here. */
static bool whole_scalar(const yaml_node_t *node)
{
	return node->type == YAML_SCALAR_NODE && strlen(text_of(node)) == node->data.scalar.length;
}

static const yaml_node_t *node_at(struct parser *p, int index)
{
	return yaml_document_get_node(p->doc, index);
}

/* A block or flow list of scalars: calls each(p, group, item). */
typedef int (*item_handler)(struct parser *p, const yaml_node_t *item, void *ctx);

static int each_item(struct parser *p, const yaml_node_t *list, const char *what, item_handler each,
		     void *ctx)
{
	if (list->type != YAML_SEQUENCE_NODE)
		return fail(p, list, "%s: want a list", what);
	for (yaml_node_item_t *i = list->data.sequence.items.start;
	     i < list->data.sequence.items.top; i++) {
		const yaml_node_t *item = node_at(p, *i);

		if (!whole_scalar(item))
			return fail(p, item, "%s: want a list of plain values", what);
		if (each(p, item, ctx))
			return -1;
	}
	return 0;
}

struct group_spec {
	const yaml_node_t *cidrs;
	uint16_t ports[CTCP_PEER_PORTS];
	unsigned int nports;
	unsigned int id;
};

static int add_port(struct parser *p, const yaml_node_t *item, void *ctx)
{
	struct group_spec *g = ctx;
	const char *t = text_of(item);
	long port = strtol(t, NULL, 10);

	if (!*t || strlen(t) > 5 || strspn(t, "0123456789") != strlen(t) || port < 1 ||
	    port > 65535)
		return fail(p, item, "ports: '%.16s' is not a port from 1 to 65535", t);
	if (g->nports == CTCP_PEER_PORTS)
		return fail(p, item, "ports: at most %d per group", CTCP_PEER_PORTS);
	for (unsigned int i = 0; i < g->nports; i++)
		if (g->ports[i] == port)
			return fail(p, item, "ports: %ld is listed twice", port);
	g->ports[g->nports++] = (uint16_t)port;
	return 0;
}

static int add_cidr(struct parser *p, const yaml_node_t *item, void *ctx)
{
	struct group_spec *g = ctx;
	char why[160];

	if (peer_groups_add_cidr(p->groups, g->id, text_of(item), g->ports, g->nports, why,
				 sizeof(why)))
		return fail(p, item, "cidrs: %s", why);
	return 0;
}

/* name: {cidrs: [...], ports: [...]} */
static int add_group(struct parser *p, const yaml_node_t *name, const yaml_node_t *spec)
{
	struct group_spec g = {0};
	const yaml_node_t *ports = NULL;
	char why[160];
	int id;

	if (spec->type != YAML_MAPPING_NODE)
		return fail(p, spec, "group '%.64s': want a map with cidrs (and ports)",
			    text_of(name));
	for (yaml_node_pair_t *kv = spec->data.mapping.pairs.start;
	     kv < spec->data.mapping.pairs.top; kv++) {
		const yaml_node_t *key = node_at(p, kv->key), *value = node_at(p, kv->value);
		const yaml_node_t **slot = NULL;

		if (key->type == YAML_SCALAR_NODE && !strcmp(text_of(key), "cidrs"))
			slot = &g.cidrs;
		else if (key->type == YAML_SCALAR_NODE && !strcmp(text_of(key), "ports"))
			slot = &ports;
		if (!slot)
			return fail(
			    p, key, "group '%.64s': unknown key '%.32s' (want cidrs, ports)",
			    text_of(name), key->type == YAML_SCALAR_NODE ? text_of(key) : "?");
		if (*slot)
			return fail(p, key, "group '%.64s': %s is set twice", text_of(name),
				    text_of(key));
		*slot = value;
	}
	if (!g.cidrs)
		return fail(p, spec, "group '%.64s': cidrs is missing", text_of(name));
	id = peer_groups_add(p->groups, text_of(name), why, sizeof(why));
	if (id < 0)
		return fail(p, name, "%s", why);
	g.id = (unsigned int)id;
	if (ports && each_item(p, ports, "ports", add_port, &g))
		return -1;
	return each_item(p, g.cidrs, "cidrs", add_cidr, &g);
}

static int add_groups(struct parser *p, const yaml_node_t *root)
{
	const yaml_node_t *groups = NULL;

	if (root->type != YAML_MAPPING_NODE)
		return fail(p, root, "want a map with the key groups");
	for (yaml_node_pair_t *kv = root->data.mapping.pairs.start;
	     kv < root->data.mapping.pairs.top; kv++) {
		const yaml_node_t *key = node_at(p, kv->key);

		if (key->type != YAML_SCALAR_NODE || strcmp(text_of(key), "groups"))
			return fail(p, key, "unknown key '%.32s' (want groups)",
				    key->type == YAML_SCALAR_NODE ? text_of(key) : "?");
		if (groups)
			return fail(p, key, "groups is set twice");
		groups = node_at(p, kv->value);
	}
	if (!groups || groups->type != YAML_MAPPING_NODE)
		return fail(p, groups ? groups : root, "groups: want a map of group names");
	for (yaml_node_pair_t *kv = groups->data.mapping.pairs.start;
	     kv < groups->data.mapping.pairs.top; kv++) {
		const yaml_node_t *name = node_at(p, kv->key);

		if (!whole_scalar(name))
			return fail(p, name, "groups: names must be strings");
		if (add_group(p, name, node_at(p, kv->value)))
			return -1;
	}
	return 0;
}

int peer_config_parse(const char *text, size_t len, struct peer_groups *g, char *err, size_t errlen)
{
	struct parser p = {.groups = g, .err = err, .errlen = errlen};
	const yaml_node_t *root;
	yaml_document_t doc;
	yaml_parser_t y;
	int rc;

	if (memchr(text, '\0', len))
		return fail(&p, NULL, "the file holds a NUL byte");
	if (!yaml_parser_initialize(&y))
		return fail(&p, NULL, "out of memory");
	yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
	if (!yaml_parser_load(&y, &doc)) {
		fail(&p, NULL, "line %zu: bad YAML: %s", y.problem_mark.line + 1,
		     y.problem ? y.problem : "cannot parse");
		yaml_parser_delete(&y);
		return -1;
	}
	p.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	rc = root ? add_groups(&p, root) : fail(&p, NULL, "the file is empty");
	yaml_document_delete(&doc);
	yaml_parser_delete(&y);
	return rc;
}

int peer_config_load(const char *path, struct peer_groups *g, char *err, size_t errlen)
{
	char why[512];
	size_t len;
	char *text = small_file_read(path, PEER_CONFIG_MAX_BYTES, &len, why, sizeof(why));
	int rc;

	if (!text) {
		snprintf(err, errlen, "peer config file %s: %s", path, why);
		return -1;
	}
	rc = peer_config_parse(text, len, g, why, sizeof(why));
	free(text);
	if (rc)
		snprintf(err, errlen, "peer config file %s: %s", path, why);
	return rc;
}
