// SPDX-License-Identifier: GPL-2.0
/*
 * test_info.c - `fragreplay info` against `trace-cmd report` on the same
 * file, every trace.dat version, stdin, recording directories, bad input.
 */
#include <jansson.h>
#include "fr_test.h"

static const char *const kinds[] = {
	"mm_page_alloc", "mm_page_free", "mm_page_free_batched",
	"mm_page_alloc_zone_locked", "mm_page_pcpu_drain", "mm_page_alloc_extfrag", NULL,
};

static json_t *info_json(const char *arg)
{
	static char out[1 << 20];
	char cmd[8192];
	json_error_t je;

	snprintf(cmd, sizeof(cmd), "%s/fragreplay info --json %s 2>/dev/null", fr_test_builddir(), arg);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	json_t *j = json_loads(out, 0, &je);
	if (!j)
		fail_msg("info --json output is not JSON: %s", je.text);
	return j;
}

/* Count each event name in `trace-cmd report FILE` (the reference decoder). */
static void report_counts(const char *file, long long *counts)
{
	char cmd[8192], out[4096];

	for (int k = 0; kinds[k]; k++) {
		snprintf(cmd, sizeof(cmd), "trace-cmd report -N '%s' 2>/dev/null | grep -c ' %s: '", file, kinds[k]);
		fr_test_run(cmd, out, sizeof(out));
		counts[k] = atoll(out);
	}
}

static void compare_with_report(const char *file, const char *arg)
{
	long long ref[8];
	json_t *j, *ev;

	report_counts(file, ref);
	j = info_json(arg);
	ev = json_object_get(j, "events");
	assert_non_null(ev);
	for (int k = 0; kinds[k]; k++) {
		long long got = json_integer_value(json_object_get(ev, kinds[k]));
		if (got != ref[k])
			fail_msg("%s: %s: info says %lld, trace-cmd report %lld", file, kinds[k], got, ref[k]);
	}
	json_decref(j);
}

static int have_tracecmd(void)
{
	return fr_test_run("trace-cmd --help >/dev/null 2>&1; command -v trace-cmd >/dev/null", NULL, 0) == 0;
}

static void test_counts_match_tracecmd(void **state)
{
	const char *files[] = { "traces/small-tar/trace.dat", "traces/thp-slab/trace.dat", NULL };
	(void)state;
	if (!have_tracecmd())
		skip();
	for (int i = 0; files[i]; i++)
		compare_with_report(files[i], files[i]);
}

static void test_counts_match_tracecmd_mixed(void **state)
{
	char f[1024];
	(void)state;
	snprintf(f, sizeof(f), "%s/mixed-6.18/trace.dat", fr_test_shared_traces());
	if (!fr_test_exists(f) || !have_tracecmd()) {
		fprintf(stderr, "skip: %s or trace-cmd missing\n", f);
		skip();
	}
	compare_with_report(f, f);
	/* and the figures this recording's README promises */
	json_t *j = info_json(f);
	assert_int_equal(json_integer_value(json_object_get(j, "events_total")), 963133);
	assert_int_equal(json_integer_value(json_object_get(j, "duplicate_batched_frees")), 7316);
	assert_int_equal(json_integer_value(json_object_get(j, "lost_events")), 0);
	/* per CPU, the kernel's ring-buffer entries at the end of the recording (stats file) */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "events_by_cpu"), "0")), 83776);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "events_by_cpu"), "1")), 879357);
	json_decref(j);
}

