/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup_tcp_exporter: parse flags, load and attach the BPF programs, drop
 * privileges, serve /metrics until SIGINT or SIGTERM, then detach everything
 * and exit 0. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cgroups.h"
#include "flags.h"
#include "web/http.h"
#include "kernel/loader.h"
#include "log.h"
#include "peers/config.h"
#include "privileges.h"
#include "scrape.h"
#include "web/webconfig.h"

enum {
	EXIT_RUNTIME = 1, /* cannot start: privileges, kernel, port */
	EXIT_USAGE = 2,	  /* bad flags */
};

static struct cgroups *open_cgroups(const struct loader *loader)
{
	char mount[4096];
	struct cgroups *cg;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int rc;

	if (!f) {
		log_error("cannot read /proc/self/mountinfo: %s", strerror(errno));
		return NULL;
	}
	rc = cgroup2_mount_point(f, mount, sizeof(mount));
	fclose(f);
	if (rc) {
		log_error("no cgroup2 file system is mounted (see /proc/self/mountinfo): mount "
			  "one, e.g. mount -t cgroup2 none /sys/fs/cgroup/unified");
		return NULL;
	}
	cg = cgroups_open(mount, loader_created_fd(loader));
	if (!cg)
		log_error("cannot open the cgroup2 mount %s: %s", mount, strerror(errno));
	else
		log_info("cgroup2 mounted at %s", mount);
	return cg;
}

/* The peer groups (built in, and the --peer.config file's) and the kernel
 * trie's entries; -1 after one line saying why. */
static int load_peers(const struct config *cfg, struct peer_groups *g, struct ctcp_peer_key **keys,
		      struct ctcp_peer_rule **rules, size_t *n)
{
	char err[1024];

	if (peer_groups_init(g)) {
		log_error("out of memory");
		return -1;
	}
	if ((cfg->peer_config_file &&
	     peer_config_load(cfg->peer_config_file, g, err, sizeof(err))) ||
	    peer_compile(g, keys, rules, n, err, sizeof(err))) {
		log_error("%s", err);
		peer_groups_free(g);
		return -1;
	}
	if (cfg->peer_config_file)
		log_info("peer groups: %u from %s, %zu prefixes",
			 g->ngroups - PEER_FIRST_FILE_GROUP, cfg->peer_config_file, *n);
	return 0;
}

int main(int argc, char **argv)
{
	struct loader loader = {0};
	struct loader_capacity capacity;
	struct http_server http;
	struct scraper scraper;
	struct cgroups *cgroups = NULL;
	struct config cfg;
	struct webconfig web = {0};
	struct peer_groups peers = {0};
	struct ctcp_peer_key *peer_keys = NULL;
	struct ctcp_peer_rule *peer_rules = NULL;
	size_t npeer = 0;
	char err[1024];
	sigset_t stop;
	int sig, failed, status = EXIT_RUNTIME;
	bool scraper_ready = false;

	switch (flags_parse(argc, argv, &cfg, stdout, err, sizeof(err))) {
	case FLAGS_EXIT_OK:
		return 0;
	case FLAGS_BAD:
		fprintf(stderr, "cgroup_tcp_exporter: %s\n", err);
		return EXIT_USAGE;
	case FLAGS_RUN:
		break;
	}
	log_set_level(cfg.log_level);
	/* Read now, certificates and keys included: the exporter may lose
	 * access to them once running. */
	if (cfg.web_config_file) {
		if (webconfig_load(cfg.web_config_file, &web, err, sizeof(err))) {
			log_error("%s", err);
			filter_free(&cfg.filter);
			return EXIT_RUNTIME;
		}
		cfg.web = &web;
	}
	if (load_peers(&cfg, &peers, &peer_keys, &peer_rules, &npeer)) {
		filter_free(&cfg.filter);
		webconfig_free(&web);
		return EXIT_RUNTIME;
	}
	cfg.peers = &peers;
	/* Scrape bodies are big and short-lived: a fixed mmap threshold (glibc
	 * raises it after each big free otherwise) gives them back to the
	 * system when freed, and two arenas keep freed memory from piling up
	 * in one arena per HTTP thread. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_ARENA_MAX, 2);

	/* Blocked before any thread starts, so only sigwait() sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	capacity = (struct loader_capacity){
	    cfg.max_cgroups, cfg.max_per_cpu, cfg.max_sockets,	       cfg.max_pairs,	  peer_keys,
	    peer_rules,	     npeer,	      cfg.process_attribution, cfg.max_per_cgroup};
	if (http_listen(&http, &cfg) || loader_start(&loader, &capacity))
		goto cleanup;
	cgroups = open_cgroups(&loader);
	if (!cgroups)
		goto cleanup;
	failed = scraper_init(&scraper, &loader, cgroups, &cfg);
	if (failed) {
		log_error("cannot prepare scrapes: %s", strerror(-failed));
		goto cleanup;
	}
	scraper_ready = true;
	/* Everything that needs privilege is done: the sockets are open, the
	 * programs attached, the census run. Before http_serve starts threads,
	 * whose capabilities would be their own. */
	if (privileges_drop(&cfg.runas, loader_removed_fd(&loader)) || http_serve(&http, &scraper))
		goto cleanup;

	if (sigwait(&stop, &sig) == 0)
		log_info("%s received, detaching and exiting", strsignal(sig));
	status = 0;
cleanup:
	http_stop(&http);
	if (scraper_ready)
		scraper_free(&scraper);
	loader_stop(&loader);
	cgroups_close(cgroups);
	filter_free(&cfg.filter);
	webconfig_free(&web);
	peer_groups_free(&peers);
	free(peer_keys);
	free(peer_rules);
	return status;
}
