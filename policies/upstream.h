/* SPDX-License-Identifier: GPL-2.0 */
/*
 * upstream.h - the rules of upstream Linux 6.18 mm/page_alloc.c that the
 * upstream-derived policies share: vanilla.c (upstream itself) and spb.c
 * (the SPB series, layered on upstream).  Each function is named after the
 * kernel function it models and does what that function does in this
 * model; where the two policies differ on purpose, the difference is a
 * parameter or stays in the policy, with a comment there saying why.
 *
 * Header-only (static inline) on purpose: each policy .so stays
 * self-contained and talks to the model only through fragreplay-policy.h,
 * whose API this header does not change.  It is not installed: it is a
 * part of the shipped policies' sources, not of the policy API.
 *
 * A policy embeds one struct upstream (set up by upstream_init()) and one
 * struct upstream_pcp per (cpu, zone) (set up by upstream_pcp_init()).
 */
#ifndef FRAGREPLAY_UPSTREAM_H
#define FRAGREPLAY_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "fragreplay-policy.h"

/* ---- internal alloc_flags, mm/internal.h values ---- */
#define ALLOC_WMARK_MIN		0x00
#define ALLOC_WMARK_LOW		0x01
#define ALLOC_WMARK_MASK	0x03
#define ALLOC_NO_WATERMARKS	0x04
#define ALLOC_NON_BLOCK		0x10
#define ALLOC_NOFRAGMENT	0x100
#define ALLOC_HIGHATOMIC	0x200

/* enum rmqueue_mode: __rmqueue() and the rmqueue_bulk() mode cache */
enum { MODE_NORMAL, MODE_CLAIM, MODE_STEAL };

/* The model takes at most 8 zones (upstream has at most 5, MAX_NR_ZONES). */
#define UPSTREAM_MAX_ZONES 8
/* NR_PCP_LISTS: order_to_pindex() lists, orders 0..3 x 3 types, then THP x 2 */
#define UPSTREAM_NR_PCP_LISTS 14

struct upstream {
	/* the handles the policy was given (the policy keeps its own copies
	 * too, for brevity): the helpers below need only this struct */
	struct frp_model *m;
	const struct frp_model_ops *ops;
	const struct frp_geometry *g;
	unsigned pbo, maxo, nzones;	/* pageblock_order, MAX_PAGE_ORDER, zones */
	int dma32, normal;		/* zone indices, -1 when absent */
	uint64_t lowmem_reserve[UPSTREAM_MAX_ZONES][UPSTREAM_MAX_ZONES]; /* zone->lowmem_reserve[] */
	uint64_t reserved_highatomic[UPSTREAM_MAX_ZONES]; /* zone->nr_reserved_highatomic */
	const struct frp_zone *zn[UPSTREAM_MAX_ZONES];	/* ops->zone(), which never changes */
	int has_free_orders, has_counter;	/* the host has ops->zone_free_orders, ops->counter */
};

/* Does the host's ops table reach member `f`? (API 1 is append-only) */
#define UPSTREAM_HAS_OP(ops, f) \
	((ops)->size >= offsetof(struct frp_model_ops, f) + sizeof((ops)->f) && (ops)->f)

/* struct per_cpu_pages, the part upstream has; a policy may embed it in a
 * larger struct of its own. */
struct upstream_pcp {
	uint64_t count;		/* pages on the lists */
	uint64_t high;		/* pcp->high: high_min from zoneinfo (see upstream_pcp_init()) */
	uint32_t batch;		/* pcp->batch, at least 1 */
	uint32_t free_count;
	uint32_t alloc_factor;
};

/*
 * On/off parameter values (not a kernel rule: the syntax both policies'
 * switches take).  0 and *out set, or -1 for anything else.
 */
static inline int upstream_parse_onoff(const char *v, int *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true"))
		return *out = 1, 0;
	if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "false"))
		return *out = 0, 0;
	return -1;
}

/* The on/off parameter params[i] into *out; -1 with a message in err when
 * vals[i] is neither. */
static inline int upstream_onoff_param(const struct frp_param *params, const char *const *vals, int i, int *out,
				       char *err, size_t errlen)
{
	if (upstream_parse_onoff(vals[i], out) == 0)
		return 0;
	snprintf(err, errlen, "parameter %s takes on or off, not '%s'", params[i].name, vals[i]);
	return -1;
}

/*
 * The zone state upstream keeps: geometry, the DMA32 and Normal zones by
 * name, and setup_per_zone_lowmem_reserve() with the default
 * sysctl_lowmem_reserve_ratio (DMA 256, DMA32 256, Normal 32).
 */
