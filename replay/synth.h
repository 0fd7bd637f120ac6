/* SPDX-License-Identifier: GPL-2.0 */
/*
 * synth.h - machine-scale synthetic traces, resampled from a real recording.
 *
 * A profile holds what a recording says about its allocation demand: the
 * joint (order, migratetype, gfp) mix of its allocations, per (order,
 * migratetype) how many were freed within the recording and after how many
 * events (log2 histogram), the CPUs that allocated and freed, the event
 * rate, the share of batched frees, and the used fraction of the machine's
 * memory at the start.  fr_synth_run() turns a profile into N events for a
 * machine of any size, placing every allocation with a real buddy
 * allocator (the model of replay/model.c) so that the trace is
 * self-consistent: `replay -p recorded` replays it exactly.
 */
#ifndef FR_SYNTH_H
#define FR_SYNTH_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "fr_error.h"

#define FR_SYNTH_NORD 11
#define FR_SYNTH_NMT 6
#define FR_SYNTH_NCLASS (FR_SYNTH_NORD * FR_SYNTH_NMT)	/* class = order * NMT + mt */
#define FR_SYNTH_LIFE_BUCKETS 48			/* lifetime in [2^b, 2^(b+1)) events */
#define FR_SYNTH_MAX_CPUS 4096

struct fr_synth_combo {
	uint64_t gfp;
	uint64_t count;
	uint8_t order;
	int8_t mt;
};

struct fr_synth_profile {
	char source[512];	/* the recording it was learned from, or "built-in" */
	char kernel[128];
	unsigned nr_cpus;
	uint64_t *alloc_cpu, *free_cpu;	/* [nr_cpus]: events per CPU */
	struct fr_synth_combo *combo;	/* joint (order, mt, gfp) histogram */
	size_t ncombo, capcombo;
	uint64_t cls_allocs[FR_SYNTH_NCLASS];	/* allocations per class */
	uint64_t cls_freed[FR_SYNTH_NCLASS];	/* ... of them freed within the recording */
	uint64_t life[FR_SYNTH_NCLASS][FR_SYNTH_LIFE_BUCKETS];
	uint64_t allocs, frees, batched, failed;
	double rate;		/* mm_page_alloc + mm_page_free per second of trace time */
	double live_fraction;	/* used share of managed memory at the start */
};

/* Learn a profile from any recording (streamed; memory bounded by its live set). */
int fr_synth_profile_from_trace(struct fr_synth_profile *p, const char *path, struct fr_error *err);
/* The built-in profile (learned from traces/small-tar). */
int fr_synth_profile_default(struct fr_synth_profile *p, struct fr_error *err);
json_t *fr_synth_profile_json(const struct fr_synth_profile *p);
int fr_synth_profile_from_json(struct fr_synth_profile *p, const json_t *j, const char *what,
			       struct fr_error *err);
void fr_synth_profile_free(struct fr_synth_profile *p);

struct fr_synth_opts {
	uint64_t mem_bytes;	/* machine size: one Normal zone */
	uint64_t events;	/* exactly this many events are written */
	uint64_t seed;
	unsigned nr_cpus;	/* 0: the profile's */
	double rate;		/* events per second, 0: the profile's (scaled with nr_cpus) */
	double live_fraction;	/* target live share of memory, < 0: the profile's */
	int level;		/* zstd level of the .frt, 0: default */
	int progress;		/* progress line on stderr */
	const char *cmdline;	/* recorded as the trace's source path */
	volatile int *stop;	/* set (by a signal handler) to abandon the output */
};

struct fr_synth_stats {
	uint64_t events, allocs, frees, batched, failed_allocs, reclaim_frees;
	uint64_t target_pages, live_pages_end, live_pages_max, machine_pages;
	uint64_t bytes;
	uint64_t first_ts, last_ts;
	uint64_t ramp_events;	/* events until the footprint first reached the target (0: never) */
	double ramp_q;		/* share of would-be short-lived allocations kept during the ramp */
	double seconds;
};

/* Write the trace to OUT ("-": standard output) through the .frt writer. */
int fr_synth_run(const struct fr_synth_profile *p, const struct fr_synth_opts *o, const char *out,
		 struct fr_synth_stats *st, struct fr_error *err);

#endif
