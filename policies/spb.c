// SPDX-License-Identifier: GPL-2.0
/*
 * spb.c - the superpageblock (SPB) allocator of Rik van Riel's RFC series
 * ("1GB superpageblock memory allocation" v1, "mm: reliable 1GB page
 * allocation" v2), final (v2) form, as a fragreplay policy.
 *
 * Sources: ../shared/seeds/ (five patches, implemented as written) and
 * ../shared/design/spb-series.md (the reconstruction; its tags are kept in
 * the comments below: [S] stated, [C] code seen, [I] inferred).  Every
 * seed patch and every series patch modelled here is a switch; every [I]
 * point is a parameter with the default spb-series.md documents.  See
 * docs/spb-policy.md for the table.
 *
 * Map of this file, in mm/page_alloc.c order:
 *   spb_update_list()            SPB lists by category x fullness bucket
 *   __rmqueue_smallest()         Pass 1 (cpu hint, zone hint, walk), 2, 2b,
 *                                2c (seed 000), 2d, pre-Pass-3 triggers
 *                                (seeds 002, 004), 3, 4, ZONE_FALLBACK
 *   __rmqueue_claim/_steal()     category-steered fallbacks (11/40, 19/40)
 *   __rmqueue()                  NORMAL -> CLAIM -> STEAL (upstream modes)
 *   rmqueue_pcplist/_bulk()      per-CPU lists, pcpbuddy pageblock ownership,
 *                                remote frees (seed 003)
 *   get_page_from_freelist()     zonelist walk + the relax sequence (20/40,
 *                                35/40 = seed 001)
 *   __alloc_pages_slowpath()     evacuation before the NOFRAGMENT drop (24/45)
 *   background (trace clock)     per-SPB defrag worker (15/40), async
 *                                evacuation, SPB slab shrink (seed 004)
 *
 * The SPB of the series and the model's SPB are the same thing: the model
 * keeps buddy free lists per (SPB, order, migratetype) and the per-SPB
 * counters nr_free, nr_free_pages, nr_has[mt], nr_label[mt],
 * total_pageblocks.  This file keeps what the series adds on top: the
 * zone's SPB lists, hints, the tainted reserve, the passes, the workers.
 *
 * Speed (not semantics): each SPB caches the model's bitmap of non-empty
 * free lists (ops->spb_free_orders, refreshed by spb_update_list(), which
 * runs after every change to the SPB), and each zone keeps, per category,
 * how many SPBs have each bit, so a walk that cannot succeed is skipped in
 * O(1) -- the per-order bitmaps Rik van Riel floated for the next posting.
 * Within one rmqueue_bulk() batch, borrow passes resume where the previous
 * iteration succeeded.  The same bitmaps let __rmqueue_claim/_steal and the
 * HIGHATOMIC search skip walks that cannot find a chunk; per-zone counts
 * kept by spb_update_list() (track()) replace the fall-through and
 * last-chance defrag walks over every tainted SPB; evacuation scans only a
 * SPB's labelled pageblocks (label_list()), sorts by counting, and when no
 * destination exists anywhere stops at the first candidate that decides
 * the run (evac_probe()).  Placements, counters and background work are the
 * same as a plain walk's (build with -DSPB_VERIFY to check the shortcuts).
 *
 * Per-CPU lists are upstream's by default; pcp_owner=on adds the pcpbuddy
 * pageblock ownership the series builds on, and with it seed 003's
 * remote-free path.  It is off by default because pcpbuddy's per-CPU
 * merging is not modelled (see docs/spb-policy.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include "fragreplay-policy.h"
#include "upstream.h"	/* upstream's ALLOC_* flags, MODE_*, and the rules spb keeps as they are */

/* The series' new alloc_flags: their values were not seen; any free bits do. */
#define ALLOC_NOFRAG_TAINTED_OK	0x10000	/* 35/40: Pass 2/2b may relabel for atomic callers */
#define ALLOC_HIGHORDER_OPTIONAL 0x20000 /* 26/40: caller has a cheap fallback */

/* SPB categories of the series: zone->spb_empty, spb_lists[SB_CLEAN/SB_TAINTED][full],
 * spb_isolated (contig_allocated SPBs: never entered in a replay, see docs). */
enum { SB_EMPTY, SB_CLEAN, SB_TAINTED, SB_ISOLATED };
#define NB 4			/* fullness buckets SB_FULL .. SB_ALMOST_EMPTY [I] */
#define L_EMPTY 0
#define L_ISOLATED 1
#define L_CAT(cat, b) (2 + ((cat) == SB_TAINTED ? NB : 0) + (b))
#define NLISTS (2 + 2 * NB)
#define NIL UINT32_MAX

enum { PASS3_GATE_NONE, PASS3_GATE_RELABEL, PASS3_GATE_DROP };

/* enum spb_alloc_outcome of the spb_alloc_walk tracepoint [C] */
enum { O_NO_PAGE, O_PASS_1, O_PASS_2, O_PASS_2B, O_PASS_2C, O_PASS_3, O_PASS_4,
       O_ZONE_FALLBACK, O_PASS_2D, NR_O };
static const char *const outcome_name[NR_O] = {
	"NO_PAGE", "PASS_1", "PASS_2", "PASS_2B", "PASS_2C", "PASS_3", "PASS_4",
	"ZONE_FALLBACK", "PASS_2D",
};
static const char *const taint_name[NR_O] = {
	"", "fresh_taint_PASS_1", "fresh_taint_PASS_2", "fresh_taint_PASS_2B",
	"fresh_taint_PASS_2C", "fresh_taint_PASS_3", "fresh_taint_PASS_4", "", "fresh_taint_PASS_2D",
};

/* ------------------------------------------------------------------------ */
/* Parameters                                                                */
/* ------------------------------------------------------------------------ */

enum {
	/* switches: seed patches */
	P_PASS2C, P_HIGHORDER_REFUSE, P_DEFRAG_TRIGGERS, P_SLAB_SHRINK, P_PCP_REMOTE_FREE,
	/* switches: the rest of the series */
	P_PASS2, P_PASS2B, P_PASS2D, P_PASS3, P_PASS4, P_HINTS, P_RESERVE, P_PACKING,
	P_STEER_CLAIM, P_RELAX, P_HIGHORDER_OPTIONAL, P_DEFRAG, P_EVACUATE,
	/* upstream / pcpbuddy machinery */
	P_PCP, P_PCP_OWNER, P_HIGHATOMIC, P_NOFRAGMENT, P_DEFRAG_MODE,
	/* numbers stated in the series */
	P_RESERVE_MIN, P_RESERVE_DIV, P_AGGRESSIVE_THRESHOLD, P_DEFRAG_COOLDOWN_MS,
	P_SHRINK_TARGET_OBJS,
	/* inferred points [I] */
	P_BUCKET_BASIS, P_BUCKET_BOUNDS, P_TAINT_BASIS, P_STICKY_TAINT, P_TAINTED_OK_GATE,
	P_CLAIM_CLEAN_NEEDS_DROP, P_PASS3_GATE, P_HINT_PER_MT, P_PASS1_WHOLE_FIRST, P_PASS2D_ORDER,
	P_OPTIONAL_MIN_ORDER, P_OPTIONAL_NEEDS, P_DEFRAG_THRESHOLDS, P_DEFRAG_BATCH_PB,
	P_EVAC_CANDIDATES, P_EVAC_BATCH_PB, P_SHRINK_OBJS_PER_PAGE, P_WORK_DELAY_US,
	NR_P
};

static const struct frp_param params[] = {
	[P_PASS2C] = { "pass2c", "on",
		"seed 000 (v1 31/45): Pass 2c, UNMOVABLE<->RECLAIMABLE buddy borrow inside tainted SPBs" },
	[P_HIGHORDER_REFUSE] = { "highorder_refuse", "on",
		"seed 001 (v2 35/40): relax sequence refuses best-effort high-order atomic allocs spb_tainted_can_serve_smaller() says a smaller retry could use" },
	[P_DEFRAG_TRIGGERS] = { "defrag_triggers", "on",
		"seed 002 (v1 43/45): spb_maybe_start_defrag() from every Pass 1/2/2b/2c/2d success below the shrink high-water mark, and the last-chance walk before Pass 3" },
	[P_SLAB_SHRINK] = { "slab_shrink", "on",
		"seed 004 (v2 28/40): queue_spb_slab_shrink() at its trigger sites and the shrink worker" },
	[P_PCP_REMOTE_FREE] = { "pcp_remote_free", "on",
		"seed 003 (v2 03/40), with pcp_owner=on: frees into a pageblock another CPU owns go to that CPU's free_llist (off: straight onto the owner's per-CPU list)" },
	[P_PASS2] = { "pass2", "on", "14/40 [C]: Pass 2, claim_whole_block() of a free MOVABLE pageblock in a tainted SPB" },
	[P_PASS2B] = { "pass2b", "on", "25/45 [S]: Pass 2b, sub-pageblock MOVABLE chunk in a tainted SPB, no 50% gate" },
	[P_PASS2D] = { "pass2d", "on", "42/45, 27/40 [S/C]: Pass 2d, borrow from the MOVABLE list inside tainted SPBs" },
	[P_PASS3] = { "pass3", "on", "14/40 [C]: Pass 3, whole pageblock from an empty SPB" },
	[P_PASS4] = { "pass4", "on", "20/40 [S]: Pass 4, fall back to the non-preferred category" },
	[P_HINTS] = { "hints", "on", "14/40 [C names]: Pass 1 tries the per-CPU slot SPB, then the zone hint SPB" },
	[P_RESERVE] = { "reserve", "on", "19/40, 24/45 [C]: movable skips tainted SPBs with nr_free <= spb_tainted_reserve()" },
	[P_PACKING] = { "packing", "on", "19/40 [S]: zones with more than aggressive_threshold SPBs lift the NOFRAGMENT pageblock floor of __rmqueue_claim in tainted SPBs" },
	[P_STEER_CLAIM] = { "steer_claim", "on", "11/40, 14/40 [S/C]: __rmqueue_claim/_steal search SPB categories (tainted first for non-movable); off: zone order" },
	[P_RELAX] = { "relax", "on", "20/40, 35/40 [S/C]: only callers without __GFP_DIRECT_RECLAIM relax NOFRAGMENT (NORETRY skip, TAINTED_OK, drop); off: upstream drop for every caller" },
	[P_HIGHORDER_OPTIONAL] = { "highorder_optional", "on", "26/40 [S]: ALLOC_HIGHORDER_OPTIONAL callers are refused rather than taint a clean SPB (spb_highorder_refused)" },
	[P_DEFRAG] = { "defrag", "on", "15/40 [S]: per-SPB background defrag worker, triggered from spb_update_list()" },
	[P_EVACUATE] = { "evacuate", "on", "17/40, 24/45 [S/C]: spb_evacuate_for_order() before the slowpath drops NOFRAGMENT, and queue_spb_evacuate()" },
	[P_PCP] = { "pcp", "on", "per-CPU page lists (rmqueue_pcplist / free_frozen_page_commit)" },
	[P_PCP_OWNER] = { "pcp_owner", "off", "pcpbuddy [S]: rmqueue_bulk Phase 1 takes a whole pageblock the CPU then owns, frees go to the owner (seed 003); off by default: without pcpbuddy's per-CPU merging, owned pageblocks fragment on the lists" },
	[P_HIGHATOMIC] = { "highatomic", "on", "MIGRATE_HIGHATOMIC reserve for high-order atomic requests (as vanilla)" },
	[P_NOFRAGMENT] = { "nofragment", "broad", "ALLOC_NOFRAGMENT on the fast path: broad (12/40, 20/40 [S]: every zone), upstream (alloc_flags_nofragment), off" },
	[P_DEFRAG_MODE] = { "defrag_mode", "off", "vm.defrag_mode: NOFRAGMENT is never relaxed on the fast path" },
	[P_RESERVE_MIN] = { "reserve_min", "4", "[C] SPB_TAINTED_RESERVE_MIN" },
	[P_RESERVE_DIV] = { "reserve_div", "32", "[C] spb_tainted_reserve() = max(reserve_min, total_pageblocks / reserve_div)" },
	[P_AGGRESSIVE_THRESHOLD] = { "aggressive_threshold", "8", "[S] SPB_AGGRESSIVE_THRESHOLD: packing applies to zones with more SPBs than this" },
	[P_DEFRAG_COOLDOWN_MS] = { "defrag_cooldown_ms", "5000", "[S] SPB_DEFRAG_NOOP_COOLDOWN after a run without progress" },
	[P_SHRINK_TARGET_OBJS] = { "shrink_target_objs", "2048", "[C] SPB_SLAB_SHRINK_TARGET_OBJS = pageblock_nr_pages * 4" },
	[P_BUCKET_BASIS] = { "bucket_basis", "pages", "[I] fullness by free pages (pages) or by wholly free pageblocks (pageblocks)" },
	[P_BUCKET_BOUNDS] = { "bucket_bounds", "12.5/37.5/62.5", "[I] free-% boundaries of SB_FULL / 2 / 3 / SB_ALMOST_EMPTY" },
	[P_TAINT_BASIS] = { "taint_basis", "content", "[I] steering category from PB_has content bits (content) or pageblock labels (label)" },
	[P_STICKY_TAINT] = { "sticky_taint", "off", "[I] a tainted SPB stays tainted (for steering) until it is empty" },
	[P_TAINTED_OK_GATE] = { "tainted_ok_gate", "on", "[I] callers without __GFP_DIRECT_RECLAIM need ALLOC_NOFRAG_TAINTED_OK to relabel in tainted SPBs (Pass 2, 2b, __rmqueue_claim) under NOFRAGMENT" },
	[P_CLAIM_CLEAN_NEEDS_DROP] = { "claim_clean_needs_drop", "on", "[I] non-movable __rmqueue_claim reaches clean SPBs only once NOFRAGMENT is dropped" },
	[P_PASS3_GATE] = { "pass3_gate", "relabel", "[I] what a non-movable Pass 3 (tainting an empty SPB) needs under NOFRAGMENT: relabel (what Pass 2 needs: reclaim-capable, or TAINTED_OK for atomic callers, so none taints an empty SPB while relabelling inside a tainted one is still held back from it), drop (NOFRAGMENT dropped), none" },
	[P_HINT_PER_MT] = { "hint_per_mt", "on", "[I] cpu/zone hint slots per migratetype (off: one per CPU and zone)" },
	[P_PASS1_WHOLE_FIRST] = { "pass1_whole_first", "refill", "[S/I] whole pageblock before sub-pageblock in Pass 1: refill (pcpbuddy Phase 1 refills, pcp_owner=on), always, never" },
	[P_PASS2D_ORDER] = { "pass2d_order", "down", "[I] Pass 2d order loop: down (as 2c, largest sub-pageblock first) or up" },
	[P_OPTIONAL_MIN_ORDER] = { "optional_min_order", "1", "[I] lowest order ALLOC_HIGHORDER_OPTIONAL refuses" },
	[P_OPTIONAL_NEEDS] = { "optional_needs", "movable", "[I] 'a tainted SPB still has free pageblocks waiting to be evacuated': movable (some tainted SPB has movable content) or freepb (has a free pageblock)" },
	[P_DEFRAG_THRESHOLDS] = { "defrag_thresholds", "v2", "[I] v2: start nr_free < reserve || free < 2 PB, stop nr_free >= reserve; v15: start nr_free <= 1 || free < 2 PB, stop nr_free >= 2 || free >= 3 PB" },
	[P_DEFRAG_BATCH_PB] = { "defrag_batch_pb", "64", "[I] pageblocks one defrag worker run evacuates at most" },
	[P_EVAC_CANDIDATES] = { "evac_candidates", "8", "[I] tainted SPBs spb_evacuate_for_order() collects (cap not seen)" },
	[P_EVAC_BATCH_PB] = { "evac_batch_pb", "16", "[I] pageblocks evacuated per phase of spb_evacuate_for_order()" },
	[P_SHRINK_OBJS_PER_PAGE] = { "shrink_objs_per_page", "8", "[I] slab objects per page: a shrink run releases target_objs/this reclaimable pages (0: count only)" },
	[P_WORK_DELAY_US] = { "work_delay_us", "0", "[I] irq_work + workqueue latency before queued background work runs (trace time)" },
	[NR_P] = { NULL, NULL, NULL },
};

/* ------------------------------------------------------------------------ */
/* State                                                                     */
/* ------------------------------------------------------------------------ */

