// SPDX-License-Identifier: GPL-2.0
/*
 * model_ops.c - the model as policies see it: struct frp_model_ops.
 * Thin wrappers; the rules live in model.c.
 */
#include <stdlib.h>
#include <string.h>
#include "model.h"

#define M(x) ((struct fr_model *)(x))

static const struct frp_geometry *op_geometry(struct frp_model *m) { return &M(m)->geo; }

static const struct frp_zone *op_zone(struct frp_model *m, unsigned z)
{
	return z < M(m)->geo.nr_zones ? &M(m)->zone[z].z : NULL;
}

static uint64_t op_now(struct frp_model *m) { return M(m)->now; }

static int op_pfn_zone(struct frp_model *m, uint64_t pfn)
{
	if (pfn >= M(m)->geo.end_pfn || PW_STATE(pw_get(M(m), pfn)) == PW_HOLE)
		return -1;
	return model_zone_of(M(m), pfn);
}

static struct m_pb *pb(struct frp_model *m, uint64_t pfn)
{
	return &M(m)->pb[pfn >> M(m)->geo.pageblock_order];
}

static int op_pb_label(struct frp_model *m, uint64_t pfn) { return pb(m, pfn)->label; }
static unsigned op_pb_has(struct frp_model *m, uint64_t pfn) { return pb(m, pfn)->has; }
static unsigned op_pb_free(struct frp_model *m, uint64_t pfn) { return pb(m, pfn)->nfree; }
static unsigned op_pb_mov(struct frp_model *m, uint64_t pfn) { return pb(m, pfn)->nmov; }
static void op_pb_set_label(struct frp_model *m, uint64_t pfn, int mt) { model_set_label(M(m), pfn, mt); }

static unsigned op_pb_move(struct frp_model *m, uint64_t pfn, int mt)
{
	return model_move_freepages(M(m), pfn, mt);
}

static void op_pb_set_has(struct frp_model *m, uint64_t pfn, int mt)
{
	model_set_has(M(m), pfn, mt);
}

static uint64_t op_spb_head(struct frp_model *m, uint64_t spb, unsigned o, int mt)
{
	struct m_spb *s = &M(m)->spb[spb];
	uint32_t off = s->head[o][mt];
	return off == M_NIL ? FRP_NONE : s->base + off;
}

static uint64_t op_next(struct frp_model *m, uint64_t pfn)
{
	struct fr_model *fm = M(m);
	uint64_t w = pw_get(fm, pfn);
	uint32_t off = PW_NEXT(w);

	if (PW_STATE(w) != PW_FREE || off == M_NIL)
		return FRP_NONE;
	return fm->spb[fm->pb[pfn >> fm->geo.pageblock_order].spb].base + off;
}

static uint64_t op_spb_count(struct frp_model *m, uint64_t spb, unsigned o, int mt)
{
	return M(m)->spb[spb].cnt[o][mt];
}

static uint64_t op_zone_head(struct frp_model *m, unsigned z, unsigned o, int mt)
{
	uint32_t si = M(m)->zone[z].zq_head[o][mt];
	return si == UINT32_MAX ? FRP_NONE : op_spb_head(m, si, o, mt);
}

static uint64_t op_zone_count(struct frp_model *m, unsigned z, unsigned o, int mt)
{
	return M(m)->zone[z].zq_cnt[o][mt];
}

static uint64_t op_zone_free_pages(struct frp_model *m, unsigned z)
{
	return z < M(m)->geo.nr_zones ? M(m)->zone[z].free_pages : 0;
}

static uint64_t op_zone_nr_free(struct frp_model *m, unsigned z, unsigned o)
{
	return z < M(m)->geo.nr_zones && o < M_NORD ? M(m)->zone[z].nr_free[o] : 0;
}

static int op_free_order(struct frp_model *m, uint64_t pfn)
{
	uint64_t w = pw_get(M(m), pfn);
	return PW_STATE(w) == PW_FREE ? (int)PW_ORDER(w) : -1;
}

static int op_free_mt(struct frp_model *m, uint64_t pfn)
{
	uint64_t w = pw_get(M(m), pfn);
	return PW_STATE(w) == PW_FREE ? PW_MT(w) : -1;
}