static inline void upstream_init(struct upstream *u, struct frp_model *m, const struct frp_model_ops *ops)
{
	memset(u, 0, sizeof(*u));
	u->m = m;
	u->ops = ops;
	u->g = ops->geometry(m);
	u->pbo = u->g->pageblock_order;
	u->maxo = u->g->max_order;
	u->nzones = u->g->nr_zones;
	u->dma32 = u->normal = -1;
	u->has_free_orders = UPSTREAM_HAS_OP(ops, zone_free_orders);
	u->has_counter = UPSTREAM_HAS_OP(ops, counter);
	for (unsigned z = 0; z < u->nzones; z++) {
		const char *n = ops->zone(m, z)->name;
		if (z < UPSTREAM_MAX_ZONES)
			u->zn[z] = ops->zone(m, z);
		if (!strcmp(n, "DMA32"))
			u->dma32 = (int)z;
		if (!strcmp(n, "Normal"))
			u->normal = (int)z;
	}
	/* setup_per_zone_lowmem_reserve() */
	for (unsigned i = 0; i < u->nzones && i < UPSTREAM_MAX_ZONES; i++) {
		const char *n = ops->zone(m, i)->name;
		uint64_t ratio = !strcmp(n, "Normal") ? 32 : 256, sum = 0;
		for (unsigned j = i + 1; j < u->nzones && j < UPSTREAM_MAX_ZONES; j++) {
			sum += ops->zone(m, j)->managed;
			u->lowmem_reserve[i][j] = sum / ratio;
		}
	}
}

/*
 * alloc_flags_nofragment(): ALLOC_NOFRAGMENT when the preferred zone is
 * Normal and DMA32 is populated (the kernel's "a fallback zone exists"
 * test), else 0.
 */
static inline int upstream_alloc_flags_nofragment(const struct upstream *u, unsigned highest)
{
	return (int)highest == u->normal && u->dma32 >= 0 ? ALLOC_NOFRAGMENT : 0;
}

/*
 * gfp_to_alloc_flags(): ALLOC_HIGHATOMIC for a high-order request that
 * cannot reclaim (ALLOC_NON_BLOCK), may use reserves (__GFP_HIGH:
 * ALLOC_MIN_RESERVE) and is not __GFP_NOMEMALLOC.
 */
static inline int upstream_alloc_highatomic(unsigned order, uint64_t gfp)
{
	return order > 0 && !(gfp & FRP_GFP_DIRECT_RECLAIM) && !(gfp & FRP_GFP_NOMEMALLOC) &&
	       (gfp & FRP_GFP_HIGH);
}

/* __zone_watermark_ok()'s "at least one suitable page is free" loop, for
 * a host without ops->zone_free_orders. */
static __attribute__((noinline, unused)) int upstream_zone_has_free_block(const struct upstream *u, unsigned z,
									  unsigned order, int flags)
{
	for (unsigned o = order; o <= u->maxo; o++) {
		if (!u->ops->zone_nr_free(u->m, z, o))
			continue;
		for (int mt = 0; mt < FRP_MT_PCPTYPES; mt++)
			if (u->ops->zone_list_count(u->m, z, o, mt))
				return 1;
		if ((flags & ALLOC_HIGHATOMIC) && u->ops->zone_list_count(u->m, z, o, FRP_MT_HIGHATOMIC))
			return 1;
	}
	return 0;
}

/*
 * __zone_watermark_ok() with wmark_pages(zone, alloc_flags & ALLOC_WMARK_MASK)
 * (the low or the min mark) plus lowmem_reserve[highest]; the highatomic
 * reserve is unusable without ALLOC_HIGHATOMIC; order > 0 also needs a
 * chunk of order >= order on a PCP-type list (or HIGHATOMIC with the flag).
 * ALLOC_NO_WATERMARKS passes (get_page_from_freelist() skips the check).
 */
static inline int upstream_zone_watermark_ok(const struct upstream *u, unsigned z, unsigned order,
					     unsigned highest, int flags)
{
	const struct frp_zone *zn = z < UPSTREAM_MAX_ZONES ? u->zn[z] : u->ops->zone(u->m, z);
	uint64_t free, mark;

	if (flags & ALLOC_NO_WATERMARKS)
		return 1;
	free = u->ops->zone_free_pages(u->m, z);
	if (!(flags & ALLOC_HIGHATOMIC))
		free -= free > u->reserved_highatomic[z] ? u->reserved_highatomic[z] : free;
	mark = (flags & ALLOC_WMARK_MASK) == ALLOC_WMARK_LOW ? zn->wmark_low : zn->wmark_min;
	mark += highest < UPSTREAM_MAX_ZONES && z < UPSTREAM_MAX_ZONES ? u->lowmem_reserve[z][highest] : 0;
	if (free < (1ull << order) || free - ((1ull << order) - 1) <= mark)
		return 0;
	if (!order)
		return 1;
	if (u->has_free_orders) {
		/* the loop below in one call: bit mt * 16 + o of each non-empty
		 * list (a non-empty list implies free_area[o].nr_free != 0) */
		uint64_t orders = (0xffffull << order) & 0xffff, want = orders * 0x100010001ull; /* mt 0-2 */
		if (flags & ALLOC_HIGHATOMIC)
			want |= orders << (16 * FRP_MT_HIGHATOMIC);
		return (u->ops->zone_free_orders(u->m, z) & want) != 0;
	}
	return upstream_zone_has_free_block(u, z, order, flags);
}

