// SPDX-License-Identifier: GPL-2.0
/*
 * test_replay.c - `fragreplay replay` end to end: determinism, --check on
 * every trace, the end-state validation, atomic output, clear errors.
 */
#include <jansson.h>
#include "fr_test.h"

static char out[1 << 16];

static json_t *replay(const char *trace, const char *pols, const char *file, int want_rc)
{
	char cmd[8192];
	json_error_t je;
	int rc;

	snprintf(cmd, sizeof(cmd), "%s/fragreplay replay %s %s --check -q -o %s 2>&1", fr_test_builddir(), trace,
		 pols, file);
	rc = fr_test_run(cmd, out, sizeof(out));
	if (rc != want_rc)
		fail_msg("%s: exit %d (want %d): %s", cmd, rc, want_rc, out);
	if (rc)
		return NULL;
	json_t *j = json_load_file(file, 0, &je);
	if (!j)
		fail_msg("%s: not JSON: %s", file, je.text);
	return j;
}

static const char *traces[] = { "traces/small-tar", "traces/thp-slab", NULL };

static void check_runs(json_t *j, const char *trace)
{
	size_t i;
	json_t *run;
	json_array_foreach(json_object_get(j, "runs"), i, run) {
		json_t *s = json_object_get(run, "summary");
		if (json_integer_value(json_object_get(s, "check_violations")))
			fail_msg("%s: %s: check violations: %s", trace,
				 json_string_value(json_object_get(json_object_get(run, "policy"), "name")),
				 json_string_value(json_object_get(s, "first_violation")));
		assert_int_equal(json_integer_value(json_object_get(s, "alloc_failures")), 0);
		/* the model's invariants behind the metrics */
		json_t *last = json_array_get(json_object_get(run, "timeline"),
					      json_array_size(json_object_get(run, "timeline")) - 1);
		long long t = json_integer_value(json_object_get(last, "tainted"));
		long long c = json_integer_value(json_object_get(last, "clean"));
		long long e = json_integer_value(json_object_get(last, "empty"));
		long long lb = json_integer_value(json_object_get(last, "lower_bound"));
		long long tl = json_integer_value(json_object_get(last, "tainted_live"));
		assert_true(t + c + e <= json_integer_value(json_object_get(json_object_get(j, "machine"), "nr_spbs")));
		assert_true(lb <= tl && tl <= t);
	}
}

static void test_check_all_traces(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200];
	(void)state;
	snprintf(f, sizeof(f), "%s/r.json", dir);
	for (int i = 0; traces[i]; i++) {
		json_t *j = replay(traces[i], "-p recorded -p vanilla -p vanilla:pcp=off", f, 0);
		check_runs(j, traces[i]);
		json_decref(j);
	}
	fr_test_rmrf(dir);
	free(dir);
}

static void test_check_mixed(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], t[1024];
	(void)state;
	snprintf(t, sizeof(t), "%s/mixed-6.18", fr_test_shared_traces());
	if (!fr_test_exists(t)) {
		fprintf(stderr, "skip: %s missing\n", t);
		fr_test_rmrf(dir);
		free(dir);
		skip();
	}
	snprintf(f, sizeof(f), "%s/r.json", dir);
	json_t *j = replay(t, "-p recorded -p vanilla", f, 0);
	check_runs(j, t);
	/* recorded's end state against the machine's: >= 99% agree or explained */
	json_t *v = json_object_get(json_array_get(json_object_get(j, "runs"), 0), "validation");
	assert_non_null(v);
	double r = json_real_value(json_object_get(v, "agree_or_explained_ratio"));
	if (r < 0.99)
		fail_msg("recorded agrees with kpageflags.end on %.4f of pfns", r);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "trace"), "events")), 963133);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "trace"), "duplicate_batched_frees")), 7316);
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_validation_small(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200];
	(void)state;
	snprintf(f, sizeof(f), "%s/r.json", dir);
	for (int i = 0; traces[i]; i++) {
		json_t *j = replay(traces[i], "-p recorded", f, 0);
		json_t *run = json_array_get(json_object_get(j, "runs"), 0);
		json_t *v = json_object_get(run, "validation");
		double r = json_real_value(json_object_get(v, "agree_or_explained_ratio"));
		if (r < 0.99)
			fail_msg("%s: recorded agrees with kpageflags.end on %.4f of pfns", traces[i], r);
		/* recorded places exactly: nothing overlapped */
		assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(run, "counters"),
									"policy"), "overlap")), 0);
		json_decref(j);
	}
	fr_test_rmrf(dir);
	free(dir);
}

