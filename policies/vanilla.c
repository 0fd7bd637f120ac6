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

#define ALLOC_NOFRAGMENT 0x100
#define ALLOC_HIGHATOMIC 0x200
#define ALLOC_NO_WATERMARKS 0x04

enum { MODE_NORMAL, MODE_CLAIM, MODE_STEAL };

struct pcp {
	uint64_t count;		/* pages */
	uint32_t free_count;
	uint32_t alloc_factor;
};

struct van {
	struct frp_model *m;
	const struct frp_model_ops *ops;
	const struct frp_geometry *g;
	int use_pcp, nofragment, highatomic, claim;
	unsigned nzones;
	int dma32, normal;
	struct pcp *pcp;	/* [cpu][zone] */
	uint64_t lowmem_reserve[8][8];
	uint64_t reserved_highatomic[8];
};

static const struct frp_param params[] = {
	{ "pcp", "on", "per-CPU page lists (rmqueue_pcplist / free_frozen_page_commit)" },
	{ "nofragment", "on", "ALLOC_NOFRAGMENT first pass with the Normal -> DMA32 fallback" },
	{ "highatomic", "on", "MIGRATE_HIGHATOMIC reserve for high-order atomic requests" },
	{ "claim", "on", "__rmqueue_claim (off: only exact-type lists and steal)" },
	{ NULL, NULL, NULL },
};

static const int fallbacks[3][2] = {
	[FRP_MT_UNMOVABLE] = { FRP_MT_RECLAIMABLE, FRP_MT_MOVABLE },
	[FRP_MT_MOVABLE] = { FRP_MT_RECLAIMABLE, FRP_MT_UNMOVABLE },
	[FRP_MT_RECLAIMABLE] = { FRP_MT_UNMOVABLE, FRP_MT_MOVABLE },
};

static int onoff(const char *v)
{
	return !strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true");
}

static int valid_onoff(const char *v)
{
	return onoff(v) || !strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "false");
}

static void *van_init(struct frp_model *m, const struct frp_model_ops *ops, const char *const *vals,
		      char *err, size_t errlen)
{
	struct van *v;

	for (int i = 0; params[i].name; i++)
		if (!valid_onoff(vals[i])) {
			snprintf(err, errlen, "parameter %s takes on or off, not '%s'", params[i].name, vals[i]);
			return NULL;
		}
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->m = m;
	v->ops = ops;
	v->g = ops->geometry(m);
	v->use_pcp = onoff(vals[0]);
	v->nofragment = onoff(vals[1]);
	v->highatomic = onoff(vals[2]);
	v->claim = onoff(vals[3]);
	v->nzones = v->g->nr_zones;
	v->dma32 = v->normal = -1;
	for (unsigned z = 0; z < v->nzones; z++) {
		const char *n = ops->zone(m, z)->name;
		if (!strcmp(n, "DMA32"))
			v->dma32 = (int)z;
		if (!strcmp(n, "Normal"))
			v->normal = (int)z;
	}
	/* setup_per_zone_lowmem_reserve(): ratios DMA 256, DMA32 256, Normal 32 */
	for (unsigned i = 0; i < v->nzones && i < 8; i++) {
		const char *n = ops->zone(m, i)->name;
		uint64_t ratio = !strcmp(n, "Normal") ? 32 : 256, sum = 0;
		for (unsigned j = i + 1; j < v->nzones && j < 8; j++) {
			sum += ops->zone(m, j)->managed;
			v->lowmem_reserve[i][j] = sum / ratio;
		}
	}
	v->pcp = calloc((size_t)v->g->nr_cpus * v->nzones, sizeof(*v->pcp));
	if (!v->pcp) {
		free(v);
		return NULL;
	}
	return v;
}