struct sbs {			/* struct superpageblock: what the model does not keep */
	uint32_t next, prev;	/* list links (walk fields first: one cache line) */
	uint64_t mask;		/* non-empty free lists: bit mt * 16 + order (ops->spb_free_orders) */
	uint32_t zone;
	int16_t list;		/* list id, -1 when the SPB has no usable pages */
	uint8_t cat, full;
	uint8_t sticky;		/* sticky_taint */
	uint8_t defrag_pending;	/* defrag_work queued */
	uint8_t stamped;
	uint64_t no_progress_ns; /* defrag_last_no_progress_jiffies */
	uint64_t lo, hi;	/* pfn range [lo, hi) */
	uint32_t reserve;	/* spb_tainted_reserve(), total_pageblocks is fixed */
	uint64_t thr[3];	/* fullness bucket bounds in free pages (or pageblocks) */
	uint64_t pb_lo, pb_hi;	/* pageblocks [pb_lo, pb_hi) all belong to this SPB (when pb_exact) */
	uint8_t pb_exact;
	uint8_t pb_full;	/* pb_exact and every pageblock there is present (counted in nr_label) */
	uint8_t below;		/* on a tainted list with nr_free < reserve (cached at spb_update_list) */
	int32_t elix;		/* index in zone's defrag-eligible array, -1 if not */
};

struct zst {			/* struct zone: the series' per-zone SPB state */
	uint32_t head[NLISTS];
	uint32_t zone_hint[FRP_MT_PCPTYPES];
	uint32_t nr_spbs;	/* zone->nr_superpageblocks (usable ones) */
	uint32_t first, count;	/* SPB index range */
	uint8_t evac_pending[FRP_MT_PCPTYPES];
	uint8_t evac_order[FRP_MT_PCPTYPES];
	/* Per category (SB_EMPTY .. SB_ISOLATED): how many of the zone's SPBs
	 * have each free-list bit, and the OR of their masks.  Lets a walk that
	 * cannot succeed be skipped without visiting the SPBs. */
	uint16_t bitcnt[4][64];
	uint64_t summary[4];
	uint32_t nbelow;	/* tainted-listed SPBs with nr_free < reserve */
	uint32_t *elig, nelig;	/* tainted-listed SPBs spb_needs_defrag() would accept but for the cooldown */
};

struct pcp {			/* struct per_cpu_pages */
	struct upstream_pcp up;	/* up.count: pages on the lists (the free_llist not included) */
	/* seed 003's free_llist, which upstream does not have */
	uint32_t ll_n[UPSTREAM_NR_PCP_LISTS];	/* entries parked at the tail of each list */
	uint64_t ll_pages;
};

enum { W_DEFRAG, W_EVAC, W_SHRINK };
struct work {
	uint8_t kind;
	uint8_t mt, order;
	uint32_t arg;		/* SPB (defrag) or zone (evacuation) */
	uint64_t ready;
};

struct recl {			/* a reclaimable allocation the policy placed (slab shrink victims) */
	uint64_t pfn : 56;	/* 8 bytes an entry: the queue can hold tens of millions */
	uint64_t order : 8;
};

struct ctx {			/* one allocation attempt */
	unsigned z, order, cpu;
	int mt;
	uint64_t gfp;
	int can_reclaim;	/* __GFP_DIRECT_RECLAIM */
	int refused;		/* the relax sequence refused (NORETRY skip, seed 001) */
	int opt_refused;	/* ALLOC_HIGHORDER_OPTIONAL refused in this zone (26/40) */
	int any_opt_refused;
	int phase1;		/* pcpbuddy Phase 1: whole own-type pageblock only */
	int for_evac;		/* evacuation destination: clean or empty SPBs only */
	uint32_t exclude;	/* SPB evacuation must not pick */
	int outcome;		/* how the last __rmqueue_smallest() exited */
	int batch_skip;		/* in one rmqueue_bulk batch: resume at this borrow pass */
	uint32_t last_s;	/* SPB that served the last __rmqueue_smallest() */
	int last_list;		/* and its list right after */
	uint32_t *ocount;	/* batch: outcome counts summed here, reported once */
};

struct spb {
	struct upstream up;	/* zones, lowmem_reserve, highatomic reserve */
	/* slots of the counters on the paths of every allocation, refill or
	 * drain (upstream_count(); at 1 TiB, ~1 name lookup per event before) */
	uint64_t *c_pcp_alloc, *c_pcp_refill, *c_pcp_drained, *c_fall_through, *c_noretry_skip, *c_refused;
	uint64_t *c_outcome[NR_O], *c_taint[NR_O];
	struct frp_model *m;	/* copies of up.m, up.ops, up.g, up.pbo, up.maxo, up.nzones: shorter to write */
	const struct frp_model_ops *ops;
	const struct frp_geometry *g;
	unsigned pbo, maxo, nzones, ncpu;
	uint64_t pbn, spb_pages;
	int has_release;	/* model offers release_alloc */
	int has_orders;		/* model offers spb_free_orders */

	/* switches */
	int pass2, pass2b, pass2c, pass2d, pass3, pass4, hints, reserve, packing, steer_claim;
	int relax, highorder_refuse, highorder_optional, defrag, defrag_triggers, evacuate;
	int slab_shrink, pcp_on, pcp_owner, pcp_remote_free, highatomic, nofragment, defrag_mode;
	/* numbers */
	unsigned reserve_min, reserve_div, aggressive_threshold;
	uint64_t cooldown_ns, shrink_target_objs;
	int bucket_pb, taint_label, sticky, tainted_ok_gate, claim_clean_needs_drop, hint_per_mt;
	int pass3_gate;		/* PASS3_GATE_NONE, _RELABEL, _DROP */
	int whole_first;	/* 0 never, 1 refill, 2 always */
	int pass2d_up, optional_min_order, optional_freepb, defrag_v15;
	unsigned defrag_batch_pb, evac_candidates, evac_batch_pb, shrink_objs_per_page;
	uint64_t work_delay_ns;
	unsigned bound[3];	/* bucket bounds, per mille free */

	const struct frp_spb_info **info;
	struct sbs *sb;
	uint64_t nsb;
	struct zst *zs;
	uint32_t *cpu_hint;	/* [cpu][zone][mt] */
	struct pcp *pcp;	/* [cpu][zone] */
	uint16_t *owner;	/* per pageblock: owning cpu + 1 (pageblock_data->cpu) */
	uint32_t pending;	/* SPB whose content the engine commits after alloc() */
	uint64_t now;

	struct work *wq;	/* background work, FIFO */
	size_t wq_head, wq_len, wq_cap;
	int shrink_pending;

	struct recl *fifo;	/* reclaimable placements, oldest first */
	size_t f_head, f_len, f_cap;

	uint64_t *pbuf;		/* scratch for candidate pageblocks */
	uint64_t *tbuf;		/* and for sorting them */
	uint32_t *cnt;		/* counting-sort buckets: 2 * (pbn + 1) + 1 */
	uint32_t **lab;		/* [spb * 2 + (RECLAIMABLE)]: pageblocks labelled UNMOVABLE/RECLAIMABLE */
	uint32_t *labn;		/* how many (the list is valid when it matches nr_label and every entry still has the label) */
	uint8_t *labok;
};

#define CNT(S, name, d) ((S)->ops->count((S)->m, (name), (d)))
/* For counters spb_init() registers: adding 0 changes nothing (and the
 * engine finds counters by name, with a linear scan) */
#define CNT_NZ(S, name, d) do { uint64_t d_ = (d); if (d_) CNT(S, name, d_); } while (0)

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static inline const struct frp_spb_info *INFO(struct spb *S, uint32_t s) { return S->info[s]; }

static inline uint32_t spb_of(struct spb *S, uint64_t pfn)
{
	uint64_t s = S->ops->pfn_to_spb(S->m, pfn);
	return s == FRP_NONE ? NIL : (uint32_t)s;
}

static inline int nonmovable(int mt) { return mt != FRP_MT_MOVABLE && mt != FRP_MT_CMA; }

static inline unsigned range_bits(uint64_t mask, int mt, int lo, int hi)
{
	if (lo < 0)
		lo = 0;
	if (hi < lo || mt >= 4)
		return 0;
	return (unsigned)(mask >> (mt * 16)) & ((2u << hi) - 1) & ~((1u << lo) - 1);
}

/* Orders in [lo, hi] whose `mt` list of SPB s is non-empty, as a bitmask. */
static inline unsigned lmask(struct spb *S, uint32_t s, int mt, int lo, int hi)
{
	return range_bits(S->sb[s].mask, mt, lo, hi);
}

/* Could any SPB of zone z in category cat serve it? (exact, O(1)) */
static inline unsigned zmask(struct spb *S, unsigned z, int cat, int mt, int lo, int hi)
{
	return range_bits(S->zs[z].summary[cat], mt, lo, hi);
}

static void summary_bits(struct spb *S, unsigned z, int cat, uint64_t bits, int sign)
{
	struct zst *zz = &S->zs[z];

	while (bits) {
		int b = __builtin_ctzll(bits);
		bits &= bits - 1;
		zz->bitcnt[cat][b] = (uint16_t)(zz->bitcnt[cat][b] + sign);
		if (zz->bitcnt[cat][b])
			zz->summary[cat] |= 1ull << b;
		else
			zz->summary[cat] &= ~(1ull << b);
	}
}

/* Every path that changes an SPB's free lists ends in spb_update_list(),
 * which refreshes this cache (O(1) with ops->spb_free_orders). */
static void refresh_mask(struct spb *S, uint32_t s)
{
	struct sbs *b = &S->sb[s];
	uint64_t m = 0;

	if (S->has_orders) {
		m = S->ops->spb_free_orders(S->m, s);
	} else {
		for (int mt = 0; mt < 4; mt++)
			for (unsigned o = 0; o <= S->maxo; o++)
				if (S->ops->spb_list_count(S->m, s, o, mt))
					m |= 1ull << (mt * 16 + o);
	}
	if (m == b->mask)
		return;
	if (b->list >= 0) {
		summary_bits(S, b->zone, b->cat, m & ~b->mask, +1);
		summary_bits(S, b->zone, b->cat, b->mask & ~m, -1);
	}
	b->mask = m;
}

static inline int mtc(struct spb *S, int mt) { return S->hint_per_mt ? mt : 0; }

/* spb_tainted_reserve() [C] */
static inline unsigned spb_tainted_reserve(struct spb *S, uint32_t s)
{
	return S->sb[s].reserve;
}

static unsigned compute_reserve(struct spb *S, uint32_t s)
{
	unsigned r = INFO(S, s)->total_pageblocks / (S->reserve_div ? S->reserve_div : 1);
	return r > S->reserve_min ? r : S->reserve_min;
}

/* spb_below_shrink_high_water() [C, seed 004] */
static inline int spb_below_shrink_high_water(struct spb *S, uint32_t s)
{
	return INFO(S, s)->nr_free_pages < (uint64_t)spb_tainted_reserve(S, s) * S->pbn;
}

/* Movable allocations skip tainted SPBs at or below the reserve [C].  The
 * replay's last-resort pass (no watermarks: the traced kernel did place the
 * allocation) ignores it [I]. */
static inline int movable_skips(struct spb *S, int flags, uint32_t s)
{
	return S->reserve && !(flags & ALLOC_NO_WATERMARKS) && S->sb[s].cat == SB_TAINTED &&
	       INFO(S, s)->nr_free <= spb_tainted_reserve(S, s);
}

static inline struct pcp *pcpof(struct spb *S, unsigned cpu, unsigned z)
{
	return &S->pcp[(size_t)cpu * S->nzones + z];
}

/* ------------------------------------------------------------------------ */
/* SPB lists: spb_get_category(), spb_update_list()                          */
/* ------------------------------------------------------------------------ */

static int spb_get_category(struct spb *S, uint32_t s)
{
	const struct frp_spb_info *i = INFO(S, s);
	int t;

	if (!i->usable_pages)
		return -1;
	if (i->nr_free_pages == i->usable_pages) {
		S->sb[s].sticky = 0;
		return SB_EMPTY;
	}
	if (S->taint_label)
		t = i->nr_label[FRP_MT_UNMOVABLE] || i->nr_label[FRP_MT_RECLAIMABLE] ||
		    i->nr_label[FRP_MT_HIGHATOMIC];
	else
		t = i->nr_has[FRP_MT_UNMOVABLE] || i->nr_has[FRP_MT_RECLAIMABLE] ||
		    i->nr_has[FRP_MT_HIGHATOMIC];
	if (S->sticky) {
		if (t)
			S->sb[s].sticky = 1;
		t |= S->sb[s].sticky;
	}
	return t ? SB_TAINTED : SB_CLEAN;
}

/* Fullness bucket, fullest (SB_FULL = 0) first [I: 4 buckets by free fraction] */
static int spb_fullness(struct spb *S, uint32_t s)
{
	const struct frp_spb_info *i = INFO(S, s);
	uint64_t v = S->bucket_pb ? i->nr_free : i->nr_free_pages;
	const uint64_t *t = S->sb[s].thr;	/* free * 1000 < bound * total, precomputed */

	return v < t[0] ? 0 : v < t[1] ? 1 : v < t[2] ? 2 : NB - 1;
}

static void list_unlink(struct spb *S, uint32_t s)
{
	struct sbs *b = &S->sb[s];
	struct zst *z = &S->zs[b->zone];

	if (b->list < 0)
		return;
	if (b->prev != NIL)
		S->sb[b->prev].next = b->next;
	else
		z->head[b->list] = b->next;
	if (b->next != NIL)
		S->sb[b->next].prev = b->prev;
	b->list = -1;
}

static void list_add_head(struct spb *S, uint32_t s, int l)
{
	struct sbs *b = &S->sb[s];
	struct zst *z = &S->zs[b->zone];

	b->prev = NIL;
	b->next = z->head[l];
	if (b->next != NIL)
		S->sb[b->next].prev = s;
	z->head[l] = s;
	b->list = (int16_t)l;
}

static void spb_maybe_start_defrag(struct spb *S, uint32_t s);

/*
 * Per-zone caches refreshed wherever spb_update_list() runs (and where
 * defrag_pending flips): whether a tainted-listed SPB is below its reserve
 * (the fall-through walk's saw_below_reserve) and whether spb_needs_defrag()
 * would accept it but for the cooldown (the last-chance defrag walk).  Lets
 * both O(#tainted SPBs) walks be skipped when they cannot have an effect.
 */
static void track(struct spb *S, uint32_t s)
{
	struct sbs *b = &S->sb[s];
	struct zst *zz = &S->zs[b->zone];
	const struct frp_spb_info *i = INFO(S, s);
	int tl = b->list >= 0 && b->list != L_EMPTY && b->cat == SB_TAINTED;
	int below = tl && i->nr_free < b->reserve;
	int el;

	if (below != b->below) {
		zz->nbelow += below ? 1u : (uint32_t)-1;
		b->below = (uint8_t)below;
	}
	el = tl && S->defrag && !b->defrag_pending && i->nr_has[FRP_MT_MOVABLE] &&
	     (S->defrag_v15 ? (i->nr_free <= 1 || i->nr_free_pages < 2 * S->pbn)
			    : (i->nr_free < b->reserve || i->nr_free_pages < 2 * S->pbn));
	if (el && b->elix < 0) {
		b->elix = (int32_t)zz->nelig;
		zz->elig[zz->nelig++] = s;
	} else if (!el && b->elix >= 0) {
		uint32_t last = zz->elig[--zz->nelig];
		zz->elig[b->elix] = last;
		S->sb[last].elix = b->elix;
		b->elix = -1;
	}
}

/*
 * spb_update_list() [S/C]: recompute the category and fullness bucket and
 * list_move the SPB; the routine defrag trigger fires on transitions only
 * (15/40; kept by 43/45 for spb_defrag_clean).
 */
static void spb_update_list(struct spb *S, uint32_t s)
{
	int cat, full = 0, l;

	if (s == NIL || s >= S->nsb)
		return;
	refresh_mask(S, s);	/* O(1) with ops->spb_free_orders */
	cat = spb_get_category(S, s);
	if (cat < 0)
		return;
	if (cat == SB_EMPTY)
		l = L_EMPTY;
	else {
		full = spb_fullness(S, s);
		l = L_CAT(cat, full);
	}
	if (l == S->sb[s].list) {
		track(S, s);
		return;
	}
	if (S->sb[s].list >= 0 && S->sb[s].cat != cat)
		summary_bits(S, S->sb[s].zone, S->sb[s].cat, S->sb[s].mask, -1);
	if (S->sb[s].list < 0 || S->sb[s].cat != cat)
		summary_bits(S, S->sb[s].zone, cat, S->sb[s].mask, +1);
	list_unlink(S, s);
	list_add_head(S, s, l);	/* list_move() adds at the head [I] */
	S->sb[s].cat = (uint8_t)cat;
	S->sb[s].full = (uint8_t)full;
	track(S, s);
	spb_maybe_start_defrag(S, s);
}

