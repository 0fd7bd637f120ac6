/* SPDX-License-Identifier: GPL-2.0 */
/*
 * model.h - the allocator model: zones, superpageblocks, pageblocks, buddy
 * free lists per SPB x order x migratetype, per-CPU lists.
 *
 * Memory: one 48-bit word per modeled 4 KiB page, stored 6 bytes apart
 * (struct m_pw; read and written only through pw_get() / pw_set()),
 * plus 12 bytes per pageblock and ~1.5 KB per SPB: 6.03 bytes per page.
 * Peak RSS of a whole replay over the modeled pages (synthetic 256 GiB and
 * 1 TiB machines, 2 M-1 B events): -p recorded 6.06-6.17 B/page; -p vanilla
 * 6.4-7.8, the rest being the engine's recorded-pfn map (replay/pfnmap.h).
 *
 * Page word layout (only chunk heads carry meaning; tail pages are 0):
 *   bits  0..3   order
 *   bits  4..6   state (PW_*)
 *   bits  7..9   migratetype: list type (FREE, PCP) or content type (ALLOC)
 *   FREE:  bits 10..28 next, 29..47 prev: 19-bit offsets inside the SPB's
 *          1 GiB-aligned region (free lists never cross an SPB): an SPB
 *          holds at most 2^18 pages (spb_order <= M_MAX_SPB_ORDER), so 18
 *          bits of offset plus the "no link" value M_NIL
 *   ALLOC: bit 10 seeded: allocated in the initial state (identity-mapped)
 *          bits 11..47 the recorded pfn of this allocation (reverse map):
 *          37 bits, pfns below M_MAX_PFN (512 TiB of 4 KiB pages)
 *   PCP, TAKEN, HOLE: order, state and migratetype only
 */
#ifndef FR_MODEL_H
#define FR_MODEL_H

#include <stdint.h>
#include <string.h>
#include "fragreplay-policy.h"
#include "snapshot.h"

#define M_NORD 11		/* orders 0..MAX_PAGE_ORDER(10) */
#define M_NMT FRP_NR_MT
#define M_NIL 0x7FFFFu		/* 19-bit "no link" */
#define M_MAX_SPB_ORDER 18	/* link offsets are 18 bits */
#define M_REC_BITS 37
#define M_MAX_PFN (1ull << M_REC_BITS)	/* pfns the model holds: [0, M_MAX_PFN) */
#define M_NPCP 14		/* NR_PCP_LISTS */
#define M_MAX_ZONES 8

enum { PW_NONE, PW_FREE, PW_ALLOC, PW_PCP, PW_TAKEN, PW_HOLE };

#define PW_ORDER(w) ((unsigned)((w) & 0xf))
#define PW_STATE(w) ((unsigned)(((w) >> 4) & 7))
#define PW_MT(w) ((int)(((w) >> 7) & 7))
#define PW_SEEDED_BIT (1ull << 10)
#define PW_SEEDED(w) ((unsigned)(((w) >> 10) & 1))
#define PW_NEXT_SHIFT 10
#define PW_PREV_SHIFT 29
#define PW_NEXT(w) ((uint32_t)(((w) >> PW_NEXT_SHIFT) & M_NIL))
#define PW_PREV(w) ((uint32_t)(((w) >> PW_PREV_SHIFT) & M_NIL))
#define PW_REC_SHIFT 11
#define PW_REC_MASK (M_MAX_PFN - 1)
#define PW_REC(w) (((w) >> PW_REC_SHIFT) & PW_REC_MASK)
#define PW_MKREC(rec) (((uint64_t)(rec) & PW_REC_MASK) << PW_REC_SHIFT)
#define PW_MASK ((1ull << 48) - 1)

/* One page word in memory: 6 bytes, no alignment.  The array has 2 bytes of
 * tail padding (M_PAGE_BYTES) so that pw_get() may load 8 bytes. */
struct m_pw {
	uint8_t b[6];
};
_Static_assert(sizeof(struct m_pw) == 6, "page words are 6 bytes apart");
#define M_PAGE_BYTES(npages) ((size_t)(npages) * sizeof(struct m_pw) + 2)

struct m_pb {
	uint8_t label;		/* migratetype label */
	uint8_t has;		/* FRP_HAS_* content bits (PB_has_*) */
	uint16_t nfree;		/* buddy-free pages */
	uint16_t nmov;		/* allocated pages with movable content */
	uint16_t npresent;	/* pages that are not holes */
	uint32_t spb;		/* owning SPB */
};

struct m_spb {
	struct frp_spb_info info;
	uint64_t base;		/* 1 GiB-aligned pfn the links are relative to */
	uint64_t live_nonmov;	/* allocated pages with non-movable content */
	uint32_t head[M_NORD][M_NMT], tail[M_NORD][M_NMT];
	uint32_t cnt[M_NORD][M_NMT];
	uint64_t free_mask;	/* bit mt * 16 + order: cnt[order][mt] != 0, for mt < 4 */
	/* zone-list emulation: SPB queue per (order, mt), most recent head-insert first */
	uint32_t zq_next[M_NORD][M_NMT], zq_prev[M_NORD][M_NMT];
	uint8_t zq_in[M_NORD][M_NMT];
};

struct m_deque {		/* a per-CPU list: ring of pfns */
	uint64_t *v;
	uint32_t head, len, cap;
};

struct m_zone {
	struct frp_zone z;
	char name[16];
	uint64_t nr_free[M_NORD];	/* buddy chunks per order (all types) */
	uint64_t free_pages;
	uint32_t zq_head[M_NORD][M_NMT], zq_tail[M_NORD][M_NMT];
	uint64_t zq_cnt[M_NORD][M_NMT];
	uint64_t free_mask;	/* bit mt * 16 + order: zq_cnt[order][mt] != 0, for mt < 4 */
};

