/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fr_event.h - the one event type every parser produces.
 *
 * Parsers (trace.dat, text dumps, the native .frt format, the live recorder)
 * all turn their input into a stream of struct fr_event, in trace-time order.
 * Nothing downstream knows which format an event came from.
 */
#ifndef FR_EVENT_H
#define FR_EVENT_H

#include <stdint.h>

enum fr_kind {
	FR_EV_NONE = 0,
	FR_EV_ALLOC,		/* kmem:mm_page_alloc */
	FR_EV_FREE,		/* kmem:mm_page_free */
	FR_EV_FREE_BATCHED,	/* kmem:mm_page_free_batched (duplicate marker) */
	FR_EV_ZONE_LOCKED,	/* kmem:mm_page_alloc_zone_locked */
	FR_EV_PCPU_DRAIN,	/* kmem:mm_page_pcpu_drain */
	FR_EV_EXTFRAG,		/* kmem:mm_page_alloc_extfrag */
	FR_EV_LOST,		/* ring-buffer loss marker for one CPU */
	FR_EV_NKINDS
};

/* mm_page_alloc stores pfn = -1UL for a failed allocation (kmem.h). */
#define FR_PFN_NONE UINT64_MAX

/* Migratetypes as the kernel numbers them (enum migratetype, CMA+ISOLATE on). */
enum fr_mt {
	FR_MT_UNMOVABLE = 0,
	FR_MT_MOVABLE = 1,
	FR_MT_RECLAIMABLE = 2,
	FR_MT_HIGHATOMIC = 3,
	FR_MT_CMA = 4,
	FR_MT_ISOLATE = 5,
	FR_MT_NTYPES = 6
};

/*
 * One decoded tracepoint hit.  32 bytes, no padding holes, so that the
 * native format can store it as is and tests can memcmp streams.
 *
 * Field use per kind:
 *   ALLOC        pfn (FR_PFN_NONE if it failed), order, mt, gfp
 *   FREE         pfn, order
 *   FREE_BATCHED pfn (order is meaningless in the kernel's text: 0)
 *   ZONE_LOCKED  pfn, order, mt, aux = percpu_refill
 *   PCPU_DRAIN   pfn, order, mt
 *   EXTFRAG      pfn, order = alloc_order, mt = alloc_migratetype,
 *                aux = fallback_order, gfp bit 0 = change_ownership,
 *                gfp bits 8..15 = fallback_migratetype
 *   LOST         cpu, gfp = number of events lost (0: unknown count)
 */
struct fr_event {
	uint64_t ts;		/* ns on the trace clock */
	uint64_t pfn;
	uint64_t gfp;
	uint32_t cpu;
	uint8_t kind;		/* enum fr_kind */
	uint8_t order;
	int8_t mt;
	uint8_t aux;
};

_Static_assert(sizeof(struct fr_event) == 32, "fr_event must stay 32 bytes");

const char *fr_kind_name(int kind);	/* "mm_page_alloc", ... , "lost" */
int fr_kind_from_name(const char *name); /* FR_EV_NONE if unknown */
const char *fr_mt_name(int mt);		/* "Unmovable", ... */

#endif