/*
 * A counter on a hot path: its slot is looked up on first use (so it is
 * reported from its first event on, as with ops->count()), then added to
 * directly.  *slot must start NULL; with a host older than ops->counter
 * this is ops->count().
 */
static inline void upstream_count(const struct upstream *u, uint64_t **slot, const char *name, uint64_t d)
{
	if (!u->has_counter) {
		u->ops->count(u->m, name, d);
		return;
	}
	if (!*slot)
		*slot = u->ops->counter(u->m, name);
	**slot += d;
}

/* fallbacks[]: the i-th (0 or 1) type a `mt` request falls back to */
static inline int upstream_fallback(int mt, int i)
{
	static const int fallbacks[FRP_MT_PCPTYPES][2] = {
		[FRP_MT_UNMOVABLE] = { FRP_MT_RECLAIMABLE, FRP_MT_MOVABLE },
		[FRP_MT_MOVABLE] = { FRP_MT_RECLAIMABLE, FRP_MT_UNMOVABLE },
		[FRP_MT_RECLAIMABLE] = { FRP_MT_UNMOVABLE, FRP_MT_MOVABLE },
	};
	return fallbacks[mt][i];
}

/* should_try_claim_block() (page_group_by_mobility_disabled is never set) */
static inline int upstream_should_try_claim_block(unsigned pbo, unsigned order, int mt)
{
	return order >= pbo || order >= pbo / 2 || mt == FRP_MT_UNMOVABLE || mt == FRP_MT_RECLAIMABLE;
}

/*
 * try_to_claim_block(), the threshold for a block below pageblock order:
 * claim the pageblock at `page` (of type block_mt) for start_mt when its
 * free pages plus the pages allocated with a compatible type make half of
 * it.
 */
static inline int upstream_claim_block_ok(const struct upstream *u, uint64_t page, int start_mt, int block_mt)
{
	unsigned pbn = 1u << u->pbo;
	unsigned free = u->ops->pb_free_pages(u->m, page);
	unsigned movable = u->ops->pb_movable_pages(u->m, page);
	unsigned alike;

	if (start_mt == FRP_MT_MOVABLE)
		alike = movable;
	else if (block_mt == FRP_MT_MOVABLE)
		alike = pbn - (free + movable);
	else
		alike = 0;
	return free + alike >= pbn / 2;
}

/*
 * reserve_highatomic_pageblock(): move the pageblock of `page` to
 * MIGRATE_HIGHATOMIC unless the zone's reserve (1% of managed, rounded up
 * to pageblocks) is full or the pageblock is not of a PCP type.  Returns 1
 * when it moved the pageblock.
 */
static inline int upstream_reserve_highatomic_pageblock(struct upstream *u, unsigned z, uint64_t page,
							unsigned order)
{
	const struct frp_zone *zn = u->ops->zone(u->m, z);
	uint64_t pbn = 1ull << u->pbo;
	uint64_t max = ((zn->managed / 100) + pbn - 1) & ~(pbn - 1);
	int mt = u->ops->pb_label(u->m, page);

	if (zn->managed / 100 < pbn || u->reserved_highatomic[z] >= max)
		return 0;
	if (mt >= FRP_MT_PCPTYPES)
		return 0;
	u->ops->pb_move_freepages(u->m, page, FRP_MT_HIGHATOMIC);
	u->reserved_highatomic[z] += order < u->pbo ? pbn : 1ull << order;
	u->ops->count(u->m, "highatomic_reserved_blocks", 1);
	return 1;
}

/* ---- per-CPU lists ---- */

/* pcp_allowed_order() */
static inline int upstream_pcp_allowed_order(unsigned pbo, unsigned order)
{
	return order <= 3 || order == pbo;
}

/* order_to_pindex() */
static inline unsigned upstream_order_to_pindex(int mt, unsigned order)
{
	return order > 3 ? 12u + (mt == FRP_MT_MOVABLE) : order * 3u + (unsigned)mt;
}

/* pindex_to_order() */
static inline unsigned upstream_pindex_to_order(unsigned pbo, unsigned pindex)
{
	return pindex < 12 ? pindex / 3 : pbo;
}