struct fr_model;
typedef void (*m_move_cb)(void *arg, uint64_t rec_pfn, uint64_t from, uint64_t to);
/* model_release_alloc(): the allocation recorded at rec_pfn is gone early */
typedef void (*m_release_cb)(void *arg, uint64_t rec_pfn, unsigned order);
typedef void (*m_count_cb)(void *arg, const char *counter, uint64_t delta);
/* the slot of a counter (frp_model_ops.counter); NULL: none (the model's sink is used) */
typedef uint64_t *(*m_counter_cb)(void *arg, const char *counter);

struct fr_model {
	struct frp_geometry geo;
	struct m_zone zone[M_MAX_ZONES];
	struct m_pw *page;	/* page words: pw_get() / pw_set() */
	struct m_pb *pb;
	struct m_spb *spb;
	struct m_deque *pcp;	/* [cpu][zone][pindex] */
	uint64_t now;
	uint64_t pcp_pages_total;
	uint64_t live_nonmov;	/* allocated non-movable pages, whole machine */
	uint64_t usable_pages;
	uint64_t fresh_taints;	/* SPBs turning tainted since the initial state */
	uint64_t pages_migrated;
	m_move_cb on_move;
	m_release_cb on_release;	/* unset: on_move(rec -> rec), "no map entry" */
	m_count_cb on_count;
	m_counter_cb on_counter;
	uint64_t ctr_sink;	/* counter slot of a model without on_counter: counts are dropped */
	void *cb_arg;
};

struct m_zone_spec {
	char name[16];
	uint64_t start_pfn, end_pfn, managed;
	uint64_t wmark_min, wmark_low, wmark_high;
	uint32_t pcp_batch, pcp_high_min, pcp_high_max;
};

/* Build an empty model: every page a hole until seeded. */
struct fr_model *model_create(const struct m_zone_spec *zones, int nzones, unsigned nr_cpus,
			      unsigned pageblock_order, unsigned max_order, unsigned spb_order);
void model_destroy(struct fr_model *m);
struct m_pw *model_page_alloc(uint64_t npages);	/* M_PAGE_BYTES(npages), malloc'd */

/* Initial state (every policy starts from the same one). */
void model_seed_present(struct fr_model *m, uint64_t pfn);	/* hole -> taken */
void model_seed_present_range(struct fr_model *m, uint64_t lo, uint64_t hi);	/* the same for [lo, hi) */
void model_seed_alloc(struct fr_model *m, uint64_t pfn, unsigned order, int mt); /* taken -> alloc (seeded) */
void model_seed_finish(struct fr_model *m); /* remaining taken pages -> free chunks, tail-inserted */

/* Engine side of an allocation / free. */
void model_commit_alloc(struct fr_model *m, uint64_t pfn, unsigned order, int mt, uint64_t rec_pfn);
void model_uncommit(struct fr_model *m, uint64_t pfn);	/* alloc -> taken, content accounted out */

/* Primitives (also exported to policies through frp_model_ops). */
uint64_t model_take(struct fr_model *m, uint64_t pfn, unsigned order);
uint64_t model_take_at(struct fr_model *m, uint64_t pfn, unsigned order);
void model_free_block(struct fr_model *m, uint64_t pfn, unsigned order);
unsigned model_move_freepages(struct fr_model *m, uint64_t pfn, int mt);
void model_set_label(struct fr_model *m, uint64_t pfn, int mt);
void model_set_has(struct fr_model *m, uint64_t pfn, int mt);
int model_migrate(struct fr_model *m, uint64_t from, uint64_t to);
int model_release_alloc(struct fr_model *m, uint64_t pfn);

/* The page word of pfn (pfn < geo.end_pfn). */
static inline uint64_t pw_get(const struct fr_model *m, uint64_t pfn)
{
	const uint8_t *p = (const uint8_t *)m->page + pfn * sizeof(struct m_pw);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w;

	memcpy(&w, p, 8);	/* the last word reads the tail padding */
	return w & PW_MASK;
#else
	uint32_t lo;
	uint16_t hi;

	memcpy(&lo, p, 4);
	memcpy(&hi, p + 4, 2);
	return lo | (uint64_t)hi << 32;
#endif
}

/* Hint: pfn's page word will be read soon (no effect on the model). */
static inline void pw_prefetch(const struct fr_model *m, uint64_t pfn)
{
	__builtin_prefetch((const uint8_t *)m->page + pfn * sizeof(struct m_pw));
}

static inline void pw_set(struct fr_model *m, uint64_t pfn, uint64_t w)
{
	uint8_t *p = (uint8_t *)m->page + pfn * sizeof(struct m_pw);
	uint32_t lo = (uint32_t)w;
	uint16_t hi = (uint16_t)(w >> 32);

	memcpy(p, &lo, 4);
	memcpy(p + 4, &hi, 2);
}

static inline int model_zone_of(const struct fr_model *m, uint64_t pfn)
{
	uint32_t spb;

	if (pfn >= m->geo.end_pfn)
		return -1;
	spb = m->pb[pfn >> m->geo.pageblock_order].spb;
	if (spb == UINT32_MAX)	/* a pageblock outside every zone */
		return -1;
	return (int)m->spb[spb].info.zone;
}

const struct frp_model_ops *model_ops(void);

/* Invariant checker: returns the number of violations, first message in buf. */
uint64_t model_check(struct fr_model *m, char *buf, size_t cap);

#endif
