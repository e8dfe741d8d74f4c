/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line flags: the input is argv, one argument per NUL-separated
 * piece. A bad command line gets one line of error; a good one gives a
 * config within the documented bounds that the same flags, written out
 * again from the config, reproduce. */
#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "input.h"

#define MAX_ARGS 32

/* Host names in --web.listen-address would go to DNS: the fuzzer resolves
 * numeric addresses only, so it never sends a query (a name gets the same
 * "not known" error an unknown name gets). */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	static int (*resolve)(const char *, const char *, const struct addrinfo *,
			      struct addrinfo **);
	struct addrinfo numeric = *hints;

	if (!resolve)
		resolve = (int (*)(const char *, const char *, const struct addrinfo *,
				   struct addrinfo **))dlsym(RTLD_NEXT, "getaddrinfo");
	numeric.ai_flags |= AI_NUMERICHOST;
	return resolve(node, service, &numeric, res);
}

static FILE *devnull(void)
{
	static FILE *out;

	if (!out)
		out = fopen("/dev/null", "w");
	return out;
}

static void check_bounds(const struct config *cfg)
{
	fuzz_assert(cfg->nlisten >= 1 && cfg->nlisten <= MAX_LISTEN, "%d addresses", cfg->nlisten);
	for (int i = 0; i < cfg->nlisten; i++)
		fuzz_assert(cfg->listen[i].len > 0 &&
				cfg->listen[i].len <= sizeof(cfg->listen[i].addr),
			    "address '%s' of length %u", cfg->listen_text[i],
			    (unsigned int)cfg->listen[i].len);
	fuzz_assert(cfg->max_requests >= 1 && cfg->max_requests <= 10000, "max requests %u",
		    cfg->max_requests);
	fuzz_assert(cfg->max_cgroups >= 1 && cfg->max_cgroups <= 1000000, "max cgroups %u",
		    cfg->max_cgroups);
	fuzz_assert(!cfg->runas.set || cfg->runas.uid != 0, "--runas root accepted");
	fuzz_assert(cfg->max_per_cpu <= 1000000, "max per CPU %u", cfg->max_per_cpu);
	fuzz_assert(cfg->max_sockets >= 64 && cfg->max_sockets <= 16777216 &&
			!(cfg->max_sockets & (cfg->max_sockets - 1)),
		    "max sockets %u", cfg->max_sockets);
	fuzz_assert(cfg->bucket_step >= 1 && cfg->bucket_step <= 3, "bucket step %u",
		    cfg->bucket_step);
	fuzz_assert(cfg->log_level <= LOG_DEBUG, "log level %d", cfg->log_level);
	fuzz_assert(cfg->telemetry_path[0] == '/' && cfg->telemetry_path[1] &&
			!strpbrk(cfg->telemetry_path, " ?#\n"),
		    "telemetry path '%s'", cfg->telemetry_path);
}

/* Writes the config out as flags again, in argv (strings malloc'd). */
static int config_as_flags(const struct config *cfg, char **argv)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	int argc = 0;

	argv[argc++] = strdup("cgroup_tcp_exporter");
	for (int i = 0; i < cfg->nlisten; i++)
		if (asprintf(&argv[argc++], "--web.listen-address=%s", cfg->listen_text[i]) < 0)
			abort();
	if (asprintf(&argv[argc++], "--web.max-requests=%u", cfg->max_requests) < 0 ||
	    asprintf(&argv[argc++], "--cgroup.max=%u", cfg->max_cgroups) < 0 ||
	    asprintf(&argv[argc++], "--cgroup.max-per-cpu=%u", cfg->max_per_cpu) < 0 ||
	    asprintf(&argv[argc++], "--socket.max=%u", cfg->max_sockets) < 0 ||
	    asprintf(&argv[argc++], "--histogram.bucket-factor=%u", 1u << cfg->bucket_step) < 0 ||
	    asprintf(&argv[argc++], "--log.level=%s", levels[cfg->log_level]) < 0 ||
	    asprintf(&argv[argc++], "--web.telemetry-path=%s", cfg->telemetry_path) < 0 ||
	    asprintf(&argv[argc++], "--kubelet.log-dir=%s", cfg->kubelet_log_dir) < 0)
		abort();
	if (!cfg->exporter_metrics)
		argv[argc++] = strdup("--web.disable-exporter-metrics");
	if (cfg->web_config_file &&
	    asprintf(&argv[argc++], "--web.config.file=%s", cfg->web_config_file) < 0)
		abort();
	/* A user by name (its groups from the database), else the numbers. */
	if (cfg->runas.set &&
	    (cfg->runas.user[0]
		 ? asprintf(&argv[argc++], "--runas=%s", cfg->runas.user)
		 : asprintf(&argv[argc++], "--runas=%u:%u", (unsigned int)cfg->runas.uid,
			    (unsigned int)cfg->runas.gid)) < 0)
		abort();
	argv[argc] = NULL;
	return argc;
}

