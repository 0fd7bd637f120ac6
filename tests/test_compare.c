// SPDX-License-Identifier: GPL-2.0
/*
 * test_compare.c - `fragreplay compare`: the exact table on a hand-written
 * results file (text, markdown, JSON), the regression gate on a real results
 * file made worse on purpose, every trace's committed baseline plus a fresh
 * replay with every built policy, and clear errors (exit 2, one line naming
 * the file) for malformed, foreign and missing input.
 */
#include <jansson.h>
#include "fr_test.h"

static char out[1 << 17];

/* A results file written by hand: three policies on one trace. */
static const char hand_json[] =
	"{\"schema\":\"fragreplay-results/1\",\n"
	" \"trace\":{\"path\":\"traces/hand\",\"format\":\"trace.dat\",\"kernel\":\"6.18.0\",\"events\":1000,"
	"\"duration_s\":1.5,\"lost_events\":0,\"lost_event_markers\":0,\"lost_by_cpu\":{}},\n"
	" \"machine\":{\"page_size\":4096,\"pageblock_order\":9,\"spb_pages\":262144,\"nr_spbs\":8,\"zones\":[]},\n"
	" \"interval_s\":1.0,\n"
	" \"runs\":[\n"
	"  {\"policy\":{\"name\":\"vanilla\",\"params\":{\"pcp\":\"on\"}},\n"
	"   \"summary\":{\"tainted_final\":4,\"tainted_max\":6,\"tainted_lower_bound_final\":2,"
	"\"tainted_lower_bound_max\":3,\"gigantic_available_min\":3,\"alloc_failures\":0,\"fresh_taints\":5},\n"
	"   \"timeline\":[{\"t\":0.0,\"tainted\":3,\"tainted_live\":2,\"lower_bound\":1},"
	"{\"t\":1.0,\"tainted\":6,\"tainted_live\":5,\"lower_bound\":3},"
	"{\"t\":1.5,\"tainted\":4,\"tainted_live\":3,\"lower_bound\":2}],\n"
	"   \"counters\":{\"allocs\":100,\"frees\":90,\"policy\":{\"pcp_refill\":7}}},\n"
	"  {\"policy\":{\"name\":\"spb\",\"params\":{\"pass2b\":\"on\"}},\n"
	"   \"summary\":{\"tainted_final\":3,\"tainted_max\":4,\"tainted_lower_bound_final\":2,"
	"\"tainted_lower_bound_max\":3,\"gigantic_available_min\":4,\"alloc_failures\":0,\"fresh_taints\":2},\n"
	"   \"timeline\":[{\"t\":0.0,\"tainted\":3,\"tainted_live\":2,\"lower_bound\":1},"
	"{\"t\":1.0,\"tainted\":4,\"tainted_live\":4,\"lower_bound\":3},"
	"{\"t\":1.5,\"tainted\":3,\"tainted_live\":3,\"lower_bound\":2}],\n"
	"   \"counters\":{\"allocs\":100,\"frees\":90,\"policy\":{\"evacuations\":3}}},\n"
	"  {\"policy\":{\"name\":\"mine\",\"params\":{}},\n"
	"   \"summary\":{\"tainted_final\":6,\"tainted_max\":7,\"tainted_lower_bound_final\":2,"
	"\"tainted_lower_bound_max\":3,\"gigantic_available_min\":1,\"alloc_failures\":2,\"fresh_taints\":9},\n"
	"   \"timeline\":[{\"t\":0.0,\"tainted\":3,\"tainted_live\":2,\"lower_bound\":1},"
	"{\"t\":1.0,\"tainted\":7,\"tainted_live\":5,\"lower_bound\":3},"
	"{\"t\":1.5,\"tainted\":6,\"tainted_live\":4,\"lower_bound\":2}],\n"
	"   \"counters\":{\"allocs\":100,\"frees\":90,\"policy\":{}}}\n"
	" ]}\n";

