// SPDX-License-Identifier: GPL-2.0
/*
 * vanilla.c - upstream Linux 6.18 page allocator placement.
 *
 * Mirrors mm/page_alloc.c (see ../shared/design/upstream-allocator.md):
 *   get_page_from_freelist()  zonelist walk from the highest allowed zone
 *                             down, low watermark + lowmem_reserve, first with
 *                             ALLOC_NOFRAGMENT (alloc_flags_nofragment: only
 *                             when the preferred zone is Normal and DMA32 is
 *                             populated), then without it
 *   rmqueue()                 per-CPU lists for order <= 3 and order 9
 *   rmqueue_bulk()            refill of nr_pcp_alloc() blocks, mode cached
 *   __rmqueue()               NORMAL -> CLAIM -> STEAL (enum rmqueue_mode)
 *   __rmqueue_smallest()      head of the own-type list, smallest order first
 *   __rmqueue_claim()         largest order first, should_try_claim_block(),
 *                             try_to_claim_block() with the half-block rule
 *   __rmqueue_steal()         smallest order first, no relabel, not under NOFRAGMENT
 *   free_frozen_page_commit() per-CPU list push and free_pcppages_bulk() drain
 *   reserve_highatomic_pageblock() for high-order atomic requests on the
 *                             slowpath pass
 * Simplifications (stated, parameters where they matter):
 *   - the slowpath is one more walk without watermarks: a replayed
 *     allocation succeeded in the real kernel, possibly after reclaim;
 *   - pcp->high is fixed at the zone's high_min from zoneinfo (6.7+
 *     auto-tuning and decay are not modelled); batch scaling
 *     (alloc_factor, free_count) is;
 *   - watermark boosting, kswapd and compaction are not modelled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fragreplay-policy.h"
#include "upstream.h"

struct van {
	struct upstream up;	/* zones, lowmem_reserve, highatomic reserve */
	struct frp_model *m;	/* copies of up.m, up.ops, up.g, up.nzones: shorter to write */
	const struct frp_model_ops *ops;
	const struct frp_geometry *g;
	int use_pcp, nofragment, highatomic, claim;
	unsigned nzones;
	struct upstream_pcp *pcp;	/* [cpu][zone] */
	/* slots of the counters that count every allocation or free (upstream_count()) */
	uint64_t *c_pcp_alloc, *c_pcp_refill, *c_pcp_drained;
};

static const struct frp_param params[] = {
	{ "pcp", "on", "per-CPU page lists (rmqueue_pcplist / free_frozen_page_commit)" },
	{ "nofragment", "on", "ALLOC_NOFRAGMENT first pass with the Normal -> DMA32 fallback" },
	{ "highatomic", "on", "MIGRATE_HIGHATOMIC reserve for high-order atomic requests" },
	{ "claim", "on", "__rmqueue_claim (off: only exact-type lists and steal)" },
	{ NULL, NULL, NULL },
};

static void *van_init(struct frp_model *m, const struct frp_model_ops *ops, const char *const *vals,
		      char *err, size_t errlen)
{
	struct van *v;
	int on[4];

	for (int i = 0; params[i].name; i++)
		if (upstream_onoff_param(params, vals, i, &on[i], err, errlen) < 0)
			return NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	upstream_init(&v->up, m, ops);
	v->m = m;
	v->ops = ops;
	v->g = v->up.g;
	v->use_pcp = on[0];
	v->nofragment = on[1];
	v->highatomic = on[2];
	v->claim = on[3];
	v->nzones = v->up.nzones;
	v->pcp = calloc((size_t)v->g->nr_cpus * v->nzones, sizeof(*v->pcp));
	if (!v->pcp) {
		free(v);
		return NULL;
	}
	for (unsigned c = 0; c < v->g->nr_cpus; c++)
		for (unsigned z = 0; z < v->nzones; z++)
			upstream_pcp_init(&v->up, &v->pcp[(size_t)c * v->nzones + z], z);
	return v;
}

/* __rmqueue_smallest() */
static uint64_t rmqueue_smallest(struct van *v, unsigned z, unsigned order, int mt)
{
	for (unsigned o = order; o <= v->g->max_order; o++) {
		uint64_t pfn = v->ops->zone_list_head(v->m, z, o, mt);
		if (pfn != FRP_NONE)
			return v->ops->take(v->m, pfn, order);
	}
	return FRP_NONE;
}

