// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-convert.c - `fragreplay convert TRACE -o OUT.frt`: read any recording
 * and write it, snapshots included, in the native .frt format (parsers/frt.c)
 * so that later replays skip the slow parsing.
 *
 * The output never exists half-written: the writer fills a temporary file
 * beside OUT.frt and renames it only when complete; every failure path, and
 * SIGINT/SIGTERM/SIGHUP, removes the temporary file.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include "cli.h"
#include "fr_source.h"
#include "frt.h"

#define BATCH 4096

static void usage(FILE *f)
{
	fprintf(f,
"usage: fragreplay convert TRACE -o OUT.frt [--buffer NAME] [--skip-bad] [--level N]\n"
"\n"
"Convert a recording to fragreplay's native .frt format: compact, checksummed,\n"
"and decoded tens of times faster than trace.dat or text, so that a trace\n"
"parsed once can be replayed many times quickly.\n"
"\n"
"TRACE is a trace.dat, a text dump (ftrace, trace-cmd report, perf script), an\n"
".frt file, or a recording directory (a trace beside kpageflags.start.zst,\n"
"zoneinfo.start, ...). The format is detected from content, not from the name.\n"
"\"-\" reads standard input. Every snapshot of a recording directory is embedded\n"
"in OUT.frt, so the .frt file alone replays exactly like the directory.\n"
"\n"
"Options:\n"
"  -o, --output OUT.frt  the file to write; \"-\" writes to standard output\n"
"                        (refused when that is a terminal). OUT.frt is written\n"
"                        to a temporary file beside it and renamed into place\n"
"                        once complete and synced: it never exists half-written,\n"
"                        and an error leaves no new file behind (an existing\n"
"                        OUT.frt is left as it was).\n"
"      --buffer NAME     trace.dat: read this buffer (instance) rather than the\n"
"                        one holding the kmem events.\n"
"      --skip-bad        text input: count and skip lines that do not parse\n"
"                        instead of stopping at the first one.\n"
"      --level N         zstd compression level, 1 to %d (default %d). Higher\n"
"                        levels write more slowly and give smaller files; the\n"
"                        speed of reading the file back hardly changes.\n"
"  -h, --help            print this text and exit.\n"
"\n"
"On success one summary line goes to standard error:\n"
"  TRACE -> OUT.frt: N events, IN bytes in, OUT bytes out (B bytes/event, ratio R:1)\n"
"Progress lines are printed only when standard error is a terminal.\n"
"\n"
"Exit status: 0 converted; 2 bad usage, an unreadable or corrupt input, or a\n"
"failure to write (one line on standard error names the file and the place).\n"
"\n"
"Examples:\n"
"  fragreplay convert recordings/mixed-6.18 -o mixed.frt\n"
"  fragreplay convert trace.dat --buffer fragrec -o run.frt --level 9\n"
"  trace-cmd report -t -i trace.dat | fragreplay convert - -o run.frt\n"
"\n"
"See docs/frt-format.md for the file format.\n",
		ZSTD_maxCLevel(), FR_FRT_DEFAULT_LEVEL);
}

/* The temp file to remove if a signal ends us mid-write (async-signal-safe use only). */
static char sig_tmp[4096];

