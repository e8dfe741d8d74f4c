/* SPDX-License-Identifier: GPL-2.0-only */
/* Chooses which programs of the BPF object the running kernel takes, from
 * what it offers (BTF, tracepoints, instructions), never from its version:
 * of each group of programs that reach the same counts by different kernel
 * features, exactly one loads. */
#ifndef VARIANTS_H
#define VARIANTS_H

#include <stdbool.h>

struct btf;
struct bpf_program;
struct cgroup_tcp_bpf;

#define VARIANTS_MAX 8

struct variants {
	/* Programs not loaded because another one does their job. */
	const struct bpf_program *unused[VARIANTS_MAX];
	int nunused;
	struct bpf_program *census; /* the iterator that goes with the state variant */
	bool fexit;		    /* I/O from fexit programs (no I/O tracepoints) */
	bool hashed;		    /* the socket table is the hash */
};

/* Sets the programs' autoload and the socket tables' autocreate. allow_fexit
 * false keeps every fexit program off (the kernel refused one). */
void variants_choose(struct cgroup_tcp_bpf *skel, const struct btf *vmlinux, bool allow_fexit,
		     struct variants *out);
bool variants_unused(const struct variants *v, const struct bpf_program *prog);
/* What a variant needs of the kernel, for messages; NULL for the others. */
const char *variants_needs(const char *program);

#endif /* VARIANTS_H */