static const char notes[] =
	"lower_bound: ceil(live non-movable pages / usable pages per SPB) at the end of the trace; "
	"ratio = tainted_final / lower_bound\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int compare(const char *args, int with_stderr)
{
	char cmd[16384];
	snprintf(cmd, sizeof(cmd), "%s/fragreplay compare %s%s", fr_test_builddir(), args,
		 with_stderr ? " 2>&1" : " 2>/dev/null");
	return fr_test_run(cmd, out, sizeof(out));
}

static void expect_output(const char *what, const char *want)
{
	if (strcmp(out, want))
		fail_msg("%s: output differs.\n--- want\n%s--- got\n%s---", what, want, out);
}

static void test_help(void **state)
{
	(void)state;
	assert_int_equal(compare("--help", 0), 0);
	assert_non_null(strstr(out, "usage: fragreplay compare"));
	assert_non_null(strstr(out, "--fail-above"));
	assert_non_null(strstr(out, "--metric"));
	assert_non_null(strstr(out, "Exit status"));
}

static void test_table_text_exact(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], args[8400];
	char want[8192];
	(void)state;
	snprintf(f, sizeof(f), "%s/hand.json", dir);
	write_file(f, hand_json);

	/* without a baseline: no change column */
	snprintf(args, sizeof(args), "%s", f);
	assert_int_equal(compare(args, 0), 0);
	snprintf(want, sizeof(want),
		 "trace        policy   tainted_final  tainted_max  lower_bound  ratio  gigantic_min  fresh_taints  failures\n"
		 "traces/hand  vanilla              4            6            2   2.00             3             5         0\n"
		 "traces/hand  spb                  3            4            2   1.50             4             2         0\n"
		 "traces/hand  mine                 6            7            2   3.00             1             9         2\n"
		 "\n%s", notes);
	expect_output("compare hand.json", want);

	snprintf(args, sizeof(args), "%s --baseline vanilla", f);
	assert_int_equal(compare(args, 0), 0);
	snprintf(want, sizeof(want),
		 "trace        policy   tainted_final  tainted_max  lower_bound  ratio  gigantic_min  fresh_taints  failures  tainted_final vs vanilla\n"
		 "traces/hand  vanilla              4            6            2   2.00             3             5         0                  baseline\n"
		 "traces/hand  spb                  3            4            2   1.50             4             2         0               -1 (-25.0%%)\n"
		 "traces/hand  mine                 6            7            2   3.00             1             9         2               +2 (+50.0%%)\n"
		 "\n%s"
		 "metric: tainted_final (SPBs tainted at the end of the trace; lower is better)\n"
		 "baseline: vanilla, in each trace\n", notes);
	expect_output("compare hand.json --baseline vanilla", want);

	/* the baseline by parameters; the gate column */
	snprintf(args, sizeof(args), "%s --baseline spb:pass2b=on --metric tainted_max --fail-above 60", f);
	assert_int_equal(compare(args, 0), 1);
	snprintf(want, sizeof(want),
		 "trace        policy   tainted_final  tainted_max  lower_bound  ratio  gigantic_min  fresh_taints  failures  tainted_max vs spb:pass2b=on  gate (60%%)\n"
		 "traces/hand  vanilla              4            6            2   2.00             3             5         0                   +2 (+50.0%%)  ok\n"
		 "traces/hand  spb                  3            4            2   1.50             4             2         0                      baseline  baseline\n"
		 "traces/hand  mine                 6            7            2   3.00             1             9         2                   +3 (+75.0%%)  FAIL\n"
		 "\n%s"
		 "metric: tainted_max (most SPBs tainted at any sample; lower is better)\n"
		 "baseline: spb:pass2b=on, in each trace\n"
		 "gate: FAILED: 1 of 2 compared runs worse than the baseline by more than 60%%\n", notes);
	expect_output("compare --baseline spb:pass2b=on --metric tainted_max --fail-above 60", want);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_table_markdown_exact(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], args[8400];
	char want[8192];
	(void)state;
	snprintf(f, sizeof(f), "%s/hand.json", dir);
	write_file(f, hand_json);
	snprintf(args, sizeof(args), "%s --baseline vanilla --fail-above 40 --format markdown", f);
	assert_int_equal(compare(args, 0), 1);
	snprintf(want, sizeof(want),
		 "| trace | policy | tainted_final | tainted_max | lower_bound | ratio | gigantic_min | fresh_taints | failures | tainted_final vs vanilla | gate (40%%) |\n"
		 "|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|:---|\n"
		 "| traces/hand | vanilla | 4 | 6 | 2 | 2.00 | 3 | 5 | 0 | baseline | baseline |\n"
		 "| traces/hand | spb | 3 | 4 | 2 | 1.50 | 4 | 2 | 0 | -1 (-25.0%%) | ok |\n"
		 "| traces/hand | mine | 6 | 7 | 2 | 3.00 | 1 | 9 | 2 | +2 (+50.0%%) | FAIL |\n"
		 "\n- %s"
		 "- metric: tainted_final (SPBs tainted at the end of the trace; lower is better)\n"
		 "- baseline: vanilla, in each trace\n"
		 "- gate: FAILED: 1 of 2 compared runs worse than the baseline by more than 40%%\n", notes);
	expect_output("compare --format markdown", want);
	/* the failing run is named on stderr */
	{
		char cmd[16384];
		snprintf(cmd, sizeof(cmd), "%s/fragreplay compare %s --baseline vanilla --fail-above 40 2>&1 >/dev/null",
			 fr_test_builddir(), f);
		assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 1);
	}
	expect_output("gate lines",
		      "fragreplay compare: regression: traces/hand mine: tainted_final 6 vs 4 for vanilla (+50.0%), "
		      "more than 40% worse\n");
	fr_test_rmrf(dir);
	free(dir);
}