/* __zone_watermark_ok() for the low watermark, order > 0 needs a suitable chunk. */
static int watermark_ok(struct van *v, unsigned z, unsigned order, unsigned highest, int flags)
{
	const struct frp_zone *zn = v->ops->zone(v->m, z);
	uint64_t free, mark;

	if (flags & ALLOC_NO_WATERMARKS)
		return 1;
	free = v->ops->zone_free_pages(v->m, z);
	if (!(flags & ALLOC_HIGHATOMIC))
		free -= free > v->reserved_highatomic[z] ? v->reserved_highatomic[z] : free;
	mark = zn->wmark_low + (highest < 8 && z < 8 ? v->lowmem_reserve[z][highest] : 0);
	if (free < (1ull << order) || free - ((1ull << order) - 1) <= mark)
		return 0;
	if (!order)
		return 1;
	/* some order >= order must hold a chunk of a PCP type (or HIGHATOMIC with the flag) */
	for (unsigned o = order; o <= v->g->max_order; o++) {
		if (!v->ops->zone_nr_free(v->m, z, o))
			continue;
		for (int mt = 0; mt < FRP_MT_PCPTYPES; mt++)
			if (v->ops->zone_list_count(v->m, z, o, mt))
				return 1;
		if ((flags & ALLOC_HIGHATOMIC) && v->ops->zone_list_count(v->m, z, o, FRP_MT_HIGHATOMIC))
			return 1;
	}
	return 0;
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

/* should_try_claim_block() */
static int should_try_claim(struct van *v, unsigned order, int mt)
{
	unsigned pbo = v->g->pageblock_order;
	return order >= pbo || order >= pbo / 2 || mt == FRP_MT_UNMOVABLE || mt == FRP_MT_RECLAIMABLE;
}

/* find_suitable_fallback(): -2 "too small to claim", -1 none, else the type */
static int find_fallback(struct van *v, unsigned z, unsigned order, int mt, int claimable)
{
	if (claimable && !should_try_claim(v, order, mt))
		return -2;
	for (int i = 0; i < 2; i++)
		if (v->ops->zone_list_count(v->m, z, order, fallbacks[mt][i]))
			return fallbacks[mt][i];
	return -1;
}

/* try_to_claim_block() */
static uint64_t try_claim(struct van *v, unsigned z, uint64_t page, unsigned cur, unsigned order, int mt, int fb)
{
	unsigned pbo = v->g->pageblock_order, pbn = 1u << pbo;

	if (cur >= pbo) {
		/* whole pageblock(s): change_pageblock_range() + expand() on mt lists */
		v->ops->pb_move_freepages(v->m, page, mt);
		v->ops->count(v->m, "claim_whole_block", 1);
		return v->ops->take(v->m, page, order);
	}
	unsigned free = v->ops->pb_free_pages(v->m, page);
	unsigned movable = v->ops->pb_movable_pages(v->m, page);
	unsigned alike;
	if (mt == FRP_MT_MOVABLE)
		alike = movable;
	else if (fb == FRP_MT_MOVABLE)
		alike = pbn - (free + movable);
	else
		alike = 0;
	if (free + alike >= pbn / 2) {
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

static int pcp_allowed(struct van *v, unsigned order)
{
	return order <= 3 || order == v->g->pageblock_order;
}

static unsigned order_to_pindex(struct van *v, int mt, unsigned order)
{
	if (order > 3)
		return 12 + (mt == FRP_MT_MOVABLE);
	(void)v;
	return order * 3 + (unsigned)mt;
}

static struct pcp *pcpof(struct van *v, unsigned cpu, unsigned z)
{
	return &v->pcp[(size_t)cpu * v->nzones + z];
}

static uint64_t pcp_high(struct van *v, unsigned z)
{
	const struct frp_zone *zn = v->ops->zone(v->m, z);
	uint64_t h = zn->pcp_high_min ? zn->pcp_high_min : 4ull * (zn->pcp_batch ? zn->pcp_batch : 63);
	return h;
}

/* nr_pcp_alloc() */
static unsigned nr_pcp_alloc(struct van *v, struct pcp *p, unsigned z, unsigned order)
{
	unsigned base = v->ops->zone(v->m, z)->pcp_batch;
	uint64_t high = pcp_high(v, z);

	if (!base)
		base = 1;
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

static uint64_t rmqueue_pcplist(struct van *v, const struct frp_request *rq, unsigned z, int flags)
{
	unsigned pindex = order_to_pindex(v, rq->mt, rq->order);
	struct pcp *p = pcpof(v, rq->cpu, z);
	uint64_t page;

	p->free_count >>= 1;
	if (!v->ops->pcp_count(v->m, rq->cpu, z, pindex)) {
		unsigned batch = nr_pcp_alloc(v, p, z, rq->order);
		int mode = MODE_NORMAL;
		v->ops->count(v->m, "pcp_refill", 1);
		for (unsigned i = 0; i < batch; i++) {
			uint64_t b = rmqueue(v, z, rq->order, rq->mt, flags, &mode);
			if (b == FRP_NONE)
				break;
			v->ops->pcp_push(v->m, rq->cpu, z, pindex, b, rq->order, 1);
			p->count += 1ull << rq->order;
		}
	}
	page = v->ops->pcp_pop(v->m, rq->cpu, z, pindex, 0);
	if (page != FRP_NONE)
		p->count -= 1ull << rq->order;
	return page;
}

/* reserve_highatomic_pageblock() */
static void reserve_highatomic(struct van *v, unsigned z, uint64_t page, unsigned order)
{
	const struct frp_zone *zn = v->ops->zone(v->m, z);
	uint64_t pbn = 1ull << v->g->pageblock_order;
	uint64_t max = ((zn->managed / 100) + pbn - 1) & ~(pbn - 1);
	int mt = v->ops->pb_label(v->m, page);

	if (zn->managed / 100 < pbn || v->reserved_highatomic[z] >= max)
		return;
	if (mt >= FRP_MT_PCPTYPES)
		return;
	v->ops->pb_move_freepages(v->m, page, FRP_MT_HIGHATOMIC);
	v->reserved_highatomic[z] += order < v->g->pageblock_order ? pbn : 1ull << order;
	v->ops->count(v->m, "highatomic_reserved_blocks", 1);
}

static uint64_t rmqueue_buddy(struct van *v, const struct frp_request *rq, unsigned z, int flags)
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

	if (v->use_pcp && pcp_allowed(v, rq->order) && rq->mt < FRP_MT_PCPTYPES) {
		page = rmqueue_pcplist(v, rq, z, flags);
		if (page != FRP_NONE) {
			v->ops->count(v->m, "pcp_alloc", 1);
			return page;
		}
	}
	page = rmqueue_buddy(v, rq, z, flags);
	if (page != FRP_NONE && (flags & ALLOC_HIGHATOMIC))
		reserve_highatomic(v, z, page, rq->order);
	return page;
}

/* get_page_from_freelist() passes, then the simplified slowpath */
static uint64_t van_alloc(void *self, const struct frp_request *rq)
{
	struct van *v = self;
	unsigned highest = rq->zone < v->nzones ? rq->zone : v->nzones - 1;
	int nofrag = v->nofragment && (int)highest == v->normal && v->dma32 >= 0;
	int atomic_hi = v->highatomic && rq->order > 0 && !(rq->gfp & FRP_GFP_DIRECT_RECLAIM) &&
			!(rq->gfp & FRP_GFP_NOMEMALLOC) && (rq->gfp & FRP_GFP_HIGH);
	const int passes[3] = {
		nofrag ? ALLOC_NOFRAGMENT : 0,	/* fast path */
		0,				/* NOFRAGMENT dropped, whole zonelist again */
		ALLOC_NO_WATERMARKS | (atomic_hi ? ALLOC_HIGHATOMIC : 0), /* "slowpath" */
	};

	for (int pass = nofrag ? 0 : 1; pass < 3; pass++) {
		for (int z = (int)highest; z >= 0; z--) {
			if (!watermark_ok(v, (unsigned)z, rq->order, highest, passes[pass]))
				continue;
			uint64_t page = try_zone(v, rq, (unsigned)z, passes[pass]);
			if (page != FRP_NONE) {
				if (z != (int)highest)
					v->ops->count(v->m, "zone_fallback", 1);
				if (pass == 1 && nofrag)
					v->ops->count(v->m, "nofragment_dropped", 1);
				if (pass == 2)
					v->ops->count(v->m, "slowpath", 1);
				return page;
			}
		}
	}
	return FRP_NONE;
}

/* free_pcppages_bulk(): drain `count` pages, starting with list `pindex`, from the tail */
static void pcp_drain(struct van *v, unsigned cpu, unsigned z, unsigned pindex, uint64_t count)
{
	struct pcp *p = pcpof(v, cpu, z);
	unsigned tries = 0;

	while (count > 0 && p->count > 0 && tries <= 14) {
		uint64_t page = v->ops->pcp_pop(v->m, cpu, z, pindex, 1);
		if (page == FRP_NONE) {
			pindex = (pindex + 1) % 14;
			tries++;
			continue;
		}
		tries = 0;
		unsigned order = pindex < 12 ? pindex / 3 : v->g->pageblock_order;
		v->ops->free_block(v->m, page, order);
		p->count -= 1ull << order;
		count -= count > (1ull << order) ? 1ull << order : count;
		v->ops->count(v->m, "pcp_drained_pages", 1ull << order);
	}
}

static void van_free(void *self, uint64_t pfn, unsigned order, unsigned cpu, uint64_t now)
{
	struct van *v = self;
	int z = v->ops->pfn_zone(v->m, pfn);
	(void)now;

	if (z < 0 || !v->use_pcp || !pcp_allowed(v, order)) {
		v->ops->free_block(v->m, pfn, order);
		return;
	}
	int mt = v->ops->pb_label(v->m, pfn);
	if (mt == FRP_MT_ISOLATE) {
		v->ops->free_block(v->m, pfn, order);
		return;
	}
	if (mt >= FRP_MT_PCPTYPES)
		mt = FRP_MT_MOVABLE;	/* HIGHATOMIC and CMA frees use the MOVABLE list */
	/* free_frozen_page_commit() */
	unsigned pindex = order_to_pindex(v, mt, order);
	struct pcp *p = pcpof(v, cpu, (unsigned)z);
	unsigned batch = v->ops->zone(v->m, (unsigned)z)->pcp_batch;
	uint64_t high = pcp_high(v, (unsigned)z);

	if (!batch)
		batch = 1;
	p->alloc_factor >>= 1;
	v->ops->pcp_push(v->m, cpu, (unsigned)z, pindex, pfn, order, 0);
	p->count += 1ull << order;
	if (p->free_count < (batch << 5))
		p->free_count += 1u << order;
	if (p->count >= high) {
		/* nr_pcp_free(): clamp(free_count, batch, high - batch) */
		uint64_t n = p->free_count;
		uint64_t hi = high > batch ? high - batch : batch;
		if (n < batch)
			n = batch;
		if (n > hi)
			n = hi;
		pcp_drain(v, cpu, (unsigned)z, pindex, n);
	}
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
