// SPDX-License-Identifier: GPL-2.0
/*
 * engine.c - events -> policies -> model, for every run of one replay.
 *
 * Semantics (product.md, "Replay semantics"):
 *  - each traced allocation is placed by the policy; the engine maps the
 *    recorded (pfn, order) to the model block; a later free of that
 *    recorded pfn frees that block;
 *  - a batched free (mm_page_free then mm_page_free_batched) counts once;
 *  - failed allocations (pfn -1) are counted, not placed; frees of unknown
 *    pfns are counted, never fatal;
 *  - background work runs on the trace clock (policy->tick).
 * Partial frees (split_page(), THP split: a block freed in smaller pieces)
 * split the allocated model block the way split_page() does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bitmap.h"
#include "engine.h"

/*
 * Every event looks its recorded pfn up in the pfn map and, when it is not
 * there, in the page array (lookup_head()): two cache misses at random on a
 * machine-sized model, which bound the replay rate at scale.  Their
 * addresses depend on nothing the replay computes, so ask for them a few
 * events ahead, while the events in between run.
 * Measured on a 256 GiB synthetic trace: 8 ahead, +40% events/s for
 * vanilla; also resolving a free's map entry 4 ahead and prefetching its
 * block's page word gained nothing.
 */
#define PREFETCH_AHEAD 8

/* The map slots of the first keys of [lo, hi): a loop over the range then
 * asks PREFETCH_AHEAD keys ahead of itself. */
static inline void prefetch_keys(struct fr_run *run, uint64_t lo, uint64_t hi)
{
	for (uint64_t k = lo; k < hi && k < lo + PREFETCH_AHEAD; k++)
		pfnmap_prefetch(&run->map, k);
}

static const char *const engine_counter_names[NR_ENGINE_COUNTERS] = {
	[C_ALLOCS] = "allocs",
	[C_ALLOC_PAGES] = "alloc_pages",
	[C_ALLOC_FAILURES] = "alloc_failures",
	[C_RECORDED_FAILURES] = "recorded_alloc_failures",
	[C_FREES] = "frees",
	[C_FREE_PAGES] = "free_pages",
	[C_UNKNOWN_FREES] = "unknown_frees",
	[C_PARTIAL_FREES] = "partial_frees",
	[C_ALLOC_OF_LIVE_PFN] = "allocs_of_live_pfn",
	[C_CHECK_VIOLATIONS] = "check_violations",
	[C_BAD_PLACEMENTS] = "bad_placements",
	[C_CALLER_FALLBACKS] = "caller_fallbacks",
	[C_CALLER_FALLBACK_PAGES] = "caller_fallback_pages",
	[C_RELEASED_FREES] = "released_frees",
};