static json_t *run_of(json_t *trace, const char *policy)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(trace, "runs"), i, r)
		if (!strcmp(json_string_value(json_object_get(r, "policy")), policy))
			return r;
	fail_msg("no run %s", policy);
	return NULL;
}

static void test_table_json(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], args[8400];
	json_error_t je;
	json_t *j, *tr, *r;
	(void)state;
	snprintf(f, sizeof(f), "%s/hand.json", dir);
	write_file(f, hand_json);
	snprintf(args, sizeof(args), "%s --baseline vanilla --metric ratio --fail-above 40 --format json", f);
	assert_int_equal(compare(args, 0), 1);
	j = json_loads(out, 0, &je);
	if (!j)
		fail_msg("not JSON: %s: %s", je.text, out);
	assert_string_equal(json_string_value(json_object_get(j, "schema")), "fragreplay-compare/1");
	assert_string_equal(json_string_value(json_object_get(j, "metric")), "ratio");
	assert_string_equal(json_string_value(json_object_get(j, "gate")), "fail");
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "traces")), 1);
	tr = json_array_get(json_object_get(j, "traces"), 0);
	assert_string_equal(json_string_value(json_object_get(tr, "trace")), "traces/hand");
	assert_int_equal(json_integer_value(json_object_get(tr, "nr_spbs")), 8);
	r = run_of(tr, "spb");
	assert_true(json_real_value(json_object_get(r, "ratio")) == 1.5);
	assert_true(json_real_value(json_object_get(r, "change")) == -0.5);
	assert_true(json_real_value(json_object_get(r, "change_pct")) == -25.0);
	assert_string_equal(json_string_value(json_object_get(r, "gate")), "pass");
	assert_string_equal(json_string_value(json_object_get(r, "baseline")), "vanilla");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "params"), "pass2b")), "on");
	r = run_of(tr, "mine");
	assert_true(json_real_value(json_object_get(r, "change_pct")) == 50.0);
	assert_string_equal(json_string_value(json_object_get(r, "gate")), "fail");
	assert_int_equal(json_integer_value(json_object_get(r, "alloc_failures")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "fresh_taints")), 9);
	assert_int_equal(json_integer_value(json_object_get(r, "lower_bound")), 2);
	r = run_of(tr, "vanilla");
	assert_string_equal(json_string_value(json_object_get(r, "gate")), "baseline");
	assert_true(json_is_null(json_object_get(r, "change")));
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_gate_boundaries(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], g[4200], args[8400];
	json_error_t je;
	json_t *j;
	(void)state;
	snprintf(f, sizeof(f), "%s/hand.json", dir);
	write_file(f, hand_json);
	/* mine is exactly 50% worse: not "more than" 50 */
	snprintf(args, sizeof(args), "%s --baseline vanilla --fail-above 50", f);
	assert_int_equal(compare(args, 0), 0);
	assert_non_null(strstr(out, "gate: passed"));
	snprintf(args, sizeof(args), "%s --baseline vanilla --fail-above 49.9", f);
	assert_int_equal(compare(args, 0), 1);
	snprintf(args, sizeof(args), "%s --baseline vanilla --fail-above 49.9%%", f);
	assert_int_equal(compare(args, 0), 1);
	/* higher is better: mine's 1 vs 3 is 66.7% worse, spb's 4 is better */
	snprintf(args, sizeof(args), "%s --baseline vanilla --metric gigantic_available_min --fail-above 60", f);
	assert_int_equal(compare(args, 1), 1);
	assert_non_null(strstr(out, "regression: traces/hand mine: gigantic_available_min 1 vs 3"));
	assert_null(strstr(out, "regression: traces/hand spb"));
	snprintf(args, sizeof(args), "%s --baseline vanilla --metric gigantic_available_min --fail-above 70", f);
	assert_int_equal(compare(args, 0), 0);
	/* better than the baseline never trips, even at 0 */
	snprintf(args, sizeof(args), "%s --baseline mine --fail-above 0", f);
	assert_int_equal(compare(args, 0), 0);

	/* a worsening from 0 is infinitely many percent */
	j = json_loads(hand_json, 0, &je);
	assert_non_null(j);
	json_object_set_new(json_object_get(json_array_get(json_object_get(j, "runs"), 0), "summary"),
			    "fresh_taints", json_integer(0));
	snprintf(g, sizeof(g), "%s/zero.json", dir);
	assert_int_equal(json_dump_file(j, g, 0), 0);
	json_decref(j);
	snprintf(args, sizeof(args), "%s --baseline vanilla --metric fresh_taints --fail-above 100000", g);
	assert_int_equal(compare(args, 0), 1);
	assert_non_null(strstr(out, "+9 (from 0)"));
	fr_test_rmrf(dir);
	free(dir);
}

