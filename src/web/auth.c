/* SPDX-License-Identifier: GPL-2.0-only */
/* Basic authentication. bcrypt is slow on purpose (about 45 ms of CPU at cost
 * 10 here), so each check's result is remembered under an HMAC-SHA256 of user
 * and password, keyed with random bytes drawn at start (the password itself
 * is never kept), and compared in constant time: a scraper sending the same
 * credentials every second pays one bcrypt in all, and a misconfigured one
 * repeating a wrong password pays one too. Right and wrong results are kept
 * apart, so wrong guesses never push out a right one. Checks not remembered
 * take turns, one bcrypt at a time: guessing passwords takes at most one
 * CPU, each connection waits in its own thread, and remembered credentials
 * never wait. An unknown user costs a bcrypt too, so timing does not tell
 * which users exist. */
#include "auth.h"

#include <crypt.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "self.h"

#define REMEMBERED 64
#define KEY_BYTES  32

struct remembered {
	uint8_t digest[SHA256_DIGEST_SIZE];
	bool used;
};

struct results {
	struct remembered entries[REMEMBERED];
	unsigned int next; /* the oldest, replaced next */
};

struct auth {
	const struct webconfig_user *users;
	size_t nusers;
	uint8_t key[KEY_BYTES];
	pthread_mutex_t lock; /* right and wrong */
	struct results right, wrong;
	pthread_mutex_t hashing; /* one bcrypt at a time, with data */
	struct crypt_data data;
	atomic_ulong hash_runs;
};

struct auth *auth_new(const struct webconfig_user *users, size_t nusers)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (getrandom(a->key, sizeof(a->key), 0) != (ssize_t)sizeof(a->key)) {
		free(a);
		return NULL;
	}
	a->users = users;
	a->nusers = nusers;
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->hashing, NULL);
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->lock);
	pthread_mutex_destroy(&a->hashing);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

unsigned long auth_hash_runs(struct auth *a)
{
	return atomic_load(&a->hash_runs);
}

static void credentials_digest(const struct auth *a, const char *user, const char *password,
			       uint8_t digest[SHA256_DIGEST_SIZE])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, sizeof(a->key), a->key);
	/* With the NUL, "ab"+"c" and "a"+"bc" differ. */
	hmac_sha256_update(&ctx, strlen(user) + 1, (const uint8_t *)user);
	hmac_sha256_update(&ctx, strlen(password), (const uint8_t *)password);
	hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
	explicit_bzero(&ctx, sizeof(ctx));
}

/* Every entry is compared, so the time taken tells nothing. */
static bool remembered(const struct results *r, const uint8_t digest[SHA256_DIGEST_SIZE])
{
	bool found = false;

	for (int i = 0; i < REMEMBERED; i++)
		found |= r->entries[i].used &
			 memeql_sec(r->entries[i].digest, digest, SHA256_DIGEST_SIZE);
	return found;
}

static void remember(struct results *r, const uint8_t digest[SHA256_DIGEST_SIZE])
{
	struct remembered *e = &r->entries[r->next];

	memcpy(e->digest, digest, SHA256_DIGEST_SIZE);
	e->used = true;
	r->next = (r->next + 1) % REMEMBERED;
}

/* 1 right, 0 wrong, -1 not remembered. */
static int recall(struct auth *a, const uint8_t digest[SHA256_DIGEST_SIZE])
{
	int result = -1;

	pthread_mutex_lock(&a->lock);
	if (remembered(&a->right, digest))
		result = 1;
	else if (remembered(&a->wrong, digest))
		result = 0;
	pthread_mutex_unlock(&a->lock);
	return result;
}

static bool bcrypt_matches(struct auth *a, const char *user, const char *password)
{
	const struct webconfig_user *found = NULL;
	const char *hash, *computed;
	bool match;

	for (size_t i = 0; i < a->nusers; i++)
		if (!strcmp(a->users[i].name, user))
			found = &a->users[i];
	/* An unknown user is checked against a real hash all the same. */
	hash = found ? found->hash : a->users[0].hash;
	atomic_fetch_add(&a->hash_runs, 1);
	computed = crypt_rn(password, hash, &a->data, sizeof(a->data));
	match = found && computed && strlen(computed) == strlen(hash) &&
		memeql_sec(computed, hash, strlen(hash));
	explicit_bzero(&a->data, sizeof(a->data));
	return match;
}

bool auth_check(struct auth *a, const char *user, const char *password)
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	int result;

	if (a->nusers == 0)
		return false;
	credentials_digest(a, user, password, digest);
	result = recall(a, digest);
	if (result >= 0)
		return result;
	pthread_mutex_lock(&a->hashing);
	/* The same credentials may have been checked while this one waited. */
	result = recall(a, digest);
	if (result < 0) {
		result = bcrypt_matches(a, user, password);
		pthread_mutex_lock(&a->lock);
		remember(result ? &a->right : &a->wrong, digest);
		pthread_mutex_unlock(&a->lock);
	}
	pthread_mutex_unlock(&a->hashing);
	return result;
}

bool auth_request_allowed(struct auth *a, struct MHD_Connection *conn)
{
	char *password = NULL;
	char *user = MHD_basic_auth_get_username_password(conn, &password);
	bool allowed;

	if (!user) {
		MHD_free(password);
		return false;
	}
	allowed = auth_check(a, user, password ? password : "");
	if (password) {
		explicit_bzero(password, strlen(password));
		MHD_free(password);
	}
	MHD_free(user);
	return allowed;
}

enum MHD_Result auth_refuse(struct MHD_Connection *conn)
{
	static const char body[] = "unauthorized: this exporter needs a user and password\n";
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_basic_auth_fail_response(conn, "cgroup_tcp_exporter", r);
	if (ret == MHD_YES)
		self_count_response(MHD_HTTP_UNAUTHORIZED);
	MHD_destroy_response(r);
	return ret;
}