/* file versions 6 and 7 uncompressed, made with trace-cmd convert */
static void test_file_versions(void **state)
{
	char *dir = fr_test_tmpdir(), cmd[16384], f6[4200], f7[4200];
	(void)state;
	if (!have_tracecmd())
		skip();
	snprintf(f6, sizeof(f6), "%s/v6.dat", dir);
	snprintf(f7, sizeof(f7), "%s/v7nc.dat", dir);
	snprintf(cmd, sizeof(cmd), "trace-cmd convert -i traces/small-tar/trace.dat -o %s --file-version 6 >/dev/null 2>&1"
		 " && trace-cmd convert -i traces/small-tar/trace.dat -o %s --file-version 7 --compression none >/dev/null 2>&1",
		 f6, f7);
	assert_int_equal(fr_test_run(cmd, NULL, 0), 0);
	json_t *a = info_json(f6), *b = info_json(f7), *c = info_json("traces/small-tar/trace.dat");
	assert_true(json_equal(json_object_get(a, "events"), json_object_get(c, "events")));
	assert_true(json_equal(json_object_get(b, "events"), json_object_get(c, "events")));
	assert_true(json_equal(json_object_get(a, "allocs_by_order_migratetype"),
			       json_object_get(c, "allocs_by_order_migratetype")));
	assert_int_equal(json_integer_value(json_object_get(a, "events_total")), 127867);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_stdin_and_directory(void **state)
{
	(void)state;
	json_t *d = info_json("traces/small-tar");
	json_t *s = info_json("- < traces/small-tar/trace.dat");
	char cmd[4096];
	static char out[1 << 20];
	json_error_t je;
	/* a pipe (not seekable) is spooled to a temporary file */
	snprintf(cmd, sizeof(cmd), "cat traces/small-tar/trace.dat | %s/fragreplay info --json -", fr_test_builddir());
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	json_t *p = json_loads(out, 0, &je);
	assert_non_null(p);
	assert_true(json_equal(json_object_get(p, "events"), json_object_get(s, "events")));
	assert_true(json_equal(json_object_get(d, "events"), json_object_get(s, "events")));
	/* the directory brings its snapshots */
	json_t *snaps = json_object_get(d, "snapshots");
	assert_true(json_array_size(snaps) >= 8);
	assert_int_equal(json_array_size(json_object_get(s, "snapshots")), 0);
	json_decref(d);
	json_decref(s);
	json_decref(p);
}

/* A bad input is one line on stderr naming the file, exit status 2, no crash. */
static void expect_bad(const char *file, const char *needle)
{
	char cmd[8192], out[8192];
	int rc;

	snprintf(cmd, sizeof(cmd), "%s/fragreplay info '%s' 2>&1 >/dev/null", fr_test_builddir(), file);
	rc = fr_test_run(cmd, out, sizeof(out));
	fr_test_strip_sanitizer_lines(out);
	if (rc != 2)
		fail_msg("%s: exit %d, want 2 (%s)", file, rc, out);
	if (!strstr(out, file))
		fail_msg("error does not name the file: %s", out);
	if (needle && !strstr(out, needle))
		fail_msg("error lacks '%s': %s", needle, out);
	char *nl = strchr(out, '\n');
	if (!nl || nl[1] != 0)
		fail_msg("error is not exactly one line: %s", out);
}

static void test_bad_inputs(void **state)
{
	char *dir = fr_test_tmpdir(), f[4300], cmd[16384];
	const long cuts[] = { 10, 4000, 300000, 1200000, 1820000 };
	(void)state;

	for (unsigned i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		snprintf(f, sizeof(f), "%s/trunc%u.dat", dir, i);
		snprintf(cmd, sizeof(cmd), "head -c %ld traces/small-tar/trace.dat > %s", cuts[i], f);
		assert_int_equal(fr_test_run(cmd, NULL, 0), 0);
		expect_bad(f, "trace.dat");
	}
	snprintf(f, sizeof(f), "%s/corrupt.dat", dir);
	snprintf(cmd, sizeof(cmd), "cp traces/small-tar/trace.dat %s && printf '\\377\\377\\377\\377\\377\\377\\377\\377' |"
		 " dd of=%s bs=1 seek=600000 conv=notrunc 2>/dev/null", f, f);
	assert_int_equal(fr_test_run(cmd, NULL, 0), 0);
	expect_bad(f, "trace.dat");
	snprintf(f, sizeof(f), "%s/foreign.bin", dir);
	snprintf(cmd, sizeof(cmd), "head -c 4096 /bin/sh > %s", f);
	assert_int_equal(fr_test_run(cmd, NULL, 0), 0);
	expect_bad(f, "unknown format");
	snprintf(f, sizeof(f), "%s/empty", dir);
	snprintf(cmd, sizeof(cmd), ": > %s", f);
	assert_int_equal(fr_test_run(cmd, NULL, 0), 0);
	expect_bad(f, "empty");
	snprintf(f, sizeof(f), "%s/missing", dir);
	expect_bad(f, "cannot open");
	/* fuzzing found files that crash libtracecmd itself: the decoder runs in a
	 * child process, so these are one-line errors too, not a crash */
	expect_bad("tests/fuzz/crashers/tracedat/crash-f90d4320fa47991be86500166071fa7a3ad22e98",
		   "corrupt trace.dat: libtracecmd crashed");
	expect_bad("tests/fuzz/crashers/tracedat/crash-d04c8792672bc2e1bbd0acafab1c7eb7c22ad3ad", "trace.dat");
	fr_test_rmrf(dir);
	free(dir);
}

static void test_help_and_usage(void **state)
{
	char cmd[4096], out[8192];
	const char *cmds[] = { "info", "replay", "policies", "convert", NULL };
	(void)state;
	for (int i = 0; cmds[i]; i++) {
		snprintf(cmd, sizeof(cmd), "%s/fragreplay %s --help", fr_test_builddir(), cmds[i]);
		assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "usage: fragreplay"));
	}
	snprintf(cmd, sizeof(cmd), "%s/fragreplay info 2>&1", fr_test_builddir());
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 2);
	snprintf(cmd, sizeof(cmd), "%s/fragreplay frobnicate 2>&1", fr_test_builddir());
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "unknown command"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_match_tracecmd),
		cmocka_unit_test(test_counts_match_tracecmd_mixed),
		cmocka_unit_test(test_file_versions),
		cmocka_unit_test(test_stdin_and_directory),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_help_and_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
