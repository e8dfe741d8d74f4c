/* SPDX-License-Identifier: GPL-2.0-only */
/* Who a cgroup is: the container and Kubernetes pod a cgroup path belongs
 * to, for Docker, containerd, CRI-O and Podman under the systemd and the
 * cgroupfs drivers. Pure functions of the path; no I/O. */
#ifndef IDENTITY_H
#define IDENTITY_H

#define CONTAINER_ID_LEN 64
#define POD_UID_MAX	 36

struct cgroup_identity {
	char container_id[CONTAINER_ID_LEN + 1]; /* "" when not a container */
	char pod_uid[POD_UID_MAX + 1];		 /* "" when not in a pod */
};

/* The innermost container along the path (a container's own sub-cgroups
 * still belong to it) and the pod above it. */
void identity_classify(const char *path, struct cgroup_identity *out);

/* A kubelet log link name, <pod>_<namespace>_<container>-<id>.log: 0 and
 * the parts, or -1 when the name is not one. */
struct kube_names {
	char container_id[CONTAINER_ID_LEN + 1];
	char namespace[254];
	char pod[254];
	char container[254];
};
int identity_parse_log_link(const char *name, struct kube_names *out);

#endif /* IDENTITY_H */