/* A real results file: the committed baseline of small-tar, or a fresh replay. */
static void real_results(const char *dir, char *path, size_t cap)
{
	char cmd[8400];
	snprintf(path, cap, "%s/real.json", dir);
	if (fr_test_exists("results/baselines/small-tar.json")) {
		snprintf(cmd, sizeof(cmd), "cp results/baselines/small-tar.json %s", path);
	} else {
		snprintf(cmd, sizeof(cmd), "%s/fragreplay replay traces/small-tar -p recorded -p vanilla -q -o %s 2>&1",
			 fr_test_builddir(), path);
	}
	if (fr_test_run(cmd, out, sizeof(out)) != 0)
		fail_msg("%s: %s", cmd, out);
}

/* Copy src to dst with the run of policy name's summary keys multiplied. */
static void worsen(const char *src, const char *dst, const char *name, const char *key, int factor, int add)
{
	json_error_t je;
	json_t *j = json_load_file(src, 0, &je), *r;
	size_t i;
	int done = 0;
	if (!j)
		fail_msg("%s: %s", src, je.text);
	json_array_foreach(json_object_get(j, "runs"), i, r) {
		json_t *s = json_object_get(r, "summary");
		if (strcmp(json_string_value(json_object_get(json_object_get(r, "policy"), "name")), name))
			continue;
		json_object_set_new(s, key, json_integer(json_integer_value(json_object_get(s, key)) * factor + add));
		done = 1;
	}
	assert_true(done);
	assert_int_equal(json_dump_file(j, dst, JSON_INDENT(1) | JSON_SORT_KEYS), 0);
	json_decref(j);
}

