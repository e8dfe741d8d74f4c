/* SPDX-License-Identifier: GPL-2.0-only */
/* Kubernetes names from the kubelet's log links. */
#include "kubelet.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Container ids are random hex: their first 64 bits make a good key (0 is
 * the empty slot, so it is mapped to 1). */
static uint64_t key_of(const char *container_id)
{
	char head[17];
	uint64_t key;

	memcpy(head, container_id, 16);
	head[16] = '\0';
	key = strtoull(head, NULL, 16);
	return key ? key : 1;
}

static void forget_all(struct kubelet *k)
{
	for (size_t i = 0; i < k->names.cap; i++)
		free(k->names.slots[i].value);
	idmap_clear(&k->names);
}

/* Reads the whole directory again: links come and go with containers. */
static void rescan(struct kubelet *k)
{
	struct dirent *e;
	DIR *d;

	struct stat st;

	k->rescanned = true;
	/* Unchanged directory, same links: nothing to read. */
	if (stat(k->dir, &st) ||
	    (st.st_mtim.tv_sec == k->mtime.tv_sec && st.st_mtim.tv_nsec == k->mtime.tv_nsec))
		return;
	k->mtime = st.st_mtim;
	forget_all(k);
	d = opendir(k->dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct kube_names parsed, *copy;
		struct idmap_slot *slot;

		if (identity_parse_log_link(e->d_name, &parsed))
			continue;
		slot = idmap_find(&k->names, key_of(parsed.container_id));
		if (slot->id || idmap_reserve(&k->names))
			continue;
		copy = malloc(sizeof(*copy));
		if (!copy)
			break;
		*copy = parsed;
		slot = idmap_find(&k->names, key_of(parsed.container_id));
		slot->id = key_of(parsed.container_id);
		slot->value = copy;
	}
	closedir(d);
}

int kubelet_init(struct kubelet *k, const char *dir)
{
	memset(k, 0, sizeof(*k));
	k->dir = strdup(dir);
	return !k->dir || idmap_init(&k->names) ? -1 : 0;
}

void kubelet_free(struct kubelet *k)
{
	if (k->names.slots)
		forget_all(k);
	idmap_free(&k->names);
	free(k->dir);
	memset(k, 0, sizeof(*k));
}

void kubelet_begin_scrape(struct kubelet *k)
{
	k->rescanned = false;
}

const struct kube_names *kubelet_lookup(struct kubelet *k, const char *container_id)
{
	struct idmap_slot *slot;

	if (!container_id[0])
		return NULL;
	slot = idmap_find(&k->names, key_of(container_id));
	if (!slot->id && !k->rescanned) {
		rescan(k);
		slot = idmap_find(&k->names, key_of(container_id));
	}
	if (!slot->id)
		return NULL;
	return strcmp(((struct kube_names *)slot->value)->container_id, container_id) ? NULL
										      : slot->value;
}