static inline void touch_pfn(struct spb *S, uint64_t pfn)
{
	spb_update_list(S, spb_of(S, pfn));
}

/* The engine commits an allocation (content bits) after alloc() returns. */
static inline void flush_pending(struct spb *S)
{
	if (S->pending != NIL) {
		spb_update_list(S, S->pending);
		S->pending = NIL;
	}
}

/* pcpbuddy: ownership ends when the pageblock is wholly free in the buddy [S] */
static inline void owner_check(struct spb *S, uint64_t pfn)
{
	uint64_t b = pfn >> S->pbo;

	if (S->owner[b] && S->ops->pb_free_pages(S->m, pfn) >= S->pbn)
		S->owner[b] = 0;
}

static void buddy_free(struct spb *S, uint64_t pfn, unsigned order)
{
	S->ops->free_block(S->m, pfn, order);
	touch_pfn(S, pfn);
	if (S->pcp_owner) {
		for (uint64_t p = pfn; p < pfn + (1ull << order); p += S->pbn)
			owner_check(S, p);
	}
}

/* ------------------------------------------------------------------------ */
/* Background work queue (trace clock)                                       */
/* ------------------------------------------------------------------------ */

/* Grow a ring of cap entries (size sz each, len of them from *head) to nc
 * >= cap entries.  realloc() grows a large ring in place (mremap(): no
 * second copy resident while the queue doubles); the entries that wrapped
 * to the start move up past the old end, where the ring now continues. */
static void *ring_resize(void *ring, size_t sz, size_t *head, size_t len, size_t cap, size_t nc)
{
	char *n = realloc(ring, nc * sz);
	size_t wrapped = *head + len > cap ? *head + len - cap : 0;

	if (!n || nc < cap || *head + len > nc)
		abort();	/* out of memory, or a shrink: callers only double */
	memmove(n + cap * sz, n, wrapped * sz);
	return n;
}

static void wq_push(struct spb *S, int kind, uint32_t arg, int mt, unsigned order)
{
	if (S->wq_len == S->wq_cap) {
		size_t nc = S->wq_cap ? S->wq_cap * 2 : 64;
		S->wq = ring_resize(S->wq, sizeof(*S->wq), &S->wq_head, S->wq_len, S->wq_cap, nc);
		S->wq_cap = nc;
	}
	struct work *w = &S->wq[(S->wq_head + S->wq_len) % S->wq_cap];
	w->kind = (uint8_t)kind;
	w->arg = arg;
	w->mt = (uint8_t)mt;
	w->order = (uint8_t)order;
	w->ready = S->now + S->work_delay_ns;
	S->wq_len++;
}

/* spb_needs_defrag() [C/S] */
static int spb_needs_defrag(struct spb *S, uint32_t s)
{
	const struct frp_spb_info *i = INFO(S, s);
	struct sbs *b = &S->sb[s];

	if (b->cat != SB_TAINTED)	/* 15/40: tainted only */
		return 0;
	if (!i->nr_has[FRP_MT_MOVABLE])	/* nothing movable to evacuate */
		return 0;
	if (b->stamped && S->now - b->no_progress_ns < S->cooldown_ns)
		return 0;		/* SPB_DEFRAG_NOOP_COOLDOWN */
	if (S->defrag_v15)
		return i->nr_free <= 1 || i->nr_free_pages < 2 * S->pbn;
	return i->nr_free < spb_tainted_reserve(S, s) || i->nr_free_pages < 2 * S->pbn;
}

/* spb_maybe_start_defrag(): irq_work -> defrag_work, single flight per SPB */
static void spb_maybe_start_defrag(struct spb *S, uint32_t s)
{
	if (!S->defrag || S->sb[s].defrag_pending || !spb_needs_defrag(S, s))
		return;
	S->sb[s].defrag_pending = 1;
	track(S, s);
	CNT(S, "spb_defrag_queued", 1);
	wq_push(S, W_DEFRAG, s, 0, 0);
}

/* queue_spb_slab_shrink() [C, seed 004]: queue_work() single flight */
static void queue_spb_slab_shrink(struct spb *S)
{
	if (!S->slab_shrink)
		return;
	if (S->shrink_pending)
		return;			/* queue_work() returned false */
	S->shrink_pending = 1;
	CNT(S, "spb_slab_shrink_queued", 1);	/* SPB_SLAB_SHRINK_QUEUED */
	wq_push(S, W_SHRINK, 0, 0, 0);
}

/* queue_spb_evacuate() [C]: one request per (zone, migratetype) in flight [I] */
static void queue_spb_evacuate(struct spb *S, unsigned z, unsigned order, int mt)
{
	if (!S->evacuate || mt >= FRP_MT_PCPTYPES)
		return;
	if (S->zs[z].evac_pending[mt])
		return;
	S->zs[z].evac_pending[mt] = 1;
	S->zs[z].evac_order[mt] = (uint8_t)order;
	CNT(S, "spb_evacuate_queued", 1);
	wq_push(S, W_EVAC, z, mt, order);
}

/*
 * spb_react_to_tainted_alloc() [C, seeds 002 and 004]: on each
 * PASS_1/2/2B/2C/2D success in a tainted SPB below the shrink high-water
 * mark, queue the slab shrink and try to start the SPB's defrag worker.
 */
static void spb_react_to_tainted_alloc(struct spb *S, uint32_t s)
{
	if (S->sb[s].cat != SB_TAINTED)
		return;
	if (!spb_below_shrink_high_water(S, s))
		return;
	queue_spb_slab_shrink(S);		/* seed 004 */
	if (S->defrag_triggers)			/* seed 002, trigger (1) */
		spb_maybe_start_defrag(S, s);
}

/* ------------------------------------------------------------------------ */
/* Taking blocks out of one SPB's free lists                                 */
/* ------------------------------------------------------------------------ */

/* First chunk on SPB s's `mt` lists in orders [lo, hi] (ascending when up,
 * descending otherwise), page_del_and_expand()ed down to `order`. */
static uint64_t sb_first(struct spb *S, uint32_t s, int lo, int hi, int mt, int up, int skip_isolated,
			 unsigned *found)
{
	unsigned bits = lmask(S, s, mt, lo, hi);

	while (bits) {
		int o = up ? __builtin_ctz(bits) : 31 - __builtin_clz(bits);
		bits &= ~(1u << o);
		uint64_t p = S->ops->spb_list_head(S->m, s, (unsigned)o, mt);
		if (p == FRP_NONE)
			continue;
		if (skip_isolated) {
			int l = S->ops->pb_label(S->m, p);
			if (l == FRP_MT_ISOLATE || l == FRP_MT_CMA)
				continue;
		}
		*found = (unsigned)o;
		return p;
	}
	return FRP_NONE;
}

static uint64_t sb_take(struct spb *S, struct ctx *c, uint32_t s, int lo, int hi, int mt,
			unsigned order, int up, int skip_isolated)
{
	unsigned o;
	uint64_t p;

	if (lo < (int)order)
		lo = (int)order;
	p = sb_first(S, s, lo, hi, mt, up, skip_isolated, &o);
	if (p == FRP_NONE)
		return FRP_NONE;
	return S->ops->take(S->m, p, order);
}

/* try_alloc_from_sb_pass1() [C name]: own-type lists of one SPB; whole
 * pageblock first (to feed the pcpbuddy refill), then sub-pageblock [S 20/40]. */
static uint64_t try_alloc_from_sb_pass1(struct spb *S, struct ctx *c, uint32_t s)
{
	int pbo = (int)S->pbo, maxo = (int)S->maxo, o = (int)c->order;
	uint64_t p;

	if (INFO(S, s)->nr_free_pages < (1ull << c->order))
		return FRP_NONE;
	if (c->phase1)
		return INFO(S, s)->nr_free ? sb_take(S, c, s, pbo, maxo, c->mt, S->pbo, 1, 0) : FRP_NONE;
	if (o >= pbo || S->whole_first != 2)
		return sb_take(S, c, s, o, maxo, c->mt, c->order, 1, 0);	/* smallest first [I] */
	p = sb_take(S, c, s, pbo, maxo, c->mt, c->order, 1, 0);
	if (p != FRP_NONE)
		return p;
	return sb_take(S, c, s, o, pbo - 1, c->mt, c->order, 1, 0);
}

/* ------------------------------------------------------------------------ */
/* try_to_claim_block(), claim_whole_block()                                 */
/* ------------------------------------------------------------------------ */

/* Smallest free chunk of order >= order inside the pageblock at pfn, lowest
 * pfn among equals (what __rmqueue_smallest finds after a claim). */
static uint64_t smallest_in_pageblock(struct spb *S, uint64_t pfn, unsigned order)
{
	uint64_t start = pfn & ~(S->pbn - 1), best = FRP_NONE;
	int bo = 99;

	for (uint64_t p = start; p < start + S->pbn;) {
		int o = S->ops->free_order(S->m, p);
		if (o >= 0) {
			if (o >= (int)order && o < bo) {
				best = p;
				bo = o;
			}
			p += 1ull << o;
			continue;
		}
		o = S->ops->alloc_order(S->m, p);
		p += o >= 0 ? 1ull << o : 1;
	}
	return best;
}

/* claim_whole_block() [C]: relabel every pageblock of the chunk, mark the
 * content, split off the allocation, remainder on `mt` lists. */
static uint64_t claim_whole_block(struct spb *S, struct ctx *c, uint64_t page, unsigned cur)
{
	uint64_t got;

	S->ops->pb_move_freepages(S->m, page, c->mt);	/* relabels every covered pageblock */
	got = S->ops->take(S->m, page, c->order);
	if (got != FRP_NONE)
		S->ops->pb_set_has(S->m, got, c->mt);	/* __spb_set_has_type [I: allocated pageblock only] */
	CNT(S, "claim_whole_block", 1);
	return got;
}

/* try_to_claim_block() with the series' from_tainted_spb (25/45) */
static uint64_t try_to_claim_block(struct spb *S, struct ctx *c, uint64_t page, unsigned cur,
				   int block_mt, int from_tainted)
{
	int label = S->ops->pb_label(S->m, page);

	if (label == FRP_MT_ISOLATE) {
		CNT(S, "spb_claim_block_refused_ISOLATE", 1);
		return FRP_NONE;
	}
	if (label == FRP_MT_CMA) {
		CNT(S, "spb_claim_block_refused_CMA", 1);
		return FRP_NONE;
	}
	if (cur >= S->pbo)
		return claim_whole_block(S, c, page, cur);
	if (!from_tainted && !upstream_claim_block_ok(&S->up, page, c->mt, block_mt)) {
		CNT(S, "spb_claim_block_refused_INSUFFICIENT_COMPAT", 1);
		return FRP_NONE;
	}
	S->ops->pb_move_freepages(S->m, page, c->mt);
	uint64_t p = smallest_in_pageblock(S, page, c->order);
	if (p == FRP_NONE) {
		touch_pfn(S, page);
		return FRP_NONE;
	}
	uint64_t got = S->ops->take(S->m, p, c->order);
	if (got != FRP_NONE)
		S->ops->pb_set_has(S->m, got, c->mt);
	CNT(S, "claim_block", 1);
	return got;
}

/* ------------------------------------------------------------------------ */
/* ALLOC_HIGHORDER_OPTIONAL (26/40)                                          */
/* ------------------------------------------------------------------------ */

static int tainted_has_evacuable(struct spb *S, unsigned z)
{
	for (int b = 0; b < NB; b++)
		for (uint32_t s = S->zs[z].head[L_CAT(SB_TAINTED, b)]; s != NIL; s = S->sb[s].next) {
			if (S->optional_freepb ? INFO(S, s)->nr_free > 0 : INFO(S, s)->nr_has[FRP_MT_MOVABLE] > 0)
				return 1;
		}
	return 0;
}

/* About to taint a clean or empty SPB for a caller with a cheap fallback:
 * refuse when a tainted SPB still has pageblocks evacuation could free. */
static int highorder_optional_refuses(struct spb *S, struct ctx *c, int flags)
{
	if (!S->highorder_optional || !(flags & ALLOC_HIGHORDER_OPTIONAL) || !nonmovable(c->mt) ||
	    (int)c->order < S->optional_min_order)
		return 0;
	if (!tainted_has_evacuable(S, c->z))
		return 0;
	CNT(S, "spb_highorder_refused", 1);	/* SPB_HIGHORDER_REFUSED */
	c->opt_refused = c->any_opt_refused = 1;
	return 1;
}

/* ------------------------------------------------------------------------ */
/* __rmqueue_smallest(): the SPB passes                                      */
/* ------------------------------------------------------------------------ */

struct spb_tainted_walk {
	int saw_free_pages, saw_free_pb, saw_below_reserve, n_tainted, n_tainted_with_buddy;
};

static uint64_t ret_outcome(struct spb *S, struct ctx *c, uint64_t page, int outcome, uint32_t s, int was_cat)
{
	c->outcome = outcome;
	c->last_s = s;
	if (c->ocount)
		c->ocount[outcome]++;
	else if (!c->phase1 && !c->for_evac)
		upstream_count(&S->up, &S->c_outcome[outcome], outcome_name[outcome], 1);
	if (page != FRP_NONE) {
		if (nonmovable(c->mt) && was_cat != FRP_SPB_TAINTED && taint_name[outcome][0])
			upstream_count(&S->up, &S->c_taint[outcome], taint_name[outcome], 1);
		spb_update_list(S, s);
		c->last_list = S->sb[s].list;
	}
	return page;
}

static uint64_t ha_smallest(struct spb *S, struct ctx *c, unsigned z)
{
	struct zst *zz = &S->zs[z];

	/* no listed SPB has a HIGHATOMIC chunk of this size: none can serve */
	if (!range_bits(zz->summary[0] | zz->summary[1] | zz->summary[2] | zz->summary[3],
			FRP_MT_HIGHATOMIC, (int)c->order, (int)S->maxo))
		return FRP_NONE;
	for (uint32_t s = zz->first; s < zz->first + zz->count; s++) {
		if (S->sb[s].list < 0)
			continue;
		uint64_t p = sb_take(S, c, s, (int)c->order, (int)S->maxo, FRP_MT_HIGHATOMIC, c->order, 1, 0);
		if (p != FRP_NONE) {
			spb_update_list(S, s);
			return p;
		}
	}
	return FRP_NONE;
}

static int pass1_hint_ok(struct spb *S, struct ctx *c, uint32_t s, int pref)
{
	return s != NIL && S->sb[s].zone == c->z && S->sb[s].list >= 0 && S->sb[s].cat == pref &&
	       s != c->exclude;
}

/*
 * Within one rmqueue_bulk() batch, a borrow walk can resume at the SPB that
 * served the previous iteration if that SPB is still on the same list: the
 * SPBs ahead of it were visited without success and nothing has been freed
 * or taken there since.  (Optimisation; the placement is the same.)
 */
static uint32_t walk_resume(struct spb *S, struct ctx *c, int pass, int *b0)
{
	if (c->batch_skip != pass || c->last_s == NIL || S->sb[c->last_s].list != c->last_list ||
	    S->sb[c->last_s].cat != SB_TAINTED)
		return NIL;
	*b0 = c->last_list - L_CAT(SB_TAINTED, 0);
	return c->last_s;
}

/* Would the last-chance walk start any defrag worker?  Only SPBs in the
 * zone's eligible set can (spb_needs_defrag() apart from the cooldown). */
static int defrag_walk_fires(struct spb *S, unsigned z)
{
	struct zst *zz = &S->zs[z];
	int r = 0;

	for (uint32_t k = 0; k < zz->nelig && !r; k++) {
		struct sbs *b = &S->sb[zz->elig[k]];
		if (!(b->stamped && S->now - b->no_progress_ns < S->cooldown_ns))
			r = 1;
	}
#ifdef SPB_VERIFY
	{
		int v = 0;
		for (int b = 0; b < NB; b++)
			for (uint32_t s = zz->head[L_CAT(SB_TAINTED, b)]; s != NIL; s = S->sb[s].next)
				v |= S->defrag && !S->sb[s].defrag_pending && spb_needs_defrag(S, s);
		if (v != r)
			abort();
	}
#endif
	return r;
}

