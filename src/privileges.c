/* SPDX-License-Identifier: GPL-2.0-only */
/* Giving up privileges after start, with libcap: the user switch, the
 * capability sets, the bounding and ambient sets, then a check that nothing
 * is left. */
#include "privileges.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "log.h"

#define NO_CAP ((cap_value_t)-1)

static int bad(char *err, size_t errlen, const char *text, const char *why)
{
	snprintf(err, errlen, "bad --runas '%s': %s", text, why);
	return -1;
}

/* A uid or gid written in digits, or -1. (uid_t)-1 is not an id: it means
 * "unchanged" to setresuid() and friends. */
static long long parse_id(const char *text)
{
	unsigned long long id = 0;
	size_t len = strlen(text);

	if (len == 0 || len > 10 || strspn(text, "0123456789") != len)
		return -1;
	for (size_t i = 0; i < len; i++)
		id = id * 10 + (unsigned)(text[i] - '0');
	return id < 0xffffffffULL ? (long long)id : -1;
}

static gid_t *groups_of(const struct runas *r, int *n);

/* Group 0 owns what root's files give their group (devices, root-owned
 * 0660 and 0640 files): a process in it is not unprivileged, as uid 0 is
 * not. */
static int refuse_group_0(const char *text, const struct runas *r, char *err, size_t errlen)
{
	int n = 0, in_root = r->gid == 0;
	gid_t *groups = in_root ? NULL : groups_of(r, &n);

	for (int i = 0; i < n; i++)
		in_root |= groups[i] == 0;
	free(groups);
	if (!in_root)
		return 0;
	return bad(err, errlen, text,
		   r->gid == 0 ? "group 0 is root's; name an unprivileged group"
			       : "the user is in group 0 (root's); name an unprivileged user, "
				 "or give its group as USER:GROUP");
}

int runas_parse(const char *text, struct runas *out, char *err, size_t errlen)
{
	const char *colon = strchr(text, ':');
	size_t user_len = colon ? (size_t)(colon - text) : strlen(text);
	char user[sizeof(out->user)];
	struct passwd *pw;
	long long id;

	memset(out, 0, sizeof(*out));
	if (user_len == 0 || user_len >= sizeof(user) || (colon && !colon[1]))
		return bad(err, errlen, text, "want USER or USER:GROUP (names or numbers)");
	memcpy(user, text, user_len);
	user[user_len] = '\0';
	id = parse_id(user);
	pw = id >= 0 ? getpwuid((uid_t)id) : getpwnam(user);
	if (id < 0 && !pw)
		return bad(err, errlen, text, "no such user");
	out->uid = id >= 0 ? (uid_t)id : pw->pw_uid;
	if (out->uid == 0)
		return bad(err, errlen, text,
			   "that is root; name an unprivileged user (without --runas the "
			   "exporter stays root, with no capabilities)");
	if (colon) {
		struct group *gr;

		id = parse_id(colon + 1);
		gr = id >= 0 ? NULL : getgrnam(colon + 1);
		if (id < 0 && !gr)
			return bad(err, errlen, text, "no such group");
		out->gid = id >= 0 ? (gid_t)id : gr->gr_gid;
	} else {
		if (!pw)
			return bad(err, errlen, text,
				   "no such user in the user database: give the group too, as "
				   "UID:GID");
		if (strlen(pw->pw_name) >= sizeof(out->user))
			return bad(err, errlen, text, "user name too long");
		out->gid = pw->pw_gid;
		strcpy(out->user, pw->pw_name);
	}
	if (refuse_group_0(text, out, err, errlen))
		return -1;
	out->set = true;
	return 0;
}

bool privileges_have(int cap)
{
	cap_flag_value_t value = CAP_CLEAR;
	cap_t now = cap_get_proc();

	if (now)
		cap_get_flag(now, (cap_value_t)cap, CAP_EFFECTIVE, &value);
	cap_free(now);
	return value == CAP_SET;
}

struct bpf_probe {
	int fd;
	bool dropped;
	int err;
};

static void *bpf_without_capabilities(void *arg)
{
	struct bpf_probe *p = arg;
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	cap_t none = cap_init();

	memset(&info, 0, sizeof(info));
	/* libcap without libpsx changes the calling thread only. */
	p->dropped = none && cap_set_proc(none) == 0;
	if (p->dropped && bpf_obj_get_info_by_fd(p->fd, &info, &len))
		p->err = errno;
	cap_free(none);
	return NULL;
}

/* Since Linux 5.19 bpf() on objects a process holds needs no capability;
 * before, kernel.unprivileged_bpf_disabled refuses every bpf() call without
 * CAP_BPF (or CAP_SYS_ADMIN). Capabilities belong to threads, so a thread
 * that dropped its own asks the kernel. *keep is the capability the maps
 * need, or NO_CAP. */