/* find_suitable_fallback() on the zone's free_area (spb's looks at one SPB's):
 * -2 "too small to claim", -1 none, else the type */
static int find_fallback(struct van *v, unsigned z, unsigned order, int mt, int claimable)
{
	if (claimable && !upstream_should_try_claim_block(v->up.pbo, order, mt))
		return -2;
	for (int i = 0; i < 2; i++)
		if (v->ops->zone_list_count(v->m, z, order, upstream_fallback(mt, i)))
			return upstream_fallback(mt, i);
	return -1;
}

/* try_to_claim_block() */
static uint64_t try_claim(struct van *v, unsigned z, uint64_t page, unsigned cur, unsigned order, int mt, int fb)
{
	unsigned pbo = v->g->pageblock_order;

	if (cur >= pbo) {
		/* whole pageblock(s): change_pageblock_range() + expand() on mt lists */
		v->ops->pb_move_freepages(v->m, page, mt);
		v->ops->count(v->m, "claim_whole_block", 1);
		return v->ops->take(v->m, page, order);
	}
	if (upstream_claim_block_ok(&v->up, page, mt, fb)) {
		v->ops->pb_move_freepages(v->m, page, mt);
		v->ops->count(v->m, "claim_block", 1);
		return rmqueue_smallest(v, z, order, mt);
	}
	v->ops->count(v->m, "claim_refused_threshold", 1);
	return FRP_NONE;
}

/* __rmqueue_claim() */
static uint64_t rmqueue_claim(struct van *v, unsigned z, unsigned order, int mt, int flags)
{
	unsigned pbo = v->g->pageblock_order, min_order = order;

	if (order < pbo && (flags & ALLOC_NOFRAGMENT))
		min_order = pbo;
	for (int cur = (int)v->g->max_order; cur >= (int)min_order; cur--) {
		int fb = find_fallback(v, z, (unsigned)cur, mt, 1);
		if (fb == -1)
			continue;
		if (fb == -2)
			break;
		uint64_t page = v->ops->zone_list_head(v->m, z, (unsigned)cur, fb);
		uint64_t got = try_claim(v, z, page, (unsigned)cur, order, mt, fb);
		if (got != FRP_NONE)
			return got;
	}
	return FRP_NONE;
}

/* __rmqueue_steal() */
static uint64_t rmqueue_steal(struct van *v, unsigned z, unsigned order, int mt)
{
	for (unsigned cur = order; cur <= v->g->max_order; cur++) {
		int fb = find_fallback(v, z, cur, mt, 0);
		if (fb < 0)
			continue;
		uint64_t page = v->ops->zone_list_head(v->m, z, cur, fb);
		v->ops->count(v->m, "steal", 1);
		return v->ops->take(v->m, page, order);
	}
	return FRP_NONE;
}

/* __rmqueue() with the rmqueue_bulk() mode cache */
static uint64_t rmqueue(struct van *v, unsigned z, unsigned order, int mt, int flags, int *mode)
{
	uint64_t page;

	switch (*mode) {
	case MODE_NORMAL:
		page = rmqueue_smallest(v, z, order, mt);
		if (page != FRP_NONE)
			return page;
		/* fallthrough */
	case MODE_CLAIM:
		if (v->claim) {
			page = rmqueue_claim(v, z, order, mt, flags);
			if (page != FRP_NONE) {
				*mode = MODE_NORMAL;
				return page;
			}
		}
		/* fallthrough */
	case MODE_STEAL:
		if (!(flags & ALLOC_NOFRAGMENT)) {
			page = rmqueue_steal(v, z, order, mt);
			if (page != FRP_NONE) {
				*mode = MODE_STEAL;
				return page;
			}
		}
	}
	return FRP_NONE;
}

static struct upstream_pcp *pcpof(struct van *v, unsigned cpu, unsigned z)
{
	return &v->pcp[(size_t)cpu * v->nzones + z];
}

/* rmqueue_bulk() into an empty list, then the pop.  Out of line (as the
 * buddy path below): the pop that hits, nearly every call, then needs no
 * registers saved. */
