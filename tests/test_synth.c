// SPDX-License-Identifier: GPL-2.0
/*
 * test_synth.c - `fragreplay synth`: exact event counts, self-consistency
 * (no free of a non-live pfn; `replay -p recorded --check` replays it with
 * no overlap, no unknown free, no violation), the order x migratetype mix of
 * the --like recording, the live footprint, determinism, and bad usage.
 * Small machines and short traces only: the big figures are `make bench`.
 */
#include <jansson.h>
#include <math.h>
#include "fr_test.h"

#define LIKE "traces/small-tar"

static char out[1 << 20];

/* Absolute: some tests run it from a temporary directory. */
static const char *fr(void)
{
	static char path[1024];
	char cwd[900];
	if (!path[0]) {
		const char *b = fr_test_builddir();
		if (b[0] == '/' || !getcwd(cwd, sizeof(cwd)))
			snprintf(path, sizeof(path), "%s/fragreplay", b);
		else
			snprintf(path, sizeof(path), "%s/%s/fragreplay", cwd, b);
	}
	return path;
}

static json_t *run_json(const char *cmd)
{
	json_error_t je;
	int rc = fr_test_run(cmd, out, sizeof(out));
	if (rc != 0)
		fail_msg("'%s' exited %d: %.400s", cmd, rc, out);
	json_t *j = json_loads(out, 0, &je);
	if (!j)
		fail_msg("'%s': not JSON: %s", cmd, je.text);
	return j;
}

static json_t *info_json(const char *trace)
{
	char cmd[24576];
	snprintf(cmd, sizeof(cmd), "%s info --json '%s' 2>/dev/null", fr(), trace);
	return run_json(cmd);
}

static long long jint(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	if (!json_is_integer(v))
		fail_msg("no integer '%s'", k);
	return (long long)json_integer_value(v);
}

static void synth(const char *args, const char *outpath)
{
	char cmd[24576];
	snprintf(cmd, sizeof(cmd), "%s synth %s -q -o '%s' 2>&1", fr(), args, outpath);
	int rc = fr_test_run(cmd, out, sizeof(out));
	if (rc != 0)
		fail_msg("'%s' exited %d: %s", cmd, rc, out);
}

/* info of a synthetic trace: exact count and a consistent alloc/free stream */
static json_t *check_consistent(const char *trace, long long events)
{
	json_t *j = info_json(trace);
	assert_int_equal(jint(j, "events_total"), events);
	assert_int_equal(jint(j, "frees_without_alloc"), 0);
	assert_int_equal(jint(j, "allocs_of_live_pfn"), 0);
	assert_int_equal(jint(j, "free_order_mismatches"), 0);
	assert_int_equal(jint(j, "batched_frees_without_free"), 0);
	assert_int_equal(jint(j, "out_of_order_events"), 0);
	assert_string_equal(json_string_value(json_object_get(j, "format")), "frt");
	return j;
}

/* The order x migratetype shares of a synthetic trace against its --like recording. */
static void check_mix(const json_t *like, const json_t *syn, double tol)
{
	const json_t *a = json_object_get(like, "allocs_by_order_migratetype");
	const json_t *b = json_object_get(syn, "allocs_by_order_migratetype");
	double na = 0, nb = 0;
	const char *o, *m;
	json_t *row, *v;

	json_object_foreach((json_t *)a, o, row)
		json_object_foreach(row, m, v)
			na += (double)json_integer_value(v);
	json_object_foreach((json_t *)b, o, row)
		json_object_foreach(row, m, v)
			nb += (double)json_integer_value(v);
	assert_true(na > 0 && nb > 0);
	/* every cell of either side */
	for (int side = 0; side < 2; side++) {
		const json_t *x = side ? b : a, *y = side ? a : b;
		json_object_foreach((json_t *)x, o, row)
			json_object_foreach(row, m, v) {
				const json_t *yr = json_object_get(y, o);
				const json_t *yv = yr ? json_object_get(yr, m) : NULL;
				double px = (double)json_integer_value(v) / (side ? nb : na);
				double py = yv ? (double)json_integer_value(yv) / (side ? na : nb) : 0;
				if (fabs(px - py) > tol)
					fail_msg("order %s %s: %.4f in the %s, %.4f in the %s", o, m, px,
						 side ? "synthetic trace" : "recording", py,
						 side ? "recording" : "synthetic trace");
				/* nothing the recording never did */
				if (side && !(yv && json_integer_value(yv) > 0))
					fail_msg("order %s %s: in the synthetic trace, never in the recording", o, m);
			}
	}
}