static void test_gate_real(void **state)
{
	char *dir = fr_test_tmpdir(), real[4200], worse[4200], maxw[4200], args[16384];
	(void)state;
	real_results(dir, real, sizeof(real));
	snprintf(worse, sizeof(worse), "%s/worse.json", dir);
	snprintf(maxw, sizeof(maxw), "%s/worse-max.json", dir);

	/* unchanged: passes */
	snprintf(args, sizeof(args), "%s --baseline vanilla --fail-above 10", real);
	if (compare(args, 1) != 0)
		fail_msg("unchanged results tripped the gate: %s", out);
	assert_non_null(strstr(out, "gate: passed"));

	/* recorded made worse on purpose: +50% tainted_final and tainted_max, plus 1 */
	worsen(real, worse, "recorded", "tainted_final", 3, 2);
	{
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s/tmp.json", dir);
		worsen(worse, tmp, "recorded", "tainted_max", 3, 2);
		rename(tmp, worse);
	}
	snprintf(args, sizeof(args), "%s --baseline vanilla --fail-above 10", worse);
	if (compare(args, 1) != 1)
		fail_msg("worse results passed the gate: %s", out);
	assert_non_null(strstr(out, "fragreplay compare: regression: traces/small-tar recorded: tainted_final"));
	assert_non_null(strstr(out, "gate: FAILED: 1 of "));
	snprintf(args, sizeof(args), "%s --baseline vanilla --metric tainted_max --fail-above 10", worse);
	assert_int_equal(compare(args, 0), 1);

	/* old vs new, same policies: the first file is the baseline */
	snprintf(args, sizeof(args), "%s %s --fail-above 10", real, real);
	assert_int_equal(compare(args, 1), 0);
	snprintf(args, sizeof(args), "%s %s --fail-above 10", real, worse);
	if (compare(args, 1) != 1)
		fail_msg("old vs worse new passed the gate: %s", out);
	assert_non_null(strstr(out, "regression: traces/small-tar recorded ("));

	/* only tainted_max worse: the default metric passes, tainted_max trips */
	worsen(real, maxw, "vanilla", "tainted_max", 2, 0);
	snprintf(args, sizeof(args), "%s %s --fail-above 10", real, maxw);
	assert_int_equal(compare(args, 0), 0);
	snprintf(args, sizeof(args), "%s %s --fail-above 10 --metric tainted_max", real, maxw);
	assert_int_equal(compare(args, 0), 1);
	fr_test_rmrf(dir);
	free(dir);
}

/* Every committed baseline, and a fresh replay of each of their traces with
 * every policy built (recorded, vanilla, spb when it exists). */
