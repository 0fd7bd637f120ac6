// SPDX-License-Identifier: GPL-2.0
/*
 * test_report.c - `fragreplay report`: the HTML of every trace's committed
 * baseline results (plus a fresh replay with every built policy) is
 * self-contained and deterministic; headless Chromium (Debian's chromium)
 * loads it and its DOM has one timeline plot per trace with legends, axis
 * titles and the summary tables with the policy names; the SVG is strict
 * XML; a screenshot is written to $B/tests/report.png for a person to look
 * at. Hostile names are escaped. Bad input: exit 2, one line, no output
 * file left behind.
 */
#include <jansson.h>
#include <limits.h>
#include "fr_test.h"

static char out[1 << 20];
static char html[1 << 22];

static const char hand_json[] =
	"{\"schema\":\"fragreplay-results/1\",\n"
	" \"trace\":{\"path\":\"traces/<script>alert(1)</script>&\\\"x\\\"\",\"format\":\"text\",\"kernel\":\"6.18\","
	"\"events\":10,\"duration_s\":2.0,\"lost_events\":7,\"lost_event_markers\":1,\"lost_by_cpu\":{\"1\":7}},\n"
	" \"machine\":{\"page_size\":4096,\"pageblock_order\":9,\"spb_pages\":262144,\"nr_spbs\":4},\n"
	" \"runs\":[\n"
	"  {\"policy\":{\"name\":\"<b>evil&co</b>\",\"params\":{}},\n"
	"   \"summary\":{\"tainted_final\":2,\"tainted_max\":3,\"tainted_lower_bound_final\":1,"
	"\"tainted_lower_bound_max\":1,\"gigantic_available_min\":1,\"alloc_failures\":0,\"fresh_taints\":1},\n"
	"   \"timeline\":[{\"t\":0.0,\"tainted\":1,\"tainted_live\":1,\"lower_bound\":1},"
	"{\"t\":2.0,\"tainted\":2,\"tainted_live\":1,\"lower_bound\":1}],\n"
	"   \"counters\":{\"allocs\":3,\"policy\":{\"x<y\":1}}}\n"
	" ]}\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;
	if (!f)
		fail_msg("%s: cannot open", path);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = 0;
	fclose(f);
	return n;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static int report(const char *args)
{
	char cmd[16384];
	snprintf(cmd, sizeof(cmd), "%s/fragreplay report %s 2>&1", fr_test_builddir(), args);
	return fr_test_run(cmd, out, sizeof(out));
}

static int have_chromium(void)
{
	return fr_test_run("command -v chromium >/dev/null 2>&1", NULL, 0) == 0;
}

/* Run headless Chromium on a local file; extra is --dump-dom or --screenshot=... */
static int chromium(const char *file, const char *extra, char *buf, size_t cap)
{
	char abs[PATH_MAX], cmd[16384], *profile = fr_test_tmpdir();
	int rc;
	if (!profile || !realpath(file, abs)) {
		free(profile);
		return -1;
	}
	snprintf(cmd, sizeof(cmd),
		 "cd %s && timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
		 "--disable-background-networking --disable-component-update --disable-sync "
		 "--user-data-dir=%s %s 'file://%s' 2>/dev/null",
		 profile, profile, extra, abs);
	rc = fr_test_run(cmd, buf, cap);
	fr_test_rmrf(profile);
	free(profile);
	return rc;
}

/* The committed baselines (every trace in traces/ that replays) and, for each,
 * a fresh replay with every built policy, so spb is in once it is built. */
static size_t inputs(const char *dir, char *files, size_t cap, char *pols, size_t pcap)
{
	char line[512], cmd[16384];
	size_t n = 0;
	FILE *ls;

	pols[0] = 0;
	snprintf(cmd, sizeof(cmd), "ls %s/policies/*.so 2>/dev/null", fr_test_builddir());
	ls = popen(cmd, "r");
	assert_non_null(ls);
	while (fgets(line, sizeof(line), ls)) {
		char *b = strrchr(line, '/'), *dot;
		b = b ? b + 1 : line;
		if ((dot = strstr(b, ".so")))
			*dot = 0;
		snprintf(pols + strlen(pols), pcap - strlen(pols), " -p %s", b);
	}
	pclose(ls);
	files[0] = 0;
	ls = popen("ls results/baselines/*.json 2>/dev/null", "r");
	assert_non_null(ls);
	while (fgets(line, sizeof(line), ls)) {
		char name[512], fresh[4200];
		line[strcspn(line, "\n")] = 0;
		snprintf(name, sizeof(name), "%s", strrchr(line, '/') + 1);
		name[strlen(name) - 5] = 0;
		snprintf(fresh, sizeof(fresh), "%s/%s.json", dir, name);
		snprintf(cmd, sizeof(cmd), "%s/fragreplay replay traces/%s%s -q -o %s 2>&1", fr_test_builddir(), name,
			 pols, fresh);
		if (fr_test_run(cmd, out, sizeof(out)) != 0)
			fail_msg("%s: %s", cmd, out);
		snprintf(files + strlen(files), cap - strlen(files), " %s %s", line, fresh);
		n++;
	}
	pclose(ls);
	return n;
}

