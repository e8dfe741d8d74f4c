/* SPDX-License-Identifier: GPL-2.0-only */
/* Loads and attaches the empty tp_btf programs of empty.bpf.c (skipping any
 * whose tracepoint this kernel lacks), prints "ready", and keeps them attached
 * until SIGINT or SIGTERM. The per-event cost baseline for prog_cost. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "empty.skel.h"

static int quiet_debug(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool has_tracepoint(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) >= 0;
}

int main(void)
{
	struct empty_bpf *skel = NULL;
	struct btf *vmlinux = NULL;
	struct bpf_program *prog;
	sigset_t stop;
	int sig, loaded = 0, status = 1;

	/* Blocked before anything else, so only sigwait() sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	libbpf_set_print(quiet_debug);

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		fprintf(stderr, "empty_loader: cannot read kernel BTF: %s\n", strerror(errno));
		return 1;
	}
	skel = empty_bpf__open();
	if (!skel) {
		fprintf(stderr, "empty_loader: cannot open the BPF object: %s\n", strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(prog, skel->obj)
	{
		const char *sec = bpf_program__section_name(prog);
		const char *tp = strchr(sec, '/') ? strchr(sec, '/') + 1 : sec;

		if (has_tracepoint(vmlinux, tp)) {
			loaded++;
			continue;
		}
		bpf_program__set_autoload(prog, false);
		fprintf(stderr, "empty_loader: no tracepoint %s in this kernel, %s skipped\n", tp,
			bpf_program__name(prog));
	}
	if (!loaded) {
		fprintf(stderr, "empty_loader: none of the tracepoints exists\n");
		goto out;
	}
	if (empty_bpf__load(skel)) {
		fprintf(stderr, "empty_loader: cannot load: %s\n", strerror(errno));
		goto out;
	}
	if (empty_bpf__attach(skel)) {
		fprintf(stderr, "empty_loader: cannot attach: %s\n", strerror(errno));
		goto out;
	}
	printf("ready\n");
	fflush(stdout);

	if (sigwait(&stop, &sig) == 0)
		status = 0;
	empty_bpf__detach(skel);
out:
	empty_bpf__destroy(skel);
	btf__free(vmlinux);
	return status;
}
