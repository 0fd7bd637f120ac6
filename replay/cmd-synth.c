// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-synth.c - `fragreplay synth --mem SIZE --events N [--like TRACE] -o OUT.frt`:
 * machine-scale synthetic traces resampled from a real recording (synth.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "synth.h"

static volatile int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fragreplay synth --mem SIZE --events N [--like TRACE] [--seed S] -o OUT.frt\n"
		"       fragreplay synth [--like TRACE] --print-profile\n"
		"\n"
		"Write a synthetic trace of N page-allocator events for a machine of SIZE\n"
		"memory, as a .frt file, by resampling the statistics of a real recording.\n"
		"\n"
		"What is resampled from TRACE (any recording: trace.dat, text dump, .frt or a\n"
		"recording directory; without --like, a built-in profile learned from\n"
		"traces/small-tar):\n"
		"  - the joint mix of order x migratetype x gfp flags of the allocations;\n"
		"  - per order x migratetype, the share of allocations freed within the\n"
		"    recording and their lifetimes (log2 histogram, in events); the others\n"
		"    are long-lived and freed at random once the footprint is reached;\n"
		"  - the live footprint: the used share of the Normal zone at the start\n"
		"    (zoneinfo.start; 22%% without one), reached by a ramp, then held. The\n"
		"    ramp keeps the recording's proportions, except that it keeps as many\n"
		"    would-be short-lived blocks as it takes to reach the footprint within\n"
		"    the first 20%% of the events, at most 80%% of them, so that the ramp\n"
		"    keeps some churn (it then takes longer: filling 1 TiB takes ~100 M\n"
		"    events);\n"
		"  - the event rate (timestamps advance accordingly), the CPU count and\n"
		"    which CPUs allocate and free, the share of frees followed by an\n"
		"    mm_page_free_batched duplicate.\n"
		"Every allocation is placed by a buddy allocator over one Normal zone of\n"
		"SIZE (smallest free chunk of its migratetype, else the kernel's fallback\n"
		"order), so frees always match live blocks and `replay -p recorded` replays\n"
		"the trace exactly. A zoneinfo.start snapshot describing that zone (spans,\n"
		"watermarks, per-CPU batch and high) is embedded, so a replay gets the exact\n"
		"geometry without --mem. The trace is streamed to disk: memory is 6 bytes per\n"
		"page of SIZE plus 8-16 bytes per live block.\n"
		"\n"
		"Options:\n"
		"  -m, --mem SIZE        machine memory: 64G, 1T, 512MiB (at least 64 MiB)\n"
		"  -n, --events N        events to write, exactly: 200000, 10M, 1G (k/M/G are\n"
		"                        powers of 1000)\n"
		"  -l, --like TRACE      the recording to resample (default: built-in profile)\n"
		"  -o, --output FILE     the .frt to write (- for standard output); written\n"
		"                        atomically, never half-written\n"
		"  -s, --seed S          random seed (default 1): the same inputs and seed give\n"
		"                        a byte-identical file\n"
		"      --cpus N          CPUs of the synthetic machine (default: the\n"
		"                        recording's); CPUs are then drawn uniformly and the\n"
		"                        rate scales with N\n"
		"      --rate R          events per second of trace time (default: the\n"
		"                        recording's)\n"
		"      --live FRACTION   live footprint as a share of memory, 0..0.9 (default:\n"
		"                        the recording's)\n"
		"      --level L         zstd level of the .frt event blocks (default 3)\n"
		"      --print-profile   print what was learned from TRACE as JSON and exit\n"
		"  -q, --quiet           no summary line on stderr\n"
		"  -h, --help            this text\n"
		"\n"
		"A summary line goes to stderr (events by kind, size, speed, footprint); a\n"
		"progress line too when stderr is a terminal.\n"
		"\n"
		"Examples:\n"
		"  fragreplay synth --mem 64G --events 10M --like traces/small-tar -o s.frt\n"
		"  fragreplay replay s.frt -p recorded -p vanilla -o r.json\n"
		"  fragreplay synth --mem 1T --events 1G --like ../shared/traces/mixed-6.18 -o big.frt\n"
		"\n"
		"Exit status: 0 ok, 2 bad usage or bad input (one line on stderr), 130\n"
		"interrupted (SIGINT, SIGTERM, SIGHUP, a closed pipe): OUT is then untouched.\n");
}