const char *fr_engine_counter_name(int i)
{
	return engine_counter_names[i];
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- caller-fallback groups (fbgroup.h) ---- */

static inline int is_group(const struct fr_run *run, uint64_t v)
{
	return v >= run->grp_base && v != FRP_NONE;
}

/* The group a tag (is_group()) names. */
static inline uint32_t group_id(const struct fr_run *run, uint64_t v)
{
	return (uint32_t)(v - run->grp_base);
}

/* The group covering recorded pfn rec (its head in *head), or FBG_NONE.
 * A group's head is rec rounded down to the group's order, so try each. */
static uint32_t find_group(struct fr_run *run, uint64_t rec, uint64_t *head)
{
	uint64_t prev = UINT64_MAX;

	if (!fbg_covered(&run->fbg, rec))
		return FBG_NONE;
	for (unsigned o = 1; o <= FBG_MAX_ORDER; o++) {
		uint64_t c = rec & ~((1ull << o) - 1);
		uint64_t *v;

		if (c == prev)
			continue;
		prev = c;
		v = pfnmap_get(&run->map, c);
		if (v && is_group(run, *v)) {
			uint32_t gid = group_id(run, *v);
			if (rec - c < (1ull << fbg_order(gid))) {
				*head = c;
				return gid;
			}
		}
	}
	return FBG_NONE;
}

/* fbg_del(); a coverage bit that groups of order 1 and 2 share is set
 * again for the others still in its region. */
static void group_del(struct fr_run *run, uint32_t gid, uint64_t head)
{
	uint64_t r = head & ~((1ull << FBG_REGION) - 1);

	fbg_del(&run->fbg, gid, head);
	if (fbg_order(gid) >= FBG_REGION)
		return;
	for (uint64_t h = r; h < r + (1u << FBG_REGION); h += 2) {
		uint64_t *v = h != head ? pfnmap_get(&run->map, h) : NULL;
		if (v && is_group(run, *v))
			fbg_mark(&run->fbg, h, fbg_order(group_id(run, *v)));
	}
}

/* Back to one map entry per piece, what caller_fallback() makes without
 * groups: any event on a group but the free of its whole block does this
 * first (a partial free, an allocation of a piece's pfn: lost frees), so
 * the rules below stay those of single blocks. */
static void dissolve(struct fr_run *run, uint64_t head, uint32_t gid)
{
	const uint32_t *pc = fbg_pieces(&run->fbg, gid);
	uint64_t n = 1ull << fbg_order(gid);

	pfnmap_del(&run->map, head, NULL);
	for (uint64_t i = 0; i < n; i++) {
		if (pc[i] == FBG_RELEASED)
			pfnmap_put(&run->released, head + i, 0);
		else if (pc[i] != FBG_EMPTY && pc[i] != head + i)
			pfnmap_put(&run->map, head + i, pc[i]);
	}
	group_del(run, gid, head);
}

/* Dissolve every group with a page in [lo, hi). */
static void dissolve_range(struct fr_run *run, uint64_t lo, uint64_t hi)
{
	for (uint64_t p = lo & ~1ull; p < hi; p += 2) {
		uint64_t h;
		uint32_t gid = find_group(run, p, &h);
		if (gid != FBG_NONE)
			dissolve(run, h, gid);
	}
}

/* The piece slot of recorded pfn rec, if a group covers it (its head in
 * *head). */
static uint32_t *group_piece(struct fr_run *run, uint64_t rec, uint64_t *head)
{
	uint32_t gid = find_group(run, rec, head);

	return gid == FBG_NONE ? NULL : &fbg_pieces(&run->fbg, gid)[rec - *head];
}

/* ---- callbacks from the model ---- */

static void on_move(void *arg, uint64_t rec, uint64_t from, uint64_t to)
{
	struct fr_run *run = arg;
	uint64_t head;
	uint32_t *pc = group_piece(run, rec, &head);

	if (pc && *pc == from) {
		*pc = (uint32_t)to;
		return;
	}
	if (pc && head == rec)
		return;		/* not a piece, yet recorded at a group's head: cannot be */
	if (rec == to)
		pfnmap_del(&run->map, rec, NULL);
	else
		pfnmap_put(&run->map, rec, to);
}

/* ops->release_alloc() (spb's slab-shrink model): the trace will free this
 * block later; remember it, so that free counts as released_frees, not
 * unknown_frees.  A piece of a group is marked in the group: the free of
 * the whole block settles it, where a released map entry per piece would
 * stay behind (the trace frees the block, never the piece). */
static void on_release(void *arg, uint64_t rec, unsigned order)
{
	struct fr_run *run = arg;
	uint64_t head;
	uint32_t *pc = group_piece(run, rec, &head);

	if (pc && *pc < FBG_MAX_PFN) {
		*pc = FBG_RELEASED;	/* the group stays until its recorded free */
		return;
	}
	if (!pc || head != rec)	/* a head's map entry is its group's tag */
		pfnmap_del(&run->map, rec, NULL);
	pfnmap_put(&run->released, rec, order);
}

/* The value of the counter named `name`, added on first use; NULL when
 * out of memory.  Values live in chunks that never move, so a policy may
 * keep the pointer (frp_model_ops.counter); names are kept to 47
 * characters. */
static uint64_t *counter_slot(struct fr_run *run, const char *name)
{
	int i;

	for (i = 0; i < run->npctr; i++)
		if (!strncmp(run->pctr[i].name, name, sizeof(run->pctr[i].name) - 1))
			return run->pctr[i].v;
	if (i / FR_CTR_CHUNK == run->nctr_chunks) {
		uint64_t **c = realloc(run->ctr_vals, (size_t)(run->nctr_chunks + 1) * sizeof(*c));
		if (!c)
			return NULL;
		run->ctr_vals = c;
		if (!(c[run->nctr_chunks] = calloc(FR_CTR_CHUNK, sizeof(**c))))
			return NULL;
		run->nctr_chunks++;
	}
	struct fr_counter *n = realloc(run->pctr, (size_t)(i + 1) * sizeof(*n));
	if (!n)
		return NULL;
	run->pctr = n;
	snprintf(n[i].name, sizeof(n[i].name), "%s", name);
	n[i].v = &run->ctr_vals[i / FR_CTR_CHUNK][i % FR_CTR_CHUNK];
	run->npctr++;
	return n[i].v;
}

/* Policies count events by name, with a pointer of static storage (the
 * API's rule), on hot paths (spb: several per allocation).  A cache maps
 * each pointer to its counter, open addressing from a Fibonacci hash: the
 * literals lie 8-32 bytes apart in .rodata, so the pointer's low bits alone
 * made hot names collide, and each collision cost a scan of ~80 names
 * (4.6% of an spb replay at 1 TiB).  Names are compared only on a miss.
 * The hottest counters skip all this: the policy holds their slots
 * (on_counter). */
static uint64_t *counter_find(struct fr_run *run, const char *name)
{
	size_t h = (size_t)(((uint64_t)(uintptr_t)name * 0x9E3779B97F4A7C15ull) >> (64 - FR_CTR_CACHE_BITS));
	uint64_t *v;

	for (size_t k = 0; k < FR_CTR_CACHE; k++) {
		struct fr_ctr_cache *c = &run->ctr_cache[(h + k) & (FR_CTR_CACHE - 1)];
		if (c->key == name)
			return c->v;
		if (!c->key) {
			if ((v = counter_slot(run, name))) {
				c->key = name;
				c->v = v;
			}
			return v;
		}
	}
	return counter_slot(run, name);	/* more pointers than slots */
}

static void on_count(void *arg, const char *name, uint64_t delta)
{
	uint64_t *v = counter_find(arg, name);

	if (v)
		*v += delta;
}

static uint64_t *on_counter(void *arg, const char *name)
{
	return counter_find(arg, name);
}

/* ---- block lookup by recorded pfn ---- */

/* The block recorded at rec: its model pfn, or FRP_NONE.  With group_ok, a
 * group whose head is rec is returned as its tag (is_group()); any other
 * group covering rec is dissolved first. */
static uint64_t lookup_head(struct fr_run *run, uint64_t rec, int group_ok)
{
	uint64_t *v = pfnmap_get(&run->map, rec), h;
	struct fr_model *m = run->m;
	uint32_t gid;

	if (v) {
		if (!is_group(run, *v) || group_ok)
			return *v;
		dissolve(run, rec, group_id(run, *v));
		v = pfnmap_get(&run->map, rec);
	} else if ((gid = find_group(run, rec, &h)) != FBG_NONE) {
		dissolve(run, h, gid);
		v = pfnmap_get(&run->map, rec);
	}
	if (v)
		return *v;
	if (rec < m->geo.end_pfn) {
		uint64_t w = pw_get(m, rec);
		if (PW_STATE(w) == PW_ALLOC && PW_REC(w) == rec)
			return rec;
	}
	return FRP_NONE;
}

/* split_page()-like: cut allocated block `b` (recorded at `rec`) down to the
 * piece recorded at `want` of order `order`. */
static uint64_t split_alloc(struct fr_run *run, uint64_t b, uint64_t rec, uint64_t want, unsigned order)
{
	struct fr_model *m = run->m;
	uint64_t w = pw_get(m, b);
	unsigned o = PW_ORDER(w);
	uint64_t keep = w & ~((uint64_t)0xf | PW_MKREC(PW_REC_MASK));

	while (o > order) {
		o--;
		uint64_t half = 1ull << o;
		/* both halves stay allocated with the same content */
		pw_set(m, b, keep | o | PW_MKREC(rec));
		pw_set(m, b + half, keep | o | PW_MKREC(rec + half));
		if (b + half != rec + half)
			pfnmap_put(&run->map, rec + half, b + half);
		if (want >= rec + half) {
			/* the lower half keeps its map entry */
			b += half;
			rec += half;
		}
	}
	return b;
}

/* The model and policy side of freeing allocated block b. */
static void free_block(struct fr_run *run, uint64_t b, unsigned cpu, uint64_t ts)
{
	struct fr_model *m = run->m;
	unsigned order = PW_ORDER(pw_get(m, b));

	model_uncommit(m, b);
	run->ctr[C_FREES]++;
	run->ctr[C_FREE_PAGES] += 1ull << order;
	run->pi.pol->free(run->self, b, order, cpu, ts);
}

static void do_free(struct fr_run *run, uint64_t b, uint64_t rec, unsigned cpu, uint64_t ts)
{
	if (b != rec)
		pfnmap_del(&run->map, rec, NULL);
	free_block(run, b, cpu, ts);
}

/* The free of a whole caller-fallback block: its live pieces in ascending
 * order (as freeing them one map entry each did), then the group.  A piece
 * is marked gone before the policy sees its free, so a migration the free
 * triggers (on_move) only finds pieces still live. */
static uint64_t free_group(struct fr_run *run, uint64_t head, uint32_t gid, unsigned cpu, uint64_t ts)
{
	uint32_t *pc = fbg_pieces(&run->fbg, gid);
	uint64_t n = 1ull << fbg_order(gid), freed = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint32_t b = pc[i];
		if (i + PREFETCH_AHEAD < n && pc[i + PREFETCH_AHEAD] < FBG_MAX_PFN)
			pw_prefetch(run->m, pc[i + PREFETCH_AHEAD]);
		if (b >= FBG_MAX_PFN)
			continue;	/* not placed, or released */
		pc[i] = FBG_EMPTY;
		free_block(run, b, cpu, ts);
		freed++;
	}
	pfnmap_del(&run->map, head, NULL);
	group_del(run, gid, head);
	return freed;
}