static __attribute__((noinline)) uint64_t pcp_refill(struct van *v, const struct frp_request *rq, unsigned z,
						     int flags, struct upstream_pcp *p, unsigned pindex)
{
	unsigned batch = upstream_nr_pcp_alloc(p, rq->order);
	int mode = MODE_NORMAL;

	upstream_count(&v->up, &v->c_pcp_refill, "pcp_refill", 1);
	for (unsigned i = 0; i < batch; i++) {
		uint64_t b = rmqueue(v, z, rq->order, rq->mt, flags, &mode);
		if (b == FRP_NONE)
			break;
		v->ops->pcp_push(v->m, rq->cpu, z, pindex, b, rq->order, 1);
		p->count += 1ull << rq->order;
	}
	return v->ops->pcp_pop(v->m, rq->cpu, z, pindex, 0);
}

static uint64_t rmqueue_pcplist(struct van *v, const struct frp_request *rq, unsigned z, int flags)
{
	unsigned pindex = upstream_order_to_pindex(rq->mt, rq->order);
	struct upstream_pcp *p = pcpof(v, rq->cpu, z);
	uint64_t page;

	p->free_count >>= 1;
	/* pop first: a pop of an empty list changes nothing, and most pops
	 * find a page, so asking for the list's length first costs a call */
	page = v->ops->pcp_pop(v->m, rq->cpu, z, pindex, 0);
	if (page == FRP_NONE)
		page = pcp_refill(v, rq, z, flags, p, pindex);
	if (page != FRP_NONE)
		p->count -= 1ull << rq->order;
	return page;
}

static __attribute__((noinline)) uint64_t rmqueue_buddy(struct van *v, const struct frp_request *rq, unsigned z,
							 int flags)
{
	int mode = MODE_NORMAL;
	uint64_t page = FRP_NONE;

	if (flags & ALLOC_HIGHATOMIC) {
		page = rmqueue_smallest(v, z, rq->order, FRP_MT_HIGHATOMIC);
		if (page != FRP_NONE)
			v->ops->count(v->m, "highatomic", 1);
	}
	if (page == FRP_NONE)
		page = rmqueue(v, z, rq->order, rq->mt, flags, &mode);
	if (page == FRP_NONE && (flags & ALLOC_NO_WATERMARKS)) {
		page = rmqueue_smallest(v, z, rq->order, FRP_MT_HIGHATOMIC);
		if (page != FRP_NONE)
			v->ops->count(v->m, "highatomic", 1);
	}
	return page;
}

static uint64_t try_zone(struct van *v, const struct frp_request *rq, unsigned z, int flags)
{
	uint64_t page = FRP_NONE;

	if (v->use_pcp && upstream_pcp_allowed_order(v->up.pbo, rq->order) && rq->mt < FRP_MT_PCPTYPES) {
		page = rmqueue_pcplist(v, rq, z, flags);
		if (page != FRP_NONE) {
			upstream_count(&v->up, &v->c_pcp_alloc, "pcp_alloc", 1);
			return page;
		}
	}
	page = rmqueue_buddy(v, rq, z, flags);
	if (page != FRP_NONE && (flags & ALLOC_HIGHATOMIC))
		upstream_reserve_highatomic_pageblock(&v->up, z, page, rq->order);
	return page;
}

/* One get_page_from_freelist() walk of the zonelist, from the highest
 * allowed zone down; the zone that gave the page in *zone. */
static inline __attribute__((always_inline)) uint64_t freelist_walk(struct van *v, const struct frp_request *rq,
								    unsigned highest, int flags, unsigned *zone)
{
	for (int z = (int)highest; z >= 0; z--) {
		if (!upstream_zone_watermark_ok(&v->up, (unsigned)z, rq->order, highest, flags))
			continue;
		uint64_t page = try_zone(v, rq, (unsigned)z, flags);
		if (page != FRP_NONE) {
			*zone = (unsigned)z;
			return page;
		}
	}
	return FRP_NONE;
}

static void count_zone_fallback(struct van *v, unsigned zone, unsigned highest)
{
	if (zone != highest)
		v->ops->count(v->m, "zone_fallback", 1);
}