static void test_help(void **state)
{
	(void)state;
	assert_int_equal(report("--help"), 0);
	assert_non_null(strstr(out, "usage: fragreplay report"));
	assert_non_null(strstr(out, "-o, --output"));
	assert_non_null(strstr(out, "Exit status"));
}

static void test_render(void **state)
{
	char *dir = fr_test_tmpdir(), files[16384], pols[4096], args[24000], a[4200], b[4200], cmd[9000];
	size_t ntraces, n;
	(void)state;

	ntraces = inputs(dir, files, sizeof(files), pols, sizeof(pols));
	if (!ntraces) {
		fprintf(stderr, "skip: no results/baselines/*.json\n");
		fr_test_rmrf(dir);
		free(dir);
		skip();
	}
	snprintf(a, sizeof(a), "%s/report.html", dir);
	snprintf(b, sizeof(b), "%s/again.html", dir);
	snprintf(args, sizeof(args), "%s --baseline vanilla -o %s", files, a);
	if (report(args) != 0)
		fail_msg("report %s: %s", args, out);
	snprintf(args, sizeof(args), "%s --baseline vanilla -o %s", files, b);
	assert_int_equal(report(args), 0);
	/* deterministic */
	snprintf(cmd, sizeof(cmd), "cmp %s %s", a, b);
	assert_int_equal(fr_test_run(cmd, NULL, 0), 0);

	n = read_file(a, html, sizeof(html));
	assert_true(n > 1000);
	assert_int_equal(strncmp(html, "<!DOCTYPE html>", 15), 0);
	/* self-contained: no scripts, nothing fetched; the only URL is the SVG namespace */
	assert_int_equal(count(html, "<script"), 0);
	assert_int_equal(count(html, " src="), 0);
	assert_int_equal(count(html, "<link"), 0);
	assert_int_equal(count(html, "url("), 0);
	assert_int_equal(count(html, "http"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
	/* one plot and one summary table per trace (committed + fresh results of a trace are one trace) */
	assert_int_equal(count(html, "<svg "), ntraces);
	assert_int_equal(count(html, "<table class=\"summary\">"), ntraces);
	assert_int_equal(count(html, "<table class=\"counters\">"), ntraces);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_chromium_dom(void **state)
{
	char *dir = fr_test_tmpdir(), files[16384], pols[4096], args[24000], a[4200], png[4200], svgf[4200];
	size_t ntraces;
	(void)state;

	if (!have_chromium()) {
		fprintf(stderr, "skip: chromium is not installed (sh .ci/deps.sh installs it)\n");
		fr_test_rmrf(dir);
		free(dir);
		skip();
	}
	ntraces = inputs(dir, files, sizeof(files), pols, sizeof(pols));
	if (!ntraces) {
		fprintf(stderr, "skip: no results/baselines/*.json\n");
		fr_test_rmrf(dir);
		free(dir);
		skip();
	}
	snprintf(a, sizeof(a), "%s/report.html", dir);
	snprintf(args, sizeof(args), "%s --baseline vanilla -o %s", files, a);
	if (report(args) != 0)
		fail_msg("report: %s", out);

	if (chromium(a, "--dump-dom", html, sizeof(html)) != 0)
		fail_msg("chromium --dump-dom failed: %.2000s", html);
	/* the plots, as the browser parsed them */
	assert_int_equal(count(html, "<svg "), ntraces);
	assert_int_equal(count(html, "class=\"timeline\""), ntraces);
	assert_int_equal(count(html, "class=\"x-axis\""), ntraces);
	assert_int_equal(count(html, "class=\"y-axis\""), ntraces);
	assert_int_equal(count(html, "time since the trace's first event (s)"), ntraces);
	assert_int_equal(count(html, ">SPBs (1 GiB each; "), ntraces);
	/* legends: the line styles and every policy */
	assert_int_equal(count(html, ">tainted_live (holding non-movable pages now)</text>"), ntraces);
	assert_int_equal(count(html, ">lower bound (physical minimum)</text>"), ntraces);
	assert_true(count(html, "class=\"legend-entry\"") >= 2 * ntraces);
	for (const char *p = pols; (p = strstr(p, "-p ")) != NULL;) {
		char name[256], needle[512];
		p += 3;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, " "), p);
		/* in the legends and in the summary tables (labels may carry a file or parameters) */
		snprintf(needle, sizeof(needle), "fill=\"#222\">%s", name);
		if (count(html, needle) < ntraces)
			fail_msg("policy %s: in %zu legends, want %zu", name, count(html, needle), ntraces);
		snprintf(needle, sizeof(needle), "</span>%s", name);
		if (count(html, needle) < 2 * ntraces)
			fail_msg("policy %s: in %zu table cells, want the summary and counters of %zu traces", name,
				 count(html, needle), ntraces);
	}
	assert_true(count(html, "<td class=\"policy\"><span class=\"swatch\"") >= 2 * ntraces);
	/* three lines per run: solid, dashed, dotted */
	assert_true(count(html, "<polyline") >= 3 * 4 * ntraces);
	assert_true(count(html, "stroke-dasharray=\"7 5\"") >= ntraces);
	/* the summary tables, the counters and the metadata */
	assert_int_equal(count(html, "<table class=\"summary\">"), ntraces);
	assert_int_equal(count(html, "<th class=\"num\">tainted_<wbr>final</th>"), ntraces);
	assert_int_equal(count(html, "<th class=\"num\">tainted_<wbr>final vs vanilla</th>"), ntraces);
	assert_int_equal(count(html, "<table class=\"counters\">"), ntraces);
	assert_int_equal(count(html, "<h3>Lost events</h3>"), ntraces);
	assert_int_equal(count(html, "<h3>Machine</h3>"), ntraces);
	assert_non_null(strstr(html, "traces/small-tar"));

	/* the SVG alone is strict XML (Chromium shows a parser error page otherwise) */
	{
		char *s = strstr(read_file(a, html, sizeof(html)) ? html : "", "<svg "), *e;
		assert_non_null(s);
		e = strstr(s, "</svg>");
		assert_non_null(e);
		e[6] = 0;
		snprintf(svgf, sizeof(svgf), "%s/plot.svg", dir);
		write_file(svgf, s);
		assert_int_equal(chromium(svgf, "--dump-dom", html, sizeof(html)), 0);
		if (strstr(html, "parsererror") || strstr(html, "This page contains the following errors"))
			fail_msg("the SVG is not well-formed XML: %.2000s", html);
		assert_non_null(strstr(html, "<polyline"));
	}

	/* a screenshot for a person to look at: $B/tests/report.png */
	snprintf(png, sizeof(png), "%s/tests/report.png", fr_test_builddir());
	{
		char abs[PATH_MAX + 32], extra[PATH_MAX + 128];
		char *slash;
		assert_non_null(realpath(fr_test_builddir(), abs));
		slash = abs + strlen(abs);
		snprintf(slash, sizeof(abs) - strlen(abs), "/tests/report.png");
		unlink(abs);
		snprintf(extra, sizeof(extra), "--window-size=1200,2600 --hide-scrollbars --screenshot=%s", abs);
		assert_int_equal(chromium(a, extra, out, sizeof(out)), 0);
		{
			FILE *f = fopen(abs, "rb");
			unsigned char sig[8];
			struct stat st;
			assert_non_null(f);
			assert_int_equal(fread(sig, 1, 8, f), 8);
			fclose(f);
			assert_int_equal(memcmp(sig, "\x89PNG\r\n\x1a\n", 8), 0);
			assert_int_equal(stat(abs, &st), 0);
			assert_true(st.st_size > 20000);
			fprintf(stderr, "screenshot: %s (%lld bytes)\n", abs, (long long)st.st_size);
		}
	}
	(void)png;
	fr_test_rmrf(dir);
	free(dir);
}

static void test_escaping(void **state)
{
	char *dir = fr_test_tmpdir(), f[4200], a[4200], args[9000];
	(void)state;
	snprintf(f, sizeof(f), "%s/evil.json", dir);
	snprintf(a, sizeof(a), "%s/evil.html", dir);
	write_file(f, hand_json);
	snprintf(args, sizeof(args), "%s -o %s --title 'T<i>'", f, a);
	if (report(args) != 0)
		fail_msg("report: %s", out);
	read_file(a, html, sizeof(html));
	assert_int_equal(count(html, "<script"), 0);
	assert_int_equal(count(html, "<b>evil"), 0);
	assert_int_equal(count(html, "<i>'"), 0);
	assert_non_null(strstr(html, "traces/&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;x&quot;"));
	assert_non_null(strstr(html, "&lt;b&gt;evil&amp;co&lt;/b&gt;"));
	assert_non_null(strstr(html, "<title>T&lt;i&gt;</title>"));
	assert_non_null(strstr(html, "policy.x&lt;y"));
	/* an interrupted replay is flagged */
	{
		char text[sizeof(hand_json) + 32], pf[4200], ph[4200];
		snprintf(pf, sizeof(pf), "%s/partial.json", dir);
		snprintf(ph, sizeof(ph), "%s/partial.html", dir);
		snprintf(text, sizeof(text), "{\"partial\":true,%s", hand_json + 1);
		write_file(pf, text);
		snprintf(args, sizeof(args), "%s -o %s", pf, ph);
		assert_int_equal(report(args), 0);
		read_file(ph, html, sizeof(html));
		assert_non_null(strstr(html, "<p class=\"partial warn\">Partial results: <code>"));
		read_file(a, html, sizeof(html));
		assert_null(strstr(html, "Partial results"));
	}
	/* lost events are shown */
	assert_non_null(strstr(html, "class=\"lost warn\""));
	assert_non_null(strstr(html, "<b>7</b> events"));
	if (have_chromium()) {
		assert_int_equal(chromium(a, "--dump-dom", html, sizeof(html)), 0);
		assert_int_equal(count(html, "<script"), 0);
		assert_int_equal(count(html, "class=\"timeline\""), 1);
	}
	fr_test_rmrf(dir);
	free(dir);
}

static void expect_bad(const char *args, const char *needle)
{
	int rc = report(args);
	char *nl = strchr(out, '\n');
	if (rc != 2)
		fail_msg("report %s: exit %d, want 2: %s", args, rc, out);
	if (!nl || nl[1])
		fail_msg("report %s: not one line: %s", args, out);
	if (strncmp(out, "fragreplay report: ", 19) || (needle && !strstr(out, needle)))
		fail_msg("report %s: want '%s' in: %s", args, needle ? needle : "", out);
}

static void test_errors(void **state)
{
	char *dir = fr_test_tmpdir(), p[4200], o[4200], args[9000], want[4400], cmd[4400];
	(void)state;
	snprintf(o, sizeof(o), "%s/out.html", dir);

	snprintf(p, sizeof(p), "%s/malformed.json", dir);
	write_file(p, "{\"schema\": \"fragreplay-results/1\", \"runs\": [}\n");
	snprintf(args, sizeof(args), "%s -o %s", p, o);
	snprintf(want, sizeof(want), "%s: line 1 column ", p);
	expect_bad(args, want);

	snprintf(p, sizeof(p), "%s/foreign.json", dir);
	write_file(p, "{\"a\":1}\n");
	snprintf(args, sizeof(args), "%s -o %s", p, o);
	snprintf(want, sizeof(want), "%s: not a fragreplay results file (schema", p);
	expect_bad(args, want);

	snprintf(p, sizeof(p), "%s/missing.json", dir);
	snprintf(args, sizeof(args), "%s -o %s", p, o);
	snprintf(want, sizeof(want), "%s: cannot open", p);
	expect_bad(args, want);
	assert_false(fr_test_exists(o));

	/* usage */
	snprintf(p, sizeof(p), "%s/good.json", dir);
	write_file(p, hand_json);
	expect_bad(p, "-o REPORT.html");
	expect_bad("-o x.html", "at least one RESULTS.json");
	snprintf(args, sizeof(args), "%s -o %s/no/such/dir/r.html", p, dir);
	expect_bad(args, "cannot create a temporary file");

	/* an existing report survives a failed run; nothing temporary is left */
	write_file(o, "old report\n");
	snprintf(args, sizeof(args), "%s %s/foreign.json -o %s", p, dir, o);
	expect_bad(args, "foreign.json: not a fragreplay");
	read_file(o, html, sizeof(html));
	assert_string_equal(html, "old report\n");
	snprintf(args, sizeof(args), "%s -o %s", p, o);
	assert_int_equal(report(args), 0);
	read_file(o, html, sizeof(html));
	assert_int_equal(strncmp(html, "<!DOCTYPE html>", 15), 0);
	snprintf(cmd, sizeof(cmd), "ls -a %s | grep -c fragreplay-report", dir);
	fr_test_run(cmd, out, sizeof(out));
	assert_string_equal(out, "0\n");
	fr_test_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_chromium_dom),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
