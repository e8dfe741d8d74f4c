/* SPDX-License-Identifier: GPL-2.0-only */
/* Picks the program variants the running kernel takes (see variants.h). */
#include "variants.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

#include "cgroup_tcp.skel.h"
#include "log.h"
#include "probe.h"

static void drop(struct variants *v, struct bpf_program *prog)
{
	bpf_program__set_autoload(prog, false);
	if (v->nunused < VARIANTS_MAX)
		v->unused[v->nunused++] = prog;
}

static bool has_func(const struct btf *vmlinux, const char *name)
{
	return btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) >= 0;
}

static bool has_tracepoint(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) >= 0;
}

/* The number of parameters of a kernel function, or -1. */
static int func_params(const struct btf *vmlinux, const char *name)
{
	int id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC);
	const struct btf_type *proto;

	if (id < 0)
		return -1;
	proto = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, id)->type);
	return proto && btf_is_func_proto(proto) ? btf_vlen(proto) : -1;
}

/* The socket table: cmpxchg claims its ways (5.12+); without, a hash
 * whose inserts do. Only the chosen table is created. */
static void choose_state(struct cgroup_tcp_bpf *skel, struct variants *v)
{
	static int said;
	int refused = probe_atomics();
	bool atomics = !refused;

	drop(v, atomics ? skel->progs.ctcp_set_state_hash : skel->progs.ctcp_set_state);
	drop(v, atomics ? skel->progs.ctcp_census_hash : skel->progs.ctcp_census);
	/* Both tables exist, for the programs that read either (the verifier
	 * drops the other's code); the unused one with a single entry. */
	v->hashed = !atomics;
	skel->rodata->ctcp_socket_hashed = v->hashed;
	v->census = atomics ? skel->progs.ctcp_census : skel->progs.ctcp_census_hash;
	/* Said once, though a start without fexit programs chooses again. */
	if (!atomics && !said++)
		log_info("the kernel refused a BPF program with atomic compare-and-swap (%s; "
			 "Linux 5.12+ has it): the socket table is a hash",
			 strerror(-refused));
}

/* ctcp_probe casts the socket with the bpf_rdonly_cast kfunc (Linux 6.2+);
 * older kernels run ctcp_probe_checked, which asks a helper instead. */
static void choose_rtt(const struct btf *vmlinux, struct cgroup_tcp_bpf *skel, struct variants *v)
{
	bool cast = has_func(vmlinux, "bpf_rdonly_cast");

	drop(v, cast ? skel->progs.ctcp_probe_checked : skel->progs.ctcp_probe);
}

/* I/O from the sock_send_length/sock_recv_length tracepoints (6.3+), else
 * from fexit on tcp_sendmsg() and tcp_recvmsg(), whose number of parameters
 * tells which of its two prototypes the kernel has. Without either, the
 * tracepoint programs stay and the loader reports their hooks missing. */
static void choose_io(const struct btf *vmlinux, bool allow_fexit, struct cgroup_tcp_bpf *skel,
		      struct variants *v)
{
	struct bpf_program *all[] = {skel->progs.ctcp_send, skel->progs.ctcp_recv,
				     skel->progs.ctcp_send_fexit, skel->progs.ctcp_recv_fexit,
				     skel->progs.ctcp_recv_fexit_nonblock};
	struct bpf_program *used[2] = {skel->progs.ctcp_send, skel->progs.ctcp_recv};
	int recv_params = func_params(vmlinux, "tcp_recvmsg");

	v->fexit = allow_fexit && !has_tracepoint(vmlinux, "sock_send_length") &&
		   !has_tracepoint(vmlinux, "sock_recv_length") &&
		   func_params(vmlinux, "tcp_sendmsg") == 3 &&
		   (recv_params == 5 || recv_params == 6);
	if (v->fexit) {
		used[0] = skel->progs.ctcp_send_fexit;
		used[1] = recv_params == 5 ? skel->progs.ctcp_recv_fexit
					   : skel->progs.ctcp_recv_fexit_nonblock;
		log_info("no I/O tracepoints (Linux 6.3+): bytes come from fexit on tcp_sendmsg "
			 "and tcp_recvmsg");
	}
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] != used[0] && all[i] != used[1])
			drop(v, all[i]);
}

void variants_choose(struct cgroup_tcp_bpf *skel, const struct btf *vmlinux, bool allow_fexit,
		     struct variants *out)
{
	memset(out, 0, sizeof(*out));
	choose_state(skel, out);
	choose_rtt(vmlinux, skel, out);
	choose_io(vmlinux, allow_fexit, skel, out);
}

bool variants_unused(const struct variants *v, const struct bpf_program *prog)
{
	for (int i = 0; i < v->nunused; i++)
		if (v->unused[i] == prog)
			return true;
	return false;
}

const char *variants_needs(const char *program)
{
	static const char *const needs[][2] = {
	    {"ctcp_send_fexit", "fexit programs (BPF trampolines)"},
	    {"ctcp_recv_fexit", "fexit programs (BPF trampolines)"},
	    {"ctcp_recv_fexit_nonblock", "fexit programs (BPF trampolines)"},
	    {"ctcp_set_state", "BPF atomic compare-and-swap (Linux 5.12+)"},
	    {"ctcp_census", "BPF atomic compare-and-swap (Linux 5.12+) and iter/tcp (5.9+)"},
	    {"ctcp_census_hash", "the iter/tcp BPF iterator (Linux 5.9+)"},
	    {"ctcp_probe", "the bpf_rdonly_cast kfunc (Linux 6.2+)"},
	};

	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++)
		if (!strcmp(program, needs[i][0]))
			return needs[i][1];
	return NULL;
}
