/* SPDX-License-Identifier: GPL-2.0-only */
/* HTTP basic authentication against the web config's bcrypt hashes, with
 * results remembered so that a scrape every second costs no bcrypt. */
#ifndef AUTH_H
#define AUTH_H

#include <microhttpd.h>
#include <stdbool.h>
#include "webconfig.h"

struct auth;

/* NULL when out of memory. users must outlive the auth. */
struct auth *auth_new(const struct webconfig_user *users, size_t nusers);
void auth_free(struct auth *a);
/* True when password is the user's. Safe from any thread. */
bool auth_check(struct auth *a, const char *user, const char *password);
/* bcrypt computations so far: the checks that were not remembered. */
unsigned long auth_hash_runs(struct auth *a);

/* The request's basic authentication credentials pass auth_check. */
bool auth_request_allowed(struct auth *a, struct MHD_Connection *conn);
/* Answers 401 with WWW-Authenticate: Basic. */
enum MHD_Result auth_refuse(struct MHD_Connection *conn);

#endif /* AUTH_H */