static void test_small_tar(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], r[4200], cmd[24576];
	(void)state;
	snprintf(f, sizeof(f), "%s/s.frt", dir);
	snprintf(r, sizeof(r), "%s/r.json", dir);
	synth("--mem 4G --events 200000 --like " LIKE " --seed 3", f);

	json_t *syn = check_consistent(f, 200000);
	json_t *like = info_json(LIKE);
	check_mix(like, syn, 0.01);
	json_t *snaps = json_object_get(syn, "snapshots");
	assert_int_equal(json_array_size(snaps), 1);
	assert_string_equal(json_string_value(json_array_get(snaps, 0)), "zoneinfo.start");
	assert_int_equal(jint(syn, "cpus"), 2);

	/* the recorded policy replays it exactly; vanilla replays it too */
	snprintf(cmd, sizeof(cmd), "%s replay '%s' -p recorded -p vanilla --check -q -o '%s' 2>&1", fr(), f, r);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	json_error_t je;
	json_t *res = json_load_file(r, 0, &je);
	assert_non_null(res);
	json_t *zone = json_array_get(json_object_get(json_object_get(res, "machine"), "zones"), 0);
	assert_int_equal(jint(zone, "managed"), (4ll << 30) / 4096);	/* the embedded zoneinfo */
	assert_int_equal(jint(zone, "start_pfn"), 0);
	json_t *runs = json_object_get(res, "runs");
	assert_int_equal(json_array_size(runs), 2);
	for (size_t i = 0; i < json_array_size(runs); i++) {
		json_t *run = json_array_get(runs, i), *c = json_object_get(run, "counters");
		const char *pol = json_string_value(json_object_get(json_object_get(run, "policy"), "name"));
		/* every policy: a consistent model, every traced allocation offered */
		assert_int_equal(jint(c, "check_violations"), 0);
		assert_int_equal(jint(c, "bad_placements"), 0);
		assert_int_equal(jint(c, "allocs_of_live_pfn"), 0);
		assert_int_equal(jint(c, "partial_frees"), 0);
		assert_int_equal(jint(json_object_get(run, "summary"), "check_violations"), 0);
		assert_int_equal(jint(c, "allocs"), jint(json_object_get(syn, "events"), "mm_page_alloc"));
		if (!strcmp(pol, "recorded")) {
			/* exactly what the trace says: no overlap, every free known */
			assert_int_equal(jint(c, "unknown_frees"), 0);
			json_t *ov = json_object_get(json_object_get(c, "policy"), "overlap");
			assert_true(!ov || json_integer_value(ov) == 0);
			assert_int_equal(jint(c, "alloc_failures"), 0);
			assert_int_equal(jint(c, "frees"), jint(json_object_get(syn, "events"), "mm_page_free"));
		}
	}
	json_decref(res);
	json_decref(syn);
	json_decref(like);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_determinism(void **state)
{
	char *dir = fr_test_tmpdir(), a[4200], b[4200], c[4200], cmd[24576];
	(void)state;
	snprintf(a, sizeof(a), "%s/a.frt", dir);
	snprintf(b, sizeof(b), "%s/b.frt", dir);
	snprintf(c, sizeof(c), "%s/c.frt", dir);
	synth("--mem 4G --events 200000 --like " LIKE " --seed 42", a);
	synth("--mem 4G --events 200000 --like " LIKE " --seed 42", b);
	synth("--mem 4G --events 200000 --like " LIKE " --seed 43", c);
	snprintf(cmd, sizeof(cmd), "cmp '%s' '%s'", a, b);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, c);
	assert_int_not_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	/* standard output gives the same bytes */
	snprintf(cmd, sizeof(cmd), "%s synth --mem 4G --events 200000 --like " LIKE " --seed 42 -q -o - | cmp - '%s'",
		 fr(), a);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	fr_test_rmrf(dir);
	free(dir);
}

/* The live footprint ramps up to the target share of memory and stays there. */
static void test_footprint(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200];
	(void)state;
	snprintf(f, sizeof(f), "%s/f.frt", dir);
	synth("--mem 256M --events 300000 --live 0.3 --seed 5", f);	/* built-in profile */
	json_t *j = check_consistent(f, 300000);
	double live = (double)(jint(j, "alloc_pages") - jint(j, "free_pages")) / 65536.0;
	if (fabs(live - 0.3) > 0.02)
		fail_msg("live footprint at the end: %.3f of memory, target 0.3", live);
	assert_true(jint(j, "pfn_max") < 65536);
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

