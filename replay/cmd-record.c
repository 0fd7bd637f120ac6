// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-record.c - `fragreplay record (-o OUT.frt | --dir DIR) [--duration S]
 * [--events LIST] [--buffer-kb N] [--allow-loss] [-- COMMAND ARGS...]`:
 * record the kmem page events on this machine, loss-free, with the memory
 * state before and after (parsers/record.c does the work).
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "cli.h"
#include "record.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fragreplay record (-o OUT.frt | --dir DIR) [--duration SECONDS] [--events LIST]\n"
		"                         [--buffer-kb N] [--allow-loss] [-q] [-- COMMAND [ARGS...]]\n\n"
		"Record the kernel's page-allocator events (kmem tracepoints) on this machine,\n"
		"with /proc/zoneinfo, pagetypeinfo, buddyinfo and kpageflags snapshotted just\n"
		"before tracing starts and just after it stops. Needs root and tracefs.\n\n"
		"  -o, --output FILE   write one .frt file (snapshots included); - for stdout\n"
		"      --dir DIR       write a recording directory instead: DIR/trace.frt plus\n"
		"                      kpageflags.start.zst, zoneinfo.start, ..., stats\n"
		"  -d, --duration SEC  stop after SEC seconds (suffix s, m or h allowed)\n"
		"  -e, --events LIST   comma-separated kmem events (default: all six:\n"
		"                      mm_page_alloc, mm_page_free, mm_page_free_batched,\n"
		"                      mm_page_alloc_zone_locked, mm_page_pcpu_drain,\n"
		"                      mm_page_alloc_extfrag)\n"
		"  -b, --buffer-kb N   per-CPU ring buffer in KiB (default 262144, capped so that\n"
		"                      all CPUs take at most 1/4 of MemAvailable)\n"
		"      --allow-loss    exit 0 even if the ring buffer lost events\n"
		"  -q, --quiet         only errors on stderr\n"
		"  -h, --help          this text\n\n"
		"Recording runs while COMMAND runs, for --duration, or until Ctrl-C / SIGTERM\n"
		"(whichever comes first); Ctrl-C stops cleanly and the recording is written; a\n"
		"second Ctrl-C while it is being written abandons it. On a terminal a live line\n"
		"shows events/s and lost events. The tracefs instance (fragreplay-PID) is\n"
		"removed on every exit path.\n\n"
		"Environment: FRAGREPLAY_TRACEFS=DIR uses that tracefs mount instead of finding\n"
		"(or mounting) one.\n\n"
		"Exit status: 0 recorded, nothing lost; 1 recorded, but events were lost (without\n"
		"--allow-loss), the decoded events disagree with the kernel's per-CPU counts, or\n"
		"COMMAND failed; 2 bad usage, not root, no tracefs, COMMAND cannot run, or an\n"
		"I/O error (nothing written); 130/143 abandoned by a second signal.\n");
}

static int parse_duration(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end), mult = 1;

	if (end == s)
		return -1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mult = 60, end++;
	else if (*end == 'h')
		mult = 3600, end++;
	if (*end || !(v > 0) || v * mult > 1e9)
		return -1;
	*out = v * mult;
	return 0;
}

static const char *stop_reason(const struct fr_record_result *r, char *buf, size_t cap)
{
	if (r->stopped_by == 0) {
		int st = r->cmd_status;
		if (st >= 0 && WIFEXITED(st))
			snprintf(buf, cap, "COMMAND exited with status %d", WEXITSTATUS(st));
		else if (st >= 0 && WIFSIGNALED(st))
			snprintf(buf, cap, "COMMAND was killed by signal %d (%s)", WTERMSIG(st),
				 strsignal(WTERMSIG(st)));
		else
			snprintf(buf, cap, "COMMAND ended");
	} else if (r->stopped_by == 1) {
		snprintf(buf, cap, "--duration reached");
	} else {
		snprintf(buf, cap, "%s", strsignal(r->stopped_by));
	}
	return buf;
}

int cmd_record(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "dir", required_argument, NULL, 'D' },
		{ "duration", required_argument, NULL, 'd' },
		{ "events", required_argument, NULL, 'e' },
		{ "buffer-kb", required_argument, NULL, 'b' },
		{ "allow-loss", no_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fr_record_opts o;
	struct fr_record_result res;
	struct fr_error err;
	int c, quiet = 0, allow_loss = 0, rc;
	char why[128];

	memset(&o, 0, sizeof(o));
	optind = 1;
	/* '+': stop at the first non-option, so `record -o x.frt make -j4` needs no `--`. */
	while ((c = getopt_long(argc, argv, "+o:d:e:b:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case 'D': o.dir = optarg; break;
		case 'd':
			if (parse_duration(optarg, &o.duration_s) < 0)
				return fr_usage_error("record", "--duration takes a positive number of seconds "
						      "(suffix s, m or h allowed), not '%s'", optarg);
			break;
		case 'e':
			if (fr_record_parse_events(optarg, &o.kinds, &err) < 0)
				return fr_usage_error("record", "%s", err.msg);
			break;
		case 'b': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || !v || v > (1ull << 32) || optarg[0] == '-')
				return fr_usage_error("record", "--buffer-kb takes a positive number of KiB, not '%s'",
						      optarg);
			o.buffer_kb = v;
			break;
		}
		case 'L': allow_loss = 1; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return FR_EXIT_OK;
		default: return fr_usage_error("record", "bad option");
		}
	}
	if (!o.out && !o.dir)
		return fr_usage_error("record", "give -o OUT.frt or --dir DIR");
	if (o.out && o.dir)
		return fr_usage_error("record", "-o and --dir exclude each other (--dir writes DIR/trace.frt)");
	if (optind < argc)
		o.cmd = argv + optind;
	o.status_line = !quiet && fr_stderr_is_tty();
	o.tracefs = getenv("FRAGREPLAY_TRACEFS");
	if (o.tracefs && !*o.tracefs)
		o.tracefs = NULL;

	rc = fr_record(&o, &res, &err);
	if (rc == FR_REC_INTERRUPTED) {
		fprintf(stderr, "fragreplay record: %s\n", err.msg);
		fr_record_result_free(&res);
		return 130;
	}
	if (rc < 0) {
		if (res.notes[0] && !quiet)
			fputs(res.notes, stderr);
		fprintf(stderr, "fragreplay record: %s\n", err.msg);
		fr_record_result_free(&res);
		return FR_EXIT_BAD;
	}

	rc = FR_EXIT_OK;
	if (!quiet) {
		const char *out = o.dir ? o.dir : o.out;
		int online = 0;
		double pct = res.seconds > 0 ? 100.0 * res.rec_cpu_s / res.seconds : 0;

		for (int i = 0; i < res.ncpus; i++)
			online += res.cpu[i].online;
		if (res.notes[0])
			fputs(res.notes, stderr);
		fprintf(stderr, "fragreplay record: %s: %" PRIu64 " events over %.2f s on %d CPUs, lost %" PRIu64
				"; %.1f MB (%.1f MB of raw sub-buffers); stopped: %s\n",
			out, res.events, res.seconds, online, res.lost, (double)res.out_bytes / 1e6,
			(double)res.raw_bytes / 1e6, stop_reason(&res, why, sizeof(why)));
		for (int i = 0; i < res.ncpus; i++) {
			const struct fr_record_cpu *p = &res.cpu[i];
			if (!p->online)
				continue;
			fprintf(stderr, "fragreplay record: cpu%d events=%" PRIu64 " kernel_entries=%" PRIu64
					" overrun=%" PRIu64 " commit_overrun=%" PRIu64 " dropped=%" PRIu64
					" lost_markers=%" PRIu64 " raw_bytes=%" PRIu64 "\n",
				i, p->decoded, p->kernel_entries, p->overrun, p->commit_overrun, p->dropped,
				p->lost_markers, p->raw_bytes);
		}
		fprintf(stderr, "fragreplay record: recorder CPU while tracing %.3f s = %.2f%% of one core; "
				"start snapshot %.2f s; stop (end snapshot + drain) %.2f s; writing %.2f s "
				"(%.2f s CPU); buffer %" PRIu64 " KiB per CPU, instance %s\n",
			res.rec_cpu_s, pct, res.snap_start_s, res.stop_s, res.post_s, res.post_cpu_s,
			res.buffer_kb, res.instance);
	}
	if (res.check_failed) {
		for (int i = 0; i < res.ncpus; i++)
			if (res.cpu[i].online && !res.cpu[i].kernel_unknown &&
			    res.cpu[i].decoded != res.cpu[i].kernel_entries)
				fprintf(stderr, "fragreplay record: SELF-CHECK FAILED: cpu%d: decoded %" PRIu64
						" events, the kernel delivered %" PRIu64 "\n",
					i, res.cpu[i].decoded, res.cpu[i].kernel_entries);
		rc = FR_EXIT_FAIL;
	}
	if (res.lost) {
		fprintf(stderr, "fragreplay record: %s%" PRIu64 " events were lost (the ring buffer overran); "
				"try a larger --buffer-kb%s\n", allow_loss ? "warning: " : "", res.lost,
			allow_loss ? "" : ", or --allow-loss to accept a lossy recording");
		if (!allow_loss)
			rc = FR_EXIT_FAIL;
	}
	if (o.cmd && res.stopped_by == 0 && res.cmd_status >= 0 &&
	    !(WIFEXITED(res.cmd_status) && WEXITSTATUS(res.cmd_status) == 0)) {
		fprintf(stderr, "fragreplay record: %s; the recording is kept\n",
			stop_reason(&res, why, sizeof(why)));
		rc = FR_EXIT_FAIL;
	}
	if (o.cmd && res.cmd_running && !quiet)
		fprintf(stderr, "fragreplay record: note: COMMAND is still running\n");
	fr_record_result_free(&res);
	return rc;
}
