// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-replay.c - `fragreplay replay TRACE -p POLICY [-p ...] [-o RESULTS.json]`
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "engine.h"

static volatile int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fragreplay replay TRACE -p POLICY[:key=value,...] [-p ...] [-o RESULTS.json]\n"
		"                         [--interval SECONDS] [--check] [--mem SIZE] [--buffer NAME]\n\n"
		"Replay the allocation demand of TRACE against each POLICY (each from the same\n"
		"initial state, all from one decode of the trace) and write the tainted-SPB\n"
		"timeline and counters as JSON (schema fragreplay-results/1).\n\n"
		"  -p, --policy SPEC     a policy name (see `fragreplay policies`) or a path to a\n"
		"                        .so, optionally with parameters: vanilla:pcp=off\n"
		"  -o, --output FILE     results file (default: standard output); written\n"
		"                        atomically, never half-written\n"
		"      --interval SEC    timeline sample period in trace time (default 1)\n"
		"      --check           run the model invariant checker at every sample;\n"
		"                        exit 1 on any violation\n"
		"      --mem SIZE        machine size when the trace has no zoneinfo (e.g. 24G)\n"
		"      --buffer NAME     trace.dat buffer/instance to read\n"
		"      --skip-bad        text traces: skip unparsable lines\n"
		"      --strict          the trace must be consistent: a double free, or an\n"
		"                        allocation over a block the trace holds live, is bad\n"
		"                        input (exit 2). Off by default: kernels allocate through\n"
		"                        paths that emit no mm_page_alloc (bulk, compaction)\n"
		"      --label-agreement with a `recorded` run: per run, the share of allocations\n"
		"                        placed in a pageblock with the label the real kernel's\n"
		"                        pageblock had (1 byte per allocation per run)\n"
		"      --no-caller-fallback\n"
		"                        a high-order __GFP_NORETRY/__GFP_NOWARN allocation the\n"
		"                        policy refuses stays failed. By default its caller\n"
		"                        falls back, as slab, page_frag and THP do: it is\n"
		"                        replayed as 2^order order-0 allocations\n"
		"  -q, --quiet           no summary on stderr\n"
		"  -h, --help            this text\n\n"
		"A short summary per policy goes to stderr; progress too when stderr is a\n"
		"terminal. On SIGINT or SIGTERM the replay stops, finishes the events read so\n"
		"far and writes a complete results file marked \"partial\": true (exit 130).\n"
		"A failed replay writes nothing.\n"
		"Exit status: 0 ok, 1 --check found violations, 2 bad input, 130 interrupted.\n");
}

static uint64_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t mult = 1;

	switch (*end) {
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	case 't': case 'T': mult = 1ull << 40; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end || v <= 0)
		return 0;
	return (uint64_t)(v * (double)mult);
}