static void test_deterministic(void **state)
{
	char *dir = fr_test_tmpdir(), a[4200], b[4200], cmd[9000];
	(void)state;
	snprintf(a, sizeof(a), "%s/a.json", dir);
	snprintf(b, sizeof(b), "%s/b.json", dir);
	json_decref(replay("traces/thp-slab", "-p vanilla -p recorded", a, 0));
	json_decref(replay("traces/thp-slab", "-p vanilla -p recorded", b, 0));
	snprintf(cmd, sizeof(cmd), "cmp %s %s", a, b);
	assert_int_equal(fr_test_run(cmd, NULL, 0), 0);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_errors_leave_no_file(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], cmd[9000];
	(void)state;
	snprintf(f, sizeof(f), "%s/r.json", dir);
	replay("traces/small-tar", "-p nosuchpolicy", f, 2);
	assert_non_null(strstr(out, "no policy named 'nosuchpolicy'"));
	assert_false(fr_test_exists(f));
	replay("traces/small-tar", "-p vanilla:nosuch=1", f, 2);
	assert_non_null(strstr(out, "has no parameter 'nosuch'"));
	assert_non_null(strstr(out, "pcp"));
	replay("traces/small-tar", "-p vanilla:pcp=maybe", f, 2);
	assert_non_null(strstr(out, "takes on or off"));
	replay("/nonexistent/trace.dat", "-p vanilla", f, 2);
	assert_false(fr_test_exists(f));
	snprintf(cmd, sizeof(cmd), "%s/nodir/r.json", dir);
	replay("traces/small-tar", "-p vanilla", cmd, 2);
	assert_non_null(strstr(out, "nodir/r.json"));
	/* no temporary files left behind */
	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	fr_test_run(cmd, out, sizeof(out));
	assert_int_equal(atoi(out), 0);
	fr_test_rmrf(dir);
	free(dir);
}

/* An interrupted replay writes a complete file marked partial, or nothing. */
static void test_partial_results(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], cmd[9000];
	json_error_t je;
	(void)state;
	snprintf(f, sizeof(f), "%s/p.json", dir);
	snprintf(cmd, sizeof(cmd), "FRAGREPLAY_STOP_AFTER=50000 %s/fragreplay replay traces/small-tar -p vanilla -q -o %s 2>&1",
		 fr_test_builddir(), f);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 130);
	assert_non_null(strstr(out, "results marked partial"));
	json_t *j = json_load_file(f, 0, &je);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "partial")));
	long long ev = json_integer_value(json_object_get(json_object_get(j, "trace"), "events"));
	assert_true(ev >= 50000 && ev < 127867);
	json_t *tl = json_object_get(json_array_get(json_object_get(j, "runs"), 0), "timeline");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(tl, json_array_size(tl) - 1), "events")), ev);
	json_decref(j);
	/* a real SIGINT at some moment: no file, or a complete one marked partial */
	for (int i = 0; i < 3; i++) {
		unlink(f);
		snprintf(cmd, sizeof(cmd), "timeout --preserve-status -s INT 0.%d %s/fragreplay replay traces/thp-slab -p vanilla -p recorded -q -o %s 2>&1",
			 3 + 2 * i, fr_test_builddir(), f);
		int rc = fr_test_run(cmd, out, sizeof(out));
		if (fr_test_exists(f)) {
			j = json_load_file(f, 0, &je);
			if (!j)
				fail_msg("interrupted replay left a broken file: %s", je.text);
			assert_true(rc == 0 || json_is_true(json_object_get(j, "partial")));
			json_decref(j);
		} else {
			assert_int_equal(rc, 130);
		}
	}
	snprintf(cmd, sizeof(cmd), "ls -A %s | grep -v '^p.json$' | wc -l", dir);
	fr_test_run(cmd, out, sizeof(out));
	assert_int_equal(atoi(out), 0);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_policies_listing(void **state)
{
	char cmd[4096];
	(void)state;
	snprintf(cmd, sizeof(cmd), "%s/fragreplay policies", fr_test_builddir());
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "recorded\n"));
	assert_non_null(strstr(out, "vanilla\n"));
	assert_non_null(strstr(out, "nofragment"));
	assert_non_null(strstr(out, "default on"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_all_traces),
		cmocka_unit_test(test_check_mixed),
		cmocka_unit_test(test_validation_small),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_errors_leave_no_file),
		cmocka_unit_test(test_partial_results),
		cmocka_unit_test(test_policies_listing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