static uint64_t rmqueue_smallest(struct spb *S, struct ctx *c, int flags)
{
	unsigned z = c->z, order = c->order, pbo = S->pbo, maxo = S->maxo;
	int mt = c->mt, movable = mt == FRP_MT_MOVABLE;
	int pref = movable ? SB_CLEAN : SB_TAINTED;
	struct zst *zz = &S->zs[z];
	struct spb_tainted_walk walk = { 0, 0, 0, 0, 0 };
	uint64_t page;
	uint32_t s;
	int was;

	int opposite_mt = -1;
	if (mt == FRP_MT_UNMOVABLE)
		opposite_mt = FRP_MT_RECLAIMABLE;
	else if (mt == FRP_MT_RECLAIMABLE)
		opposite_mt = FRP_MT_UNMOVABLE;

	if (mt == FRP_MT_HIGHATOMIC)
		return ha_smallest(S, c, z);
	/* ALLOC_NOFRAG_TAINTED_OK (35/40): "allows PASS_2/2B claim_whole_block
	 * to relabel a MOV pageblock inside a tainted SPB" [C]; held back from
	 * callers that cannot reclaim until the relax step adds it [I]. */
	int relabel_ok = !(flags & ALLOC_NOFRAGMENT) || (flags & ALLOC_NOFRAG_TAINTED_OK) ||
			 !S->tainted_ok_gate || c->can_reclaim;

	/*
	 * Within one rmqueue_bulk() batch (no free in between), a request the
	 * previous iteration served by a borrow cannot have become satisfiable
	 * by an earlier pass: a borrow leaves its split remainders on the
	 * foreign list.  Resuming there is an optimisation, not a rule.
	 */
	if (c->batch_skip == O_PASS_2C)
		goto pass2c;
	if (c->batch_skip == O_PASS_2D)
		goto pass2d;

	/* ---- Pass 1: cpu hint, zone hint, then the preferred category ---- */
	if (S->hints && !c->for_evac) {
		uint32_t *slot = &S->cpu_hint[((size_t)c->cpu * S->nzones + z) * FRP_MT_PCPTYPES + mtc(S, mt)];
		s = *slot;
		if (pass1_hint_ok(S, c, s, pref)) {
			was = INFO(S, s)->category;
			page = try_alloc_from_sb_pass1(S, c, s);
			if (page != FRP_NONE) {
				spb_react_to_tainted_alloc(S, s);
				return ret_outcome(S, c, page, O_PASS_1, s, was);
			}
		}
		s = zz->zone_hint[mtc(S, mt)];
		if (pass1_hint_ok(S, c, s, pref) && s != *slot) {
			was = INFO(S, s)->category;
			page = try_alloc_from_sb_pass1(S, c, s);
			if (page != FRP_NONE) {
				spb_react_to_tainted_alloc(S, s);
				*slot = s;
				return ret_outcome(S, c, page, O_PASS_1, s, was);
			}
		}
	}
	for (int b = 0; b < NB && zmask(S, z, pref, mt, c->phase1 ? (int)pbo : (int)order, (int)maxo); b++) {
		for (s = zz->head[L_CAT(pref, b)]; s != NIL; s = S->sb[s].next) {
			if (s == c->exclude)
				continue;
			if (!lmask(S, s, mt, c->phase1 ? (int)pbo : (int)order, (int)maxo))
				continue;	/* cached bitmap: nothing of this type and size here */
			was = INFO(S, s)->category;
			page = try_alloc_from_sb_pass1(S, c, s);
			if (page == FRP_NONE)
				continue;
			if (S->hints && !c->for_evac) {
				S->cpu_hint[((size_t)c->cpu * S->nzones + z) * FRP_MT_PCPTYPES + mtc(S, mt)] = s;
				zz->zone_hint[mtc(S, mt)] = s;
			}
			spb_react_to_tainted_alloc(S, s);
			return ret_outcome(S, c, page, O_PASS_1, s, was);
		}
	}
	if (c->phase1)
		return FRP_NONE;	/* pcpbuddy Phase 1 only takes own-type whole pageblocks [I] */

	if (nonmovable(mt)) {

		/* ---- Pass 2: whole free MOVABLE pageblock from a tainted SPB ---- */
		if (S->pass2 && relabel_ok &&
		    zmask(S, z, SB_TAINTED, FRP_MT_MOVABLE, (int)(order > pbo ? order : pbo), (int)maxo)) {
			for (int b = 0; b < NB; b++)
				for (s = zz->head[L_CAT(SB_TAINTED, b)]; s != NIL; s = S->sb[s].next) {
					/* a free chunk >= pageblock_order implies nr_free > 0 */
					if (!lmask(S, s, FRP_MT_MOVABLE, (int)(order > pbo ? order : pbo), (int)maxo))
						continue;
					unsigned co;
					uint64_t p = sb_first(S, s, (int)(order > pbo ? order : pbo), (int)maxo,
							      FRP_MT_MOVABLE, 1, 1, &co);
					if (p == FRP_NONE)
						continue;
					was = INFO(S, s)->category;
					page = claim_whole_block(S, c, p, co);
					spb_react_to_tainted_alloc(S, s);
					return ret_outcome(S, c, page, O_PASS_2, s, was);
				}
		}
		/* ---- Pass 2b: sub-pageblock MOVABLE chunk in a tainted SPB, no 50% gate (25/45) ---- */
		if (S->pass2b && relabel_ok && order < pbo &&
		    zmask(S, z, SB_TAINTED, FRP_MT_MOVABLE, (int)order, (int)pbo - 1)) {
			for (int b = 0; b < NB; b++)
				for (s = zz->head[L_CAT(SB_TAINTED, b)]; s != NIL; s = S->sb[s].next) {
					unsigned bits = lmask(S, s, FRP_MT_MOVABLE, (int)order, (int)pbo - 1);
					while (bits) {
						int co = 31 - __builtin_clz(bits);
						bits &= ~(1u << co);
						uint64_t p = S->ops->spb_list_head(S->m, s, (unsigned)co, FRP_MT_MOVABLE);
						if (p == FRP_NONE)
							continue;
						was = INFO(S, s)->category;
						page = try_to_claim_block(S, c, p, (unsigned)co, FRP_MT_MOVABLE, 1);
						if (page == FRP_NONE)
							continue;
						spb_react_to_tainted_alloc(S, s);
						return ret_outcome(S, c, page, O_PASS_2B, s, was);
					}
				}
		}
pass2c:
		/*
		 * ---- Pass 2c: cross-non-movable borrow within tainted SPBs (seed 000) ----
		 * UNMOV <-> RECL only; largest sub-pageblock order first; the
		 * source pageblock is NOT relabeled: page_del_and_expand() with
		 * the source type keeps the split remainders on the opposite
		 * list, and the page returns there when freed (free follows the
		 * label).  __spb_set_has_type(page, migratetype).
		 */
		if (S->pass2c && opposite_mt >= 0 &&
		    zmask(S, z, SB_TAINTED, opposite_mt, (int)order, (int)pbo - 1)) {
			int b0 = 0;
			uint32_t s0 = walk_resume(S, c, O_PASS_2C, &b0);
			for (int b = b0; b < NB; b++)
				for (s = b == b0 && s0 != NIL ? s0 : zz->head[L_CAT(SB_TAINTED, b)]; s != NIL;
				     s = S->sb[s].next) {
					int top = (int)pbo - 1 < (int)maxo ? (int)pbo - 1 : (int)maxo;
					/* (!sb->nr_free_pages: the bitmap is empty too) */
					if (!lmask(S, s, opposite_mt, (int)order, top))
						continue;
					was = INFO(S, s)->category;
					page = sb_take(S, c, s, (int)order, top, opposite_mt, order, 0, 1);
					if (page == FRP_NONE)
						continue;
					S->ops->pb_set_has(S->m, page, mt);
					spb_react_to_tainted_alloc(S, s);
					return ret_outcome(S, c, page, O_PASS_2C, s, was);
				}
		}
pass2d:
		/* ---- Pass 2d: cross-MOVABLE borrow within tainted SPBs (42/45, 27/40) ---- */
		if (S->pass2d && mt != FRP_MT_HIGHATOMIC &&
		    zmask(S, z, SB_TAINTED, FRP_MT_MOVABLE, (int)order, (int)pbo - 1)) {
			int b0 = 0;
			uint32_t s0 = walk_resume(S, c, O_PASS_2D, &b0);
			for (int b = b0; b < NB; b++)
				for (s = b == b0 && s0 != NIL ? s0 : zz->head[L_CAT(SB_TAINTED, b)]; s != NIL;
				     s = S->sb[s].next) {
					int top = (int)pbo - 1 < (int)maxo ? (int)pbo - 1 : (int)maxo;
					if (!lmask(S, s, FRP_MT_MOVABLE, (int)order, top))
						continue;
					was = INFO(S, s)->category;
					page = sb_take(S, c, s, (int)order, top, FRP_MT_MOVABLE, order, S->pass2d_up, 1);
					if (page == FRP_NONE)
						continue;
					S->ops->pb_set_has(S->m, page, mt);
					spb_react_to_tainted_alloc(S, s);
					return ret_outcome(S, c, page, O_PASS_2D, s, was);
				}
		}
		/* spb_alloc_fall_through [C] */
		if (!c->for_evac) {
			upstream_count(&S->up, &S->c_fall_through, "spb_alloc_fall_through", 1);
			/* seed 004 (v2 28/40): evacuation and slab shrink when the walk saw a tainted SPB below reserve */
			/* struct spb_tainted_walk, gathered over the tainted lists
			 * the Pass 1 walk visited (only needed here) */
			/* (only saw_below_reserve is used: kept per zone by track()) */
			walk.saw_below_reserve = zz->nbelow > 0;
#ifdef SPB_VERIFY
			{
				int v = 0;
				for (int b = 0; b < NB; b++)
					for (s = zz->head[L_CAT(SB_TAINTED, b)]; s != NIL; s = S->sb[s].next)
						v |= INFO(S, s)->nr_free < spb_tainted_reserve(S, s);
				if (v != walk.saw_below_reserve)
					abort();
			}
#endif
			if (walk.saw_below_reserve) {
				queue_spb_evacuate(S, z, order, mt);
				queue_spb_slab_shrink(S);
			}
		}
	}
	/* seed 002 (v1 43/45), trigger (2): last-chance defrag walk before Pass 3 */
	if (S->defrag_triggers && !c->for_evac && defrag_walk_fires(S, z))
		for (int b = 0; b < NB; b++)
			for (s = zz->head[L_CAT(SB_TAINTED, b)]; s != NIL; s = S->sb[s].next)
				spb_maybe_start_defrag(S, s);

	/* ---- Pass 3: whole pageblock from an empty SPB ---- */
	/*
	 * pass3_gate [I]: the series orders the relax steps TAINTED_OK (relabel
	 * inside tainted SPBs) before DROP_NOFRAGMENT (35/40) and keeps
	 * NOFRAGMENT into the slowpath for reclaim-capable callers ("reclaim
	 * before taint", 20/40).  A non-movable Pass 3 that ignored both would
	 * let an atomic caller taint an empty SPB while a free MOVABLE pageblock
	 * in a tainted SPB is still off limits to it: on a 256 GiB synthetic
	 * trace that tainted 255 of 256 SPBs where the lower bound was 35.
	 * relabel: Pass 3 needs what Pass 2 needs; drop: NOFRAGMENT dropped.
	 */
	int p3_ok = movable || S->pass3_gate == PASS3_GATE_NONE ||
		    (S->pass3_gate == PASS3_GATE_RELABEL ? relabel_ok : !(flags & ALLOC_NOFRAGMENT));
	int lo3 = (int)(order > pbo ? order : pbo);
	if (S->pass3 && p3_ok && (zmask(S, z, SB_EMPTY, FRP_MT_UNMOVABLE, lo3, (int)maxo) ||
			 zmask(S, z, SB_EMPTY, FRP_MT_MOVABLE, lo3, (int)maxo) ||
			 zmask(S, z, SB_EMPTY, FRP_MT_RECLAIMABLE, lo3, (int)maxo))) {
		for (s = zz->head[L_EMPTY]; s != NIL; s = S->sb[s].next) {
			if (!INFO(S, s)->nr_free_pages || s == c->exclude)
				continue;
			/* own type first (no relabel), then any other list: claim_whole_block [I] */
			static const int order_of_lists[4][3] = {
				[FRP_MT_UNMOVABLE] = { FRP_MT_MOVABLE, FRP_MT_RECLAIMABLE, -1 },
				[FRP_MT_MOVABLE] = { FRP_MT_RECLAIMABLE, FRP_MT_UNMOVABLE, -1 },
				[FRP_MT_RECLAIMABLE] = { FRP_MT_MOVABLE, FRP_MT_UNMOVABLE, -1 },
			};
			int lo = (int)(order > pbo ? order : pbo);
			if (!lmask(S, s, FRP_MT_UNMOVABLE, lo, (int)maxo) && !lmask(S, s, FRP_MT_MOVABLE, lo, (int)maxo) &&
			    !lmask(S, s, FRP_MT_RECLAIMABLE, lo, (int)maxo))
				continue;
			for (int co = lo; co <= (int)maxo; co++) {
				uint64_t p = S->ops->spb_list_head(S->m, s, (unsigned)co, mt);
				int from = mt;
				for (int k = 0; p == FRP_NONE && k < 2; k++) {
					from = order_of_lists[mt][k];
					p = S->ops->spb_list_head(S->m, s, (unsigned)co, from);
				}
				if (p == FRP_NONE)
					continue;
				if (!movable && highorder_optional_refuses(S, c, flags))
					return ret_outcome(S, c, FRP_NONE, O_NO_PAGE, NIL, 0);
				was = INFO(S, s)->category;
				if (from == mt) {
					page = S->ops->take(S->m, p, order);
				} else {
					page = claim_whole_block(S, c, p, (unsigned)co);
				}
				return ret_outcome(S, c, page, O_PASS_3, s, was);
			}
		}
	}
	if (c->for_evac)
		return FRP_NONE;

	/* ---- Pass 4: the non-preferred category (movable: tainted, above reserve) ---- */
	int other = movable ? SB_TAINTED : SB_CLEAN;
	if (S->pass4 && zmask(S, z, other, mt, (int)order, (int)maxo)) {
		for (int b = 0; b < NB; b++)
			for (s = zz->head[L_CAT(other, b)]; s != NIL; s = S->sb[s].next) {
				if (movable && movable_skips(S, flags, s))
					continue;
				if (!movable && !INFO(S, s)->nr_free_pages)
					continue;
				/* a non-movable block in a clean SPB taints it */
				if (!lmask(S, s, mt, (int)order, (int)maxo))
					continue;
				if (!movable) {
					if (highorder_optional_refuses(S, c, flags))
						return ret_outcome(S, c, FRP_NONE, O_NO_PAGE, NIL, 0);
				}
				was = INFO(S, s)->category;
				page = try_alloc_from_sb_pass1(S, c, s);
				if (page != FRP_NONE)
					return ret_outcome(S, c, page, O_PASS_4, s, was);
			}
	}
	/* ZONE_FALLBACK: the zone-level free_area for pages outside SPB coverage.
	 * Every modelled pfn belongs to an SPB, so it never serves anything. */
	return ret_outcome(S, c, FRP_NONE, O_NO_PAGE, NIL, 0);
}

/* ------------------------------------------------------------------------ */
/* __rmqueue_claim(), __rmqueue_steal()                                      */
/* ------------------------------------------------------------------------ */

/* find_suitable_fallback() on one SPB's free_area (vanilla's looks at the zone's) */
static int find_fallback(struct spb *S, uint32_t s, unsigned order, int mt, int claimable)
{
	if (claimable && !upstream_should_try_claim_block(S->pbo, order, mt))
		return -2;
	for (int i = 0; i < 2; i++)
		if (lmask(S, s, upstream_fallback(mt, i), (int)order, (int)order))
			return upstream_fallback(mt, i);
	return -1;
}

/* The SPBs a fallback search visits, category by category (steer_claim), or
 * the zone's SPBs in address order (upstream-like). */
struct sbiter {
	int ci, ncat, b;
	int cats[2];
	uint32_t s;
	int zone_order;
	uint32_t end;
};

static uint32_t it_first_in(struct spb *S, unsigned z, struct sbiter *it)
{
	for (; it->ci < it->ncat; it->ci++, it->b = 0)
		for (; it->b < NB; it->b++) {
			uint32_t s = S->zs[z].head[L_CAT(it->cats[it->ci], it->b)];
			if (s != NIL)
				return s;
		}
	return NIL;
}