int cmd_replay(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'i' },
		{ "check", no_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "buffer", required_argument, NULL, 'b' },
		{ "skip-bad", no_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "label-agreement", no_argument, NULL, 'L' },
		{ "strict", no_argument, NULL, 'S' },
		{ "no-caller-fallback", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *specs[64];
	int nspecs = 0, c, quiet = 0, rc = FR_EXIT_OK;
	const char *out = "-";
	struct fr_open_opts oo = { .will_rewind = 1 };	/* the prepass, then the replay */
	struct fr_replay r;
	struct fr_error err;
	struct fr_source *src;

	memset(&r, 0, sizeof(r));
	r.opts.interval_ns = 1000000000ull;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:o:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (nspecs == 64)
				return fr_usage_error("replay", "at most 64 policies per run");
			specs[nspecs++] = optarg;
			break;
		case 'o': out = optarg; break;
		case 'i': {
			char *end;
			double s = strtod(optarg, &end);
			if (*end || s <= 0)
				return fr_usage_error("replay", "--interval takes a positive number of seconds, not '%s'", optarg);
			r.opts.interval_ns = (uint64_t)(s * 1e9);
			break;
		}
		case 'c': r.opts.check = 1; break;
		case 'm':
			r.opts.mem_bytes = parse_size(optarg);
			if (!r.opts.mem_bytes)
				return fr_usage_error("replay", "--mem takes a size like 24G, not '%s'", optarg);
			break;
		case 'b': oo.buffer = optarg; break;
		case 's': oo.skip_bad = 1; break;
		case 'q': quiet = 1; break;
		case 'L': r.opts.label_agreement = 1; break;
		case 'S': r.opts.strict = 1; break;
		case 'F': r.opts.no_caller_fallback = 1; break;
		case 'h': usage(stdout); return FR_EXIT_OK;
		default: return fr_usage_error("replay", "bad option");
		}
	}
	if (optind != argc - 1)
		return fr_usage_error("replay", "expects exactly one TRACE");
	if (!nspecs)
		return fr_usage_error("replay", "give at least one policy with -p (see fragreplay policies)");
	r.opts.progress = !quiet && fr_stderr_is_tty();
	r.opts.stop = &interrupted;
	{
		/* test hook for the partial-results path */
		const char *sa = getenv("FRAGREPLAY_STOP_AFTER");
		if (sa)
			r.opts.stop_after = strtoull(sa, NULL, 10);
		/* test hook: caller-fallback pieces as one map entry each, the
		 * path machines past 16 TiB take (engine.c, caller_fallback()) */
		sa = getenv("FRAGREPLAY_FALLBACK_PIECE_MAP");
		r.opts.piece_map = sa && strcmp(sa, "0");
	}
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}

	src = fr_source_open(argv[optind], &oo, &err);
	if (!src) {
		fprintf(stderr, "fragreplay replay: %s\n", err.msg);
		return FR_EXIT_BAD;
	}
	if (fr_replay_run(&r, src, specs, nspecs, &err) < 0) {
		fprintf(stderr, "fragreplay replay: %s\n", err.msg);
		rc = interrupted ? 130 : FR_EXIT_BAD;
		goto out;
	}
	{
		json_t *j = fr_replay_json(&r);
		int w = fr_json_write_atomic(j, out, &err);
		json_decref(j);
		if (w < 0) {
			fprintf(stderr, "fragreplay replay: %s\n", err.msg);
			rc = FR_EXIT_BAD;
			goto out;
		}
	}
	for (int k = 0; k < r.nruns; k++) {
		struct fr_run *run = &r.runs[k];
		const struct fr_sample *last = run->ntl ? &run->tl[run->ntl - 1] : NULL;
		uint64_t viol = run->ctr[C_CHECK_VIOLATIONS] + run->ctr[C_BAD_PLACEMENTS];
		if (!quiet)
			fprintf(stderr,
				"%-12s tainted %" PRIu64 " (max %" PRIu64 ", lower bound %" PRIu64 ") of %" PRIu64
				" SPBs; fresh taints %" PRIu64 "; failures %" PRIu64 "; unknown frees %" PRIu64
				"; %.1f M events/s\n",
				run->pi.pol->name, last ? last->tainted : 0, run->tainted_max,
				run->lower_bound_max, run->m->geo.nr_spbs, run->m->fresh_taints,
				run->ctr[C_ALLOC_FAILURES], run->ctr[C_UNKNOWN_FREES],
				run->seconds > 0 ? (double)r.st.events / run->seconds / 1e6 : 0.0);
		if (run->ctr[C_ALLOC_FAILURES] && !quiet)
			fprintf(stderr, "%-12s note: %" PRIu64 " allocations could not be placed "
				"(refused, or no free block)\n", run->pi.pol->name, run->ctr[C_ALLOC_FAILURES]);
		if (run->ctr[C_CALLER_FALLBACKS] && !quiet)
			fprintf(stderr, "%-12s note: %" PRIu64 " refused high-order allocations replayed as "
				"%" PRIu64 " order-0 pages (caller fallback)\n", run->pi.pol->name,
				run->ctr[C_CALLER_FALLBACKS], run->ctr[C_CALLER_FALLBACK_PAGES]);
		if (run->ctr[C_RELEASED_FREES] && !quiet)
			fprintf(stderr, "%-12s note: %" PRIu64 " frees of blocks the policy had released early "
				"(released_frees)\n", run->pi.pol->name, run->ctr[C_RELEASED_FREES]);
		if (viol) {
			fprintf(stderr, "%-12s CHECK FAILED: %" PRIu64 " violations; first: %s\n", run->pi.pol->name,
				viol, run->violation);
			rc = FR_EXIT_FAIL;
		}
	}
	if (r.partial) {
		fprintf(stderr, "fragreplay replay: interrupted after %" PRIu64 " events; results marked partial\n",
			r.st.events);
		rc = 130;
	}
	if (!quiet && r.st.lost_events)
		fprintf(stderr, "warning: the trace lost %" PRIu64 " events; results are approximate\n",
			r.st.lost_events);
out:
	fr_replay_free(&r);
	fr_source_close(src);
	return rc;
}