/* The walks after the first failed: NOFRAGMENT dropped (when the first
 * had it), then the simplified slowpath (ALLOC_NO_WATERMARKS, spb's
 * checks the min mark), with ALLOC_HIGHATOMIC for high-order atomic
 * requests.  Out of line: the first walk nearly always succeeds. */
static __attribute__((noinline)) uint64_t alloc_retry(struct van *v, const struct frp_request *rq, unsigned highest,
						      int nofrag)
{
	int atomic_hi = v->highatomic && upstream_alloc_highatomic(rq->order, rq->gfp);
	unsigned z;
	uint64_t page;

	if (nofrag) {
		page = freelist_walk(v, rq, highest, ALLOC_WMARK_LOW, &z);
		if (page != FRP_NONE) {
			count_zone_fallback(v, z, highest);
			v->ops->count(v->m, "nofragment_dropped", 1);
			return page;
		}
	}
	page = freelist_walk(v, rq, highest, ALLOC_NO_WATERMARKS | (atomic_hi ? ALLOC_HIGHATOMIC : 0), &z);
	if (page != FRP_NONE) {
		count_zone_fallback(v, z, highest);
		v->ops->count(v->m, "slowpath", 1);
	}
	return page;
}

/* get_page_from_freelist(): the fast path checks the low mark
 * (ALLOC_WMARK_LOW, as upstream), with ALLOC_NOFRAGMENT where
 * alloc_flags_nofragment() sets it; then alloc_retry(). */
static uint64_t van_alloc(void *self, const struct frp_request *rq)
{
	struct van *v = self;
	unsigned highest = rq->zone < v->nzones ? rq->zone : v->nzones - 1, z;
	int nofrag = v->nofragment && upstream_alloc_flags_nofragment(&v->up, highest);
	uint64_t page = freelist_walk(v, rq, highest, ALLOC_WMARK_LOW | (nofrag ? ALLOC_NOFRAGMENT : 0), &z);

	if (page == FRP_NONE)
		return alloc_retry(v, rq, highest, nofrag);
	count_zone_fallback(v, z, highest);
	return page;
}

/* free_pcppages_bulk(): drain `count` pages, starting with list `pindex`, from the tail */
static void pcp_drain(struct van *v, unsigned cpu, unsigned z, unsigned pindex, uint64_t count)
{
	struct upstream_pcp *p = pcpof(v, cpu, z);
	unsigned order;
	uint64_t page;

	while ((page = upstream_pcp_drain_next(&v->up, p, cpu, z, &pindex, &count, &order)) != FRP_NONE) {
		v->ops->free_block(v->m, page, order);
		upstream_count(&v->up, &v->c_pcp_drained, "pcp_drained_pages", 1ull << order);
	}
}

static void van_free(void *self, uint64_t pfn, unsigned order, unsigned cpu, uint64_t now)
{
	struct van *v = self;
	int z = v->ops->pfn_zone(v->m, pfn);
	int pindex = upstream_free_pindex(&v->up, z, v->use_pcp, pfn, order);
	(void)now;

	if (pindex < 0) {
		v->ops->free_block(v->m, pfn, order);
		return;
	}
	uint64_t n = upstream_free_frozen_page_commit(&v->up, pcpof(v, cpu, (unsigned)z), cpu, (unsigned)z,
						      (unsigned)pindex, pfn, order);
	if (n)
		pcp_drain(v, cpu, (unsigned)z, (unsigned)pindex, n);
}

static void van_drain(void *self)
{
	struct van *v = self;
	for (unsigned c = 0; c < v->g->nr_cpus; c++)
		for (unsigned z = 0; z < v->nzones; z++)
			pcp_drain(v, c, z, 0, UINT64_MAX);
}

static void van_fini(void *self)
{
	struct van *v = self;
	free(v->pcp);
	free(v);
}

static const struct frp_policy policy = {
	.api_version = FRP_API_VERSION,
	.size = sizeof(struct frp_policy),
	.name = "vanilla",
	.description = "upstream Linux 6.18 __rmqueue: smallest/claim/steal, NOFRAGMENT, per-CPU lists",
	.params = params,
	.init = van_init,
	.alloc = van_alloc,
	.free = van_free,
	.drain = van_drain,
	.fini = van_fini,
};

const struct frp_policy *fragreplay_policy_entry(uint32_t host_api)
{
	(void)host_api;
	return &policy;
}
