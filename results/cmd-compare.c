// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-compare.c - `fragreplay compare RESULTS.json ... [--baseline POLICY]
 * [--metric M] [--fail-above PERCENT] [--format text|markdown|json]`
 *
 * A trace x policy table of the summaries, the change of one metric against
 * a baseline, and the regression gate a kernel patch's CI calls: exit 1 when
 * any run is worse than its baseline by more than PERCENT.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "compare_out.h"
#include "results_read.h"
#include "table.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fragreplay compare RESULTS.json ... [--baseline POLICY[:key=value,...]]\n"
		"                          [--metric METRIC] [--fail-above PERCENT]\n"
		"                          [--format text|markdown|json]\n\n"
		"Print one row per trace and policy run found in the results files (written by\n"
		"`fragreplay replay -o`), with:\n\n"
		"  tainted_final   SPBs tainted at the end of the trace\n"
		"  tainted_max     most SPBs tainted at any sample\n"
		"  lower_bound     ceil(live non-movable pages / usable pages per SPB) at the end:\n"
		"                  no policy can do better\n"
		"  ratio           tainted_final / lower_bound (1.00 is optimal; - when the bound is 0)\n"
		"  gigantic_min    fewest SPBs free for a 1 GiB page (empty or clean) at any sample\n"
		"  fresh_taints    times an SPB turned tainted\n"
		"  failures        allocations the policy could not place\n\n"
		"Runs of the same trace (same trace path and event count) from several files are\n"
		"grouped. A run is labelled with its policy name, plus the parameters that tell it\n"
		"apart from other runs of that policy (vanilla:pcp=off), plus the results file\n"
		"when the same policy and parameters come from two files.\n\n"
		"  -b, --baseline POLICY  compare every run with the run of POLICY on the same\n"
		"                         trace (in the same file if it has one). POLICY is a name,\n"
		"                         optionally with parameters that must match\n"
		"                         (vanilla:pcp=off); the first matching run is used.\n"
		"                         Without --baseline, when a trace is in several files, each\n"
		"                         run is compared with the same policy and parameters in\n"
		"                         the first file: `compare old.json new.json`.\n"
		"  -m, --metric METRIC    the metric the change column and the gate use (default\n"
		"                         tainted_final): tainted_final, tainted_max,\n"
		"                         tainted_live_final, tainted_live_max, ratio,\n"
		"                         gigantic_available_min, gigantic_available_final (for these\n"
		"                         two higher is better), fresh_taints, alloc_failures, or any\n"
		"                         other number in the runs' summary\n"
		"  -f, --fail-above PCT   exit 1 when any run is worse than its baseline by more than\n"
		"                         PCT percent of the baseline's value (a worsening from 0 is\n"
		"                         infinitely many percent); one line per failing run on stderr\n"
		"  -F, --format FORMAT    text (default, aligned columns), markdown (a GitHub table),\n"
		"                         or json (schema fragreplay-compare/1)\n"
		"  -h, --help             this text\n\n"
		"A results file of - is read from standard input. Results of an interrupted\n"
		"replay (\"partial\": true) are shown with a note, and refused by --fail-above.\n\n"
		"Examples:\n"
		"  fragreplay replay trace.dat -p vanilla -p ./mine.so -o r.json\n"
		"  fragreplay compare r.json --baseline vanilla --fail-above 5\n"
		"  fragreplay compare results/baselines/small-tar.json new.json --format markdown\n\n"
		"Exit status: 0 ok, 1 the gate tripped, 2 bad usage or input (a file that is not\n"
		"JSON, not a fragreplay results file, a trace without the baseline policy).\n");
}

int cmd_compare(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "baseline", required_argument, NULL, 'b' },
		{ "metric", required_argument, NULL, 'm' },
		{ "fail-above", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *baseline = NULL, *metric = NULL, *format = "text";
	double fail_above = -1;
	struct fr_rfile *files = NULL;
	struct fr_table t;
	size_t nfiles = 0;
	int c, rc = FR_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:m:f:F:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': baseline = optarg; break;
		case 'm': metric = optarg; break;
		case 'f': {
			char *end;
			fail_above = strtod(optarg, &end);
			if (end == optarg || (*end && strcmp(end, "%")) || !(fail_above >= 0) || isinf(fail_above))
				return fr_usage_error("compare", "--fail-above takes a percentage >= 0, not '%s'", optarg);
			break;
		}
		case 'F':
			if (strcmp(optarg, "text") && strcmp(optarg, "markdown") && strcmp(optarg, "json"))
				return fr_usage_error("compare", "--format is text, markdown or json, not '%s'", optarg);
			format = optarg;
			break;
		case 'h': usage(stdout); return FR_EXIT_OK;
		default: return fr_usage_error("compare", "bad option");
		}
	}
	if (optind == argc)
		return fr_usage_error("compare", "give at least one RESULTS.json");
	if (baseline && !fr_spec_valid(baseline))
		return fr_usage_error("compare", "--baseline takes POLICY or POLICY:key=value,..., not '%s'", baseline);
	if (fr_table_load("compare", argv + optind, argc - optind, baseline, metric, &files, &nfiles, &t) < 0)
		return FR_EXIT_BAD;
	if (fail_above >= 0) {
		for (size_t i = 0; i < nfiles; i++)
			if (files[i].partial) {
				fprintf(stderr, "fragreplay compare: %s: results marked partial (an interrupted replay); "
						"--fail-above gates complete results only\n", files[i].path);
				fr_table_free(&t);
				rc = FR_EXIT_BAD;
				goto out;
			}
		if (!t.any_change) {
			fprintf(stderr, "fragreplay compare: --fail-above: no run has a baseline to compare with "
					"(give --baseline POLICY with at least two policies, or two results files "
					"of the same trace)\n");
			fr_table_free(&t);
			rc = FR_EXIT_BAD;
			goto out;
		}
		if (fr_table_gate(&t, fail_above))
			rc = FR_EXIT_FAIL;
	}
	if (!strcmp(format, "json"))
		fr_compare_json(stdout, &t);
	else
		fr_compare_text(stdout, &t, !strcmp(format, "markdown"));
	if (rc == FR_EXIT_FAIL)
		fr_compare_gate_lines(stderr, &t);
	if (fflush(stdout)) {
		fprintf(stderr, "fragreplay compare: cannot write the table to standard output\n");
		rc = FR_EXIT_BAD;
	}
	fr_table_free(&t);
out:
	fr_rfiles_free(files, nfiles);
	return rc;
}
