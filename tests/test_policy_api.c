// SPDX-License-Identifier: GPL-2.0
/*
 * test_policy_api.c - a policy built out of tree, against the installed
 * header and fragreplay.pc only, loads with -p ./x.so and replays; a module
 * built for another API version is refused with a clear message.
 */
#include <jansson.h>
#include "fr_test.h"

static char out[1 << 16];

static void test_out_of_tree_policy(void **state)
{
	char *dir = fr_test_tmpdir(), cmd[16384], res[4200];
	json_error_t je;
	(void)state;

	snprintf(cmd, sizeof(cmd), "make -s install B=%s PREFIX=%s/prefix >/dev/null 2>&1", fr_test_builddir(), dir);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && cp %s/tests/policy_min.c . && export PKG_CONFIG_PATH=%s/prefix/lib/pkgconfig && "
		 "cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $(pkg-config --cflags fragreplay) policy_min.c -o firstfit.so && "
		 "cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -DWRONG_API $(pkg-config --cflags fragreplay) policy_min.c -o wrong.so 2>&1",
		 dir, getcwd(res, sizeof(res)), dir);
	if (fr_test_run(cmd, out, sizeof(out)) != 0)
		fail_msg("building the out-of-tree policy failed: %s", out);
	/* the installed binary finds the installed policies and loads ours by path */
	snprintf(res, sizeof(res), "%s/r.json", dir);
	snprintf(cmd, sizeof(cmd), "%s/prefix/bin/fragreplay replay traces/small-tar -p %s/firstfit.so -p vanilla --check -q -o %s 2>&1",
		 dir, dir, res);
	if (fr_test_run(cmd, out, sizeof(out)) != 0)
		fail_msg("replay with the out-of-tree policy failed: %s", out);
	json_t *j = json_load_file(res, 0, &je);
	assert_non_null(j);
	json_t *r0 = json_array_get(json_object_get(j, "runs"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r0, "policy"), "name")), "first-fit");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r0, "summary"), "check_violations")), 0);
	assert_true(json_integer_value(json_object_get(json_object_get(r0, "counters"), "allocs")) > 40000);
	json_decref(j);
	/* wrong API version: refused, exit 2, says which versions */
	snprintf(cmd, sizeof(cmd), "%s/prefix/bin/fragreplay replay traces/small-tar -p %s/wrong.so -q -o %s/w.json 2>&1",
		 dir, dir, dir);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "built for fragreplay API version 2"));
	assert_non_null(strstr(out, "speaks version 1"));
	/* the installed `policies` lists the shipped modules */
	snprintf(cmd, sizeof(cmd), "%s/prefix/bin/fragreplay policies", dir);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "vanilla"));
	fr_test_rmrf(dir);
	free(dir);
}

static void test_not_a_policy(void **state)
{
	char cmd[4096];
	(void)state;
	snprintf(cmd, sizeof(cmd), "%s/fragreplay replay traces/small-tar -p /lib/x86_64-linux-gnu/libc.so.6 -q -o /dev/null 2>&1",
		 fr_test_builddir());
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "not a fragreplay policy"));
}

/* Counters by name: 300 names 8 bytes apart (more than the host's pointer
 * cache holds) and one name through two pointers, each exact. */
static void test_counter_names(void **state)
{
	char *dir = fr_test_tmpdir(), cmd[8192], res[4200];
	json_error_t je;
	(void)state;

	snprintf(cmd, sizeof(cmd),
		 "cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -Ireplay tests/policy_counters.c -o %s/counters.so 2>&1", dir);
	if (fr_test_run(cmd, out, sizeof(out)) != 0)
		fail_msg("building tests/policy_counters.c failed: %s", out);
	snprintf(res, sizeof(res), "%s/r.json", dir);
	snprintf(cmd, sizeof(cmd), "%s/fragreplay replay traces/small-tar -p %s/counters.so -q -o %s 2>&1",
		 fr_test_builddir(), dir, res);
	if (fr_test_run(cmd, out, sizeof(out)) != 0)
		fail_msg("replay with the counting policy failed: %s", out);
	json_t *j = json_load_file(res, 0, &je);
	assert_non_null(j);
	json_t *r0 = json_array_get(json_object_get(j, "runs"), 0);
	json_t *pc = json_object_get(json_object_get(r0, "counters"), "policy");
	json_int_t calls = json_integer_value(json_object_get(pc, "calls"));
	assert_true(calls > 40000);
	for (int k = 0; k < 300; k++) {
		char name[16];
		snprintf(name, sizeof(name), "n%03d", k % 1000);
		/* "n007" is also a slot the policy adds 1 to */
		json_int_t want = calls * (1 + k % 5) + (k == 7 ? calls : 0);
		if (json_integer_value(json_object_get(pc, name)) != want)
			fail_msg("counter %s = %lld, expected %lld", name,
				 (long long)json_integer_value(json_object_get(pc, name)), (long long)want);
	}
	/* slots taken at init stay valid while the counters grow past them */
	for (int k = 0; k < 100; k++) {
		char name[16];
		snprintf(name, sizeof(name), "s%03d", k % 1000);
		if (json_integer_value(json_object_get(pc, name)) != calls * (k + 1))
			fail_msg("slot counter %s = %lld, expected %lld", name,
				 (long long)json_integer_value(json_object_get(pc, name)), (long long)(calls * (k + 1)));
	}
	assert_int_equal(json_integer_value(json_object_get(pc, "twin")), 2 * calls);
	assert_non_null(json_object_get(pc, "unused"));	/* a slot is reported from its creation */
	assert_int_equal(json_integer_value(json_object_get(pc, "unused")), 0);
	assert_int_equal(json_object_size(pc), 302 + 100 + 1);
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_tree_policy),
		cmocka_unit_test(test_not_a_policy),
		cmocka_unit_test(test_counter_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
