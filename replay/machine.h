/* SPDX-License-Identifier: GPL-2.0 */
/*
 * machine.h - build the recorded machine: geometry, zones and the initial
 * state that every policy of a run starts from.
 */
#ifndef FR_MACHINE_H
#define FR_MACHINE_H

#include <stdint.h>
#include "fr_source.h"
#include "model.h"
#include "pfnmap.h"

/* What one pass over the trace tells before replay starts. */
struct fr_prepass {
	uint64_t pfn_min, pfn_max;	/* over all events with a pfn */
	uint32_t max_cpu;
	uint64_t *touched, *first_alloc; /* bitmaps over pfns [0, end) */
	uint8_t *pb_label;		/* per pageblock: first migratetype a zone_locked or
					 * pcpu_drain event showed for it (0xff: none) */
	uint64_t pb_labels_seen;
	uint64_t end;
	struct pfnmap first_free;	/* pfn -> order of frees that come before any alloc */
	uint64_t events;
	/* the most blocks the trace holds live at once, counting allocations
	 * up and frees down from 0 (never below): sizes the engine's
	 * recorded-pfn map up front (an estimate: frees of pages allocated
	 * before the trace count too) */
	uint64_t live_peak;
	/* the event that reaches highest (for "beyond the machine" errors) */
	uint64_t max_ev_index, max_ev_pfn, max_ev_ts;
	unsigned max_ev_order;
	/* first event with an order above MAX_PAGE_ORDER */
	uint64_t bad_order_index, bad_order_ts, bad_order_pfn;
	unsigned bad_order;
	int has_bad_order;
};

struct fr_machine_opts {
	uint64_t mem_bytes;		/* --mem: one zone of this size when no zoneinfo */
};

struct fr_machine {
	struct fr_model *model;		/* the initial state (cloned per policy) */
	int model_adopted;		/* the last run replays on `model` itself */
	char init_source[32];		/* "kpageflags" or "trace" */
	uint64_t seeded_alloc_pages, seeded_free_pages, hole_pages;
	uint64_t kpf_pcp_guess;		/* not-buddy pages at start the trace allocates first: were on per-CPU lists */
	uint64_t kpf_late_alloc;	/* buddy pages at start the trace frees first: allocated after the snapshot */
	uint64_t trace_labels;		/* pageblocks whose initial label came from the trace */
	int nzones;
	struct m_zone_spec zones[M_MAX_ZONES];
	uint64_t label_blocks[M_MAX_ZONES][FRP_NR_MT]; /* initial pageblock labels */
};

int fr_prepass_run(struct fr_source *src, struct fr_prepass *pp, volatile int *stop, struct fr_error *err);
void fr_prepass_free(struct fr_prepass *pp);

/* Frees the prepass's bitmaps and first-free map (they seed the model). */
int fr_machine_build(struct fr_machine *mc, const struct fr_meta *meta, struct fr_prepass *pp,
		     const struct fr_machine_opts *o, struct fr_error *err);
void fr_machine_free(struct fr_machine *mc);

struct fr_model *model_clone(const struct fr_model *m);

#endif