/* Free the blocks recorded inside [p, end) that lie wholly in it (the
 * pieces of a caller fallback, the rest of a free larger than its block);
 * returns how many. */
static uint64_t free_range(struct fr_run *run, uint64_t p, uint64_t end, unsigned cpu, uint64_t ts)
{
	uint64_t n = 0;

	prefetch_keys(run, p, end);
	while (p < end) {
		if (p + PREFETCH_AHEAD < end)
			pfnmap_prefetch(&run->map, p + PREFETCH_AHEAD);
		uint64_t b = lookup_head(run, p, 1);
		if (is_group(run, b)) {
			uint32_t gid = group_id(run, b);
			uint64_t gn = 1ull << fbg_order(gid);
			if (p + gn <= end) {
				n += free_group(run, p, gid, cpu, ts);
				p += gn;
				continue;
			}
			dissolve(run, p, gid);
			b = lookup_head(run, p, 0);
		}
		uint64_t size = b != FRP_NONE ? 1ull << PW_ORDER(pw_get(run->m, b)) : 0;
		if (size && p + size <= end) {
			do_free(run, b, p, cpu, ts);
			p += size;
			n++;
		} else {
			p++;
		}
	}
	return n;
}

/* A free of a block the policy released early (on_release), or of a piece
 * of one: 1 if so. */
static int released_free(struct fr_run *run, uint64_t rec, unsigned order)
{
	uint64_t *v;

	if (!run->released.count)
		return 0;
	if (pfnmap_del(&run->released, rec, NULL))
		return 1;
	for (unsigned o = order + 1; o <= run->m->geo.max_order; o++) {
		uint64_t c = rec & ~((1ull << o) - 1);
		if ((v = pfnmap_get(&run->released, c)))
			return *v >= o;	/* rec lies inside it: split_page() pieces */
	}
	return 0;
}

/* rec lies inside a larger allocated block whose tail pieces were freed
 * (split_page()): free the piece; 1 if so. */
static int free_inside(struct fr_run *run, uint64_t rec, unsigned order, unsigned cpu, uint64_t ts)
{
	struct fr_model *m = run->m;

	for (unsigned o = 1; o <= m->geo.max_order; o++) {
		uint64_t c = rec & ~((1ull << o) - 1);
		if (c == rec)
			continue;
		uint64_t cb = lookup_head(run, c, 1);
		if (cb == FRP_NONE)
			continue;
		if (is_group(run, cb))
			break;	/* rec is not in it: lookup_head(rec) dissolved any group over rec */
		unsigned co = PW_ORDER(pw_get(m, cb));
		if (rec - c < (1ull << co) && order < co) {
			run->ctr[C_PARTIAL_FREES]++;
			uint64_t piece = split_alloc(run, cb, c, rec, order);
			do_free(run, piece, rec, cpu, ts);
			return 1;
		}
		break;
	}
	return 0;
}

static void free_event(struct fr_run *run, uint64_t rec, unsigned order, unsigned cpu, uint64_t ts)
{
	struct fr_model *m = run->m;
	uint64_t b = lookup_head(run, rec, 1);
	uint64_t freed;
	int released;

	if (is_group(run, b)) {
		uint32_t gid = group_id(run, b);
		unsigned go = fbg_order(gid);
		if (order >= go) {
			/* the recorded free of a fallback block: its first piece may be
			 * one the policy released (as below for single blocks) */
			released = fbg_pieces(&run->fbg, gid)[0] == FBG_RELEASED;
			if (released)
				run->ctr[C_RELEASED_FREES]++;
			freed = free_group(run, rec, gid, cpu, ts);
			if (order > go)
				freed += free_range(run, rec + (1ull << go), rec + (1ull << order), cpu, ts);
			if (!released && !freed && !free_inside(run, rec, order, cpu, ts))
				run->ctr[C_UNKNOWN_FREES]++;
			return;
		}
		dissolve(run, rec, gid);
		b = lookup_head(run, rec, 0);
	}
	if (b != FRP_NONE) {
		unsigned bo = PW_ORDER(pw_get(m, b));
		if (bo > order) {
			run->ctr[C_PARTIAL_FREES]++;
			b = split_alloc(run, b, rec, rec, order);
			do_free(run, b, rec, cpu, ts);
		} else {
			do_free(run, b, rec, cpu, ts);
			/* a free larger than the block: free what else lies in the range */
			if (order > bo)
				free_range(run, rec + (1ull << bo), rec + (1ull << order), cpu, ts);
		}
		return;
	}
	/* No block at rec.  If the policy released it early, or it was the
	 * first piece of a caller fallback that the policy released, the
	 * other pieces are still live: free them too. */
	released = released_free(run, rec, order);
	if (released)
		run->ctr[C_RELEASED_FREES]++;
	/* [I] without its first piece, a fallback's other pieces are still freed */
	freed = order > 0 ? free_range(run, rec + 1, rec + (1ull << order), cpu, ts) : 0;
	if (released || freed)
		return;
	if (!free_inside(run, rec, order, cpu, ts))
		run->ctr[C_UNKNOWN_FREES]++;
}