static uint64_t op_take(struct frp_model *m, uint64_t pfn, unsigned order) { return model_take(M(m), pfn, order); }
static uint64_t op_take_at(struct frp_model *m, uint64_t pfn, unsigned order) { return model_take_at(M(m), pfn, order); }
static void op_free_block(struct frp_model *m, uint64_t pfn, unsigned order) { model_free_block(M(m), pfn, order); }

static struct m_deque *pcpq(struct fr_model *m, unsigned cpu, unsigned zone, unsigned pindex)
{
	return &m->pcp[((size_t)cpu * m->geo.nr_zones + zone) * M_NPCP + pindex];
}

/* the list type of order_to_pindex()'s pindex: order * 3 + mt below 12, then THP unmovable, movable */
static const uint8_t pindex_mt[M_NPCP] = { 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2,
					   FRP_MT_UNMOVABLE, FRP_MT_MOVABLE };

/* Double a full ring (out of line: the push that calls it stays short,
 * with no registers to save; ~1 push in 10^4 grows a ring). */
static __attribute__((noinline)) void pcp_grow(struct m_deque *q)
{
	uint32_t ncap = q->cap ? q->cap * 2 : 64;
	uint64_t *v = malloc(ncap * sizeof(*v));

	if (!v)
		abort();	/* out of memory in the model: nothing sensible to continue with */
	for (uint32_t i = 0; i < q->len; i++)
		v[i] = q->v[(q->head + i) & (q->cap - 1)];
	free(q->v);
	q->v = v;
	q->head = 0;
	q->cap = ncap;
}

/*
 * Per-CPU lists are rings of pfns; cap is 0 or 64 << k, so indexes wrap
 * with a mask.  A pop reads the page word of the page it hands out: at
 * machine scale a cache miss, as struct page is in the kernel.  The next
 * page from the same end is known already: ask for its word now, so the
 * next pop finds it (rmqueue_pcplist() pops runs of them).
 */
static void op_pcp_push(struct frp_model *m, unsigned cpu, unsigned zone, unsigned pindex,
			uint64_t pfn, unsigned order, int at_tail)
{
	struct fr_model *fm = M(m);
	struct m_deque *q;

	if (cpu >= fm->geo.nr_cpus || zone >= fm->geo.nr_zones || pindex >= M_NPCP)
		return;
	q = pcpq(fm, cpu, zone, pindex);
	if (q->len == q->cap)
		pcp_grow(q);
	if (at_tail) {
		q->v[(q->head + q->len) & (q->cap - 1)] = pfn;
	} else {
		q->head = (q->head - 1) & (q->cap - 1);
		q->v[q->head] = pfn;
	}
	q->len++;
	pw_set(fm, pfn, (uint64_t)order | ((uint64_t)PW_PCP << 4) | ((uint64_t)pindex_mt[pindex] << 7));
	fm->pcp_pages_total += 1ull << order;
}

static uint64_t op_pcp_pop(struct frp_model *m, unsigned cpu, unsigned zone, unsigned pindex, int from_tail)
{
	struct fr_model *fm = M(m);
	struct m_deque *q;
	uint64_t pfn;

	if (cpu >= fm->geo.nr_cpus || zone >= fm->geo.nr_zones || pindex >= M_NPCP)
		return FRP_NONE;
	q = pcpq(fm, cpu, zone, pindex);
	if (!q->len)
		return FRP_NONE;
	if (from_tail) {
		pfn = q->v[(q->head + q->len - 1) & (q->cap - 1)];
		if (q->len > 1)
			pw_prefetch(fm, q->v[(q->head + q->len - 2) & (q->cap - 1)]);
	} else {
		pfn = q->v[q->head];
		q->head = (q->head + 1) & (q->cap - 1);
		if (q->len > 1)
			pw_prefetch(fm, q->v[q->head]);
	}
	q->len--;
	uint64_t w = pw_get(fm, pfn);
	pw_set(fm, pfn, (w & ~(7ull << 4)) | ((uint64_t)PW_TAKEN << 4));
	fm->pcp_pages_total -= 1ull << PW_ORDER(w);
	return pfn;
}

static uint64_t op_pcp_count(struct frp_model *m, unsigned cpu, unsigned zone, unsigned pindex)
{
	struct fr_model *fm = M(m);
	if (cpu >= fm->geo.nr_cpus || zone >= fm->geo.nr_zones || pindex >= M_NPCP)
		return 0;
	return pcpq(fm, cpu, zone, pindex)->len;
}