static void test_all_traces(void **state)
{
	char *dir = fr_test_tmpdir(), cmd[16384], files[8192] = "", pols[4096] = "";
	json_error_t je;
	json_t *j;
	size_t i, nfiles = 0;
	json_t *tr;
	FILE *ls;
	char line[512];
	(void)state;

	snprintf(cmd, sizeof(cmd), "ls %s/policies/*.so 2>/dev/null", fr_test_builddir());
	ls = popen(cmd, "r");
	assert_non_null(ls);
	while (fgets(line, sizeof(line), ls)) {
		char *b = strrchr(line, '/'), *dot;
		b = b ? b + 1 : line;
		dot = strstr(b, ".so");
		if (dot)
			*dot = 0;
		snprintf(pols + strlen(pols), sizeof(pols) - strlen(pols), " -p %s", b);
	}
	pclose(ls);
	assert_non_null(strstr(pols, "-p vanilla"));

	ls = popen("ls results/baselines/*.json 2>/dev/null", "r");
	assert_non_null(ls);
	while (fgets(line, sizeof(line), ls)) {
		char name[1024], fresh[4200];
		line[strcspn(line, "\n")] = 0;
		snprintf(files + strlen(files), sizeof(files) - strlen(files), " %s", line);
		snprintf(name, sizeof(name), "%s", strrchr(line, '/') + 1);
		name[strlen(name) - 5] = 0;
		snprintf(fresh, sizeof(fresh), "%s/%s.json", dir, name);
		snprintf(cmd, sizeof(cmd), "%s/fragreplay replay traces/%s%s -q -o %s 2>&1", fr_test_builddir(), name,
			 pols, fresh);
		if (fr_test_run(cmd, out, sizeof(out)) != 0)
			fail_msg("%s: %s", cmd, out);
		snprintf(files + strlen(files), sizeof(files) - strlen(files), " %s", fresh);
		nfiles++;
	}
	pclose(ls);
	if (!nfiles) {
		fprintf(stderr, "skip: no results/baselines/*.json\n");
		fr_test_rmrf(dir);
		free(dir);
		skip();
	}
	/* text, markdown: works, gate result either way, never bad input */
	snprintf(cmd, sizeof(cmd), "%s --baseline vanilla --fail-above 10", files);
	i = (size_t)compare(cmd, 1);
	if (i != 0 && i != 1)
		fail_msg("compare%s: exit %zu: %s", cmd, i, out);
	snprintf(cmd, sizeof(cmd), "%s --baseline vanilla --format markdown", files);
	assert_int_equal(compare(cmd, 0), 0);
	snprintf(cmd, sizeof(cmd), "%s --baseline vanilla --format json", files);
	assert_int_equal(compare(cmd, 0), 0);
	j = json_loads(out, 0, &je);
	if (!j)
		fail_msg("not JSON: %s", je.text);
	/* the committed and the fresh results of a trace are one trace */
	assert_int_equal(json_array_size(json_object_get(j, "traces")), nfiles);
	json_array_foreach(json_object_get(j, "traces"), i, tr) {
		size_t k, nvan = 0, nrec = 0, nruns = json_array_size(json_object_get(tr, "runs"));
		json_t *r;
		json_array_foreach(json_object_get(tr, "runs"), k, r) {
			const char *n = json_string_value(json_object_get(r, "name"));
			nvan += !strcmp(n, "vanilla");
			nrec += !strcmp(n, "recorded");
			assert_true(json_is_string(json_object_get(r, "baseline")));
		}
		assert_true(nvan >= 2 && nrec >= 2 && nruns >= 4);
	}
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

/* Exit 2 and exactly one line that starts with the command and names the file. */
static void expect_bad(const char *args, const char *needle)
{
	int rc = compare(args, 1);
	char *nl = strchr(out, '\n');
	if (rc != 2)
		fail_msg("compare %s: exit %d, want 2: %s", args, rc, out);
	if (!nl || nl[1])
		fail_msg("compare %s: not one line: %s", args, out);
	if (strncmp(out, "fragreplay compare: ", 20))
		fail_msg("compare %s: %s", args, out);
	if (needle && !strstr(out, needle))
		fail_msg("compare %s: '%s' not in: %s", args, needle, out);
}

static void test_errors(void **state)
{
	char *dir = fr_test_tmpdir(), p[4200], args[16384], want[8400];
	(void)state;

	snprintf(p, sizeof(p), "%s/malformed.json", dir);
	write_file(p, "{\"schema\": \"fragreplay-results/1\",\n \"runs\": [1, 2,\n");
	snprintf(want, sizeof(want), "%s: line 3 column 0: ", p);
	expect_bad(p, want);

	snprintf(p, sizeof(p), "%s/foreign.json", dir);
	write_file(p, "{\"a\":1}\n");
	snprintf(want, sizeof(want), "%s: not a fragreplay results file (schema", p);
	expect_bad(p, want);

	snprintf(p, sizeof(p), "%s/array.json", dir);
	write_file(p, "[1, 2, 3]\n");
	snprintf(want, sizeof(want), "%s: not a fragreplay results file (schema", p);
	expect_bad(p, want);

	snprintf(p, sizeof(p), "%s/future.json", dir);
	write_file(p, "{\"schema\":\"fragreplay-results/2\"}\n");
	snprintf(want, sizeof(want), "%s: not a fragreplay results file (schema \"fragreplay-results/2\"", p);
	expect_bad(p, want);

	snprintf(p, sizeof(p), "%s/empty.json", dir);
	write_file(p, "");
	snprintf(want, sizeof(want), "%s: ", p);
	expect_bad(p, want);

	snprintf(p, sizeof(p), "%s/wrongtype.json", dir);
	{
		/* spb's "tainted_final":3 becomes "tainted_final":"3" */
		char bad[sizeof(hand_json) + 8];
		const char *at = strstr(hand_json, "\"tainted_final\":3");
		assert_non_null(at);
		snprintf(bad, sizeof(bad), "%.*s\"tainted_final\":\"3\"%s", (int)(at - hand_json), hand_json,
			 at + strlen("\"tainted_final\":3"));
		write_file(p, bad);
	}
	snprintf(want, sizeof(want), "%s: runs[1].summary.tainted_final: expected an integer, found a string", p);
	expect_bad(p, want);

	snprintf(p, sizeof(p), "%s/missing.json", dir);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", p);
	expect_bad(p, want);

	snprintf(want, sizeof(want), "%s: is a directory", dir);
	expect_bad(dir, want);

	/* good file first, bad second: still exit 2, naming the bad one */
	snprintf(p, sizeof(p), "%s/hand.json", dir);
	write_file(p, hand_json);
	snprintf(args, sizeof(args), "%s %s/foreign.json", p, dir);
	snprintf(want, sizeof(want), "%s/foreign.json: not a fragreplay", dir);
	expect_bad(args, want);

	/* usage */
	expect_bad("", "give at least one RESULTS.json");
	snprintf(args, sizeof(args), "%s --format xml", p);
	expect_bad(args, "--format");
	snprintf(args, sizeof(args), "%s --fail-above -3", p);
	expect_bad(args, "--fail-above");
	snprintf(args, sizeof(args), "%s --fail-above ten", p);
	expect_bad(args, "--fail-above");
	snprintf(args, sizeof(args), "%s --fail-above 10", p);
	expect_bad(args, "no run has a baseline");
	snprintf(args, sizeof(args), "%s --baseline nosuch", p);
	expect_bad(args, "no run of the baseline policy 'nosuch' for trace traces/hand (it has: vanilla:pcp=on, "
			 "spb:pass2b=on, mine)");
	snprintf(args, sizeof(args), "%s --baseline vanilla:pcp=off", p);
	expect_bad(args, "no run of the baseline policy 'vanilla:pcp=off'");
	snprintf(args, sizeof(args), "%s --baseline vanilla:pcp", p);
	expect_bad(args, "--baseline");
	snprintf(args, sizeof(args), "%s --baseline vanilla --metric nosuch", p);
	expect_bad(args, "--metric 'nosuch': not a metric");

	/* standard input */
	snprintf(args, sizeof(args), "- --baseline vanilla < %s", p);
	assert_int_equal(compare(args, 0), 0);
	assert_non_null(strstr(out, "traces/hand  mine"));
	fr_test_rmrf(dir);
	free(dir);
}

/* An interrupted replay ("partial": true): a note, and never gated. */
static void test_partial(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], args[8400], want[8800];
	char text[sizeof(hand_json) + 32];
	(void)state;
	snprintf(f, sizeof(f), "%s/partial.json", dir);
	snprintf(text, sizeof(text), "{\"partial\":true,%s", hand_json + 1);
	write_file(f, text);
	snprintf(args, sizeof(args), "%s --baseline vanilla", f);
	assert_int_equal(compare(args, 0), 0);
	snprintf(want, sizeof(want), "partial: %s is an interrupted replay of traces/hand (\"partial\": true): its runs "
		 "stop after 1000 events\n", f);
	assert_non_null(strstr(out, want));
	snprintf(args, sizeof(args), "%s --baseline vanilla --fail-above 1000", f);
	snprintf(want, sizeof(want), "%s: results marked partial", f);
	assert_int_equal(compare(args, 1), 2);
	assert_non_null(strstr(out, want));
	fr_test_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_table_text_exact),
		cmocka_unit_test(test_table_markdown_exact),
		cmocka_unit_test(test_table_json),
		cmocka_unit_test(test_gate_boundaries),
		cmocka_unit_test(test_gate_real),
		cmocka_unit_test(test_all_traces),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_partial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
