/* SPDX-License-Identifier: GPL-2.0-only */
/* The --peer.config file: named peer groups in YAML, read once at start,
 * strictly (unknown or repeated keys are errors):
 *
 *   groups:
 *     postgres: {cidrs: [10.20.0.0/16], ports: [5432]}
 *     kube-dns: {cidrs: [10.96.0.10/32]}
 */
#ifndef PEER_CONFIG_H
#define PEER_CONFIG_H

#include <stddef.h>
#include "groups.h"

#define PEER_CONFIG_MAX_BYTES (1 << 20)

/* Adds the groups of the YAML text to g (which holds the built-in ones);
 * -1 with one line in err ("line N: ..."). */
int peer_config_parse(const char *text, size_t len, struct peer_groups *g, char *err,
		      size_t errlen);
/* Reads and parses the file; -1 with one line in err naming the file. */
int peer_config_load(const char *path, struct peer_groups *g, char *err, size_t errlen);

#endif /* PEER_CONFIG_H */