/* gfp_zone(): the zone class a gfp asks for; run->zone_idx maps each class
 * to a zone of the model, once per run (the zones never change). */
enum { ZC_NORMAL, ZC_DMA, ZC_DMA32, ZC_MOVABLE, NR_ZC };
_Static_assert(NR_ZC == sizeof(((struct fr_run *)0)->zone_idx), "fr_run.zone_idx: one per zone class");

static inline unsigned gfp_zone_class(uint64_t gfp)
{
	if (gfp & FRP_GFP_DMA)
		return ZC_DMA;
	if (gfp & FRP_GFP_DMA32)
		return ZC_DMA32;
	if ((gfp & (FRP_GFP_MOVABLE | FRP_GFP_HIGHMEM)) == (FRP_GFP_MOVABLE | FRP_GFP_HIGHMEM))
		return ZC_MOVABLE;
	return ZC_NORMAL;
}

static uint8_t zone_index(const struct fr_model *m, unsigned zc)
{
	static const char *const name[NR_ZC] = { "Normal", "DMA", "DMA32", "Movable" };
	int idx = -1;

	for (unsigned z = 0; z < m->geo.nr_zones; z++)
		if (!strcmp(m->zone[z].name, name[zc]))
			idx = (int)z;
	if (idx < 0 && zc == ZC_MOVABLE)
		for (unsigned z = 0; z < m->geo.nr_zones; z++)
			if (!strcmp(m->zone[z].name, "Normal"))
				idx = (int)z;
	if (idx < 0)
		idx = (int)m->geo.nr_zones - 1;	/* inferred single zone */
	return (uint8_t)idx;
}

/* --label-agreement: the label of the pageblock each allocation landed in
 * (0xff: not placed), in trace order, the same sequence in every run. */
static void note_label(struct fr_run *run, int on, uint8_t label)
{
	if (!on)
		return;
	if (run->nlabels == run->caplabels) {
		size_t nc = run->caplabels ? run->caplabels * 2 : 1 << 16;
		uint8_t *n = realloc(run->labels, nc);
		if (!n)
			return;
		run->labels = n;
		run->caplabels = nc;
	}
	run->labels[run->nlabels++] = label;
}

/* The label of the pageblock block b was placed in; the pageblock is not
 * even loaded without --label-agreement (a miss per placement at scale). */
static void note_block_label(struct fr_run *run, int on, uint64_t b)
{
	if (on)
		note_label(run, on, run->m->pb[b >> run->m->geo.pageblock_order].label);
}

/* Commit block b the policy returned for the allocation recorded at rec
 * (the caller maps rec to b). */
static int place(struct fr_run *run, uint64_t rec, uint64_t b, unsigned order, int mt)
{
	struct fr_model *m = run->m;

	if (b == FRP_NONE) {
		run->ctr[C_ALLOC_FAILURES]++;
		return -1;
	}
	if (b >= m->geo.end_pfn || PW_STATE(pw_get(m, b)) != PW_TAKEN || PW_ORDER(pw_get(m, b)) != order) {
		run->ctr[C_BAD_PLACEMENTS]++;
		if (!run->violation[0])
			snprintf(run->violation, sizeof(run->violation),
				 "policy %s returned pfn %#llx for an order-%u request, which is not a block it took",
				 run->pi.pol->name, (unsigned long long)b, order);
		return -1;
	}
	run->ctr[C_ALLOC_PAGES] += 1ull << order;
	model_commit_alloc(m, b, order, mt, rec);
	return 0;
}

/*
 * The caller's fallback to order 0.  The recorded kernel gave this
 * high-order allocation at once; a policy may refuse it (the SPB series
 * does on purpose: the NORETRY skip of the relax sequence, seed 001's
 * NOWARN_LOWER_ORDER, ALLOC_HIGHORDER_OPTIONAL - each "for callers with a
 * cheap fallback", 26/40, 35/40).  Those callers then ask again at their
 * minimum order with their original flags:
 *   allocate_slab()           oo with __GFP_NORETRY|__GFP_NOWARN, then s->min
 *   __page_frag_cache_refill() PAGE_FRAG_CACHE_MAX_ORDER with NORETRY, then 0
 *   the THP fault path        order 9 fails -> 512 base pages
 * [I] The replay keeps the page demand: 2^order order-0 allocations of the
 * same migratetype, each standing for one page of the recorded block, so
 * the recorded free of the block frees them all.  They are kept as one
 * group (fbgroup.h) under the recorded head; past 16 TiB, or with
 * opts.piece_map, as one map entry each (free_event walks the range).
 * Their gfp is the recorded one without __GFP_NORETRY and
 * __GFP_NOMEMALLOC (what allocate_slab() and the page_frag refill add for
 * the high-order try).  Off with --no-caller-fallback.
 */
static int caller_falls_back(const struct fr_event *e)
{
	return e->order > 0 && (e->gfp & (FRP_GFP_NORETRY | FRP_GFP_NOWARN)) && !(e->gfp & FRP_GFP_NOFAIL);
}

/* A new group for the pieces of the block recorded at rec, FBG_NONE if
 * the pieces go in the map instead. */
static uint32_t fallback_group(struct fr_run *run, uint64_t rec, unsigned order)
{
	uint32_t gid;

	if (!run->fbg.npfn || order > FBG_MAX_ORDER || rec + (1ull << order) > run->fbg.npfn)
		return FBG_NONE;
	/* lost frees: groups that overlap the block go back to map entries */
	if (fbg_any_covered(&run->fbg, rec, rec + (1ull << order)))
		dissolve_range(run, rec, rec + (1ull << order));
	gid = fbg_new(&run->fbg, rec, order);
	if (gid != FBG_NONE && pfnmap_put(&run->map, rec, run->grp_base + gid) < 0) {
		group_del(run, gid, rec);
		gid = FBG_NONE;
	}
	return gid;
}

