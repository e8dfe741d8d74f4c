/* SPDX-License-Identifier: GPL-2.0-only */
/* Loads and attaches the BPF programs. */
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/types.h>

#include "cgroup_tcp.h"
#include "cgroup_tcp.skel.h"
#include "census.h"
#include "log.h"
#include "peer_maps.h"
#include "privileges.h"
#include "probe.h"
#include "slots.h"
#include "value_maps.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* The program named by libbpf's last warning ("prog 'NAME': ..."): the one
 * that failed to load, for the error line. */
static char failed_program[64];

static void note_program(const char *text)
{
	const char *name = strstr(text, "prog '"), *end;

	if (!name)
		return;
	name += strlen("prog '");
	end = strchr(name, '\'');
	if (end && (size_t)(end - name) < sizeof(failed_program))
		snprintf(failed_program, sizeof(failed_program), "%.*s", (int)(end - name), name);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level ours = level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG;
	char *text = NULL;
	size_t n;

	/* Verifier logs are long: print them whole. */
	if ((!log_enabled(ours) && level != LIBBPF_WARN) || vasprintf(&text, fmt, ap) < 0)
		return 0;
	if (level == LIBBPF_WARN)
		note_program(text);
	n = strlen(text);
	if (n && text[n - 1] == '\n')
		text[n - 1] = '\0';
	if (log_enabled(ours))
		log_msg(ours, "%s", text);
	free(text);
	return 0;
}

static int check_privileges(void)
{
	if ((privileges_have(CAP_BPF) && privileges_have(CAP_PERFMON)) ||
	    privileges_have(CAP_SYS_ADMIN))
		return 0;
	log_error("not enough privilege to load BPF programs: run as root (needs CAP_BPF and "
		  "CAP_PERFMON, or CAP_SYS_ADMIN)");
	return -1;
}

/* The value map of the table's entry index, found by its name. */
static struct bpf_map *value_map(const struct loader *l, int index)
{
	return bpf_object__find_map_by_name(l->skel->obj, value_maps[index].name);
}

/* Every per-cgroup map has a slot per cgroup and for the unattributed and
 * overflow keys; per-CPU value maps only the first slots. */
static int set_capacity(struct loader *l, const struct loader_capacity *cap)
{
	struct cgroup_tcp_bpf *skel = l->skel;
	__u32 nslots = cap->cgroups + CTCP_FIRST_FREE_SLOT;
	__u32 percpu =
	    (cap->per_cpu < cap->cgroups ? cap->per_cpu : cap->cgroups) + CTCP_FIRST_FREE_SLOT;
	__u32 buckets = cap->sockets / CTCP_SOCKET_WAYS;

	bpf_map__set_max_entries(skel->maps.ctcp_slots, nslots);
	bpf_map__set_max_entries(skel->maps.ctcp_free_slots, nslots);
	for (int m = 0; m < VALUE_MAPS; m++) {
		struct bpf_map *map = value_map(l, m);

		if (!map) {
			log_error("the BPF programs have no map %s", value_maps[m].name);
			return -ENOENT;
		}
		bpf_map__set_max_entries(map, value_maps[m].percpu ? percpu : nslots);
	}
	skel->rodata->ctcp_nslots = nslots;
	skel->rodata->ctcp_io_percpu_slots = percpu;
	bpf_map__set_max_entries(skel->maps.ctcp_sockets, l->variants.hashed ? 1 : buckets);
	skel->rodata->ctcp_socket_bucket_mask = l->variants.hashed ? 0 : buckets - 1;
	bpf_map__set_max_entries(skel->maps.ctcp_sockets_hash,
				 l->variants.hashed ? cap->sockets : 1);
	/* The overflow pair's entry on top of --peer.max-pairs. */
	bpf_map__set_max_entries(skel->maps.ctcp_pairs, cap->pairs + 1);
	bpf_map__set_max_entries(skel->maps.ctcp_peer_trie, cap->npeer ? (__u32)cap->npeer : 1);
	skel->rodata->ctcp_peers_on = cap->pairs > 0;
	/* Each slot's names and its "(other)". */
	bpf_map__set_max_entries(skel->maps.ctcp_procs,
				 cap->processes ? nslots * (cap->comms + 1) : 1);
	bpf_map__set_max_entries(skel->maps.ctcp_comm_count, nslots);
	bpf_map__set_max_entries(skel->maps.ctcp_listens, cap->processes ? CTCP_MAX_LISTENS : 1);
	skel->rodata->ctcp_process_on = cap->processes;
	skel->rodata->ctcp_comm_max = cap->comms;
	return 0;
}

static bool is_iterator(const struct bpf_program *prog)
{
	return !strncmp(bpf_program__section_name(prog), "iter/", 5);
}

/* The tracepoint a tp_btf program attaches to, from its section name. */
static const char *tracepoint_of(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);
	const char *slash = strchr(sec, '/');

	return slash ? slash + 1 : sec;
}