static uint32_t it_start(struct spb *S, unsigned z, int mt, struct sbiter *it)
{
	memset(it, 0, sizeof(*it));
	if (!S->steer_claim) {
		it->zone_order = 1;
		it->end = S->zs[z].first + S->zs[z].count;
		for (uint32_t s = S->zs[z].first; s < it->end; s++)
			if (S->sb[s].list >= 0 && S->sb[s].list != L_EMPTY)
				return it->s = s;
		return it->s = NIL;
	}
	it->ncat = 2;
	it->cats[0] = nonmovable(mt) ? SB_TAINTED : SB_CLEAN;
	it->cats[1] = nonmovable(mt) ? SB_CLEAN : SB_TAINTED;
	return it->s = it_first_in(S, z, it);
}

static uint32_t it_next(struct spb *S, unsigned z, struct sbiter *it)
{
	if (it->zone_order) {
		for (uint32_t s = it->s + 1; s < it->end; s++)
			if (S->sb[s].list >= 0 && S->sb[s].list != L_EMPTY)
				return it->s = s;
		return it->s = NIL;
	}
	if (S->sb[it->s].next != NIL)
		return it->s = S->sb[it->s].next;
	it->b++;
	return it->s = it_first_in(S, z, it);
}

/* Is SPB s in the preferred category for this request? */
static inline int is_pref(struct spb *S, uint32_t s, int mt)
{
	return S->sb[s].cat == (nonmovable(mt) ? SB_TAINTED : SB_CLEAN);
}

/* __rmqueue_claim() over SPB categories (__rmqueue_sb_find_fallback) */
static uint64_t rmqueue_claim(struct spb *S, struct ctx *c, int flags)
{
	unsigned z = c->z, order = c->order, pbo = S->pbo;
	int mt = c->mt, nonmov = nonmovable(mt);
	struct sbiter it;

	/* the tainted_ok_gate covers relabels in tainted SPBs on this path too [I] */
	int relabel_ok = !(flags & ALLOC_NOFRAGMENT) || (flags & ALLOC_NOFRAG_TAINTED_OK) ||
			 !S->tainted_ok_gate || c->can_reclaim;

	if (mt >= FRP_MT_PCPTYPES)
		return FRP_NONE;
	/* Can any SPB the walk visits offer a fallback chunk?  Per category,
	 * from the zone summary bitmaps (exact); a walk without one has no
	 * effect, so it is skipped. */
	{
		int any = 0;
		for (int cat = SB_CLEAN; cat <= SB_TAINTED && !any; cat++) {
			int pref = cat == (nonmov ? SB_TAINTED : SB_CLEAN);
			int lo = (int)order;
			if (nonmov && !relabel_ok && cat == SB_TAINTED)
				continue;
			if (!pref && nonmov && (flags & ALLOC_NOFRAGMENT) && S->claim_clean_needs_drop)
				continue;
			if (order < pbo && (flags & ALLOC_NOFRAGMENT) &&
			    !(S->packing && pref && nonmov && S->zs[z].nr_spbs > S->aggressive_threshold))
				lo = (int)pbo;
			if (!nonmov && lo < (int)(pbo / 2))	/* should_try_claim_block() */
				lo = (int)(pbo / 2);
			any = zmask(S, z, cat, upstream_fallback(mt, 0), lo, (int)S->maxo) ||
			      zmask(S, z, cat, upstream_fallback(mt, 1), lo, (int)S->maxo);
		}
		if (!any)
			return FRP_NONE;
	}
	for (uint32_t s = it_start(S, z, mt, &it); s != NIL; s = it_next(S, z, &it)) {
		int pref = is_pref(S, s, mt);
		unsigned min_order = order;
		if (s == c->exclude)
			continue;
		if (nonmov && !relabel_ok && S->sb[s].cat == SB_TAINTED)
			continue;
		/* [I] non-movable reaches clean SPBs only once NOFRAGMENT is dropped */
		if (!pref && nonmov && (flags & ALLOC_NOFRAGMENT) && S->claim_clean_needs_drop)
			continue;
		if (!nonmov && movable_skips(S, flags, s))
			continue;
		if (order < pbo && (flags & ALLOC_NOFRAGMENT)) {
			min_order = pbo;
			/* 19/40: write off tainted SPBs on large systems */
			if (S->packing && pref && nonmov && S->zs[z].nr_spbs > S->aggressive_threshold)
				min_order = order;
		}
		for (int co = (int)S->maxo; co >= (int)min_order; co--) {
			int fb = find_fallback(S, s, (unsigned)co, mt, 1);
			if (fb == -1)
				continue;
			if (fb == -2)
				break;
			uint64_t page = S->ops->spb_list_head(S->m, s, (unsigned)co, fb);
			int was = INFO(S, s)->category;
			if (!pref && nonmov) {
				/* about to taint a clean SPB with a non-movable claim */
				if (highorder_optional_refuses(S, c, flags))
					return FRP_NONE;
				queue_spb_evacuate(S, z, order, mt);
				queue_spb_slab_shrink(S);	/* seed 004 */
			}
			uint64_t got = try_to_claim_block(S, c, page, (unsigned)co, fb, 0);
			if (got != FRP_NONE) {
				spb_update_list(S, s);
				CNT(S, pref ? "claim_preferred" : "claim_nonpreferred", 1);
				if (nonmov && was != FRP_SPB_TAINTED)
					CNT(S, "fresh_taint_claim", 1);
				return got;
			}
		}
	}
	return FRP_NONE;
}

/* __rmqueue_steal(): smallest order first, no relabel; only without NOFRAGMENT */
static uint64_t rmqueue_steal(struct spb *S, struct ctx *c, int flags)
{
	unsigned z = c->z;
	int mt = c->mt;
	struct sbiter it;

	if (mt >= FRP_MT_PCPTYPES)
		return FRP_NONE;
	/* no clean or tainted SPB has a fallback chunk: the walk finds nothing */
	if (!zmask(S, z, SB_CLEAN, upstream_fallback(mt, 0), (int)c->order, (int)S->maxo) &&
	    !zmask(S, z, SB_CLEAN, upstream_fallback(mt, 1), (int)c->order, (int)S->maxo) &&
	    !zmask(S, z, SB_TAINTED, upstream_fallback(mt, 0), (int)c->order, (int)S->maxo) &&
	    !zmask(S, z, SB_TAINTED, upstream_fallback(mt, 1), (int)c->order, (int)S->maxo))
		return FRP_NONE;
	for (uint32_t s = it_start(S, z, mt, &it); s != NIL; s = it_next(S, z, &it)) {
		int pref = is_pref(S, s, mt);
		if (s == c->exclude || (!nonmovable(mt) && movable_skips(S, flags, s)))
			continue;
		for (unsigned co = c->order; co <= S->maxo; co++) {
			int fb = find_fallback(S, s, co, mt, 0);
			if (fb < 0)
				continue;
			if (!pref && nonmovable(mt) && highorder_optional_refuses(S, c, flags))
				return FRP_NONE;
			int was = INFO(S, s)->category;
			uint64_t page = S->ops->spb_list_head(S->m, s, co, fb);
			page = S->ops->take(S->m, page, c->order);
			if (page == FRP_NONE)
				continue;
			S->ops->pb_set_has(S->m, page, mt);
			spb_update_list(S, s);
			CNT(S, "steal", 1);
			if (nonmovable(mt) && was != FRP_SPB_TAINTED)
				CNT(S, "fresh_taint_steal", 1);
			return page;
		}
	}
	return FRP_NONE;
}

/* __rmqueue() with the rmqueue_bulk() mode cache; not shared with vanilla's
 * (upstream.h): an ALLOC_HIGHORDER_OPTIONAL refusal (26/40) ends it here */
static uint64_t rmqueue(struct spb *S, struct ctx *c, int flags, int *mode)
{
	uint64_t page;

	switch (*mode) {
	case MODE_NORMAL:
		page = rmqueue_smallest(S, c, flags);
		if (page != FRP_NONE || c->opt_refused)
			return page;
		/* fallthrough */
	case MODE_CLAIM:
		page = rmqueue_claim(S, c, flags);
		if (page != FRP_NONE) {
			*mode = MODE_NORMAL;
			return page;
		}
		if (c->opt_refused)
			return FRP_NONE;
		/* fallthrough */
	case MODE_STEAL:
		if (!(flags & ALLOC_NOFRAGMENT)) {
			page = rmqueue_steal(S, c, flags);
			if (page != FRP_NONE) {
				*mode = MODE_STEAL;
				return page;
			}
		}
	}
	return FRP_NONE;
}

/* ------------------------------------------------------------------------ */
/* Per-CPU lists: rmqueue_pcplist(), rmqueue_bulk(), pcpbuddy ownership,      */
/* free_frozen_page_commit(), free_pcppages_bulk(), absorb_remote_frees()     */
/* ------------------------------------------------------------------------ */

/*
 * absorb_remote_frees() [C, seed 003]: pull the pages other CPUs pushed on
 * this CPU's free_llist onto its per-CPU lists.  In the model the llist
 * entries are parked at the tail of their list (so the model sees them on a
 * per-CPU list) and are invisible to this CPU until absorbed: every path
 * that pops this CPU's lists absorbs first.  llist_del_all() yields the
 * newest first; each is enqueued at the head.
 */
static __attribute__((noinline)) void absorb_remote_frees_now(struct spb *S, unsigned cpu, unsigned z, struct pcp *p)
{
	for (unsigned pi = 0; pi < UPSTREAM_NR_PCP_LISTS; pi++) {
		uint32_t n = p->ll_n[pi];
		if (!n)
			continue;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t q = S->ops->pcp_pop(S->m, cpu, z, pi, 1);
			S->ops->pcp_push(S->m, cpu, z, pi, q, upstream_pindex_to_order(S->pbo, pi), 0);
			p->up.count += 1ull << upstream_pindex_to_order(S->pbo, pi);
		}
		p->ll_n[pi] = 0;
		CNT(S, "pcp_remote_absorbed", n);
	}
	p->ll_pages = 0;
}

/* Out of line above: most calls find nothing to absorb. */
static inline void absorb_remote_frees(struct spb *S, unsigned cpu, unsigned z)
{
	struct pcp *p = pcpof(S, cpu, z);

	if (p->ll_pages)
		absorb_remote_frees_now(S, cpu, z, p);
}

/* free_pcppages_bulk(): drain `count` pages, starting with list `pindex`, from the tail */
static void pcp_drain(struct spb *S, unsigned cpu, unsigned z, unsigned pindex, uint64_t count)
{
	struct pcp *p = pcpof(S, cpu, z);
	unsigned nt = 0, order;
	uint64_t drained = 0, page;
	uint32_t touched[8];

	absorb_remote_frees(S, cpu, z);
	/* free_pcppages_bulk() runs under one zone->lock: the SPB list
	 * updates are done once per SPB at the end (nothing walks the lists
	 * in between) */
	while ((page = upstream_pcp_drain_next(&S->up, &p->up, cpu, z, &pindex, &count, &order)) != FRP_NONE) {
		S->ops->free_block(S->m, page, order);
		if (S->pcp_owner)
			owner_check(S, page);
		uint32_t sp = spb_of(S, page);
		unsigned k = 0;
		while (k < nt && touched[k] != sp)
			k++;
		if (k == nt) {
			if (nt == 8) {
				spb_update_list(S, touched[0]);
				touched[0] = sp;
			} else {
				touched[nt++] = sp;
			}
		}
		drained += 1ull << order;
	}
	for (unsigned k = 0; k < nt; k++)
		spb_update_list(S, touched[k]);
	if (drained)
		upstream_count(&S->up, &S->c_pcp_drained, "pcp_drained_pages", drained);
}

/*
 * pcp_rmqueue_smallest() [C name, seed 003 context]: with pcpbuddy, search
 * this CPU's lists of the request's type from its order upwards (the model
 * keeps per-CPU lists for orders 0..3) and split a larger block, the upper
 * halves going to the head of their lists as expand() does.  Upstream takes
 * only the head of the exact (order, type) list.
 */
static uint64_t pcp_rmqueue_smallest(struct spb *S, unsigned cpu, unsigned z, unsigned order, int mt)
{
	unsigned top = S->pcp_owner && order <= 3 ? 3 : order;

	for (unsigned high = order; high <= top; high++) {
		/* pop first: a pop of an empty list changes nothing, and it
		 * spares asking for the length of the list that has a page */
		uint64_t page = S->ops->pcp_pop(S->m, cpu, z, upstream_order_to_pindex(mt, high), 0);
		if (page == FRP_NONE)
			continue;
		if (high > order) {
			while (high > order) {
				high--;
				S->ops->pcp_push(S->m, cpu, z, upstream_order_to_pindex(mt, high), page + (1ull << high), high, 0);
			}
			/* the low piece: through its own list so its head word says `order` */
			S->ops->pcp_push(S->m, cpu, z, upstream_order_to_pindex(mt, order), page, order, 0);
			page = S->ops->pcp_pop(S->m, cpu, z, upstream_order_to_pindex(mt, order), 0);
		}
		pcpof(S, cpu, z)->up.count -= 1ull << order;
		return page;
	}
	return FRP_NONE;
}

/* The refill of rmqueue_pcplist() when this CPU's lists had nothing, then
 * the pop.  Out of line: the pop that hits, nearly every call, then needs
 * no registers saved. */
static __attribute__((noinline)) uint64_t pcp_refill(struct spb *S, struct ctx *c, int flags, struct pcp *p)
{
	unsigned z = c->z, cpu = c->cpu, order = c->order;
	unsigned pindex = upstream_order_to_pindex(c->mt, order);

	upstream_count(&S->up, &S->c_pcp_refill, "pcp_refill", 1);
	/*
	 * pcpbuddy Phase 1 [S]: a whole free own-type pageblock, owned by
	 * this CPU from now on.  It goes onto the CPU's order-3 list (the
	 * largest per-CPU order below a pageblock), from which
	 * pcp_rmqueue_smallest() splits what smaller requests need.
	 */
	if (S->pcp_owner && S->whole_first && order <= 3) {
		struct ctx c1 = *c;
		c1.phase1 = 1;
		c1.order = S->pbo;
		uint64_t blk = rmqueue_smallest(S, &c1, flags);
		if (blk != FRP_NONE) {
			unsigned pi3 = upstream_order_to_pindex(c->mt, 3);
			S->owner[blk >> S->pbo] = (uint16_t)(cpu + 1);
			for (uint64_t q = blk; q < blk + S->pbn; q += 8)
				S->ops->pcp_push(S->m, cpu, z, pi3, q, 3, 1);
			p->up.count += S->pbn;
			CNT(S, "pcp_phase1_pageblocks", 1);
			CNT(S, "PASS_1", 1);
			return pcp_rmqueue_smallest(S, cpu, z, order, c->mt);
		}
	}
	/* rmqueue_bulk(): nr_pcp_alloc() blocks through __rmqueue() */
	unsigned batch = upstream_nr_pcp_alloc(&p->up, order);
	int mode = MODE_NORMAL;
	uint32_t oc[NR_O] = { 0 };
	c->outcome = O_NO_PAGE;
	c->ocount = oc;
	for (unsigned i = 0; i < batch; i++) {
		c->batch_skip = i && mode == MODE_NORMAL &&
				(c->outcome == O_PASS_2C || c->outcome == O_PASS_2D) ? c->outcome : 0;
		uint64_t b = rmqueue(S, c, flags, &mode);
		c->batch_skip = 0;
		if (b == FRP_NONE)
			break;
		S->ops->pcp_push(S->m, cpu, z, pindex, b, order, 1);
		p->up.count += 1ull << order;
	}
	c->ocount = NULL;
	for (int k = 0; k < NR_O; k++)
		if (oc[k])
			upstream_count(&S->up, &S->c_outcome[k], outcome_name[k], oc[k]);
	return pcp_rmqueue_smallest(S, cpu, z, order, c->mt);
}

static uint64_t rmqueue_pcplist(struct spb *S, struct ctx *c, int flags)
{
	struct pcp *p = pcpof(S, c->cpu, c->z);
	uint64_t page;

	absorb_remote_frees(S, c->cpu, c->z);		/* start of pcp_rmqueue_smallest() */
	p->up.free_count >>= 1;
	page = pcp_rmqueue_smallest(S, c->cpu, c->z, c->order, c->mt);
	if (page != FRP_NONE)
		return page;
	return pcp_refill(S, c, flags, p);
}