static void caller_fallback(struct fr_run *run, const struct fr_event *e, struct frp_request *rq, int labels)
{
	uint64_t n = 1ull << e->order;
	uint32_t gid = fallback_group(run, e->pfn, e->order);
	uint32_t *pc = gid != FBG_NONE ? fbg_pieces(&run->fbg, gid) : NULL;

	run->ctr[C_CALLER_FALLBACKS]++;
	rq->order = 0;
	rq->gfp = e->gfp & ~(FRP_GFP_NORETRY | FRP_GFP_NOMEMALLOC);
	if (!pc)
		prefetch_keys(run, e->pfn, e->pfn + n);	/* each piece is a map entry at random */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t rec = e->pfn + i;
		if (!pc && i + PREFETCH_AHEAD < n)
			pfnmap_prefetch(&run->map, rec + PREFETCH_AHEAD);
		rq->rec_pfn = rec;
		uint64_t b = run->pi.pol->alloc(run->self, rq);
		if (place(run, rec, b, 0, rq->mt) < 0) {
			/* counted once in alloc_failures; the pieces placed stay */
			if (i == 0) {
				note_label(run, labels, 0xff);
				if (pc) {
					pfnmap_del(&run->map, e->pfn, NULL);
					group_del(run, gid, e->pfn);
				}
			}
			return;
		}
		if (pc)
			pc[i] = (uint32_t)b;
		else if (b != rec)
			pfnmap_put(&run->map, rec, b);
		run->ctr[C_CALLER_FALLBACK_PAGES]++;
		if (i == 0)
			note_block_label(run, labels, b);
	}
}

static void alloc_event(struct fr_run *run, const struct fr_event *e, int labels, int fallback)
{
	struct fr_model *m = run->m;
	struct frp_request rq;
	uint64_t b;

	if (e->pfn == FR_PFN_NONE) {
		run->ctr[C_RECORDED_FAILURES]++;
		return;
	}
	if (lookup_head(run, e->pfn, 0) != FRP_NONE) {
		/* the kernel reused a pfn we still think live: its free was lost */
		run->ctr[C_ALLOC_OF_LIVE_PFN]++;
		free_event(run, e->pfn, e->order, e->cpu, e->ts);
	}
	/* after lookup_head(), which may turn released pieces into entries */
	if (run->released.count)
		pfnmap_del(&run->released, e->pfn, NULL);	/* its free was lost */
	memset(&rq, 0, sizeof(rq));
	rq.gfp = e->gfp;
	rq.now_ns = e->ts;
	rq.rec_pfn = e->pfn;
	rq.cpu = e->cpu < m->geo.nr_cpus ? e->cpu : 0;
	rq.order = e->order;
	rq.mt = e->mt >= 0 && e->mt < FRP_NR_MT ? e->mt : FRP_MT_UNMOVABLE;
	rq.zone = run->zone_idx[gfp_zone_class(e->gfp)];
	run->ctr[C_ALLOCS]++;
	b = run->pi.pol->alloc(run->self, &rq);
	if (b == FRP_NONE && fallback && caller_falls_back(e)) {
		caller_fallback(run, e, &rq, labels);
		return;
	}
	if (place(run, e->pfn, b, e->order, rq.mt) < 0) {
		note_label(run, labels, 0xff);
		return;
	}
	if (b != e->pfn)
		pfnmap_put(&run->map, e->pfn, b);
	note_block_label(run, labels, b);
}

/* ---- metrics ---- */

static void sample(struct fr_replay *r, struct fr_run *run, double t, uint64_t events)
{
	struct fr_model *m = run->m;
	struct fr_sample s;
	uint64_t full = 1ull << m->geo.spb_order;

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.events = events;
	for (uint64_t i = 0; i < m->geo.nr_spbs; i++) {
		const struct m_spb *sp = &m->spb[i];
		if (!sp->info.usable_pages)
			continue;
		switch (sp->info.category) {
		case FRP_SPB_EMPTY: s.empty++; break;
		case FRP_SPB_CLEAN: s.clean++; break;
		default: s.tainted++; break;
		}
		if (sp->live_nonmov)
			s.tainted_live++;
	}
	for (unsigned z = 0; z < m->geo.nr_zones; z++)
		s.free_pages += m->zone[z].free_pages;
	s.lower_bound = (m->live_nonmov + full - 1) / full;
	s.gigantic = s.empty + s.clean;
	s.pcp_pages = m->pcp_pages_total;
	if (run->ntl == run->captl) {
		size_t nc = run->captl ? run->captl * 2 : 64;
		struct fr_sample *n = realloc(run->tl, nc * sizeof(*n));
		if (!n)
			return;
		run->tl = n;
		run->captl = nc;
	}
	run->tl[run->ntl++] = s;
	if (s.tainted > run->tainted_max)
		run->tainted_max = s.tainted;
	if (s.tainted_live > run->tainted_live_max)
		run->tainted_live_max = s.tainted_live;
	if (s.lower_bound > run->lower_bound_max)
		run->lower_bound_max = s.lower_bound;
	if (s.gigantic < run->gigantic_min)
		run->gigantic_min = s.gigantic;
	if (r->opts.check) {
		char msg[400];
		uint64_t v = model_check(m, msg, sizeof(msg));
		if (v) {
			run->ctr[C_CHECK_VIOLATIONS] += v;
			if (!run->violation[0])
				snprintf(run->violation, sizeof(run->violation), "at t=%.3fs: %s", t, msg);
		}
	}
}

/* ---- the stream stage: counted once for all runs ---- */

enum { LT_NONE, LT_ALLOC, LT_FREE, LT_DRAIN, LT_REFILL };

/* Remember, per pfn, the kind of the last traced event and (bit 7) whether
 * it came after the end snapshot began: such pages may have been read by
 * the snapshot before or after the change, so validation sets them aside. */
