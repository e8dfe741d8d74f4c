/* Basic authentication checks: hashes made by Go's bcrypt (exporter-toolkit's
 * test users) and by libxcrypt, results remembered so that repeated
 * credentials cost no bcrypt, wrong and unknown users refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "web/auth.h"

/* exporter-toolkit's test users: carol123 and dave123, made with Go. */
#define CAROL "$2y$10$qRTBuFoULoYNA7AQ/F3ck.trZBPyjV64.oA4ZsSBCIWvXuvQlQTuu"
#define DAVE  "$2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq"

/* A cheap hash made here, so the many checks below stay fast. */
static void make_hash(const char *prefix, const char *password, char out[CRYPT_OUTPUT_SIZE])
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data;

	memset(&data, 0, sizeof(data));
	assert_non_null(crypt_gensalt_rn(prefix, 4, NULL, 0, salt, sizeof(salt)));
	assert_non_null(crypt_rn(password, salt, &data, sizeof(data)));
	strcpy(out, data.output);
}

static void test_go_hashes(void **state)
{
	struct webconfig_user users[] = {{"carol", CAROL}, {"dave", DAVE}};
	struct auth *a = auth_new(users, 2);

	assert_non_null(a);
	assert_true(auth_check(a, "carol", "carol123"));
	assert_true(auth_check(a, "dave", "dave123"));
	assert_false(auth_check(a, "carol", "dave123"));
	assert_false(auth_check(a, "dave", "Dave123"));
	assert_int_equal(auth_hash_runs(a), 4);
	auth_free(a);
}

static void test_remembered(void **state)
{
	char hash[CRYPT_OUTPUT_SIZE];
	struct webconfig_user users[] = {{"alice", hash}};
	struct auth *a;

	make_hash("$2b$", "s3cret", hash);
	a = auth_new(users, 1);
	assert_true(auth_check(a, "alice", "s3cret"));
	assert_int_equal(auth_hash_runs(a), 1);
	for (int i = 0; i < 100; i++)
		assert_true(auth_check(a, "alice", "s3cret"));
	assert_int_equal(auth_hash_runs(a), 1);

	/* A wrong password is remembered as wrong, apart from right ones. */
	assert_false(auth_check(a, "alice", "s3cre"));
	assert_false(auth_check(a, "alice", "s3cre"));
	assert_int_equal(auth_hash_runs(a), 2);
	assert_true(auth_check(a, "alice", "s3cret"));
	assert_int_equal(auth_hash_runs(a), 2);

	/* Many wrong guesses do not push the right credentials out. */
	for (int i = 0; i < 200; i++) {
		char guess[16];

		snprintf(guess, sizeof(guess), "guess%d", i);
		assert_false(auth_check(a, "alice", guess));
	}
	assert_int_equal(auth_hash_runs(a), 202);
	assert_true(auth_check(a, "alice", "s3cret"));
	assert_int_equal(auth_hash_runs(a), 202);
	auth_free(a);
}

static void test_refused(void **state)
{
	char alice[CRYPT_OUTPUT_SIZE], bob[CRYPT_OUTPUT_SIZE], empty[CRYPT_OUTPUT_SIZE];
	struct webconfig_user users[] = {{"alice", alice}, {"bob", bob}, {"", empty}};
	struct auth *a;

	make_hash("$2b$", "pw", alice);
	make_hash("$2b$", "bobpw", bob);
	make_hash("$2b$", "", empty);
	a = auth_new(users, 3);
	assert_false(auth_check(a, "alice", "bobpw"));
	assert_false(auth_check(a, "bob", "pw"));
	assert_false(auth_check(a, "alice", ""));
	assert_false(auth_check(a, "Alice", "pw"));
	/* The user and password are told apart where they meet. */
	assert_false(auth_check(a, "alic", "epw"));
	assert_false(auth_check(a, "alicep", "w"));
	/* An unknown user costs a bcrypt like a known one. */
	assert_int_equal(auth_hash_runs(a), 6);
	assert_false(auth_check(a, "mallory", "pw"));
	assert_int_equal(auth_hash_runs(a), 7);
	/* Password "pw" of the first user does not log an unknown user in. */
	assert_false(auth_check(a, "carol", "pw"));
	assert_true(auth_check(a, "", ""));
	assert_true(auth_check(a, "bob", "bobpw"));
	auth_free(a);
}

/* $2y$ and $2a$ hashes of the same password and salt as $2b$ (they differ
 * only for a bug with 8-bit passwords that $2x$ keeps). */
static void test_variants(void **state)
{
	char b[CRYPT_OUTPUT_SIZE], y[CRYPT_OUTPUT_SIZE], a2[CRYPT_OUTPUT_SIZE];
	struct webconfig_user users[] = {{"b", b}, {"y", y}, {"a", a2}};
	struct auth *a;

	make_hash("$2b$", "p\xc3\xa4ss", b);
	strcpy(y, b);
	y[2] = 'y';
	strcpy(a2, b);
	a2[2] = 'a';
	a = auth_new(users, 3);
	assert_true(auth_check(a, "b", "p\xc3\xa4ss"));
	assert_true(auth_check(a, "y", "p\xc3\xa4ss"));
	assert_true(auth_check(a, "a", "p\xc3\xa4ss"));
	auth_free(a);
}

static void test_no_users(void **state)
{
	struct auth *a = auth_new(NULL, 0);

	assert_false(auth_check(a, "", ""));
	assert_int_equal(auth_hash_runs(a), 0);
	auth_free(a);
	auth_free(NULL);
}

struct checker {
	struct auth *a;
	const char *user, *password;
	bool want;
	int wrong;
};

static void *check_many(void *arg)
{
	struct checker *c = arg;

	for (int i = 0; i < 50; i++)
		c->wrong += auth_check(c->a, c->user, c->password) != c->want;
	return NULL;
}

/* Threads checking at once: each result right, and a credential checked
 * by several threads at once is still computed once. */
static void test_threads(void **state)
{
	char hash[CRYPT_OUTPUT_SIZE];
	struct webconfig_user users[] = {{"alice", hash}};
	struct auth *a;
	struct checker checkers[8];
	pthread_t threads[8];

	make_hash("$2b$", "right", hash);
	a = auth_new(users, 1);
	for (int i = 0; i < 8; i++) {
		checkers[i] = (struct checker){a, "alice", i % 2 ? "wrong" : "right", !(i % 2), 0};
		assert_int_equal(pthread_create(&threads[i], NULL, check_many, &checkers[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(checkers[i].wrong, 0);
	}
	assert_int_equal(auth_hash_runs(a), 2);
	auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_go_hashes), cmocka_unit_test(test_remembered),
	    cmocka_unit_test(test_refused),   cmocka_unit_test(test_variants),
	    cmocka_unit_test(test_no_users),  cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