static uint64_t op_pcp_pages(struct frp_model *m, unsigned cpu, unsigned zone)
{
	struct fr_model *fm = M(m);
	uint64_t n = 0;

	if (cpu >= fm->geo.nr_cpus || zone >= fm->geo.nr_zones)
		return 0;
	for (unsigned i = 0; i < M_NPCP; i++) {
		struct m_deque *q = pcpq(fm, cpu, zone, i);
		unsigned order = i < 12 ? i / 3 : fm->geo.pageblock_order;
		n += (uint64_t)q->len << order;
	}
	return n;
}

static const struct frp_spb_info *op_spb(struct frp_model *m, uint64_t spb)
{
	return spb < M(m)->geo.nr_spbs ? &M(m)->spb[spb].info : NULL;
}

static uint64_t op_pfn_to_spb(struct frp_model *m, uint64_t pfn)
{
	if (pfn >= M(m)->geo.end_pfn)
		return FRP_NONE;
	uint32_t s = pb(m, pfn)->spb;
	return s == UINT32_MAX ? FRP_NONE : s;
}

static int op_alloc_order(struct frp_model *m, uint64_t pfn)
{
	uint64_t w = pw_get(M(m), pfn);
	return PW_STATE(w) == PW_ALLOC ? (int)PW_ORDER(w) : -1;
}

static int op_alloc_mt(struct frp_model *m, uint64_t pfn)
{
	uint64_t w = pw_get(M(m), pfn);
	return PW_STATE(w) == PW_ALLOC ? PW_MT(w) : -1;
}

static int op_migrate(struct frp_model *m, uint64_t from, uint64_t to) { return model_migrate(M(m), from, to); }

static int op_release_alloc(struct frp_model *m, uint64_t pfn) { return model_release_alloc(M(m), pfn); }

static uint64_t op_spb_free_orders(struct frp_model *m, uint64_t spb)
{
	return spb < M(m)->geo.nr_spbs ? M(m)->spb[spb].free_mask : 0;
}

static void op_count(struct frp_model *m, const char *counter, uint64_t delta)
{
	if (M(m)->on_count)
		M(m)->on_count(M(m)->cb_arg, counter, delta);
}

static uint64_t op_zone_free_orders(struct frp_model *m, unsigned zone)
{
	return zone < M(m)->geo.nr_zones ? M(m)->zone[zone].free_mask : 0;
}

static uint64_t *op_counter(struct frp_model *m, const char *counter)
{
	uint64_t *slot = M(m)->on_counter ? M(m)->on_counter(M(m)->cb_arg, counter) : NULL;

	return slot ? slot : &M(m)->ctr_sink;
}

static const struct frp_model_ops ops = {
	.api_version = FRP_API_VERSION,
	.size = sizeof(struct frp_model_ops),
	.geometry = op_geometry,
	.zone = op_zone,
	.now_ns = op_now,
	.pfn_zone = op_pfn_zone,
	.pb_label = op_pb_label,
	.pb_has = op_pb_has,
	.pb_free_pages = op_pb_free,
	.pb_movable_pages = op_pb_mov,
	.pb_set_label = op_pb_set_label,
	.pb_move_freepages = op_pb_move,
	.pb_set_has = op_pb_set_has,
	.spb_list_head = op_spb_head,
	.list_next = op_next,
	.spb_list_count = op_spb_count,
	.zone_list_head = op_zone_head,
	.zone_list_count = op_zone_count,
	.zone_free_pages = op_zone_free_pages,
	.zone_nr_free = op_zone_nr_free,
	.free_order = op_free_order,
	.free_mt = op_free_mt,
	.take = op_take,
	.take_at = op_take_at,
	.free_block = op_free_block,
	.pcp_push = op_pcp_push,
	.pcp_pop = op_pcp_pop,
	.pcp_count = op_pcp_count,
	.pcp_pages = op_pcp_pages,
	.spb = op_spb,
	.pfn_to_spb = op_pfn_to_spb,
	.alloc_order = op_alloc_order,
	.alloc_mt = op_alloc_mt,
	.migrate = op_migrate,
	.count = op_count,
	.release_alloc = op_release_alloc,
	.spb_free_orders = op_spb_free_orders,
	.zone_free_orders = op_zone_free_orders,
	.counter = op_counter,
};

const struct frp_model_ops *model_ops(void)
{
	return &ops;
}