static uint64_t parse_size(const char *s)
{
	char *end;
	double v;
	uint64_t mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno)
		return 0;
	switch (*end) {
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	case 't': case 'T': mult = 1ull << 40; end++; break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end || !(v > 0) || v * (double)mult > 18e18)
		return 0;
	return (uint64_t)(v * (double)mult);
}

/* A count: digits with an optional k/M/G (powers of 1000) suffix, or 1e9. */
static int parse_count(const char *s, uint64_t *out)
{
	char *end;
	double v;
	uint64_t mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !(v >= 0))
		return -1;
	switch (*end) {
	case 'k': case 'K': mult = 1000; end++; break;
	case 'm': case 'M': mult = 1000000; end++; break;
	case 'g': case 'G': case 'b': case 'B': mult = 1000000000; end++; break;
	}
	if (*end || v * (double)mult > 1e13)
		return -1;
	v *= (double)mult;
	if (v != (double)(uint64_t)v)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int cmd_synth(int argc, char **argv)
{
	enum { O_CPUS = 256, O_RATE, O_LIVE, O_LEVEL, O_PRINT };
	static const struct option lo[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "events", required_argument, NULL, 'n' },
		{ "like", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 's' },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "rate", required_argument, NULL, O_RATE },
		{ "live", required_argument, NULL, O_LIVE },
		{ "level", required_argument, NULL, O_LEVEL },
		{ "print-profile", no_argument, NULL, O_PRINT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fr_synth_opts o = { .seed = 1, .live_fraction = -1 };
	struct fr_synth_profile prof;
	struct fr_synth_stats st;
	struct fr_error err;
	const char *like = NULL, *out = NULL, *mem_arg = NULL, *ev_arg = NULL;
	int c, quiet = 0, print = 0, have_events = 0;
	char cmdline[4096];
	char *end;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:n:l:o:s:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			mem_arg = optarg;
			o.mem_bytes = parse_size(optarg);
			if (!o.mem_bytes)
				return fr_usage_error("synth", "--mem '%s': not a size (e.g. 64G, 1T)", optarg);
			break;
		case 'n':
			ev_arg = optarg;
			if (parse_count(optarg, &o.events) < 0 || !o.events)
				return fr_usage_error("synth", "--events '%s': not a positive count (e.g. 200000, 10M)",
						      optarg);
			have_events = 1;
			break;
		case 'l': like = optarg; break;
		case 'o': out = optarg; break;
		case 's':
			errno = 0;
			o.seed = strtoull(optarg, &end, 0);
			if (!*optarg || *end || errno || *optarg == '-')
				return fr_usage_error("synth", "--seed '%s': not an unsigned integer", optarg);
			break;
		case O_CPUS: {
			unsigned long v;
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || v < 1 || v > FR_SYNTH_MAX_CPUS || *optarg == '-')
				return fr_usage_error("synth", "--cpus '%s': not a CPU count (1..%d)", optarg,
						      FR_SYNTH_MAX_CPUS);
			o.nr_cpus = (unsigned)v;
			break;
		}
		case O_RATE:
			o.rate = strtod(optarg, &end);
			if (!*optarg || *end || !(o.rate > 0) || o.rate > 1e12)
				return fr_usage_error("synth", "--rate '%s': not a positive number of events per second",
						      optarg);
			break;
		case O_LIVE:
			o.live_fraction = strtod(optarg, &end);
			if (!*optarg || *end || !(o.live_fraction >= 0 && o.live_fraction <= 0.9))
				return fr_usage_error("synth", "--live '%s': not a fraction between 0 and 0.9", optarg);
			break;
		case O_LEVEL: {
			long v;
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (!*optarg || *end || errno || v < 1 || v > 19)
				return fr_usage_error("synth", "--level '%s': not a zstd level (1..19)", optarg);
			o.level = (int)v;
			break;
		}
		case O_PRINT: print = 1; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return FR_EXIT_OK;
		case ':': return fr_usage_error("synth", "%s needs a value", argv[optind - 1]);
		default:
			return fr_usage_error("synth", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fr_usage_error("synth", "unexpected argument '%s'", argv[optind]);
	if (!print) {
		if (!mem_arg)
			return fr_usage_error("synth", "--mem SIZE is required");
		if (!have_events)
			return fr_usage_error("synth", "--events N is required");
		if (!out)
			return fr_usage_error("synth", "-o OUT.frt is required");
		if (o.mem_bytes < (64ull << 20))
			return fr_usage_error("synth", "--mem '%s': at least 64 MiB", mem_arg);
		if (o.mem_bytes > (64ull << 40))
			return fr_usage_error("synth", "--mem '%s': at most 64 TiB", mem_arg);
		/* the placement model takes 6 bytes per page: refuse before the OOM killer does */
		long np = sysconf(_SC_PHYS_PAGES), ps = sysconf(_SC_PAGESIZE);
		double need = (double)(o.mem_bytes / 4096) * 6.0, have = (double)np * (double)ps;
		if (np > 0 && ps > 0 && need > 0.9 * have)
			return fr_usage_error("synth", "--mem '%s': the placement model needs %.1f GiB, this machine has %.1f GiB",
					      mem_arg, need / (1 << 30), have / (1 << 30));
	}

	if (like ? fr_synth_profile_from_trace(&prof, like, &err) < 0 : fr_synth_profile_default(&prof, &err) < 0) {
		fprintf(stderr, "fragreplay synth: %s\n", err.msg);
		return FR_EXIT_BAD;
	}
	if (print) {
		json_t *j = fr_synth_profile_json(&prof);
		json_dumpf(j, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(9));
		printf("\n");
		json_decref(j);
		fr_synth_profile_free(&prof);
		return FR_EXIT_OK;
	}

	/* what made this trace, recorded as its source path */
	{
		int n = snprintf(cmdline, sizeof(cmdline), "synth --mem %s --events %s --seed %" PRIu64, mem_arg, ev_arg,
				 o.seed);
		if (like && n > 0 && (size_t)n < sizeof(cmdline))
			n += snprintf(cmdline + n, sizeof(cmdline) - (size_t)n, " --like %s", like);
		if (o.nr_cpus && n > 0 && (size_t)n < sizeof(cmdline))
			n += snprintf(cmdline + n, sizeof(cmdline) - (size_t)n, " --cpus %u", o.nr_cpus);
		if (o.rate > 0 && n > 0 && (size_t)n < sizeof(cmdline))
			n += snprintf(cmdline + n, sizeof(cmdline) - (size_t)n, " --rate %g", o.rate);
		if (o.live_fraction >= 0 && n > 0 && (size_t)n < sizeof(cmdline))
			snprintf(cmdline + n, sizeof(cmdline) - (size_t)n, " --live %g", o.live_fraction);
	}
	o.cmdline = cmdline;
	o.progress = !quiet && fr_stderr_is_tty();
	o.stop = &stop;
	{
		/* a signal abandons the output: the temporary file is removed, OUT untouched */
		static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
		struct sigaction sa, old[4];
		int rc;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		for (int i = 0; i < 4; i++)
			sigaction(sigs[i], &sa, &old[i]);
		rc = fr_synth_run(&prof, &o, out, &st, &err);
		for (int i = 0; i < 4; i++)
			sigaction(sigs[i], &old[i], NULL);
		if (rc < 0) {
			fprintf(stderr, "fragreplay synth: %s\n", err.msg);
			fr_synth_profile_free(&prof);
			return stop ? 130 : FR_EXIT_BAD;
		}
	}
	char ramp[96];
	if (st.ramp_events)
		snprintf(ramp, sizeof(ramp), "reached after %" PRIu64 " events", st.ramp_events);
	else
		snprintf(ramp, sizeof(ramp), "not reached: more events needed");
	if (!quiet)
		fprintf(stderr,
			"synth: %" PRIu64 " events (%" PRIu64 " alloc, %" PRIu64 " free, %" PRIu64
			" batched, %" PRIu64 " failed alloc) over %.1f s of trace time -> %s, %.1f MB,"
			" %.2f s (%.1f M events/s); live %.1f%% of %" PRIu64 " pages at the end (target %.1f%%, %s)\n",
			st.events, st.allocs, st.frees, st.batched, st.failed_allocs,
			(double)(st.last_ts - st.first_ts) / 1e9, out, (double)st.bytes / 1e6, st.seconds,
			st.seconds > 0 ? (double)st.events / st.seconds / 1e6 : 0.0,
			100.0 * (double)st.live_pages_end / (double)st.machine_pages, st.machine_pages,
			100.0 * (double)st.target_pages / (double)st.machine_pages, ramp);
	fr_synth_profile_free(&prof);
	return FR_EXIT_OK;
}