static void touch(struct fr_replay *r, uint64_t pfn, unsigned order, uint8_t kind, uint64_t ts)
{
	uint64_t end = r->mc.model->geo.end_pfn;
	if (!r->last_touch || pfn >= end || order > 10)
		return;
	if (r->end_snap_begin_ns && ts >= r->end_snap_begin_ns)
		kind |= 0x80;
	for (uint64_t p = pfn; p < pfn + (1ull << order) && p < end; p++)
		r->last_touch[p] = (uint8_t)(kind | (r->last_touch[p] & 0x80));
}

/* `fragreplay record` notes when it began reading kpageflags.end, in trace
 * time (trace_clock mono), in the stats snapshot. */
static uint64_t end_snapshot_begin(const struct fr_meta *meta)
{
	static const char key[] = "fragreplay: kpageflags.end read with tracing on, trace_clock mono ns ";
	size_t len;
	char *t = fr_snap_text(&meta->snaps, FR_SNAP_STATS, &len, NULL);
	uint64_t ns = 0;

	if (t) {
		char *p = strstr(t, key);
		if (p)
			ns = strtoull(p + sizeof(key) - 1, NULL, 10);
		free(t);
	}
	return ns;
}

/*
 * --strict: the trace itself must be consistent.  An allocation over pages
 * a traced allocation holds and no traced free released overlaps a live
 * block (what `recorded` would refuse); a free of pages a traced free already
 * released, with no allocation since, is a double free.  Off by default:
 * real kernels allocate through paths that emit no mm_page_alloc (bulk,
 * compaction, contig ranges), which look exactly like double frees.
 */

static void strict_check(struct fr_replay *r, const struct fr_event *e, unsigned order)
{
	uint64_t end = r->mc.model->geo.end_pfn;

	if (!r->live_bm || r->strict_err[0] || e->pfn >= end || order > 10)
		return;
	for (uint64_t p = e->pfn; p < e->pfn + (1ull << order) && p < end; p++) {
		if (e->kind == FR_EV_ALLOC) {
			if (bm_test(r->live_bm, p)) {
				snprintf(r->strict_err, sizeof(r->strict_err),
					 "event %llu (t=%.9f s): allocation of pfn %#llx order %u overlaps a live block at pfn %#llx",
					 (unsigned long long)r->st.events, (double)e->ts / 1e9,
					 (unsigned long long)e->pfn, order, (unsigned long long)p);
				return;
			}
			bm_set(r->live_bm, p);
			bm_clr(r->freed_bm, p);
		} else {
			if (bm_test(r->freed_bm, p) && !bm_test(r->live_bm, p)) {
				snprintf(r->strict_err, sizeof(r->strict_err),
					 "event %llu (t=%.9f s): double free of pfn %#llx (freed earlier, not allocated since)",
					 (unsigned long long)r->st.events, (double)e->ts / 1e9,
					 (unsigned long long)p);
				return;
			}
			bm_clr(r->live_bm, p);
			bm_set(r->freed_bm, p);
		}
	}
}

/* Returns 0 if the event is a duplicate and must not reach the runs. */
static int stream_event(struct fr_replay *r, const struct fr_event *e)
{
	struct fr_stream_stats *st = &r->st;

	if (e->kind < FR_EV_NKINDS)
		st->kinds[e->kind]++;
	if (e->kind != FR_EV_LOST) {
		st->events++;
		if (!st->first_ts)
			st->first_ts = e->ts;
		if (e->ts > st->last_ts)
			st->last_ts = e->ts;
	}
	switch (e->kind) {
	case FR_EV_LOST:
		if (e->cpu >= st->nlost) {
			uint64_t *n = realloc(st->lost_by_cpu, (e->cpu + 1) * sizeof(*n));
			if (n) {
				memset(n + st->nlost, 0, (e->cpu + 1 - st->nlost) * sizeof(*n));
				st->lost_by_cpu = n;
				st->nlost = e->cpu + 1;
			}
		}
		if (e->cpu < st->nlost)
			st->lost_by_cpu[e->cpu] += e->gfp;
		st->lost_events += e->gfp;
		st->lost_markers++;
		return 0;
	case FR_EV_FREE:
		batchfree_note(&r->bf, e->cpu, e->pfn);
		touch(r, e->pfn, e->order, LT_FREE, e->ts);
		strict_check(r, e, e->order);
		return 1;
	case FR_EV_FREE_BATCHED:
		if (batchfree_is_dup(&r->bf, e->cpu, e->pfn)) {
			st->dup_batched++;
			return 0;
		}
		touch(r, e->pfn, 0, LT_FREE, e->ts);
		strict_check(r, e, 0);
		return 1;
	case FR_EV_ALLOC:
		if (e->pfn != FR_PFN_NONE) {
			touch(r, e->pfn, e->order, LT_ALLOC, e->ts);
			strict_check(r, e, e->order);
		}
		return 1;
	case FR_EV_PCPU_DRAIN:
		touch(r, e->pfn, e->order, LT_DRAIN, e->ts);
		return 0;
	case FR_EV_ZONE_LOCKED:
		touch(r, e->pfn, e->order, LT_REFILL, e->ts);
		return 0;
	default:
		return 0;
	}
}

static void run_event(struct fr_replay *r, struct fr_run *run, const struct fr_event *e)
{
	switch (e->kind) {
	case FR_EV_NONE:
		/* a sample marker from the decode stage: ts = offset, pfn = events so far */
		sample(r, run, (double)e->ts / 1e9, e->pfn);
		return;
	case FR_EV_ALLOC:
	case FR_EV_FREE:
	case FR_EV_FREE_BATCHED:
		break;
	default:
		return;
	}
	if (e->ts > run->m->now) {
		run->m->now = e->ts;
		if (run->pi.pol->tick)
			run->pi.pol->tick(run->self, e->ts);
	}
	if (e->kind == FR_EV_ALLOC)
		alloc_event(run, e, r->opts.label_agreement, !r->opts.no_caller_fallback);
	else
		free_event(run, e->pfn, e->kind == FR_EV_FREE ? e->order : 0, e->cpu, e->ts);
}

static int run_init(struct fr_replay *r, struct fr_run *run, const char *spec, int last,
		    struct fr_error *err)
{
	char msg[512] = "";
	uint64_t map_hint;