static __attribute__((noinline)) uint64_t rmqueue_buddy(struct spb *S, struct ctx *c, int flags)
{
	int mode = MODE_NORMAL;
	uint64_t page = FRP_NONE;

	if (flags & ALLOC_HIGHATOMIC) {
		struct ctx h = *c;
		h.mt = FRP_MT_HIGHATOMIC;
		page = ha_smallest(S, &h, c->z);
		if (page != FRP_NONE)
			CNT(S, "highatomic", 1);
	}
	if (page == FRP_NONE)
		page = rmqueue(S, c, flags, &mode);
	if (page == FRP_NONE && (flags & (ALLOC_NO_WATERMARKS | ALLOC_NON_BLOCK))) {
		struct ctx h = *c;
		h.mt = FRP_MT_HIGHATOMIC;
		page = ha_smallest(S, &h, c->z);
		if (page != FRP_NONE)
			CNT(S, "highatomic", 1);
	}
	return page;
}

static uint64_t try_zone(struct spb *S, struct ctx *c, int flags)
{
	uint64_t page;

	c->opt_refused = 0;
	if (S->pcp_on && upstream_pcp_allowed_order(S->pbo, c->order) && c->mt < FRP_MT_PCPTYPES) {
		page = rmqueue_pcplist(S, c, flags);
		if (page != FRP_NONE) {
			upstream_count(&S->up, &S->c_pcp_alloc, "pcp_alloc", 1);
			return page;
		}
		if (c->opt_refused)
			return FRP_NONE;
	}
	page = rmqueue_buddy(S, c, flags);
	/* reserve_highatomic_pageblock() moves free chunks between lists: the SPB's list follows */
	if (page != FRP_NONE && (flags & ALLOC_HIGHATOMIC) && S->highatomic &&
	    upstream_reserve_highatomic_pageblock(&S->up, c->z, page, c->order))
		touch_pfn(S, page);
	return page;
}

/* ------------------------------------------------------------------------ */
/* get_page_from_freelist(): zonelist walk, watermarks, the relax sequence    */
/* ------------------------------------------------------------------------ */

/*
 * spb_tainted_can_serve_smaller() [C, seed 001], as written: any tainted SPB
 * of the zone with movable content, or with a free buddy below `order` on
 * the requesting type's list or (UNMOV/RECL) the opposite list.
 */
static int spb_tainted_can_serve_smaller(struct spb *S, unsigned z, unsigned order, int mt)
{
	int opposite_mt = -1;

	if (order == 0)
		return 0;
	if (mt == FRP_MT_UNMOVABLE)
		opposite_mt = FRP_MT_RECLAIMABLE;
	else if (mt == FRP_MT_RECLAIMABLE)
		opposite_mt = FRP_MT_UNMOVABLE;
	for (int full = 0; full < NB; full++)
		for (uint32_t s = S->zs[z].head[L_CAT(SB_TAINTED, full)]; s != NIL; s = S->sb[s].next) {
			const struct frp_spb_info *i = INFO(S, s);
			if (i->nr_has[FRP_MT_MOVABLE] > 0)	/* sb->nr_movable > 0 */
				return 1;
			if (!i->nr_free_pages)
				continue;
			/* for (o = 0; o < order; o++): own list, then the opposite list */
			if (lmask(S, s, mt, 0, (int)order - 1))
				return 1;
			if (opposite_mt >= 0 && lmask(S, s, opposite_mt, 0, (int)order - 1))
				return 1;
		}
	return 0;
}

static uint64_t get_page_from_freelist(struct spb *S, struct ctx *c, unsigned highest, int flags)
{
	uint64_t gfp = c->gfp;

retry:
	for (int z = (int)highest; z >= 0; z--) {
		if (S->zs[z].count == 0)
			continue;
		if (!upstream_zone_watermark_ok(&S->up, (unsigned)z, c->order, highest, flags))
			continue;
		c->z = (unsigned)z;
		uint64_t page = try_zone(S, c, flags);
		if (page != FRP_NONE) {
			if (z != (int)highest)
				CNT(S, "zonelist_fallback", 1);
			return page;
		}
	}
	if (!(flags & ALLOC_NOFRAGMENT) || S->defrag_mode)
		return FRP_NONE;
	if (!S->relax) {
		/* upstream: the end of the walk drops NOFRAGMENT for every caller */
		flags &= ~ALLOC_NOFRAGMENT;
		CNT(S, "nofragment_dropped", 1);
		goto retry;
	}
	/* 20/40: reclaim-capable callers keep NOFRAGMENT into the slowpath */
	if (gfp & FRP_GFP_DIRECT_RECLAIM)
		return FRP_NONE;
	/* the relax sequence (spb_alloc_atomic_relax steps) */
	if (gfp & FRP_GFP_NORETRY) {
		upstream_count(&S->up, &S->c_noretry_skip, "relax_NORETRY_SKIP", 1);
		c->refused = 1;
		return FRP_NONE;
	}
	/* seed 001 (v2 35/40) */
	if (S->highorder_refuse && c->order > 0 && (gfp & FRP_GFP_NOWARN) && !(gfp & FRP_GFP_NOFAIL) &&
	    spb_tainted_can_serve_smaller(S, highest, c->order, c->mt)) {
		CNT(S, "relax_NOWARN_LOWER_ORDER", 1);
		c->refused = 1;
		return FRP_NONE;
	}
	if (!(flags & ALLOC_NOFRAG_TAINTED_OK)) {
		flags |= ALLOC_NOFRAG_TAINTED_OK;
		CNT(S, "relax_ADD_TAINTED_OK", 1);
		c->refused = 0;
		goto retry;
	}
	flags &= ~ALLOC_NOFRAGMENT;
	CNT(S, "relax_DROP_NOFRAGMENT", 1);
	c->refused = 0;
	goto retry;
}

/* ------------------------------------------------------------------------ */
/* Evacuation and defrag: migration of movable blocks in the model           */
/* ------------------------------------------------------------------------ */

/* A destination for a migrated movable block: clean SPBs fullest first, then
 * empty ones, never a tainted SPB and never the source [I]. */
static uint64_t evac_dest(struct spb *S, unsigned z, unsigned order, uint32_t exclude)
{
	struct ctx c;

	memset(&c, 0, sizeof(c));
	c.z = z;
	c.order = order;
	c.mt = FRP_MT_MOVABLE;
	c.for_evac = 1;
	c.exclude = exclude;
	c.last_s = NIL;
	c.can_reclaim = 1;
	return rmqueue_smallest(S, &c, 0);
}

/* evacuate_pageblock(): migrate every movable block out of the pageblock.
 * Returns 0 when no destination is left. */
