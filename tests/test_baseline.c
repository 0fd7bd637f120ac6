// SPDX-License-Identifier: GPL-2.0
/*
 * test_baseline.c - the project's own regression test: every recording in
 * traces/ replays to exactly the committed results/baselines/NAME.json
 * (sh tests/baseline.sh check). Also, on a copy of the baselines
 * (FR_BASELINE_DIR), that the script reports a changed, a missing and a
 * stale baseline, and that update mode rewrites them to the committed bytes.
 */
#include "fr_test.h"

static char out[1 << 18];

static int baseline(const char *dir, const char *mode)
{
	char cmd[8192];
	if (dir)
		snprintf(cmd, sizeof(cmd), "B=%s FR_BASELINE_DIR=%s sh tests/baseline.sh %s 2>&1", fr_test_builddir(),
			 dir, mode);
	else
		snprintf(cmd, sizeof(cmd), "B=%s sh tests/baseline.sh %s 2>&1", fr_test_builddir(), mode);
	return fr_test_run(cmd, out, sizeof(out));
}

static void test_committed_baselines_match(void **state)
{
	int rc;
	(void)state;
	rc = baseline(NULL, "check");
	if (rc != 0)
		fail_msg("results/baselines differ from a replay now (run `make update-baseline` if that is "
			 "intended, and commit the new files):\n%s", out);
	assert_non_null(strstr(out, "baseline: all "));
	assert_non_null(strstr(out, "traces/small-tar matches results/baselines/small-tar.json"));
	assert_non_null(strstr(out, "traces/thp-slab matches results/baselines/thp-slab.json"));
}

static void test_readme_has_commands(void **state)
{
	FILE *f = fopen("results/baselines/README.md", "r");
	size_t n;
	(void)state;
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	assert_non_null(strstr(out, "fragreplay replay traces/small-tar -p recorded -p vanilla"));
	assert_non_null(strstr(out, "-o results/baselines/small-tar.json"));
}

static void copy_baselines(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "cp results/baselines/*.json results/baselines/README.md %s/", dir);
	assert_int_equal(fr_test_run(cmd, NULL, 0), 0);
}

static void test_detects_a_difference(void **state)
{
	char *dir = fr_test_tmpdir(), cmd[8400];
	int rc;
	(void)state;
	copy_baselines(dir);
	/* one run's tainted_final off by one, as a changed model would make it */
	snprintf(cmd, sizeof(cmd),
		 "sed -i '0,/\"tainted_final\": \\([0-9]*\\)/s//\"tainted_final\": 999/' %s/small-tar.json && "
		 "grep -c '\"tainted_final\": 999' %s/small-tar.json", dir, dir);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "1\n");
	rc = baseline(dir, "check");
	if (rc != 1)
		fail_msg("check on a changed baseline: exit %d, want 1:\n%s", rc, out);
	assert_non_null(strstr(out, "baseline: DIFFERS traces/small-tar from"));
	assert_non_null(strstr(out, "command: fragreplay replay traces/small-tar"));
	/* the compare summary: committed is the baseline, the new replay the change */
	assert_non_null(strstr(out, "tainted_final vs first file"));
	assert_non_null(strstr(out, "999"));
	assert_non_null(strstr(out, "first differences (diff -u committed new):"));
	assert_non_null(strstr(out, "\"tainted_final\": 999,"));	/* the diff's - line */
	assert_non_null(strstr(out, "traces/thp-slab matches"));
	fr_test_rmrf(dir);
	free(dir);
}

static void test_missing_stale_and_update(void **state)
{
	char *dir = fr_test_tmpdir(), cmd[8400];
	int rc;
	(void)state;
	copy_baselines(dir);
	snprintf(cmd, sizeof(cmd), "rm %s/thp-slab.json && cp %s/small-tar.json %s/ghost.json", dir, dir, dir);
	assert_int_equal(fr_test_run(cmd, NULL, 0), 0);
	rc = baseline(dir, "check");
	if (rc != 1)
		fail_msg("check with a missing and a stale baseline: exit %d, want 1:\n%s", rc, out);
	assert_non_null(strstr(out, "MISSING"));
	assert_non_null(strstr(out, "STALE"));

	rc = baseline(dir, "update");
	if (rc != 0)
		fail_msg("update: exit %d:\n%s", rc, out);
	assert_non_null(strstr(out, "thp-slab.json: new"));
	assert_non_null(strstr(out, "small-tar.json: unchanged"));
	assert_non_null(strstr(out, "ghost.json has no trace"));
	assert_false(fr_test_exists(strcat(strcpy(cmd, dir), "/ghost.json")));
	rc = baseline(dir, "check");
	if (rc != 0)
		fail_msg("check after update: exit %d:\n%s", rc, out);
	/* update writes exactly the committed bytes */
	snprintf(cmd, sizeof(cmd), "for f in results/baselines/*.json; do cmp \"$f\" %s/$(basename \"$f\") || exit 1; done",
		 dir);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_usage(void **state)
{
	(void)state;
	assert_int_equal(baseline(NULL, "frobnicate"), 2);
	assert_non_null(strstr(out, "usage: sh tests/baseline.sh check|update"));
	assert_int_equal(baseline(NULL, "--help"), 0);
	assert_non_null(strstr(out, "update"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_committed_baselines_match),
		cmocka_unit_test(test_readme_has_commands),
		cmocka_unit_test(test_detects_a_difference),
		cmocka_unit_test(test_missing_stale_and_update),
		cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
