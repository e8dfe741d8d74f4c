/* SPDX-License-Identifier: GPL-2.0-only */
/* Least privilege: what the exporter holds at start, and giving all of it up
 * (capabilities, and root with --runas) once the programs are attached and
 * the listening sockets are open. */
#ifndef PRIVILEGES_H
#define PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* --runas USER[:GROUP] */
struct runas {
	bool set;
	uid_t uid;
	gid_t gid;
	/* Supplementary groups come from the group database for this user
	 * name; empty when a group was given (then it is the only group). */
	char user[256];
};

/* USER and GROUP are names or numbers. Without GROUP the user's primary
 * group and its supplementary groups are used, so USER must be in the user
 * database. Root is refused. 0, or -1 with the reason in err. */
int runas_parse(const char *text, struct runas *out, char *err, size_t errlen);

/* Whether the effective set holds this capability (CAP_* from
 * <linux/capability.h>). */
bool privileges_have(int cap);

/* Switches to runas (if set), then clears the effective, permitted,
 * inheritable and ambient sets, empties the bounding set and sets
 * no_new_privs. bpf_fd is a BPF map the exporter reads: a kernel that
 * refuses bpf() on it without CAP_BPF keeps that one capability. Threads
 * have their own capabilities: call before any thread starts. 0, or -1
 * with the reason logged. */
int privileges_drop(const struct runas *runas, int bpf_fd);

#endif /* PRIVILEGES_H */