/* The built-in profile is small-tar's; a second recording with another mix. */
static void test_profiles(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], cmd[24576];
	(void)state;
	snprintf(f, sizeof(f), "%s/d.frt", dir);
	synth("--mem 2G --events 150000", f);
	json_t *syn = check_consistent(f, 150000), *like = info_json(LIKE);
	check_mix(like, syn, 0.012);
	json_decref(syn);
	json_decref(like);

	synth("--mem 2G --events 150000 --like traces/thp-slab --cpus 8", f);
	syn = check_consistent(f, 150000);
	like = info_json("traces/thp-slab");
	check_mix(like, syn, 0.012);
	assert_int_equal(jint(syn, "cpus"), 8);
	assert_true(jint(json_object_get(syn, "events"), "mm_page_free_batched") > 0);
	json_decref(syn);
	json_decref(like);

	snprintf(cmd, sizeof(cmd), "%s synth --like " LIKE " --print-profile", fr());
	json_t *p = run_json(cmd);
	assert_int_equal(jint(p, "allocs"), 40567);
	assert_int_equal(jint(p, "nr_cpus"), 2);
	assert_true(json_array_size(json_object_get(p, "mix")) > 10);
	json_decref(p);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_mixed_reference(void **state)
{
	char *dir, f[4200], r[4200], like[1024], cmd[24576];
	(void)state;
	snprintf(like, sizeof(like), "%s/mixed-6.18", fr_test_shared_traces());
	if (!fr_test_exists(like)) {
		fprintf(stderr, "skip: %s missing\n", like);
		skip();
	}
	dir = fr_test_tmpdir();
	snprintf(f, sizeof(f), "%s/m.frt", dir);
	snprintf(r, sizeof(r), "%s/r.json", dir);
	snprintf(cmd, sizeof(cmd), "--mem 8G --events 200000 --like '%s'", like);
	synth(cmd, f);
	json_t *syn = check_consistent(f, 200000), *lj = info_json(like);
	check_mix(lj, syn, 0.01);
	snprintf(cmd, sizeof(cmd), "%s replay '%s' -p recorded --check -q -o '%s' 2>&1", fr(), f, r);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	json_error_t je;
	json_t *res = json_load_file(r, 0, &je);
	assert_non_null(res);
	json_t *c = json_object_get(json_array_get(json_object_get(res, "runs"), 0), "counters");
	json_t *ov = json_object_get(json_object_get(c, "policy"), "overlap");
	assert_true(!ov || json_integer_value(ov) == 0);
	assert_int_equal(jint(c, "unknown_frees"), 0);
	assert_int_equal(jint(c, "check_violations"), 0);
	json_decref(res);
	json_decref(syn);
	json_decref(lj);
	fr_test_rmrf(dir);
	free(dir);
}

/* exit 2 with exactly one line on stderr, and no output file */
static void bad(const char *dir, const char *args, const char *needle)
{
	char cmd[24576], f[4200];
	snprintf(f, sizeof(f), "%s/bad.frt", dir);
	snprintf(cmd, sizeof(cmd), "cd '%s' && %s synth %s 2>&1 >/dev/null", dir, fr(), args);
	int rc = fr_test_run(cmd, out, sizeof(out));
	if (rc != 2)
		fail_msg("synth %s: exit %d, want 2 (%s)", args, rc, out);
	size_t len = strlen(out);
	if (!len || out[len - 1] != '\n' || strchr(out, '\n') != out + len - 1)
		fail_msg("synth %s: want one line on stderr, got '%s'", args, out);
	if (needle && !strstr(out, needle))
		fail_msg("synth %s: '%s' does not mention '%s'", args, out, needle);
	if (fr_test_exists(f))
		fail_msg("synth %s: left %s behind", args, f);
}

static void test_errors(void **state)
{
	char *dir = fr_test_tmpdir(), cmd[24576];
	(void)state;
	bad(dir, "--events 1000 -o bad.frt", "--mem");
	bad(dir, "--mem 4G -o bad.frt", "--events");
	bad(dir, "--mem 4G --events 1000", "-o");
	bad(dir, "--mem 4X --events 1000 -o bad.frt", "4X");
	bad(dir, "--mem 1M --events 1000 -o bad.frt", "64 MiB");
	bad(dir, "--mem 4G --events 0 -o bad.frt", "--events");
	bad(dir, "--mem 4G --events 12q -o bad.frt", "12q");
	bad(dir, "--mem 4G --events 1000 --seed x -o bad.frt", "--seed");
	bad(dir, "--mem 4G --events 1000 --live 2 -o bad.frt", "--live");
	bad(dir, "--mem 4G --events 1000 --cpus 0 -o bad.frt", "--cpus");
	bad(dir, "--mem 4G --events 1000 --like /nonexistent/trace -o bad.frt", "/nonexistent/trace");
	bad(dir, "--mem 4G --events 1000 --level 99 -o bad.frt", "--level");
	bad(dir, "--mem 4G --events 1000 --bogus -o bad.frt", "--bogus");
	bad(dir, "--mem 4G --events 1000 -o bad.frt extra", "extra");
	bad(dir, "--mem 4G --events 1000 -o /nonexistent/dir/x.frt", "/nonexistent/dir/x.frt");
	bad(dir, "--mem", "--mem");
	/* a recording with no allocation to learn from */
	snprintf(cmd, sizeof(cmd), "printf 'not a trace\\n' > '%s/empty.txt'", dir);
	assert_int_equal(fr_test_run(cmd, NULL, 0), 0);
	bad(dir, "--mem 4G --events 1000 --like empty.txt -o bad.frt", "empty.txt");

	snprintf(cmd, sizeof(cmd), "%s synth --help", fr());
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "--like TRACE"));
	assert_non_null(strstr(out, "Exit status"));
	snprintf(cmd, sizeof(cmd), "%s --help", fr());
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "synth"));
	fr_test_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_tar),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_footprint),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_mixed_reference),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