static int capability_for_maps(int bpf_fd, cap_value_t *keep)
{
	struct bpf_probe probe = {.fd = bpf_fd};
	pthread_t thread;
	int rc = pthread_create(&thread, NULL, bpf_without_capabilities, &probe);

	if (rc) {
		log_error("cannot drop privileges: no thread to test BPF access in: %s",
			  strerror(rc));
		return -1;
	}
	pthread_join(thread, NULL);
	if (!probe.dropped) {
		log_error("cannot drop privileges: capabilities cannot be cleared here");
		return -1;
	}
	*keep = NO_CAP;
	if (probe.err == EPERM) {
		*keep = privileges_have(CAP_BPF) ? CAP_BPF : CAP_SYS_ADMIN;
		log_warn("keeping %s: this kernel refuses bpf() on the exporter's own maps "
			 "without it (kernel.unprivileged_bpf_disabled, Linux before 5.19)",
			 *keep == CAP_BPF ? "CAP_BPF" : "CAP_SYS_ADMIN");
	} else if (probe.err) {
		log_error("cannot read BPF map information: %s", strerror(probe.err));
		return -1;
	}
	return 0;
}

/* The user's groups from the group database, or just the given group. */
static gid_t *groups_of(const struct runas *r, int *n)
{
	gid_t *groups = NULL;
	int cap = 64;

	for (;;) {
		gid_t *more = realloc(groups, (size_t)cap * sizeof(*groups));
		int want = cap;

		if (!more) {
			free(groups);
			return NULL;
		}
		groups = more;
		if (!r->user[0]) {
			groups[0] = r->gid;
			*n = 1;
			return groups;
		}
		if (getgrouplist(r->user, r->gid, groups, &want) >= 0) {
			*n = want;
			return groups;
		}
		cap = want > cap ? want : cap * 2;
	}
}

/* Groups first: once the uid is not 0, setgroups() is no longer allowed. */
static int switch_user(const struct runas *r)
{
	int n = 0, rc = -1;
	gid_t *groups = groups_of(r, &n);

	if (!groups)
		errno = ENOMEM;
	else if (cap_setgroups(r->gid, (size_t)n, groups) == 0 && cap_setuid(r->uid) == 0)
		rc = 0;
	if (rc)
		log_error("cannot switch to uid %u gid %u (--runas): %s (needs CAP_SETUID and "
			  "CAP_SETGID at start)",
			  (unsigned)r->uid, (unsigned)r->gid, strerror(errno));
	free(groups);
	return rc;
}

/* The effective and permitted sets hold keep (or nothing), the rest none. */
static cap_t only(cap_value_t keep)
{
	cap_t set = cap_init();

	if (set && keep != NO_CAP &&
	    (cap_set_flag(set, CAP_EFFECTIVE, 1, &keep, CAP_SET) ||
	     cap_set_flag(set, CAP_PERMITTED, 1, &keep, CAP_SET))) {
		cap_free(set);
		return NULL;
	}
	return set;
}

static int drop_capabilities(cap_value_t keep)
{
	cap_iab_t iab = cap_iab_init(); /* inheritable and ambient empty */
	cap_t final = only(keep);
	int rc = -1;

	if (!iab || !final) {
		log_error("cannot drop privileges: out of memory");
		goto out;
	}
	/* Only what is still in the bounding set: when that is nothing, the
	 * drop needs no CAP_SETPCAP. */
	for (cap_value_t c = 0; c < cap_max_bits(); c++)
		if (c != keep && cap_get_bound(c) == 1 &&
		    cap_iab_set_vector(iab, CAP_IAB_BOUND, c, CAP_SET))
			goto out;
	if (cap_iab_set_proc(iab)) {
		log_error("cannot empty the capability bounding set: %s (needs CAP_SETPCAP at "
			  "start)",
			  strerror(errno));
		goto out;
	}
	if (cap_set_proc(final)) {
		log_error("cannot clear the capability sets: %s", strerror(errno));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		log_error("cannot set no_new_privs: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	cap_free(iab);
	cap_free(final);
	return rc;
}

/* What the kernel now says, against what was asked for. */
static int check_dropped(const struct runas *r, cap_value_t keep)
{
	cap_t now = cap_get_proc(), want = only(keep);
	bool ok = now && want && cap_compare(now, want) == 0;
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	for (cap_value_t c = 0; ok && c < cap_max_bits(); c++)
		ok = cap_get_bound(c) == (c == keep) && cap_get_ambient(c) <= 0;
	ok = ok && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	if (ok && r->set)
		ok = !getresuid(&ruid, &euid, &suid) && !getresgid(&rgid, &egid, &sgid) &&
		     ruid == r->uid && euid == r->uid && suid == r->uid && rgid == r->gid &&
		     egid == r->gid && sgid == r->gid;
	if (!ok)
		log_error("privileges are still held after dropping them");
	cap_free(now);
	cap_free(want);
	return ok ? 0 : -1;
}

int privileges_drop(const struct runas *runas, int bpf_fd)
{
	cap_value_t keep;

	if (capability_for_maps(bpf_fd, &keep) || (runas->set && switch_user(runas)) ||
	    drop_capabilities(keep) || check_dropped(runas, keep))
		return -1;
	if (runas->set)
		log_info("dropped all capabilities%s; running as uid %u gid %u",
			 keep == NO_CAP ? "" : " but one", (unsigned)runas->uid,
			 (unsigned)runas->gid);
	else
		log_info("dropped all capabilities%s", keep == NO_CAP ? "" : " but one");
	return 0;
}