static int evacuate_pageblock(struct spb *S, uint64_t start, uint32_t s, uint64_t *migrated)
{
	unsigned z = S->sb[s].zone;

	for (uint64_t p = start; p < start + S->pbn;) {
		int o = S->ops->alloc_order(S->m, p);
		if (o >= 0) {
			int amt = S->ops->alloc_mt(S->m, p);
			if (amt == FRP_MT_MOVABLE || amt == FRP_MT_CMA) {
				uint64_t dst = evac_dest(S, z, (unsigned)o, s);
				if (dst == FRP_NONE)
					return 0;
				if (S->ops->migrate(S->m, p, dst) == 0) {
					*migrated += 1ull << o;
					touch_pfn(S, dst);
					spb_update_list(S, s);
				} else {
					buddy_free(S, dst, (unsigned)o);
				}
			}
			p += 1ull << o;
			continue;
		}
		o = S->ops->free_order(S->m, p);
		p += o >= 0 ? 1ull << o : 1;
	}
	touch_pfn(S, start);
	if (S->pcp_owner)
		owner_check(S, start);
	return 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * Candidate pageblocks of SPB s holding movable pages, cheapest first:
 * pageblocks with only movable content (evacuating them frees them whole)
 * before mixed ones, fewest movable pages first [I].  label >= 0 restricts
 * to pageblocks with that label; pure_only to the first kind.
 */
/*
 * The pageblocks of SPB s labelled UNMOVABLE or RECLAIMABLE, ascending, or
 * NULL (then scan).  With every pageblock of s present, nr_label[label] is
 * their exact number, so a cached list of that length whose entries all
 * still carry the label is the whole set; otherwise it is rebuilt.
 */
static const uint32_t *label_list(struct spb *S, uint32_t s, int label, uint32_t *n)
{
	const struct sbs *sb = &S->sb[s];
	size_t k = (size_t)s * 2 + (label == FRP_MT_RECLAIMABLE);
	uint32_t want;

	if ((label != FRP_MT_UNMOVABLE && label != FRP_MT_RECLAIMABLE) || !sb->pb_full)
		return NULL;
	want = INFO(S, s)->nr_label[label];
	if (S->labok[k] && S->labn[k] == want) {
		uint32_t i;
		for (i = 0; i < want; i++)
			if (S->ops->pb_label(S->m, sb->pb_lo + ((uint64_t)S->lab[k][i] << S->pbo)) != label)
				break;
		if (i == want) {
			*n = want;
			return S->lab[k];
		}
	}
	if (!S->lab[k]) {
		S->lab[k] = malloc(((sb->pb_hi - sb->pb_lo) >> S->pbo) * sizeof(uint32_t));
		if (!S->lab[k])
			return NULL;
	}
	uint32_t m = 0;
	for (uint64_t p = sb->pb_lo; p < sb->pb_hi; p += S->pbn)
		if (S->ops->pb_label(S->m, p) == label)
			S->lab[k][m++] = (uint32_t)((p - sb->pb_lo) >> S->pbo);
	S->labn[k] = m;
	S->labok[k] = m == want;
	if (!S->labok[k])
		return NULL;
	*n = m;
	return S->lab[k];
}

/* collect_candidates()'s sort key of pageblock p (its label already
 * checked), 0 when it is not a candidate */
static inline uint64_t cand_key(struct spb *S, uint64_t p, int pure_only)
{
	unsigned mov = S->ops->pb_movable_pages(S->m, p);
	if (!mov)
		return 0;
	unsigned free = S->ops->pb_free_pages(S->m, p);
	int pure = free + mov >= S->pbn;
	if (pure_only && !pure)
		return 0;
	return ((uint64_t)(pure ? 0 : 1) << 62) | ((uint64_t)mov << 40) | (p >> S->pbo);
}

#define KEY_MOV(k) ((unsigned)(((k) >> 40) & ((1u << 22) - 1)))

/*
 * Calls f(S, arg, pfn, key) for every candidate pageblock of SPB s in
 * ascending pfn order; stops when f returns nonzero (and returns that).
 */
#define FOR_CANDIDATES(S, s, label, pure_only, BODY)                                           \
	do {                                                                                    \
		const struct sbs *sb_ = &(S)->sb[s];                                            \
		uint32_t nl_;                                                                   \
		const uint32_t *L_ = label_list(S, s, label, &nl_);                             \
		if (L_) {                                                                       \
			for (uint32_t i_ = 0; i_ < nl_; i_++) {                                 \
				uint64_t p = sb_->pb_lo + ((uint64_t)L_[i_] << (S)->pbo);       \
				uint64_t key = cand_key(S, p, pure_only);                       \
				if (!key)                                                       \
					continue;                                               \
				BODY                                                            \
			}                                                                       \
			break;                                                                  \
		}                                                                               \
		uint64_t lo_ = sb_->pb_exact ? sb_->pb_lo : sb_->lo & ~((S)->pbn - 1);          \
		uint64_t hi_ = sb_->pb_exact ? sb_->pb_hi : sb_->hi;                            \
		uint32_t left_ = (label) >= 0 && sb_->pb_full ? INFO(S, s)->nr_label[label] : UINT32_MAX; \
		for (uint64_t p = lo_; p < hi_ && left_; p += (S)->pbn) {                       \
			if (!sb_->pb_exact && spb_of(S, p) != (s))                              \
				continue;                                                       \
			if ((label) >= 0) {                                                     \
				if ((S)->ops->pb_label((S)->m, p) != (label))                   \
					continue;                                               \
				if (left_ != UINT32_MAX)                                        \
					left_--;                                                \
			}                                                                       \
			uint64_t key = cand_key(S, p, pure_only);                               \
			if (!key)                                                               \
				continue;                                                       \
			BODY                                                                    \
		}                                                                               \
	} while (0)

/*
 * Candidate pageblocks of SPB s holding movable pages, cheapest first:
 * pageblocks with only movable content (evacuating them frees them whole)
 * before mixed ones, fewest movable pages first [I].  label >= 0 restricts
 * to pageblocks with that label; pure_only to the first kind.
 */
static size_t collect_candidates(struct spb *S, uint32_t s, int label, int pure_only)
{
	size_t n = 0;
	int big = 0;

	FOR_CANDIDATES(S, s, label, pure_only, {
		big |= KEY_MOV(key) > S->pbn;
		S->pbuf[n++] = key;
	});
	/* Keys are distinct and were made in ascending pfn order, so a stable
	 * counting sort on (pure, mov) gives qsort's order exactly. */
	if (n > 16 && !big) {
		uint32_t nb = 2 * ((uint32_t)S->pbn + 1);
		memset(S->cnt, 0, (nb + 1) * sizeof(*S->cnt));
		for (size_t i = 0; i < n; i++)
			S->cnt[(S->pbuf[i] >> 62) * (S->pbn + 1) + ((S->pbuf[i] >> 40) & ((1u << 22) - 1)) + 1]++;
		for (uint32_t k = 1; k <= nb; k++)
			S->cnt[k] += S->cnt[k - 1];
		for (size_t i = 0; i < n; i++)
			S->tbuf[S->cnt[(S->pbuf[i] >> 62) * (S->pbn + 1) + ((S->pbuf[i] >> 40) & ((1u << 22) - 1))]++] =
				S->pbuf[i];
		memcpy(S->pbuf, S->tbuf, n * sizeof(*S->pbuf));
	} else {
		qsort(S->pbuf, n, sizeof(*S->pbuf), cmp_u64);
	}
	for (size_t i = 0; i < n; i++)
		S->pbuf[i] = (S->pbuf[i] & ((1ull << 40) - 1)) << S->pbo;
	return n;
}

/* Could evac_dest() find a destination for a movable block of any order in
 * zone z?  (Its passes, from the zone summary bitmaps: Pass 1 over clean
 * SPBs, Pass 3 over empty ones.) */
static int evac_dest_possible(struct spb *S, unsigned z)
{
	int pbo = (int)S->pbo, maxo = (int)S->maxo;

	return zmask(S, z, SB_CLEAN, FRP_MT_MOVABLE, 0, maxo) ||
	       (S->pass3 && (zmask(S, z, SB_EMPTY, FRP_MT_UNMOVABLE, pbo, maxo) ||
			     zmask(S, z, SB_EMPTY, FRP_MT_MOVABLE, pbo, maxo) ||
			     zmask(S, z, SB_EMPTY, FRP_MT_RECLAIMABLE, pbo, maxo)));
}

/*
 * With no destination anywhere, evacuate_pageblock() fails, without side
 * effects, at the first movable block whose head lies in the pageblock.  A
 * pure candidate with mov < pageblock_nr_pages is not covered by a larger
 * block, so its movable pages have their heads inside; and the first
 * candidate collect_candidates() would sort has a key no larger, so is such
 * a pageblock too.  Returns 0: no candidate (the scan saw them all); 1: the
 * first sorted candidate would fail; 2: cannot tell (take the full path).
 */
static inline int movable_head(struct spb *S, uint64_t p)
{
	if (S->ops->alloc_order(S->m, p) < 0)
		return 0;
	int amt = S->ops->alloc_mt(S->m, p);
	return amt == FRP_MT_MOVABLE || amt == FRP_MT_CMA;
}

static int evac_probe(struct spb *S, uint32_t s, int label, int pure_only)
{
	int seen = 0, r = -1;
	uint64_t first_pure = FRP_NONE;

	FOR_CANDIDATES(S, s, label, pure_only, {
		unsigned mov = KEY_MOV(key);
		int pure = !(key >> 62);
		if (mov > S->pbn) {
			r = 2;
			break;
		}
		if (pure && mov < S->pbn) {
			r = 1;
			break;
		}
		if (pure && first_pure == FRP_NONE) {
			/* The first sorted candidate is a pure one with mov <
			 * pageblock_nr_pages (fails, as above) or, if there is
			 * none, the lowest-pfn pure one, this one: it fails at
			 * once if a movable block starts it. */
			first_pure = p;
			if (movable_head(S, p)) {
				r = 1;
				break;
			}
		}
		seen = 1;
	});
	if (r >= 0)
		return r;
	if (!seen)
		return 0;
	if (first_pure == FRP_NONE)
		return 1;	/* all mixed: mov < pageblock, heads inside */
	return 2;		/* first_pure may be the tail of a larger block */
}

static int defrag_done(struct spb *S, uint32_t s)
{
	const struct frp_spb_info *i = INFO(S, s);

	if (S->defrag_v15)	/* 15/40 [S] */
		return i->nr_free >= 2 || i->nr_free_pages >= 3 * S->pbn;
	return i->nr_free >= spb_tainted_reserve(S, s);	/* [I] mirrors the v2 trigger */
}

/* spb_defrag_work_fn(): evacuate movable pageblocks of a tainted SPB */
static void spb_defrag_work(struct spb *S, uint32_t s)
{
	uint32_t before = INFO(S, s)->nr_free;
	uint64_t migrated = 0;
	unsigned done = 0;

	CNT(S, "spb_defrag_runs", 1);
	size_t n = collect_candidates(S, s, -1, 0);
	for (size_t i = 0; i < n && done < S->defrag_batch_pb; i++) {
		if (defrag_done(S, s))
			break;
		done++;
		if (!evacuate_pageblock(S, S->pbuf[i], s, &migrated))
			break;
	}
	CNT_NZ(S, "spb_defrag_pages_migrated", migrated);
	/* pending until the run ends: triggers from the run's own list moves are absorbed [I] */
	S->sb[s].defrag_pending = 0;
	track(S, s);
	if (INFO(S, s)->nr_free <= before) {
		S->sb[s].stamped = 1;
		S->sb[s].no_progress_ns = S->now;
		CNT(S, "spb_defrag_no_progress", 1);
	}
}

/* The tainted SPBs of zone z with movable content, fullest first, up to the cap */
static size_t evac_collect(struct spb *S, unsigned z, uint32_t *out, size_t cap)
{
	size_t n = 0;
	for (int b = 0; b < NB && n < cap; b++)
		for (uint32_t s = S->zs[z].head[L_CAT(SB_TAINTED, b)]; s != NIL && n < cap; s = S->sb[s].next)
			if (INFO(S, s)->nr_has[FRP_MT_MOVABLE])
				out[n++] = s;
	return n;
}

static int spb_has_chunk(struct spb *S, uint32_t s, unsigned order, int mt)
{
	return lmask(S, s, mt, (int)order, (int)S->maxo) != 0;
}

/*
 * spb_evacuate_for_order() [S/C, 17/40, 24/45, 23/40 cap]: Phase 1 empties
 * movable pages out of pageblocks labelled `mt` in tainted SPBs so freed
 * pages coalesce into larger `mt` buddies; Phase 2 evacuates whole MOVABLE
 * pageblocks so Pass 2 can claim them.  Ends with queue_spb_slab_shrink()
 * (seed 004).
 */
static int spb_evacuate_for_order(struct spb *S, unsigned z, unsigned order, int mt)
{
	uint32_t cand[64];
	size_t nc = evac_collect(S, z, cand, S->evac_candidates < 64 ? S->evac_candidates : 64);
	uint64_t migrated = 0;
	unsigned p1 = 0, p2 = 0;
	int goal = 0, stop = 0;

	CNT(S, "spb_evacuate_runs", 1);
	for (size_t k = 0; k < nc && !goal && !stop; k++) {
		if (p1 < S->evac_batch_pb && !evac_dest_possible(S, z)) {
			int r = evac_probe(S, cand[k], mt, 0);
#ifdef SPB_VERIFY
			if (r < 2) {
				size_t vn = collect_candidates(S, cand[k], mt, 0);
				uint64_t vm = 0;
				if ((r == 0) != (vn == 0) || (vn && evacuate_pageblock(S, S->pbuf[0], cand[k], &vm)) || vm)
					abort();
			}
#endif
			if (r == 0)
				continue;
			if (r == 1) {
				p1++;
				stop = 1;
				break;
			}
		}
		size_t n = collect_candidates(S, cand[k], mt, 0);
		for (size_t i = 0; i < n && p1 < S->evac_batch_pb; i++) {
			p1++;
			if (!evacuate_pageblock(S, S->pbuf[i], cand[k], &migrated)) {
				stop = 1;
				break;
			}
			if (spb_has_chunk(S, cand[k], order, mt)) {
				goal = 1;
				break;
			}
		}
	}
	for (size_t k = 0; k < nc && !goal && !stop; k++) {
		if (p2 < S->evac_batch_pb && !evac_dest_possible(S, z)) {
			int r = evac_probe(S, cand[k], FRP_MT_MOVABLE, 1);
#ifdef SPB_VERIFY
			if (r < 2) {
				size_t vn = collect_candidates(S, cand[k], FRP_MT_MOVABLE, 1);
				uint64_t vm = 0;
				if ((r == 0) != (vn == 0) || (vn && evacuate_pageblock(S, S->pbuf[0], cand[k], &vm)) || vm)
					abort();
			}
#endif
			if (r == 0)
				continue;
			if (r == 1) {
				p2++;
				stop = 1;
				break;
			}
		}
		size_t n = collect_candidates(S, cand[k], FRP_MT_MOVABLE, 1);
		for (size_t i = 0; i < n && p2 < S->evac_batch_pb; i++) {
			uint32_t before = INFO(S, cand[k])->nr_free;
			p2++;
			if (!evacuate_pageblock(S, S->pbuf[i], cand[k], &migrated)) {
				stop = 1;
				break;
			}
			if (INFO(S, cand[k])->nr_free > before) {
				goal = 1;
				break;
			}
		}
	}
	CNT_NZ(S, "spb_evacuate_phase1_attempts", p1);
	CNT_NZ(S, "spb_evacuate_phase2_attempts", p2);
	CNT_NZ(S, "spb_evacuate_pages_migrated", migrated);
	queue_spb_slab_shrink(S);	/* seed 004: always, even when evacuation succeeded */
	return migrated > 0;
}

/*
 * spb_slab_shrink_work_fn() [C, seed 004].  Counted as SPB_SLAB_SHRINK_RAN.
 * shrink_slab() frees objects, not pages, and the trace cannot tell which
 * objects a real shrinker would have dropped.  Modelled effect: the run
 * releases the oldest live reclaimable allocations this policy placed,
 * SPB_SLAB_SHRINK_TARGET_OBJS / shrink_objs_per_page pages' worth, through
 * ops->release_alloc (their later traced frees count as released_frees).  The
 * pages go back to the buddy where they lie: mostly tainted SPBs.
 */
/* Still the reclaimable allocation of that order the policy placed? */
static int recl_live(struct spb *S, struct recl r)
{
	return S->ops->alloc_mt(S->m, r.pfn) == FRP_MT_RECLAIMABLE &&
	       S->ops->alloc_order(S->m, r.pfn) == (int)r.order;
}

static void spb_slab_shrink_work(struct spb *S)
{
	uint64_t target, freed = 0;

	S->shrink_pending = 0;
	CNT(S, "spb_slab_shrink_ran", 1);	/* SPB_SLAB_SHRINK_RAN */
	if (!S->has_release || !S->shrink_objs_per_page)
		return;
	target = S->shrink_target_objs / S->shrink_objs_per_page;
	while (freed < target && S->f_len) {
		struct recl r = S->fifo[S->f_head];
		S->f_head = (S->f_head + 1) % S->f_cap;
		S->f_len--;
		if (!recl_live(S, r))
			continue;	/* freed since (by the trace) */
		int o = S->ops->release_alloc(S->m, r.pfn);
		if (o < 0)
			continue;
		buddy_free(S, r.pfn, (unsigned)o);
		freed += 1ull << o;
	}
	CNT_NZ(S, "spb_slab_shrink_pages_released", freed);
}

/*
 * A full queue first drops the entries whose allocation the trace has freed
 * since (spb_slab_shrink_work() would skip them), and grows only if it is
 * still over half full: its size follows the live reclaimable allocations,
 * not the length of the trace (at 1 TiB with 1 B events, the queue of every
 * reclaimable placement held 0.6 GB).  Order is kept.
 */
static void fifo_push(struct spb *S, uint64_t pfn, unsigned order)
{
	if (S->f_len == S->f_cap) {
		size_t live = 0, nc;
		for (size_t i = 0; i < S->f_len; i++) {
			struct recl r = S->fifo[(S->f_head + i) % S->f_cap];
			if (recl_live(S, r))
				S->fifo[(S->f_head + live++) % S->f_cap] = r;
		}
		S->f_len = live;
		nc = !S->f_cap ? 1024 : live * 2 > S->f_cap ? S->f_cap * 2 : S->f_cap;
		if (nc != S->f_cap) {
			S->fifo = ring_resize(S->fifo, sizeof(*S->fifo), &S->f_head, S->f_len, S->f_cap, nc);
			S->f_cap = nc;
		}
	}
	S->fifo[(S->f_head + S->f_len) % S->f_cap] = (struct recl){ .pfn = pfn, .order = order };
	S->f_len++;
}

/* Run the queued background work whose time has come (FIFO). */
static void run_work(struct spb *S)
{
	size_t budget = S->wq_len + 64;	/* work queued by work runs too, bounded */

	while (S->wq_len && budget--) {
		struct work w = S->wq[S->wq_head];
		if (w.ready > S->now)
			break;
		S->wq_head = (S->wq_head + 1) % S->wq_cap;
		S->wq_len--;
		switch (w.kind) {
		case W_DEFRAG:
			spb_defrag_work(S, w.arg);
			break;
		case W_EVAC:
			S->zs[w.arg].evac_pending[w.mt] = 0;
			spb_evacuate_for_order(S, w.arg, w.order, w.mt);
			break;
		case W_SHRINK:
			spb_slab_shrink_work(S);
			break;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* The policy entry points                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t spb_alloc(void *self, const struct frp_request *rq)
{
	struct spb *S = self;
	unsigned highest = rq->zone < S->nzones ? rq->zone : S->nzones - 1;
	uint64_t gfp = rq->gfp, page;
	struct ctx c;
	int flags = ALLOC_WMARK_LOW;
	int atomic = !(gfp & FRP_GFP_DIRECT_RECLAIM);

	flush_pending(S);
	if (rq->now_ns > S->now)
		S->now = rq->now_ns;
	memset(&c, 0, sizeof(c));
	c.order = rq->order;
	c.mt = rq->mt >= 0 && rq->mt < FRP_MT_PCPTYPES ? rq->mt : FRP_MT_UNMOVABLE;
	c.cpu = rq->cpu < S->ncpu ? rq->cpu : 0;
	c.gfp = gfp;
	c.can_reclaim = !atomic;
	c.exclude = NIL;
	c.last_s = NIL;

	/* alloc_flags_nofragment(): applied broadly by the series (12/40, 20/40) */
	if (S->nofragment == 2 || (S->nofragment == 1 && upstream_alloc_flags_nofragment(&S->up, highest)))
		flags |= ALLOC_NOFRAGMENT;
	/* 26/40: two caller shapes have a cheap fallback */
	if (((gfp & FRP_GFP_NORETRY) && !(gfp & FRP_GFP_RETRY_MAYFAIL)) ||
	    (atomic && !(gfp & FRP_GFP_NOMEMALLOC) && !(gfp & FRP_GFP_NOFAIL)))
		flags |= ALLOC_HIGHORDER_OPTIONAL;

	page = get_page_from_freelist(S, &c, highest, flags);
	if (page == FRP_NONE) {
		/* __alloc_pages_slowpath(): min watermark, NOFRAGMENT re-applied (20/40) */
		int sflags = (flags & ~ALLOC_WMARK_MASK) | ALLOC_WMARK_MIN;
		if (atomic && !(gfp & FRP_GFP_NOMEMALLOC))
			sflags |= ALLOC_NON_BLOCK;
		int refused = c.refused;
		c.refused = 0;
		page = get_page_from_freelist(S, &c, highest, sflags);
		refused |= c.refused;
		if (page == FRP_NONE && !c.refused && !atomic && (sflags & ALLOC_NOFRAGMENT)) {
			/* 24/45: targeted evacuation before the drop, UNMOV/RECL */
			if (S->evacuate && nonmovable(c.mt) &&
			    spb_evacuate_for_order(S, highest, c.order, c.mt))
				page = get_page_from_freelist(S, &c, highest, sflags);
			if (page == FRP_NONE) {
				/* 20/40: drop NOFRAGMENT as the last step before OOM */
				CNT(S, "slowpath_drop_nofragment", 1);
				page = get_page_from_freelist(S, &c, highest, sflags & ~ALLOC_NOFRAGMENT);
			}
		}
		if (page == FRP_NONE && !c.refused && !refused && !c.any_opt_refused) {
			/* the recorded kernel succeeded (after reclaim): no watermarks */
			int hi = S->highatomic && upstream_alloc_highatomic(rq->order, gfp) ? ALLOC_HIGHATOMIC : 0;
			CNT(S, "slowpath_no_watermarks", 1);
			page = get_page_from_freelist(S, &c, highest,
						      (sflags & ~ALLOC_NOFRAGMENT) | ALLOC_NO_WATERMARKS | hi);
		}
		if (page == FRP_NONE && (c.refused || refused || c.any_opt_refused))
			upstream_count(&S->up, &S->c_refused, "alloc_refused", 1);
	}
	if (page != FRP_NONE) {
		uint32_t ps = spb_of(S, page);
		/* the engine's commit can only change the category by tainting */
		if (nonmovable(c.mt) && ps != NIL && S->sb[ps].cat != SB_TAINTED)
			S->pending = ps;
		if (c.mt == FRP_MT_RECLAIMABLE && S->slab_shrink)
			fifo_push(S, page, c.order);
	}
	return page;
}

/* __free_frozen_pages() with pcpbuddy ownership and seed 003's split path */
static void spb_free(void *self, uint64_t pfn, unsigned order, unsigned cpu, uint64_t now)
{
	struct spb *S = self;
	int z = S->ops->pfn_zone(S->m, pfn);

	flush_pending(S);
	if (now > S->now)
		S->now = now;
	if (cpu >= S->ncpu)
		cpu = 0;
	int pi = upstream_free_pindex(&S->up, z, S->pcp_on, pfn, order);
	if (pi < 0) {
		buddy_free(S, pfn, order);
		return;
	}
	unsigned pindex = (unsigned)pi;
	unsigned target = cpu;
	if (S->pcp_owner) {
		int owner = (int)S->owner[pfn >> S->pbo] - 1;
		if (owner >= 0 && (unsigned)owner != cpu && (unsigned)owner < S->ncpu) {
			if (S->pcp_remote_free) {
				/* seed 003: lock-free llist_add onto the owner's free_llist */
				struct pcp *p = pcpof(S, (unsigned)owner, (unsigned)z);
				S->ops->pcp_push(S->m, (unsigned)owner, (unsigned)z, pindex, pfn, order, 1);
				p->ll_n[pindex]++;
				p->ll_pages += 1ull << order;
				CNT(S, "pcp_remote_free_llist", 1);
				return;
			}
			/* before seed 003: cache_cpu = owner_cpu, the owner's list under its lock */
			target = (unsigned)owner;
			CNT(S, "pcp_remote_free_locked", 1);
		}
	}
	/* free_frozen_page_commit() */
	uint64_t n = upstream_free_frozen_page_commit(&S->up, &pcpof(S, target, (unsigned)z)->up, target,
						      (unsigned)z, pindex, pfn, order);
	if (n)
		pcp_drain(S, target, (unsigned)z, pindex, n);
}

static void spb_tick(void *self, uint64_t now)
{
	struct spb *S = self;

	flush_pending(S);
	if (now > S->now)
		S->now = now;
	if (S->wq_len)
		run_work(S);
}

static void spb_drain(void *self)
{
	struct spb *S = self;

	flush_pending(S);
	for (unsigned c = 0; c < S->ncpu; c++)
		for (unsigned z = 0; z < S->nzones; z++)
			pcp_drain(S, c, z, 0, UINT64_MAX);
}

static void spb_fini(void *self)
{
	struct spb *S = self;

	free(S->info);
	free(S->sb);
	if (S->zs)
		for (unsigned z = 0; z < S->nzones; z++)
			free(S->zs[z].elig);
	free(S->zs);
	free(S->tbuf);
	if (S->lab)
		for (uint64_t k = 0; k < 2 * S->nsb; k++)
			free(S->lab[k]);
	free(S->lab);
	free(S->labn);
	free(S->labok);
	free(S->cnt);
	free(S->cpu_hint);
	free(S->pcp);
	free(S->owner);
	free(S->wq);
	free(S->fifo);
	free(S->pbuf);
	free(S);
}

/* ------------------------------------------------------------------------ */
/* init: parameters, lists, counters                                         */
/* ------------------------------------------------------------------------ */

static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!*v || *v == '-')
		return -1;
	unsigned long long x = strtoull(v, &end, 10);
	if (*end || x > max)
		return -1;
	*out = x;
	return 0;
}

static int parse_bounds(const char *v, unsigned out[3])
{
	double a, b, c;
	char tail;
	if (sscanf(v, "%lf/%lf/%lf%c", &a, &b, &c, &tail) != 3)
		return -1;
	if (!(a > 0 && a < b && b < c && c < 100))
		return -1;
	out[0] = (unsigned)(a * 10 + 0.5);
	out[1] = (unsigned)(b * 10 + 0.5);
	out[2] = (unsigned)(c * 10 + 0.5);
	return 0;
}

static const char *const counter_order[] = {
	/* hottest first: the engine finds counters by a linear scan */
	"pcp_alloc", "PASS_1", "PASS_2C", "pcp_refill", "pcp_drained_pages", "PASS_2D", "NO_PAGE",
	/* then the failure path, hot when a machine runs short (the JSON
	 * lists counters sorted by name, so this order is not visible) */
	"spb_alloc_fall_through", "relax_NORETRY_SKIP", "alloc_refused", "spb_slab_shrink_queued",
	"spb_slab_shrink_ran", "spb_evacuate_queued", "spb_evacuate_runs", "spb_evacuate_phase2_attempts",
	"pcp_phase1_pageblocks",
	"pcp_remote_free_llist", "pcp_remote_absorbed", "pcp_remote_free_locked",
	"PASS_2", "PASS_2B", "PASS_3", "PASS_4", "ZONE_FALLBACK",
	"claim_whole_block", "claim_block", "claim_preferred",
	"claim_nonpreferred", "steal", "zonelist_fallback",
	"fresh_taint_PASS_1", "fresh_taint_PASS_2", "fresh_taint_PASS_2B", "fresh_taint_PASS_2C",
	"fresh_taint_PASS_2D", "fresh_taint_PASS_3", "fresh_taint_PASS_4", "fresh_taint_claim",
	"fresh_taint_steal",
	"relax_ADD_TAINTED_OK", "relax_DROP_NOFRAGMENT", "relax_NOWARN_LOWER_ORDER",
	"spb_highorder_refused", "slowpath_drop_nofragment", "slowpath_no_watermarks",
	"spb_slab_shrink_pages_released",
	"spb_defrag_queued", "spb_defrag_runs", "spb_defrag_no_progress", "spb_defrag_pages_migrated",
	"spb_evacuate_phase1_attempts", "spb_evacuate_pages_migrated",
	NULL,
};

static void *spb_init(struct frp_model *m, const struct frp_model_ops *ops, const char *const *vals,
		      char *err, size_t errlen)
{
	struct spb *S;
	int on[NR_P];
	unsigned long long num[NR_P];
	unsigned bounds[3];

	memset(on, 0, sizeof(on));
	memset(num, 0, sizeof(num));
	for (int i = 0; i <= P_DEFRAG_MODE; i++) {
		if (i == P_NOFRAGMENT)
			continue;
		if (upstream_onoff_param(params, vals, i, &on[i], err, errlen) < 0)
			return NULL;
	}
	static const struct { int p; unsigned long long max; } nums[] = {
		{ P_RESERVE_MIN, 65535 }, { P_RESERVE_DIV, 65535 }, { P_AGGRESSIVE_THRESHOLD, 1000000 },
		{ P_DEFRAG_COOLDOWN_MS, 1000000000ull }, { P_SHRINK_TARGET_OBJS, 1ull << 40 },
		{ P_OPTIONAL_MIN_ORDER, 15 }, { P_DEFRAG_BATCH_PB, 1 << 20 }, { P_EVAC_CANDIDATES, 64 },
		{ P_EVAC_BATCH_PB, 1 << 20 }, { P_SHRINK_OBJS_PER_PAGE, 1 << 20 },
		{ P_WORK_DELAY_US, 1000000000ull },
	};
	for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
		if (parse_uint(vals[nums[k].p], nums[k].max, &num[nums[k].p]) < 0) {
			snprintf(err, errlen, "parameter %s takes a number up to %llu, not '%s'",
				 params[nums[k].p].name, nums[k].max, vals[nums[k].p]);
			return NULL;
		}
	if (!num[P_RESERVE_DIV]) {
		snprintf(err, errlen, "parameter reserve_div must be at least 1");
		return NULL;
	}
	int nofrag = -1, basis = -1, taint = -1, whole = -1, p2d = -1, optn = -1, dthr = -1, p3g = -1;
	{
		static const char *const o_nofrag[] = { "off", "upstream", "broad", NULL };
		static const char *const o_basis[] = { "pages", "pageblocks", NULL };
		static const char *const o_taint[] = { "content", "label", NULL };
		static const char *const o_whole[] = { "never", "refill", "always", NULL };
		static const char *const o_p2d[] = { "down", "up", NULL };
		static const char *const o_optn[] = { "movable", "freepb", NULL };
		static const char *const o_dthr[] = { "v2", "v15", NULL };
		static const char *const o_p3g[] = { "none", "relabel", "drop", NULL };
		const struct { int p; const char *const *o; int *out; } en[] = {
			{ P_NOFRAGMENT, o_nofrag, &nofrag }, { P_BUCKET_BASIS, o_basis, &basis },
			{ P_TAINT_BASIS, o_taint, &taint }, { P_PASS1_WHOLE_FIRST, o_whole, &whole },
			{ P_PASS2D_ORDER, o_p2d, &p2d }, { P_OPTIONAL_NEEDS, o_optn, &optn },
			{ P_DEFRAG_THRESHOLDS, o_dthr, &dthr }, { P_PASS3_GATE, o_p3g, &p3g },
		};
		for (size_t k = 0; k < sizeof(en) / sizeof(en[0]); k++) {
			for (int j = 0; en[k].o[j]; j++)
				if (!strcmp(vals[en[k].p], en[k].o[j]))
					*en[k].out = j;
			if (*en[k].out < 0) {
				char list[128] = "";
				for (int j = 0; en[k].o[j]; j++) {
					size_t l = strlen(list);
					snprintf(list + l, sizeof(list) - l, "%s%s", j ? ", " : "", en[k].o[j]);
				}
				snprintf(err, errlen, "parameter %s takes one of %s, not '%s'", params[en[k].p].name,
					 list, vals[en[k].p]);
				return NULL;
			}
		}
	}
	if (upstream_parse_onoff(vals[P_STICKY_TAINT], &on[P_STICKY_TAINT]) < 0 ||
	    upstream_parse_onoff(vals[P_TAINTED_OK_GATE], &on[P_TAINTED_OK_GATE]) < 0 ||
	    upstream_parse_onoff(vals[P_CLAIM_CLEAN_NEEDS_DROP], &on[P_CLAIM_CLEAN_NEEDS_DROP]) < 0 ||
	    upstream_parse_onoff(vals[P_HINT_PER_MT], &on[P_HINT_PER_MT]) < 0) {
		snprintf(err, errlen, "sticky_taint, tainted_ok_gate, claim_clean_needs_drop and hint_per_mt take on or off");
		return NULL;
	}
	if (parse_bounds(vals[P_BUCKET_BOUNDS], bounds) < 0) {
		snprintf(err, errlen, "parameter bucket_bounds takes three increasing percentages A/B/C, not '%s'",
			 vals[P_BUCKET_BOUNDS]);
		return NULL;
	}

	S = calloc(1, sizeof(*S));
	if (!S)
		return NULL;
	upstream_init(&S->up, m, ops);
	S->m = m;
	S->ops = ops;
	S->g = S->up.g;
	S->pbo = S->up.pbo;
	S->maxo = S->up.maxo;
	S->pbn = 1ull << S->pbo;
	S->spb_pages = 1ull << S->g->spb_order;
	S->nzones = S->up.nzones;
	S->ncpu = S->g->nr_cpus ? S->g->nr_cpus : 1;
	S->has_release = UPSTREAM_HAS_OP(ops, release_alloc);
	S->has_orders = UPSTREAM_HAS_OP(ops, spb_free_orders);
	S->pass2c = on[P_PASS2C];
	S->highorder_refuse = on[P_HIGHORDER_REFUSE];
	S->defrag_triggers = on[P_DEFRAG_TRIGGERS];
	S->slab_shrink = on[P_SLAB_SHRINK];
	S->pcp_remote_free = on[P_PCP_REMOTE_FREE];
	S->pass2 = on[P_PASS2];
	S->pass2b = on[P_PASS2B];
	S->pass2d = on[P_PASS2D];
	S->pass3 = on[P_PASS3];
	S->pass4 = on[P_PASS4];
	S->hints = on[P_HINTS];
	S->reserve = on[P_RESERVE];
	S->packing = on[P_PACKING];
	S->steer_claim = on[P_STEER_CLAIM];
	S->relax = on[P_RELAX];
	S->highorder_optional = on[P_HIGHORDER_OPTIONAL];
	S->defrag = on[P_DEFRAG];
	S->evacuate = on[P_EVACUATE];
	S->pcp_on = on[P_PCP];
	S->pcp_owner = on[P_PCP_OWNER] && S->pcp_on;
	S->highatomic = on[P_HIGHATOMIC];
	S->nofragment = nofrag;
	S->defrag_mode = on[P_DEFRAG_MODE];
	S->reserve_min = (unsigned)num[P_RESERVE_MIN];
	S->reserve_div = (unsigned)num[P_RESERVE_DIV];
	S->aggressive_threshold = (unsigned)num[P_AGGRESSIVE_THRESHOLD];
	S->cooldown_ns = num[P_DEFRAG_COOLDOWN_MS] * 1000000ull;
	S->shrink_target_objs = num[P_SHRINK_TARGET_OBJS];
	S->bucket_pb = basis == 1;
	S->taint_label = taint == 1;
	S->sticky = on[P_STICKY_TAINT];
	S->tainted_ok_gate = on[P_TAINTED_OK_GATE];
	S->claim_clean_needs_drop = on[P_CLAIM_CLEAN_NEEDS_DROP];
	S->hint_per_mt = on[P_HINT_PER_MT];
	S->whole_first = whole;
	S->pass2d_up = p2d == 1;
	S->pass3_gate = p3g;
	S->optional_min_order = (int)num[P_OPTIONAL_MIN_ORDER];
	S->optional_freepb = optn == 1;
	S->defrag_v15 = dthr == 1;
	S->defrag_batch_pb = (unsigned)num[P_DEFRAG_BATCH_PB];
	S->evac_candidates = (unsigned)num[P_EVAC_CANDIDATES];
	S->evac_batch_pb = (unsigned)num[P_EVAC_BATCH_PB];
	S->shrink_objs_per_page = (unsigned)num[P_SHRINK_OBJS_PER_PAGE];
	S->work_delay_ns = num[P_WORK_DELAY_US] * 1000ull;
	memcpy(S->bound, bounds, sizeof(bounds));

	S->nsb = S->g->nr_spbs;
	S->info = calloc(S->nsb ? S->nsb : 1, sizeof(*S->info));
	S->sb = calloc(S->nsb ? S->nsb : 1, sizeof(*S->sb));
	S->zs = calloc(S->nzones, sizeof(*S->zs));
	S->cpu_hint = malloc((size_t)S->ncpu * S->nzones * FRP_MT_PCPTYPES * sizeof(*S->cpu_hint));
	S->pcp = calloc((size_t)S->ncpu * S->nzones, sizeof(*S->pcp));
	S->owner = calloc(S->g->nr_pageblocks ? S->g->nr_pageblocks : 1, sizeof(*S->owner));
	S->pbuf = malloc(((S->spb_pages >> S->pbo) + 1) * sizeof(*S->pbuf));
	S->tbuf = malloc(((S->spb_pages >> S->pbo) + 1) * sizeof(*S->tbuf));
	S->cnt = malloc((2 * (S->pbn + 1) + 1) * sizeof(*S->cnt));
	S->lab = calloc(2 * (S->nsb ? S->nsb : 1), sizeof(*S->lab));
	S->labn = calloc(2 * (S->nsb ? S->nsb : 1), sizeof(*S->labn));
	S->labok = calloc(2 * (S->nsb ? S->nsb : 1), sizeof(*S->labok));
	int elig_ok = S->lab && S->labn && S->labok;
	for (unsigned z = 0; S->zs && z < S->nzones; z++) {
		S->zs[z].elig = malloc(((size_t)ops->zone(m, z)->nr_spbs + 1) * sizeof(uint32_t));
		elig_ok &= S->zs[z].elig != NULL;
	}
	if (!S->info || !S->sb || !S->zs || !S->cpu_hint || !S->pcp || !S->owner || !S->pbuf || !S->tbuf ||
	    !S->cnt || !elig_ok) {
		spb_fini(S);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < (size_t)S->ncpu * S->nzones * FRP_MT_PCPTYPES; i++)
		S->cpu_hint[i] = NIL;
	for (unsigned z = 0; z < S->nzones; z++) {
		const struct frp_zone *zn = ops->zone(m, z);
		for (int l = 0; l < NLISTS; l++)
			S->zs[z].head[l] = NIL;
		for (int t = 0; t < FRP_MT_PCPTYPES; t++)
			S->zs[z].zone_hint[t] = NIL;
		S->zs[z].first = zn->first_spb;
		S->zs[z].count = zn->nr_spbs;
		for (unsigned c = 0; c < S->ncpu; c++)
			upstream_pcp_init(&S->up, &pcpof(S, c, z)->up, z);
	}
	S->pending = NIL;
	for (uint32_t s = 0; s < S->nsb; s++) {
		const struct frp_spb_info *i = ops->spb(m, s);
		struct sbs *b = &S->sb[s];
		S->info[s] = i;
		b->zone = i->zone;
		b->list = -1;
		b->prev = b->next = NIL;
		b->elix = -1;
		b->lo = i->start_pfn;
		b->hi = (i->start_pfn & ~(S->spb_pages - 1)) + S->spb_pages;
		const struct frp_zone *zn = ops->zone(m, i->zone);
		if (b->hi > zn->end_pfn)
			b->hi = zn->end_pfn;
		/* the pageblocks of [lo, hi) that belong to s: one run, usually */
		{
			uint64_t first = FRP_NONE, last = 0;
			int gap = 0;
			for (uint64_t p = b->lo & ~(S->pbn - 1); p < b->hi; p += S->pbn) {
				if (spb_of(S, p) != s)
					continue;
				if (first == FRP_NONE)
					first = p;
				else if (p != last + S->pbn)
					gap = 1;
				last = p;
			}
			b->pb_exact = !gap;
			b->pb_lo = first == FRP_NONE ? 0 : first;
			b->pb_hi = first == FRP_NONE ? 0 : last + S->pbn;
			b->pb_full = b->pb_exact && first != FRP_NONE &&
				     i->total_pageblocks == (b->pb_hi - b->pb_lo) >> S->pbo;
		}
		if (i->usable_pages)
			S->zs[i->zone].nr_spbs++;
		b->reserve = compute_reserve(S, s);
		uint64_t den = S->bucket_pb ? i->total_pageblocks : i->usable_pages;
		for (int k = 0; k < 3; k++)	/* smallest v with v * 1000 >= bound * den */
			b->thr[k] = ((uint64_t)S->bound[k] * den + 999) / 1000;
	}
	for (int k = 0; counter_order[k]; k++)
		CNT(S, counter_order[k], 0);
	/* insert in address order so each list starts in ascending SPB order */
	for (uint32_t s = (uint32_t)S->nsb; s-- > 0;)
		spb_update_list(S, s);
	return S;
}

static const struct frp_policy policy = {
	.api_version = FRP_API_VERSION,
	.size = sizeof(struct frp_policy),
	.name = "spb",
	.description = "superpageblock allocator of the SPB RFC series (v2 final form), every patch a switch",
	.params = params,
	.init = spb_init,
	.alloc = spb_alloc,
	.free = spb_free,
	.tick = spb_tick,
	.drain = spb_drain,
	.fini = spb_fini,
};

const struct frp_policy *fragreplay_policy_entry(uint32_t host_api)
{
	(void)host_api;
	return &policy;
}