static void on_signal(int sig)
{
	if (sig_tmp[0])
		unlink(sig_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int caught_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
#define NR_CAUGHT (sizeof(caught_signals) / sizeof(caught_signals[0]))

static void catch_signals(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NR_CAUGHT; i++)
		sigaction(caught_signals[i], &sa, &old[i]);
}

static void restore_signals(const struct sigaction *old)
{
	for (size_t i = 0; i < NR_CAUGHT; i++)
		sigaction(caught_signals[i], &old[i], NULL);
}

/*
 * Size of the input for the summary: the file, or every regular file of a
 * recording directory (the snapshots are converted too).  -1: unknown (a pipe).
 */
static long long input_bytes(const char *path)
{
	struct stat st;
	long long sum = 0;
	DIR *d;
	struct dirent *de;

	if (!strcmp(path, "-"))
		return fstat(0, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return (long long)st.st_size;
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char f[4352];
		snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
		if (stat(f, &st) == 0 && S_ISREG(st.st_mode))
			sum += (long long)st.st_size;
	}
	closedir(d);
	return sum;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int cmd_convert(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "buffer", required_argument, NULL, 'b' },
		{ "skip-bad", no_argument, NULL, 's' },
		{ "level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct fr_event buf[BATCH];
	struct fr_open_opts oo = { 0 };
	struct fr_frt_opts fo = { .level = FR_FRT_DEFAULT_LEVEL };
	struct sigaction old[NR_CAUGHT];
	struct fr_frt_writer *w = NULL;
	struct fr_source *src = NULL;
	struct fr_error err;
	const char *in, *out = NULL;
	int tty = fr_stderr_is_tty(), c;
	struct fr_frt_stats st;
	uint64_t events = 0, skipped;
	long long inbytes;
	double t0 = now_s(), last = t0;
	ssize_t n;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'b':
			oo.buffer = optarg;
			break;
		case 's':
			oo.skip_bad = 1;
			break;
		case 'l': {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > ZSTD_maxCLevel())
				return fr_usage_error("convert", "--level takes 1 to %d, not '%s'",
						      ZSTD_maxCLevel(), optarg);
			fo.level = (int)v;
			break;
		}
		case 'h':
			usage(stdout);
			return FR_EXIT_OK;
		case '?':
			if (optopt)
				return fr_usage_error("convert", "option -%c %s", optopt,
						      strchr("o", optopt) ? "needs an argument" : "is unknown");
			return fr_usage_error("convert", "bad option '%s'", argv[optind - 1]);
		default:
			return fr_usage_error("convert", "bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		return fr_usage_error("convert", "no TRACE given");
	if (optind != argc - 1)
		return fr_usage_error("convert", "expects exactly one TRACE, got '%s' too", argv[optind + 1]);
	if (!out)
		return fr_usage_error("convert", "no output file given: -o OUT.frt");
	if (!*out)
		return fr_usage_error("convert", "empty output file name");
	if (!strcmp(out, "-") && isatty(1))
		return fr_usage_error("convert", "refusing to write a binary .frt file to a terminal");
	in = argv[optind];

	src = fr_source_open(in, &oo, &err);
	if (!src) {
		fprintf(stderr, "fragreplay convert: %s\n", err.msg);
		return FR_EXIT_BAD;
	}
	/* Before the temp file exists: a signal from here on removes it. */
	catch_signals(old);
	w = fr_frt_create_opts(out, fr_source_meta(src), &fo, &err);
	if (!w)
		goto fail;
	snprintf(sig_tmp, sizeof(sig_tmp), "%s", fr_frt_temp_path(w));

	while ((n = fr_source_read(src, buf, BATCH, &err)) > 0) {
		if (fr_frt_write(w, buf, (size_t)n, &err) < 0)
			goto fail;
		events += (uint64_t)n;
		if (tty && !(events & ((1u << 20) - 1))) {
			double t = now_s();
			if (t - last >= 0.5) {
				fprintf(stderr, "\rconverting: %" PRIu64 " events, %.1f MB written ",
					events, (double)fr_frt_bytes(w) / 1e6);
				last = t;
			}
		}
	}
	if (n < 0)
		goto fail;
	if (tty && last != t0)
		fprintf(stderr, "\r%60s\r", "");
	if (fr_frt_finish_stats(w, &st, &err) < 0) {
		w = NULL;	/* finish frees the writer and removes the temp file */
		goto fail;
	}
	sig_tmp[0] = 0;
	restore_signals(old);

	skipped = fr_source_skipped(src);
	inbytes = input_bytes(in);
	fprintf(stderr, "%s -> %s: %" PRIu64 " events", in, out, events);
	if (skipped)
		fprintf(stderr, " (%" PRIu64 " bad lines skipped)", skipped);
	if (inbytes >= 0)
		fprintf(stderr, ", %lld bytes in", inbytes);
	else
		fprintf(stderr, ", input size unknown");
	fprintf(stderr, ", %" PRIu64 " bytes out (%.2f bytes/event", st.bytes,
		events ? (double)st.bytes / (double)events : 0.0);
	if (inbytes > 0 && st.bytes)
		fprintf(stderr, ", ratio %.1f:1", (double)inbytes / (double)st.bytes);
	fprintf(stderr, ")\n");
	fr_source_close(src);
	return FR_EXIT_OK;

fail:
	if (tty && last != t0)
		fprintf(stderr, "\n");
	fprintf(stderr, "fragreplay convert: %s\n", err.msg);
	fr_frt_abort(w);
	sig_tmp[0] = 0;
	restore_signals(old);
	fr_source_close(src);
	return FR_EXIT_BAD;
}
