/* SPDX-License-Identifier: GPL-2.0 */
/*
 * engine.h - replay one decoded event stream against N policies.
 *
 * The engine owns the model of each run, the recorded-pfn -> model-block
 * map and every metric; policies only choose where blocks go.  One decode
 * feeds all runs.
 */
#ifndef FR_ENGINE_H
#define FR_ENGINE_H

#include <stdint.h>
#include <jansson.h>
#include "batchfree.h"
#include "fbgroup.h"
#include "fr_source.h"
#include "machine.h"
#include "model.h"
#include "pfnmap.h"
#include "policy_load.h"

struct fr_replay_opts {
	uint64_t interval_ns;	/* timeline sample period (trace time) */
	int check;		/* run the invariant checker at every sample */
	uint64_t mem_bytes;	/* --mem */
	int progress;		/* progress line on stderr */
	volatile int *stop;	/* set asynchronously (SIGINT): end early, results marked partial */
	uint64_t stop_after;	/* stop after this many events (tests of the partial path); 0: never */
	int label_agreement;	/* keep each allocation's pageblock label to compare runs with `recorded` */
	int strict;		/* double frees and overlapping allocations are bad input */
	int no_caller_fallback;	/* a refused high-order NORETRY/NOWARN allocation stays failed */
	int piece_map;		/* tests: fallback pieces as map entries, as on machines past 16 TiB */
};

struct fr_sample {
	double t;
	uint64_t events, tainted, tainted_live, clean, empty, free_pages, lower_bound;
	uint64_t gigantic, pcp_pages;
};

struct fr_counter {
	char name[48];
	uint64_t *v;		/* in fr_run.ctr_vals: policies may hold it (frp_model_ops.counter) */
};
#define FR_CTR_CHUNK 64		/* counter values per fr_run.ctr_vals chunk */

#define FR_CTR_CACHE_BITS 8
#define FR_CTR_CACHE (1u << FR_CTR_CACHE_BITS)
struct fr_ctr_cache {		/* a name pointer a policy passed -> its counter */
	const char *key;
	uint64_t *v;
};

enum {
	C_ALLOCS, C_ALLOC_PAGES, C_ALLOC_FAILURES, C_RECORDED_FAILURES, C_FREES, C_FREE_PAGES,
	C_UNKNOWN_FREES, C_PARTIAL_FREES, C_ALLOC_OF_LIVE_PFN, C_CHECK_VIOLATIONS, C_BAD_PLACEMENTS,
	C_CALLER_FALLBACKS, C_CALLER_FALLBACK_PAGES, C_RELEASED_FREES, NR_ENGINE_COUNTERS
};

struct fr_run {
	struct fr_policy_inst pi;
	struct fr_model *m;
	void *self;
	struct pfnmap map;	/* recorded pfn -> model pfn (identity mappings omitted), or a group tag */
	struct fbgroups fbg;	/* caller-fallback pieces, one group per recorded block */
	uint64_t grp_base;	/* map values from here on are grp_base + group id; UINT64_MAX: none */
	uint8_t zone_idx[4];	/* gfp zone class -> model zone (engine.c) */
	struct pfnmap released;	/* recorded pfn -> order, of blocks the policy released early */
	uint64_t ctr[NR_ENGINE_COUNTERS];
	struct fr_counter *pctr; /* the policy's own counters */
	int npctr;
	uint64_t **ctr_vals;	/* their values, chunks of FR_CTR_CHUNK that never move */
	int nctr_chunks;
	struct fr_ctr_cache ctr_cache[FR_CTR_CACHE];
	struct fr_sample *tl;
	size_t ntl, captl;
	uint64_t tainted_max, lower_bound_max, gigantic_min, tainted_live_max;
	char violation[512];
	double seconds;		/* CPU time spent in this run (not in the JSON) */
	uint8_t *labels;	/* --label-agreement: label of the pageblock each allocation landed in */
	size_t nlabels, caplabels;
};

struct fr_stream_stats {
	uint64_t kinds[FR_EV_NKINDS];
	uint64_t dup_batched, lost_events, lost_markers;
	uint64_t *lost_by_cpu;
	uint32_t nlost;
	uint64_t first_ts, last_ts, events;
};

struct fr_replay {
	struct fr_replay_opts opts;
	struct fr_machine mc;
	struct fr_prepass pp;
	const struct fr_meta *meta;
	struct fr_run *runs;
	int nruns;
	struct fr_stream_stats st;
	struct batchfree bf;
	uint8_t *last_touch;	/* per pfn: last traced event kind (for end-state validation) */
	uint64_t end_snap_begin_ns; /* trace time the end kpageflags snapshot began (0: unknown) */
	uint64_t *live_bm, *freed_bm;	/* --strict: traced-live and traced-freed pages */
	char strict_err[512];		/* --strict: the first inconsistency */
	double decode_seconds;
	int partial;		/* the replay ended before the end of the trace */
};

int fr_replay_run(struct fr_replay *r, struct fr_source *src, char *const *specs, int nspecs,
		  struct fr_error *err);
json_t *fr_replay_json(struct fr_replay *r);
void fr_replay_free(struct fr_replay *r);

/* Write JSON atomically: a temp file in the same directory, fsync, rename. */
int fr_json_write_atomic(json_t *j, const char *path, struct fr_error *err);

#endif
