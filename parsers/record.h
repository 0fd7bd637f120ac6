/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record.h - the live recorder: kmem page events from a private tracefs
 * instance, loss-free, with the machine's state around the recording.
 *
 * fr_record() does the whole recording (record.c has the why of each step):
 *
 *   1. a tracefs instance "fragreplay-PID" (tracing off), large per-CPU
 *      buffers, trace_clock global, buffer_percent 1, the chosen kmem events;
 *      a guardian process that removes the instance if we die (even SIGKILL);
 *   2. one reader thread per CPU splicing whole sub-buffers from
 *      trace_pipe_raw into an unlinked temporary file beside the output;
 *   3. start snapshots (/proc/zoneinfo, pagetypeinfo, buddyinfo, then
 *      /proc/kpageflags zstd-1 compressed in memory), then tracing_on;
 *   4. COMMAND runs / --duration elapses / SIGINT, SIGTERM or SIGHUP arrives;
 *   5. tracing_off, end snapshots (kpageflags first), readers drain and
 *      flush the rest, per-CPU kernel stats read, the instance removed;
 *   6. the raw sub-buffers decoded with kbuffer + the kernel's own event
 *      formats (fields found by name, as parsers/tracedat.c does), the CPUs
 *      merged by timestamp, and written with the snapshots as one .frt
 *      (atomically), or as a recording directory.
 *
 * Signals: fr_record() blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD while it
 * runs and takes them synchronously.  The first stops the recording and the
 * output is still written; one arriving after that abandons the recording
 * (FR_REC_INTERRUPTED, nothing written).  The caller's signal mask is
 * restored on return.
 */
#ifndef FR_RECORD_H
#define FR_RECORD_H

#include <stdint.h>
#include "fr_error.h"
#include "fr_event.h"

/* Return values of fr_record(). */
#define FR_REC_OK 0
#define FR_REC_FAIL (-1)		/* an I/O or kernel failure; nothing written */
#define FR_REC_UNSUPPORTED (-2)		/* not root, no tracefs, event missing, command cannot run */
#define FR_REC_INTERRUPTED (-3)		/* abandoned by a second signal; nothing written */

/* All six kmem page events: bit k is enum fr_kind k. */
#define FR_REC_ALL_KINDS ((1u << FR_EV_ALLOC) | (1u << FR_EV_FREE) | (1u << FR_EV_FREE_BATCHED) | \
			  (1u << FR_EV_ZONE_LOCKED) | (1u << FR_EV_PCPU_DRAIN) | (1u << FR_EV_EXTFRAG))

#define FR_REC_DEFAULT_BUFFER_KB (256u * 1024)	/* per CPU, before the free-memory cap */

struct fr_record_opts {
	const char *out;	/* .frt output ("-": standard output), or NULL with dir */
	const char *dir;	/* recording directory (trace.frt + snapshot files), or NULL */
	double duration_s;	/* > 0: stop after this long */
	unsigned kinds;		/* events to enable (FR_REC_ALL_KINDS when 0) */
	uint64_t buffer_kb;	/* per-CPU ring buffer; 0: FR_REC_DEFAULT_BUFFER_KB capped
				 * so that all CPUs together take <= 1/4 of MemAvailable */
	char *const *cmd;	/* COMMAND ARGS (NULL-terminated) to record while it runs, or NULL */
	int status_line;	/* a live "events/s, lost" line on stderr (only sensible on a tty) */
	int level;		/* zstd level of the .frt event blocks (0: the writer's default) */
	const char *tracefs;	/* tracefs mount to use (NULL: find it, mounting it if needed) */
};

struct fr_record_cpu {
	int online;		/* had a buffer and a reader */
	uint64_t decoded;	/* events decoded from this CPU's sub-buffers */
	uint64_t kernel_entries;/* events the kernel delivered: "read events" + "entries" */
	int kernel_unknown;	/* the kernel's stats lack "read events": no self-check */
	uint64_t overrun, commit_overrun, dropped; /* the kernel's loss counters */
	uint64_t lost_markers;	/* sub-buffers flagged "events missed before this" */
	uint64_t raw_bytes;	/* sub-buffer bytes read */
	uint64_t unknown;	/* events of an id we do not map (should be 0) */
};

struct fr_record_result {
	int ncpus;
	struct fr_record_cpu *cpu;	/* ncpus entries (free with fr_record_result_free) */
	char instance[64];		/* the tracefs instance used */
	uint64_t events;		/* events written (kmem events, not LOST markers) */
	uint64_t lost;			/* overrun + commit overrun + dropped (all CPUs) */
	uint64_t raw_bytes;		/* sub-buffer bytes read in all */
	uint64_t out_bytes;		/* the .frt's size */
	uint64_t buffer_kb;		/* per-CPU ring buffer used */
	double seconds;			/* tracing_on .. tracing_off */
	double rec_cpu_s;		/* our CPU time (all threads) while tracing */
	double stop_cpu_s, stop_s;	/* CPU and wall time of stop: end snapshots, drain */
	double post_cpu_s, post_s;	/* CPU and wall time of decoding and writing */
	double snap_start_s;		/* wall time of the start snapshots */
	int stopped_by;			/* 0: command ended, 1: duration, or the signal number */
	int cmd_status;			/* waitpid status of COMMAND, -1: none or still running */
	int cmd_running;		/* COMMAND was still running when recording stopped */
	int check_failed;		/* decoded != kernel entries on some CPU */
	int cpus_mismatched;		/* how many */
	char notes[1024];		/* warnings worth printing, one per line */
};

/*
 * Parse an --events list ("mm_page_alloc,kmem:mm_page_free,...") into a
 * kinds mask.  -1 with err naming the bad entry and the known names.
 */
int fr_record_parse_events(const char *list, unsigned *kinds, struct fr_error *err);

/* Record as described above.  res is filled (and owns memory) whatever the return. */
int fr_record(const struct fr_record_opts *o, struct fr_record_result *res, struct fr_error *err);
void fr_record_result_free(struct fr_record_result *res);

#endif
