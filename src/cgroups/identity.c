/* SPDX-License-Identifier: GPL-2.0-only */
/* Container and pod identity from cgroup paths and kubelet log links. */
#include "identity.h"

#include <stdbool.h>
#include <string.h>

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Exactly a 64-hex id between prefix and suffix, filling the whole name. */
static bool container_in(const char *name, size_t len, const char *prefix, const char *suffix,
			 char *id)
{
	size_t plen = strlen(prefix), slen = strlen(suffix);

	if (len != plen + CONTAINER_ID_LEN + slen || strncmp(name, prefix, plen) ||
	    strncmp(name + plen + CONTAINER_ID_LEN, suffix, slen) ||
	    !is_lower_hex(name + plen, CONTAINER_ID_LEN))
		return false;
	memcpy(id, name + plen, CONTAINER_ID_LEN);
	id[CONTAINER_ID_LEN] = '\0';
	return true;
}

/* Runtime prefixes of container cgroups. Helpers such as crio-conmon-<id>
 * or libpod-conmon-<id> do not match: "conmon-" is not hex. */
static bool container_component(const char *name, size_t len, char *id)
{
	static const char *const prefixes[] = {"docker-", "cri-containerd-", "crio-", "libpod-"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (container_in(name, len, prefixes[i], ".scope", id) ||
		    container_in(name, len, prefixes[i], "", id))
			return true;
	/* cgroupfs driver: the bare id (docker, containerd under kubepods). */
	return container_in(name, len, "", "", id);
}

/* A pod UID: a UUID, or 32 hex digits for static pods. */
static bool pod_uid_ok(const char *uid, size_t len)
{
	if (len != 32 && len != 36)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_lower_hex(&uid[i], 1) && uid[i] != '-' && uid[i] != '_')
			return false;
	return true;
}

static bool copy_uid(const char *uid, size_t len, char *out)
{
	if (!pod_uid_ok(uid, len))
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = uid[i] == '_' ? '-' : uid[i]; /* systemd escapes dashes */
	out[len] = '\0';
	return true;
}

/* Whether a name's dash-separated words include "kubepods": systemd names
 * a nested slice after all its parents, and a kubelet with a cgroup root
 * of its own (kind's /kubelet.slice) prefixes its slices with it
 * (kubelet-kubepods-besteffort.slice). */
static bool names_kubepods(const char *name, size_t len)
{
	static const char word[] = "kubepods";
	const size_t wlen = sizeof(word) - 1;

	for (size_t i = 0; i + wlen <= len; i++)
		if ((i == 0 || name[i - 1] == '-') && !strncmp(name + i, word, wlen) &&
		    (i + wlen == len || name[i + wlen] == '-' || name[i + wlen] == '.'))
			return true;
	return false;
}

/* [<root>-]kubepods-<qos>-pod<uid>.slice, [<root>-]kubepods-pod<uid>.slice
 * (systemd); pod<uid> (cgroupfs, below kubepods or kubepods/<qos>). */
static bool pod_component(const char *name, size_t len, bool under_kubepods, char *uid)
{
	const char *pod;
	size_t slice = strlen(".slice");

	if (len > slice && names_kubepods(name, len - slice) &&
	    !strncmp(name + len - slice, ".slice", slice)) {
		for (pod = name; (pod = strstr(pod, "pod")) && pod < name + len; pod++) {
			if (pod[-1] != '-')
				continue;
			if (copy_uid(pod + 3, (size_t)(name + len - slice - pod - 3), uid))
				return true;
		}
		return false;
	}
	return under_kubepods && len > 3 && !strncmp(name, "pod", 3) &&
	       copy_uid(name + 3, len - 3, uid);
}

void identity_classify(const char *path, struct cgroup_identity *out)
{
	bool under_kubepods = false;
	const char *name = path;

	memset(out, 0, sizeof(*out));
	while (name && *name) {
		const char *slash = strchr(name, '/');
		size_t len = slash ? (size_t)(slash - name) : strlen(name);

		if (len) {
			char id[CONTAINER_ID_LEN + 1], uid[POD_UID_MAX + 1];

			if (container_component(name, len, id))
				memcpy(out->container_id, id, sizeof(id));
			else if (pod_component(name, len, under_kubepods, uid))
				memcpy(out->pod_uid, uid, sizeof(uid));
			if (names_kubepods(name, len))
				under_kubepods = true;
		}
		name = slash ? slash + 1 : NULL;
	}
}

static int copy_part(const char *s, size_t len, char *out, size_t outlen)
{
	if (len == 0 || len >= outlen)
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int identity_parse_log_link(const char *name, struct kube_names *out)
{
	size_t len = strlen(name), ext = strlen(".log");
	const char *first, *second, *id;

	memset(out, 0, sizeof(*out));
	if (len < ext + CONTAINER_ID_LEN + 1 + 5 || strcmp(name + len - ext, ".log"))
		return -1;
	id = name + len - ext - CONTAINER_ID_LEN;
	if (id[-1] != '-' || !is_lower_hex(id, CONTAINER_ID_LEN))
		return -1;
	first = memchr(name, '_', (size_t)(id - name));
	second = first ? memchr(first + 1, '_', (size_t)(id - first - 1)) : NULL;
	/* Pod, namespace and container names never hold an underscore. */
	if (!second || memchr(second + 1, '_', (size_t)(id - second - 1)))
		return -1;
	if (copy_part(name, (size_t)(first - name), out->pod, sizeof(out->pod)) ||
	    copy_part(first + 1, (size_t)(second - first - 1), out->namespace,
		      sizeof(out->namespace)) ||
	    copy_part(second + 1, (size_t)(id - 1 - second - 1), out->container,
		      sizeof(out->container)))
		return -1;
	memcpy(out->container_id, id, CONTAINER_ID_LEN);
	return 0;
}