/* The prototype of a tracepoint, or NULL if the kernel has no such one. */
static const struct btf_type *tracepoint_proto(const struct btf *vmlinux, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return NULL;
	t = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, id)->type); /* pointer */
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(vmlinux, t->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

/* Programs whose tracepoint is missing are not loaded; the rest still work. */
static void match_kernel(struct loader *l, const struct btf *vmlinux, bool allow_fexit)
{
	struct cgroup_tcp_bpf *skel = l->skel;
	const struct btf_type *proto;
	struct bpf_program *prog;

	variants_choose(skel, vmlinux, allow_fexit, &l->variants);
	bpf_object__for_each_program(prog, skel->obj)
	{
		const char *tp = tracepoint_of(prog);

		if (!bpf_program__autoload(prog) ||
		    strncmp(bpf_program__section_name(prog), "tp_btf/", 7) ||
		    tracepoint_proto(vmlinux, tp))
			continue;
		bpf_program__set_autoload(prog, false);
		log_warn("tracepoint %s is not in this kernel: %s stays off%s", tp,
			 bpf_program__name(prog),
			 strstr(tp, "_length")
			     ? " (sent and received bytes need Linux 6.3+, or fexit "
			       "programs)"
			     : "");
	}
	/* (void *ctx, sk, skb, err): the err argument came with Linux 6.10. */
	proto = tracepoint_proto(vmlinux, "tcp_retransmit_skb");
	skel->rodata->retransmit_reports_err = proto && btf_vlen(proto) >= 4;
}

/* One line that names the cause: privileges, a program this kernel cannot
 * take (and what it needs), or the verifier. */
static void explain_load_error(int err)
{
	const char *needs = failed_program[0] ? variants_needs(failed_program) : NULL;

	switch (err) {
	case -ENOSYS:
		log_error("the kernel has no BPF support (CONFIG_BPF_SYSCALL is off)");
		return;
	case -EPERM:
		if (!failed_program[0]) {
			log_error(
			    "the kernel refused to load BPF programs (%s): run as root; kernel "
			    "lockdown or a container's seccomp policy can forbid BPF too",
			    strerror(-err));
			return;
		}
		break;
	case -E2BIG:
	case -ENOMEM:
		log_error("cannot create the BPF maps: %s (lower --cgroup.max or --socket.max, or "
			  "raise the memlock limit)",
			  strerror(-err));
		return;
	}
	if (!failed_program[0])
		log_error("cannot load the BPF programs: %s (run with --log.level=debug for "
			  "libbpf's log)",
			  strerror(-err));
	else if (err == -EACCES || err == -EINVAL)
		log_error("the kernel's BPF verifier rejected program %s%s%s (run with "
			  "--log.level=debug for its log)",
			  failed_program, needs ? ", which needs " : "", needs ? needs : "");
	else
		log_error("the kernel cannot take BPF program %s%s%s: %s", failed_program,
			  needs ? ", which needs " : "", needs ? needs : "", strerror(-err));
}

static bool is_fexit(const struct bpf_program *prog)
{
	return !strncmp(bpf_program__section_name(prog), "fexit/", 6);
}

/* Returned when a fexit program failed: the start goes on without them. */
#define RETRY_WITHOUT_FEXIT 1

static int attach_all(struct loader *l)
{
	struct bpf_program *prog;
	int attached = 0;

	bpf_object__for_each_program(prog, l->skel->obj)
	{
		struct bpf_link *link;

		if (!bpf_program__autoload(prog) || is_iterator(prog))
			continue;
		if (l->nlinks == LOADER_MAX_PROGS)
			return -E2BIG;
		link = bpf_program__attach(prog);
		if (!link) {
			int err = -errno;

			if (is_fexit(prog)) {
				log_warn(
				    "cannot attach %s to %s (%s): sent and received bytes stay off",
				    bpf_program__name(prog), tracepoint_of(prog), strerror(-err));
				return RETRY_WITHOUT_FEXIT;
			}
			log_error("cannot attach %s to tracepoint %s: %s", bpf_program__name(prog),
				  tracepoint_of(prog), strerror(-err));
			return err;
		}
		l->links[l->nlinks++] = link;
		attached++;
	}
	log_info("attached %d BPF programs", attached);
	return 0;
}

/* Opens, loads and attaches the programs this kernel takes: 0, -1 after
 * explaining the failure, or RETRY_WITHOUT_FEXIT. */
static int load_attach(struct loader *l, const struct btf *vmlinux,
		       const struct loader_capacity *cap, unsigned int hz, bool allow_fexit)
{
	struct kernel_maps maps;
	int err;

	failed_program[0] = '\0';
	l->skel = cgroup_tcp_bpf__open();
	if (!l->skel) {
		explain_load_error(-errno);
		return -1;
	}
	match_kernel(l, vmlinux, allow_fexit);
	if (set_capacity(l, cap))
		return -1;
	l->skel->rodata->ctcp_hz = hz;
	err = cgroup_tcp_bpf__load(l->skel);
	if (err && l->variants.fexit && strstr(failed_program, "_fexit")) {
		log_warn("the kernel cannot take BPF program %s, which needs %s (%s): sent and "
			 "received bytes stay off",
			 failed_program, variants_needs(failed_program), strerror(-err));
		return RETRY_WITHOUT_FEXIT;
	}
	if (err) {
		explain_load_error(err);
		return -1;
	}
	loader_maps(l, &maps);
	err = slots_seed(&maps);
	if (!err && cap->pairs)
		err = peer_maps_fill(&maps, bpf_map__fd(l->skel->maps.ctcp_peer_trie),
				     cap->peer_keys, cap->peer_rules, cap->npeer);
	if (err) {
		log_error("cannot initialize the counters map: %s", strerror(-err));
		return -1;
	}
	err = attach_all(l);
	return err == RETRY_WITHOUT_FEXIT ? err : err ? -1 : 0;
}

int loader_start(struct loader *l, const struct loader_capacity *cap)
{
	struct btf *vmlinux = NULL;
	unsigned int hz;
	int err;

	memset(l, 0, sizeof(*l));
	libbpf_set_print(libbpf_log);
	if (check_privileges())
		return -1;
	if (access(VMLINUX_BTF, R_OK)) {
		log_error("kernel BTF not found at %s (%s): the kernel needs "
			  "CONFIG_DEBUG_INFO_BTF=y",
			  VMLINUX_BTF, strerror(errno));
		return -1;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		log_error("cannot read kernel BTF from %s: %s", VMLINUX_BTF, strerror(errno));
		return -1;
	}
	/* No kernel config file says HZ on most distributions' nodes. */
	hz = probe_hz();
	if (hz)
		log_info("the kernel's clock ticks at %u Hz (measured)", hz);
	else
		log_warn("cannot measure the kernel's HZ: RTT is sampled only when connections "
			 "leave ESTABLISHED, and retried handshakes count their last round trip");
	err = load_attach(l, vmlinux, cap, hz, true);
	if (err == RETRY_WITHOUT_FEXIT) {
		loader_stop(l);
		err = load_attach(l, vmlinux, cap, hz, false);
	}
	if (err)
		goto fail;
	/* After attaching, so no socket can change state unseen in between. */
	err = census_run(l->variants.census);
	if (err < 0)
		log_warn("cannot count the sockets that existed at start (%s): "
			 "cgroup_tcp_connections misses them",
			 strerror(-err));
	else
		log_info("census of existing sockets: %d network namespace(s) searched", err);
	btf__free(vmlinux);
	return 0;
fail:
	btf__free(vmlinux);
	loader_stop(l);
	return -1;
}

void loader_stop(struct loader *l)
{
	for (int i = l->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(l->links[i]);
	l->nlinks = 0;
	cgroup_tcp_bpf__destroy(l->skel);
	l->skel = NULL;
}

void loader_maps(const struct loader *l, struct kernel_maps *out)
{
	memset(out, 0, sizeof(*out));
	out->slots_fd = bpf_map__fd(l->skel->maps.ctcp_slots);
	for (int m = 0; m < VALUE_MAPS; m++) {
		out->values_fd[m] = bpf_map__fd(value_map(l, m));
		out->values_slots[m] = (struct slot_range){
		    value_maps[m].past_percpu ? l->skel->rodata->ctcp_io_percpu_slots : 0,
		    bpf_map__max_entries(value_map(l, m))};
	}
	out->free_slots_fd = bpf_map__fd(l->skel->maps.ctcp_free_slots);
	out->stats_fd = bpf_map__fd(l->skel->maps.ctcp_stats);
	out->slot_epoch = &l->skel->data->ctcp_slot_epoch;
	out->nslots = l->skel->rodata->ctcp_nslots;
	out->pairs_fd = l->skel->rodata->ctcp_peers_on ? bpf_map__fd(l->skel->maps.ctcp_pairs) : -1;
	out->procs_fd =
	    l->skel->rodata->ctcp_process_on ? bpf_map__fd(l->skel->maps.ctcp_procs) : -1;
	out->comm_count_fd = bpf_map__fd(l->skel->maps.ctcp_comm_count);
}

unsigned int loader_map_capacity(const struct loader *l, int index)
{
	return bpf_map__max_entries(value_map(l, index));
}

int loader_programs(const struct loader *l, struct program_info *out, int max)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, l->skel->obj)
	{
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (is_iterator(prog) || variants_unused(&l->variants, prog) || n == max)
			continue;
		out[n] = (struct program_info){
		    .name = bpf_program__name(prog),
		    .tracepoint = tracepoint_of(prog),
		    .attached = bpf_program__autoload(prog) && fd >= 0,
		};
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
			out[n].run_time_ns = info.run_time_ns;
			out[n].run_count = info.run_cnt;
			out[n].missed_runs = info.recursion_misses;
		}
		n++;
	}
	return n;
}

unsigned int loader_pairs_capacity(const struct loader *l)
{
	return bpf_map__max_entries(l->skel->maps.ctcp_pairs);
}

int loader_removed_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.ctcp_removed);
}

int loader_created_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.ctcp_created);
}