/*
 * zone_pcp_init() / zone_set_pageset_high_and_batch(): pcp->high is fixed
 * at the zone's high_min from zoneinfo (4 x batch when zoneinfo has none;
 * 6.7+ auto-tuning and decay are not modelled); batch scaling
 * (alloc_factor, free_count) is.
 */
static inline void upstream_pcp_init(const struct upstream *u, struct upstream_pcp *p, unsigned z)
{
	const struct frp_zone *zn = u->ops->zone(u->m, z);

	p->batch = zn->pcp_batch ? zn->pcp_batch : 1;
	p->high = zn->pcp_high_min ? zn->pcp_high_min : 4ull * (zn->pcp_batch ? zn->pcp_batch : 63);
}

/* nr_pcp_alloc(): how many blocks rmqueue_bulk() refills */
static inline unsigned upstream_nr_pcp_alloc(struct upstream_pcp *p, unsigned order)
{
	unsigned base = p->batch;
	uint64_t high = p->high;

	if (order) {
		unsigned b = base >> order;
		return b > 2 ? b : 2;
	}
	uint64_t batch = (uint64_t)base << p->alloc_factor;
	uint64_t cap = high > p->count + base ? high - p->count - base : 0;
	if (cap < base)
		cap = base;
	if (batch <= cap && p->alloc_factor < 5)
		p->alloc_factor++;
	if (batch > cap)
		batch = cap;
	return (unsigned)batch;
}

/*
 * __free_frozen_pages(): the per-CPU list a freed block goes to, or -1
 * when it goes straight to the buddy (no zone, per-CPU lists off, an order
 * pcp_allowed_order() refuses, or an isolated pageblock).  HIGHATOMIC and
 * CMA frees use the MOVABLE list.
 */
static inline int upstream_free_pindex(const struct upstream *u, int z, int pcp_on, uint64_t pfn, unsigned order)
{
	int mt;

	if (z < 0 || !pcp_on || !upstream_pcp_allowed_order(u->pbo, order))
		return -1;
	mt = u->ops->pb_label(u->m, pfn);
	if (mt == FRP_MT_ISOLATE)
		return -1;
	if (mt >= FRP_MT_PCPTYPES)
		mt = FRP_MT_MOVABLE;
	return (int)upstream_order_to_pindex(mt, order);
}

/*
 * free_frozen_page_commit(): the freed block goes to the head of list
 * `pindex` of (cpu, z).  Returns how many pages to drain now, nr_pcp_free()
 * = clamp(free_count, batch, high - batch), once pcp->count reaches
 * pcp->high; 0 otherwise.  The caller drains (free_pcppages_bulk()).
 */
static inline uint64_t upstream_free_frozen_page_commit(const struct upstream *u, struct upstream_pcp *p,
							 unsigned cpu, unsigned z, unsigned pindex,
							 uint64_t pfn, unsigned order)
{
	unsigned batch = p->batch;
	uint64_t high = p->high;

	p->alloc_factor >>= 1;
	u->ops->pcp_push(u->m, cpu, z, pindex, pfn, order, 0);
	p->count += 1ull << order;
	if (p->free_count < (batch << 5))
		p->free_count += 1u << order;
	if (p->count < high)
		return 0;
	/* nr_pcp_free(): clamp(free_count, batch, high - batch) */
	uint64_t n = p->free_count;
	uint64_t hi = high > batch ? high - batch : batch;
	if (n < batch)
		n = batch;
	if (n > hi)
		n = hi;
	return n;
}

/*
 * free_pcppages_bulk(), one step: take the next block to drain from the
 * tail of list *pindex of (cpu, z), moving round-robin to the next list
 * while one is empty, and account it in p->count and *count (pages still
 * to drain).  Returns the block, its order in *order, or FRP_NONE when
 * *count pages are drained or the lists are empty.  The caller hands the
 * block to the buddy (free_one_page()) and does its own bookkeeping.
 */
static inline uint64_t upstream_pcp_drain_next(const struct upstream *u, struct upstream_pcp *p, unsigned cpu,
					       unsigned z, unsigned *pindex, uint64_t *count, unsigned *order)
{
	unsigned tries = 0;

	while (*count > 0 && p->count > 0 && tries <= UPSTREAM_NR_PCP_LISTS) {
		uint64_t page = u->ops->pcp_pop(u->m, cpu, z, *pindex, 1);
		if (page == FRP_NONE) {
			*pindex = (*pindex + 1) % UPSTREAM_NR_PCP_LISTS;
			tries++;
			continue;
		}
		*order = upstream_pindex_to_order(u->pbo, *pindex);
		p->count -= 1ull << *order;
		*count -= *count > (1ull << *order) ? 1ull << *order : *count;
		return page;
	}
	return FRP_NONE;
}

#endif