	memset(run, 0, sizeof(*run));
	if (fr_policy_load(spec, &run->pi, err) < 0)
		return -1;
	/* Every run starts from the same initial state: the first runs get a
	 * copy, the last one adopts the original, so peak memory is one model
	 * per run (8 bytes per modeled page each). */
	if (last) {
		run->m = r->mc.model;
		r->mc.model_adopted = 1;
	} else {
		run->m = model_clone(r->mc.model);
	}
	/* Sized for the trace's peak of live blocks (the prepass): growing
	 * from small rehashes every entry about four times over, 9% of
	 * vanilla's replay-thread instructions on a 1 TiB / 10 M-event trace
	 * (callgrind: 11.77 G -> 10.54 G).  The table is the one growth would
	 * reach for that many entries (pfnmap_init_expect()), not a larger
	 * one: at 1 TiB / 1 B events, a table sized for load 0.8 instead was
	 * 56 MB more (spb 8.17 B/page).  Pages are touched only where
	 * entries land: `recorded` never writes one. */
	map_hint = r->pp.live_peak;
	if (run->m && map_hint > run->m->geo.end_pfn)	/* a live block holds a page at least */
		map_hint = run->m->geo.end_pfn;
	if (!run->m || pfnmap_init_expect(&run->map, 1 << 16, map_hint) < 0 || pfnmap_init(&run->released, 64) < 0)
		return fr_err(err, "-p %s: out of memory for the model", spec);
	/* groups hold model pfns in 32 bits (fbgroup.h): machines to 16 TiB */
	run->grp_base = UINT64_MAX;
	if (!r->opts.piece_map && run->m->geo.end_pfn <= FBG_MAX_PFN) {
		if (fbg_init(&run->fbg, run->m->geo.end_pfn) < 0)
			return fr_err(err, "-p %s: out of memory for the model", spec);
		run->grp_base = run->m->geo.end_pfn;
	}
	run->m->on_move = on_move;
	run->m->on_release = on_release;
	run->m->on_count = on_count;
	run->m->on_counter = on_counter;
	run->m->cb_arg = run;
	run->gigantic_min = UINT64_MAX;
	for (unsigned zc = 0; zc < NR_ZC; zc++)
		run->zone_idx[zc] = zone_index(run->m, zc);
	run->self = run->pi.pol->init((struct frp_model *)run->m, model_ops(),
				      (const char *const *)run->pi.vals, msg, sizeof(msg));
	if (!run->self)
		return fr_err(err, "-p %s: %s", spec, msg[0] ? msg : "policy failed to initialise");
	return 0;
}

static void progress(struct fr_replay *r, int final)
{
	static double last;
	double t = now_s();

	if (!r->opts.progress || (!final && t - last < 0.5))
		return;
	last = t;
	if (final)
		fprintf(stderr, "\r%*s\r", 60, "");
	else
		fprintf(stderr, "\rreplay: %llu / %llu events (%.0f%%)", (unsigned long long)r->st.events,
			(unsigned long long)r->pp.events,
			r->pp.events ? 100.0 * (double)r->st.events / (double)r->pp.events : 0.0);
}

/*
 * One decode, N runs: the decode stage (this thread) fills batches of the
 * events the runs need, with sample markers at every --interval boundary;
 * each run replays every batch in order on its own thread.  Runs share
 * nothing but the read-only batches, so results do not depend on thread
 * timing.
 */
#define BATCH 8192
#define NSLOTS 8

struct batch {
	struct fr_event ev[BATCH + 64];	/* + room for sample markers */
	size_t n;
	int pending;			/* runs that have not replayed it yet */
	uint64_t seq;
};

struct pipeline {
	pthread_mutex_t lock;
	pthread_cond_t filled, drained;
	struct batch slot[NSLOTS];
	uint64_t produced;		/* batches published */
	int done;
	struct fr_replay *r;
};

struct worker {
	struct pipeline *p;
	struct fr_run *run;
	pthread_t tid;
};

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void prefetch_event(const struct fr_run *run, const struct fr_event *e)
{
	if (e->kind != FR_EV_ALLOC && e->kind != FR_EV_FREE && e->kind != FR_EV_FREE_BATCHED)
		return;
	pfnmap_prefetch(&run->map, e->pfn);
	/* alloc_event() deletes every allocated pfn from the released map: at
	 * 1 TiB with spb, 7% of the replay waited on that miss */
	if (e->kind == FR_EV_ALLOC && run->released.count)
		pfnmap_prefetch(&run->released, e->pfn);
	if (e->pfn < run->m->geo.end_pfn)
		pw_prefetch(run->m, e->pfn);
	if (run->fbg.live && e->pfn < run->fbg.npfn)	/* a policy that never refuses has none */
		__builtin_prefetch(fbg_cover_word(&run->fbg, e->pfn));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pipeline *p = w->p;
	uint64_t next = 0;
	double t0 = thread_cpu_s();

	for (;;) {
		struct batch *b;
		pthread_mutex_lock(&p->lock);
		while (p->produced <= next && !p->done)
			pthread_cond_wait(&p->filled, &p->lock);
		if (p->produced <= next) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		b = &p->slot[next % NSLOTS];
		pthread_mutex_unlock(&p->lock);
		for (size_t i = 0; i < b->n; i++) {
			if (i + PREFETCH_AHEAD < b->n)
				prefetch_event(w->run, &b->ev[i + PREFETCH_AHEAD]);
			run_event(p->r, w->run, &b->ev[i]);
		}
		pthread_mutex_lock(&p->lock);
		if (--b->pending == 0)
			pthread_cond_broadcast(&p->drained);
		pthread_mutex_unlock(&p->lock);
		next++;
	}
	w->run->seconds = thread_cpu_s() - t0;
	return NULL;
}

/* Wait for a free slot; returns it (locked region left). */
static struct batch *slot_get(struct pipeline *p)
{
	struct batch *b = &p->slot[p->produced % NSLOTS];
	pthread_mutex_lock(&p->lock);
	while (b->pending > 0)
		pthread_cond_wait(&p->drained, &p->lock);
	pthread_mutex_unlock(&p->lock);
	b->n = 0;
	return b;
}

static void slot_publish(struct pipeline *p, struct batch *b)
{
	pthread_mutex_lock(&p->lock);
	b->pending = p->r->nruns;
	b->seq = p->produced++;
	pthread_cond_broadcast(&p->filled);
	pthread_mutex_unlock(&p->lock);
}

