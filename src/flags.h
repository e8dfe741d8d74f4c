/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line flags in the Prometheus exporter style (--web.listen-address
 * and friends). Parsing is pure: it fills a config or explains the error. */
#ifndef FLAGS_H
#define FLAGS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include "cgroups/filter.h"
#include "log.h"
#include "privileges.h"

struct listen_addr {
	struct sockaddr_storage addr;
	socklen_t len;
	/* No host given: every address, IPv6 and IPv4 when the host has IPv6. */
	bool any_host;
};

#define MAX_LISTEN 8

struct webconfig;
struct peer_groups;

struct config {
	/* --web.listen-address, once or more */
	const char *listen_text[MAX_LISTEN];
	struct listen_addr listen[MAX_LISTEN];
	int nlisten;
	/* Scrapes served at once; more get 503. */
	unsigned int max_requests;
	bool exporter_metrics;
	const char *kubelet_log_dir;
	/* --cgroup.include / --cgroup.exclude as given (NULL: none), and
	 * compiled */
	const char *include, *exclude;
	struct cgroup_filter filter;
	/* Cgroups tracked in the kernel; more go to the overflow series. */
	unsigned int max_cgroups;
	/* Of those, cgroups whose I/O counters are per CPU. */
	unsigned int max_per_cpu;
	/* Sockets the kernel's socket table holds: a power of two. */
	unsigned int max_sockets;
	/* --peer.config (NULL: the built-in groups only) and the (cgroup,
	 * peer group) pairs tracked in the kernel (0: none). */
	const char *peer_config_file;
	unsigned int max_pairs;
	/* --process.attribution, and the command names per cgroup. */
	bool process_attribution;
	unsigned int max_per_cgroup;
	/* What main loaded: the peer groups' names. */
	const struct peer_groups *peers;
	const char *telemetry_path;
	/* --web.config.file, and what main loaded from it (NULL: plain HTTP,
	 * no authentication). */
	const char *web_config_file;
	const struct webconfig *web;
	enum log_level log_level;
	/* Histograms show every bucket_step-th bound: factor 2^bucket_step. */
	unsigned int bucket_step;
	/* --runas: the user to become once started */
	struct runas runas;
};

enum flags_result {
	FLAGS_RUN,
	FLAGS_EXIT_OK, /* --help or --version was printed */
	FLAGS_BAD,     /* the reason is in the error buffer */
};

enum flags_result flags_parse(int argc, char **argv, struct config *cfg, FILE *out, char *err,
			      size_t errlen);

/* host:port, :port, [v6]:port; host may be a name. */
int parse_listen_address(const char *text, struct listen_addr *la, char *err, size_t errlen);

#endif /* FLAGS_H */