static void check_round_trip(const struct config *cfg)
{
	char *argv[MAX_LISTEN + 13], err[512] = "";
	int argc = config_as_flags(cfg, argv);
	struct config again;

	fuzz_assert(flags_parse(argc, argv, &again, devnull(), err, sizeof(err)) == FLAGS_RUN,
		    "the config written out as flags is refused: %s", err);
	fuzz_assert(
	    again.nlisten == cfg->nlisten && again.max_requests == cfg->max_requests &&
		again.max_cgroups == cfg->max_cgroups && again.max_per_cpu == cfg->max_per_cpu &&
		again.max_sockets == cfg->max_sockets && again.bucket_step == cfg->bucket_step &&
		again.log_level == cfg->log_level &&
		again.exporter_metrics == cfg->exporter_metrics &&
		!strcmp(again.telemetry_path, cfg->telemetry_path) &&
		(again.web_config_file == cfg->web_config_file ||
		 (again.web_config_file && cfg->web_config_file &&
		  !strcmp(again.web_config_file, cfg->web_config_file))) &&
		!strcmp(again.kubelet_log_dir, cfg->kubelet_log_dir),
	    "the config written out as flags reads back differently");
	for (int i = 0; i < cfg->nlisten; i++)
		fuzz_assert(
		    again.listen[i].len == cfg->listen[i].len &&
			!memcmp(&again.listen[i].addr, &cfg->listen[i].addr, cfg->listen[i].len) &&
			again.listen[i].any_host == cfg->listen[i].any_host,
		    "address '%s' reads back differently", cfg->listen_text[i]);
	filter_free(&again.filter);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}

/* The compiled filters answer for typical paths without trouble. */
static void check_filter(const struct cgroup_filter *f)
{
	static const char *const paths[] = {
	    "/",
	    "/system.slice/nginx.service",
	    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60_7182_"
	    "93a4_b5c6d7e8f901.slice/cri-containerd-"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		(void)filter_allows(f, paths[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	char *argv[MAX_ARGS + 2], err[512];
	struct config cfg;
	int argc = 0;

	argv[argc++] = strdup("cgroup_tcp_exporter");
	while (in.size && argc <= MAX_ARGS)
		argv[argc++] = fuzz_take_string(&in);
	argv[argc] = NULL;
	/* getopt_long reorders argv: keep the pointers to free them. */
	char *owned[MAX_ARGS + 2];
	memcpy(owned, argv, sizeof(argv));

	err[0] = '\0';
	switch (flags_parse(argc, argv, &cfg, devnull(), err, sizeof(err))) {
	case FLAGS_RUN:
		check_bounds(&cfg);
		check_filter(&cfg.filter);
		check_round_trip(&cfg);
		filter_free(&cfg.filter);
		break;
	case FLAGS_BAD:
		fuzz_assert(err[0] && strlen(err) < sizeof(err), "no error message");
		/* One line on stderr, whatever bytes the flags held. */
		for (const char *c = err; *c; c++)
			fuzz_assert((unsigned char)*c >= ' ' && *c != 0x7f,
				    "control byte 0x%02x in the error '%s'", (unsigned char)*c,
				    err);
		break;
	case FLAGS_EXIT_OK:
		break;
	}
	for (int i = 0; i < argc; i++)
		free(owned[i]);
	return 0;
}