int fr_replay_run(struct fr_replay *r, struct fr_source *src, char *const *specs, int nspecs,
		  struct fr_error *err)
{
	static struct fr_event buf[BATCH];
	uint64_t next_sample = 0, t0 = 0;
	struct pipeline *p = NULL;
	struct worker *w = NULL;
	struct batch *b;
	ssize_t n;
	int nstarted = 0, rc = -1;

	r->meta = fr_source_meta(src);
	batchfree_init(&r->bf);
	/* the prepass is mostly decoding: overlap it with the scan */
	fr_source_readahead(src, 1);
	if (fr_prepass_run(src, &r->pp, r->opts.stop, err) < 0)
		return -1;
	/* the main pass decodes on this thread: with N runs on their own
	 * threads, a helper would only be one more thread per core */
	fr_source_readahead(src, 0);
	{
		struct fr_machine_opts mo = { .mem_bytes = r->opts.mem_bytes };
		if (fr_machine_build(&r->mc, r->meta, &r->pp, &mo, err) < 0)
			return -1;
	}
	if (r->opts.strict) {
		size_t words = (r->mc.model->geo.end_pfn + 63) / 64;
		r->live_bm = calloc(words, 8);
		r->freed_bm = calloc(words, 8);
		if (!r->live_bm || !r->freed_bm)
			return fr_err(err, "out of memory");
	}
	if (r->meta->snaps.blob[FR_SNAP_KPAGEFLAGS_END].data) {
		r->end_snap_begin_ns = end_snapshot_begin(r->meta);
		r->last_touch = calloc(r->mc.model->geo.end_pfn, 1);
		if (!r->last_touch)
			return fr_err(err, "out of memory");
	}
	r->runs = calloc((size_t)nspecs, sizeof(*r->runs));
	if (!r->runs)
		return fr_err(err, "out of memory");
	for (int i = 0; i < nspecs; i++) {
		r->nruns = i + 1;
		if (run_init(r, &r->runs[i], specs[i], i == nspecs - 1, err) < 0)
			return -1;
	}
	if (!r->opts.interval_ns)
		r->opts.interval_ns = 1000000000ull;

	p = calloc(1, sizeof(*p));
	w = calloc((size_t)r->nruns, sizeof(*w));
	if (!p || !w) {
		fr_err(err, "out of memory");
		goto out;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->filled, NULL);
	pthread_cond_init(&p->drained, NULL);
	p->r = r;
	for (int k = 0; k < r->nruns; k++) {
		w[k].p = p;
		w[k].run = &r->runs[k];
		if (pthread_create(&w[k].tid, NULL, worker_main, &w[k])) {
			fr_err(err, "cannot start a replay thread");
			goto stop;
		}
		nstarted++;
	}

	b = slot_get(p);
	while ((n = fr_source_read(src, buf, BATCH, err)) > 0) {
		double t = now_s();
		for (ssize_t i = 0; i < n; i++) {
			const struct fr_event *e = &buf[i];
			uint64_t before = r->st.events;
			int pass = stream_event(r, e);
			if (!t0 && r->st.first_ts) {
				t0 = r->st.first_ts;
				next_sample = t0;
			}
			/* every run samples its state before this event */
			while (e->kind != FR_EV_LOST && next_sample && e->ts >= next_sample) {
				struct fr_event *mk = &b->ev[b->n++];
				memset(mk, 0, sizeof(*mk));
				mk->kind = FR_EV_NONE;
				mk->ts = next_sample - t0;
				mk->pfn = before;
				next_sample += r->opts.interval_ns;
				if (b->n >= BATCH) {
					slot_publish(p, b);
					b = slot_get(p);
				}
			}
			if (pass) {
				b->ev[b->n++] = *e;
				if (b->n >= BATCH) {
					slot_publish(p, b);
					b = slot_get(p);
				}
			}
		}
		r->decode_seconds += now_s() - t;
		progress(r, 0);
		if (r->strict_err[0]) {
			fr_err(err, "%s: %s (--strict)", r->meta->path, r->strict_err);
			goto stop;
		}
		if ((r->opts.stop && *r->opts.stop) ||
		    (r->opts.stop_after && r->st.events >= r->opts.stop_after)) {
			r->partial = 1;	/* finish what was decoded, take the final sample */
			break;
		}
	}
	progress(r, 1);
	if (n < 0)
		goto stop;
	{
		/* the final sample, at the last event */
		struct fr_event *mk = &b->ev[b->n++];
		memset(mk, 0, sizeof(*mk));
		mk->kind = FR_EV_NONE;
		mk->ts = r->st.last_ts > t0 ? r->st.last_ts - t0 : 0;
		mk->pfn = r->st.events;
	}
	slot_publish(p, b);
	rc = 0;
stop:
	pthread_mutex_lock(&p->lock);
	p->done = 1;
	pthread_cond_broadcast(&p->filled);
	pthread_mutex_unlock(&p->lock);
	for (int k = 0; k < nstarted; k++)
		pthread_join(w[k].tid, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->filled);
	pthread_cond_destroy(&p->drained);
out:
	free(p);
	free(w);
	return rc;
}

void fr_replay_free(struct fr_replay *r)
{
	for (int k = 0; k < r->nruns; k++) {
		struct fr_run *run = &r->runs[k];
		if (run->self && run->pi.pol && run->pi.pol->fini)
			run->pi.pol->fini(run->self);
		fr_policy_unload(&run->pi);
		if (!(r->mc.model_adopted && run->m == r->mc.model))
			model_destroy(run->m);
		pfnmap_free(&run->map);
		pfnmap_free(&run->released);
		fbg_free(&run->fbg);
		free(run->pctr);
		for (int c = 0; c < run->nctr_chunks; c++)
			free(run->ctr_vals[c]);
		free(run->ctr_vals);
		free(run->tl);
		free(run->labels);
	}
	free(r->runs);
	free(r->st.lost_by_cpu);
	free(r->last_touch);
	free(r->live_bm);
	free(r->freed_bm);
	batchfree_free(&r->bf);
	fr_machine_free(&r->mc);
	fr_prepass_free(&r->pp);
}
