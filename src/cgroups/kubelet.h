/* SPDX-License-Identifier: GPL-2.0-only */
/* Kubernetes names of containers without the API server: the kubelet's log
 * links, <pod>_<namespace>_<container>-<id>.log, in one directory. */
#ifndef KUBELET_H
#define KUBELET_H

#include <stdbool.h>
#include <time.h>
#include "identity.h"
#include "idmap.h"

struct kubelet {
	char *dir;
	struct idmap names;    /* first 16 hex digits of the id -> struct kube_names */
	bool rescanned;	       /* this scrape already looked at the directory */
	struct timespec mtime; /* of the directory when last read */
};

int kubelet_init(struct kubelet *k, const char *dir);
void kubelet_free(struct kubelet *k);
void kubelet_begin_scrape(struct kubelet *k);
/* The names of a container, or NULL; reads the directory again (once per
 * scrape) when a container is not known yet. */
const struct kube_names *kubelet_lookup(struct kubelet *k, const char *container_id);

#endif /* KUBELET_H */
