/* SPDX-License-Identifier: GPL-2.0-only */
/* The start-up census: runs the iter/tcp program once in every network
 * namespace of the host, so sockets that existed before the exporter
 * started are in the state gauge. */
#ifndef CENSUS_H
#define CENSUS_H

struct bpf_program;

/* Returns the number of namespaces visited, or a negative errno. */
int census_run(struct bpf_program *iter_prog);

#endif /* CENSUS_H */
