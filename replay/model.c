// SPDX-License-Identifier: GPL-2.0
/*
 * model.c - buddy free lists, splitting and merging exactly as upstream
 * mm/page_alloc.c (6.10+ "freelist hygiene" era), kept per superpageblock.
 *
 * Kernel rules mirrored here (see ../shared/design/upstream-allocator.md):
 *  - expand(): split remainders go to the HEAD of the list, low piece kept.
 *  - __free_one_page(): merge with a free buddy of exactly the same order in
 *    the same zone; at >= pageblock_order the buddy's pageblock is relabeled
 *    to the freeing type (unless either type is not mergeable, i.e. >= 3);
 *    insert at the tail when buddy_merge_likely(), else at the head.
 *  - split_large_buddy(): frees above pageblock_order are cut into
 *    pageblocks, each freed with its own label.
 *  - __move_freepages_block(): walk the block by pfn, list_move_tail each
 *    free chunk, relabel.
 *  - Boot (__free_pages_core, FPI_TO_TAIL): initial chunks are appended in
 *    ascending pfn order.
 *
 * Inference (documented in README): upstream keeps ONE list per (zone,
 * order, mt); the model keeps one per (SPB, order, mt) so SPB-aware
 * policies can search a superpageblock in O(1).  A zone-wide list is
 * emulated by a queue of SPBs per (zone, order, mt): an SPB moves to the
 * front on a head insertion and joins the back on a tail insertion.  The
 * head of the zone list is the head of the first SPB's list.  This is exact
 * for head/tail order within an SPB and approximates interleavings across
 * SPBs at SPB granularity.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "hugepage.h"
#include "model.h"

#define SPB_NIL UINT32_MAX
#define PB_NONE UINT32_MAX

static inline struct m_pb *pbof(struct fr_model *m, uint64_t pfn)
{
	return &m->pb[pfn >> m->geo.pageblock_order];
}

static inline struct m_spb *spbof(struct fr_model *m, uint64_t pfn)
{
	return &m->spb[pbof(m, pfn)->spb];
}

static inline uint64_t mkword(unsigned state, unsigned order, int mt)
{
	return (uint64_t)order | ((uint64_t)state << 4) | ((uint64_t)(mt & 7) << 7);
}

static inline uint64_t set_next(uint64_t w, uint32_t v)
{
	return (w & ~((uint64_t)M_NIL << PW_NEXT_SHIFT)) | ((uint64_t)v << PW_NEXT_SHIFT);
}

static inline uint64_t set_prev(uint64_t w, uint32_t v)
{
	return (w & ~((uint64_t)M_NIL << PW_PREV_SHIFT)) | ((uint64_t)v << PW_PREV_SHIFT);
}

static inline int nonmovable(int mt)
{
	return mt != FRP_MT_MOVABLE && mt != FRP_MT_CMA;
}

static void spb_recategorize(struct fr_model *m, struct m_spb *s)
{
	struct frp_spb_info *i = &s->info;
	int old = i->category;

	if (i->usable_pages && i->nr_free_pages == i->usable_pages)
		i->category = FRP_SPB_EMPTY;
	else if (i->nr_has[FRP_MT_UNMOVABLE] || i->nr_has[FRP_MT_RECLAIMABLE] ||
		 i->nr_has[FRP_MT_HIGHATOMIC])
		i->category = FRP_SPB_TAINTED;
	else
		i->category = FRP_SPB_CLEAN;
	if (i->category == FRP_SPB_TAINTED && old != FRP_SPB_TAINTED)
		m->fresh_taints++;
}

/* ---- zone-list emulation: queue of SPBs per (zone, order, mt) ---- */

static void zq_remove(struct fr_model *m, uint32_t si, unsigned o, int mt)
{
	struct m_spb *s = &m->spb[si];
	struct m_zone *z = &m->zone[s->info.zone];
	uint32_t n = s->zq_next[o][mt], p = s->zq_prev[o][mt];

	if (!s->zq_in[o][mt])
		return;
	if (p != SPB_NIL)
		m->spb[p].zq_next[o][mt] = n;
	else
		z->zq_head[o][mt] = n;
	if (n != SPB_NIL)
		m->spb[n].zq_prev[o][mt] = p;
	else
		z->zq_tail[o][mt] = p;
	s->zq_in[o][mt] = 0;
}

static void zq_front(struct fr_model *m, uint32_t si, unsigned o, int mt)
{
	struct m_spb *s = &m->spb[si];
	struct m_zone *z = &m->zone[s->info.zone];

	if (s->zq_in[o][mt] && z->zq_head[o][mt] == si)
		return;
	zq_remove(m, si, o, mt);
	s->zq_prev[o][mt] = SPB_NIL;
	s->zq_next[o][mt] = z->zq_head[o][mt];
	if (z->zq_head[o][mt] != SPB_NIL)
		m->spb[z->zq_head[o][mt]].zq_prev[o][mt] = si;
	else
		z->zq_tail[o][mt] = si;
	z->zq_head[o][mt] = si;
	s->zq_in[o][mt] = 1;
}

static void zq_back(struct fr_model *m, uint32_t si, unsigned o, int mt)
{
	struct m_spb *s = &m->spb[si];
	struct m_zone *z = &m->zone[s->info.zone];

	if (s->zq_in[o][mt])
		return;
	s->zq_next[o][mt] = SPB_NIL;
	s->zq_prev[o][mt] = z->zq_tail[o][mt];
	if (z->zq_tail[o][mt] != SPB_NIL)
		m->spb[z->zq_tail[o][mt]].zq_next[o][mt] = si;
	else
		z->zq_head[o][mt] = si;
	z->zq_tail[o][mt] = si;
	s->zq_in[o][mt] = 1;
}

/* ---- pageblock content and free accounting ---- */

static void pb_set_has(struct fr_model *m, struct m_pb *pb, int mt)
{
	unsigned bit = 1u << mt;

	if (pb->has & bit)
		return;
	pb->has |= (uint8_t)bit;
	m->spb[pb->spb].info.nr_has[mt]++;
	spb_recategorize(m, &m->spb[pb->spb]);
}

void model_set_has(struct fr_model *m, uint64_t pfn, int mt)
{
	pb_set_has(m, pbof(m, pfn), mt);
}

static void pb_nfree_add(struct fr_model *m, struct m_pb *pb, int delta)
{
	struct m_spb *s = &m->spb[pb->spb];
	int was = pb->npresent && pb->nfree == pb->npresent;
	int now;

	pb->nfree = (uint16_t)(pb->nfree + delta);
	now = pb->npresent && pb->nfree == pb->npresent;
	if (!was && now) {
		/* PB_all_free: content bits clear when the block is wholly free. */
		s->info.nr_free++;
		for (int mt = 0; mt < M_NMT; mt++)
			if (pb->has & (1u << mt))
				s->info.nr_has[mt]--;
		pb->has = 0;
	} else if (was && !now) {
		s->info.nr_free--;
	}
}

/* The free pages of [pfn, pfn + 2^order) come (+1) or go (-1): zone, SPB
 * and pageblock counts, and the SPB's category.  The chunk counts per
 * order (nr_free[]) are the list operations' (link_add(), link_del()).
 * A split or a merge is several list operations but one change of free
 * pages, the block handed out or freed: model_take(), model_take_at() and
 * free_one() account that once, and model_move_freepages(), which moves
 * chunks between lists, not at all.  The intermediate states they skip
 * only ever took a wholly free pageblock out of PB_all_free and put it
 * back; such a pageblock has no content bit set (model_check() verifies
 * it), so no content bit, category, taint or counter differs. */
static void account_free(struct fr_model *m, uint64_t pfn, unsigned order, int sign)
{
	unsigned pbo = m->geo.pageblock_order;
	uint64_t pages = 1ull << order;
	struct m_spb *s = spbof(m, pfn);
	struct m_zone *z = &m->zone[s->info.zone];

	z->free_pages += (uint64_t)(sign * (int64_t)pages);
	s->info.nr_free_pages += (uint64_t)(sign * (int64_t)pages);
	if (order <= pbo) {
		pb_nfree_add(m, pbof(m, pfn), sign * (int)pages);
	} else {
		for (uint64_t p = pfn; p < pfn + pages; p += 1ull << pbo)
			pb_nfree_add(m, pbof(m, p), sign * (1 << pbo));
	}
	spb_recategorize(m, s);
}

/* ---- free lists ---- */

/* Link a free chunk into its SPB's list (head, or tail), no page accounting. */
static void link_add(struct fr_model *m, uint64_t pfn, unsigned order, int mt, int tail)
{
	uint32_t si = pbof(m, pfn)->spb;
	struct m_spb *s = &m->spb[si];
	struct m_zone *z = &m->zone[s->info.zone];
	uint32_t off = (uint32_t)(pfn - s->base);
	uint64_t w = mkword(PW_FREE, order, mt);

	if (tail) {
		uint32_t prev = s->tail[order][mt];
		w = set_next(set_prev(w, prev), M_NIL);
		if (prev != M_NIL)
			pw_set(m, s->base + prev, set_next(pw_get(m, s->base + prev), off));
		else
			s->head[order][mt] = off;
		s->tail[order][mt] = off;
	} else {
		uint32_t next = s->head[order][mt];
		w = set_next(set_prev(w, M_NIL), next);
		if (next != M_NIL)
			pw_set(m, s->base + next, set_prev(pw_get(m, s->base + next), off));
		else
			s->tail[order][mt] = off;
		s->head[order][mt] = off;
	}
	pw_set(m, pfn, w);
	if (!s->cnt[order][mt]++ && mt < 4)
		s->free_mask |= 1ull << (mt * 16 + order);
	if (!z->zq_cnt[order][mt]++ && mt < 4)
		z->free_mask |= 1ull << (mt * 16 + order);
	z->nr_free[order]++;
	if (tail)
		zq_back(m, si, order, mt);
	else
		zq_front(m, si, order, mt);
}

static void list_add(struct fr_model *m, uint64_t pfn, unsigned order, int mt, int tail)
{
	link_add(m, pfn, order, mt, tail);
	account_free(m, pfn, order, +1);
}

/* Unlink a free chunk, no page accounting; its word becomes TAKEN with the
 * same order, which it returns. */
static unsigned link_del(struct fr_model *m, uint64_t pfn)
{
	uint32_t si = pbof(m, pfn)->spb;
	struct m_spb *s = &m->spb[si];
	struct m_zone *z = &m->zone[s->info.zone];
	uint64_t w = pw_get(m, pfn);
	unsigned order = PW_ORDER(w);
	int mt = PW_MT(w);
	uint32_t n = PW_NEXT(w), p = PW_PREV(w);

	if (p != M_NIL)
		pw_set(m, s->base + p, set_next(pw_get(m, s->base + p), n));
	else
		s->head[order][mt] = n;
	if (n != M_NIL)
		pw_set(m, s->base + n, set_prev(pw_get(m, s->base + n), p));
	else
		s->tail[order][mt] = p;
	if (!--s->cnt[order][mt] && mt < 4)
		s->free_mask &= ~(1ull << (mt * 16 + order));
	if (!--z->zq_cnt[order][mt] && mt < 4)
		z->free_mask &= ~(1ull << (mt * 16 + order));
	if (!s->cnt[order][mt])
		zq_remove(m, si, order, mt);
	z->nr_free[order]--;
	pw_set(m, pfn, mkword(PW_TAKEN, order, mt));
	return order;
}

/* ---- creation and seeding ---- */

/* The page array, with transparent huge pages: policies touch it at random. */
struct m_pw *model_page_alloc(uint64_t npages)
{
	struct m_pw *p = malloc(M_PAGE_BYTES(npages));

	fr_advise_hugepages(p, M_PAGE_BYTES(npages));
	return p;
}

struct fr_model *model_create(const struct m_zone_spec *zones, int nzones, unsigned nr_cpus,
			      unsigned pageblock_order, unsigned max_order, unsigned spb_order)
{
	struct fr_model *m;
	uint64_t end = 0, nspb = 0, spb_pages = 1ull << spb_order;

	if (nzones < 1 || nzones > M_MAX_ZONES || spb_order > M_MAX_SPB_ORDER || max_order >= M_NORD ||
	    pageblock_order > 15 || max_order > spb_order || pageblock_order > spb_order)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	for (int i = 0; i < nzones; i++) {
		if (zones[i].end_pfn > end)
			end = zones[i].end_pfn;
		uint64_t base = zones[i].start_pfn & ~(spb_pages - 1);
		nspb += (zones[i].end_pfn - base + spb_pages - 1) / spb_pages;
	}
	end = (end + (1ull << max_order) - 1) & ~((1ull << max_order) - 1);
	if (end > M_MAX_PFN) {	/* recorded pfns are 37 bits in the page word */
		free(m);
		return NULL;
	}
	m->geo.page_shift = 12;
	m->geo.pageblock_order = pageblock_order;
	m->geo.max_order = max_order;
	m->geo.spb_order = spb_order;
	m->geo.nr_cpus = nr_cpus ? nr_cpus : 1;
	m->geo.nr_zones = (unsigned)nzones;
	m->geo.nr_spbs = nspb;
	m->geo.nr_pageblocks = end >> pageblock_order;
	m->geo.end_pfn = end;
	m->page = model_page_alloc(end);
	m->pb = calloc(m->geo.nr_pageblocks, sizeof(*m->pb));
	m->spb = calloc(nspb ? nspb : 1, sizeof(*m->spb));
	m->pcp = calloc((size_t)m->geo.nr_cpus * nzones * M_NPCP, sizeof(*m->pcp));
	if (!m->page || !m->pb || !m->spb || !m->pcp) {
		model_destroy(m);
		return NULL;
	}
	/* every page a hole: one run of words, then doubling copies of it */
	for (uint64_t p = 0; p < end && p < 4096; p++)
		pw_set(m, p, mkword(PW_HOLE, 0, 0));
	for (uint64_t done = end < 4096 ? end : 4096, n; done < end; done += n) {
		n = done < end - done ? done : end - done;
		memcpy(m->page + done, m->page, n * sizeof(struct m_pw));
	}
	memset((uint8_t *)m->page + end * sizeof(struct m_pw), 0, 2);	/* the tail padding */
	for (uint64_t b = 0; b < m->geo.nr_pageblocks; b++) {
		m->pb[b].spb = PB_NONE;
		m->pb[b].label = FRP_MT_MOVABLE; /* memmap_init marks every block MOVABLE */
	}
	uint32_t si = 0;
	for (int i = 0; i < nzones; i++) {
		struct m_zone *z = &m->zone[i];
		snprintf(z->name, sizeof(z->name), "%s", zones[i].name);
		z->z.name = z->name;
		z->z.start_pfn = zones[i].start_pfn;
		z->z.end_pfn = zones[i].end_pfn;
		z->z.managed = zones[i].managed;
		z->z.wmark_min = zones[i].wmark_min;
		z->z.wmark_low = zones[i].wmark_low;
		z->z.wmark_high = zones[i].wmark_high;
		z->z.pcp_batch = zones[i].pcp_batch;
		z->z.pcp_high_min = zones[i].pcp_high_min;
		z->z.pcp_high_max = zones[i].pcp_high_max;
		z->z.first_spb = si;
		for (unsigned o = 0; o < M_NORD; o++)
			for (int mt = 0; mt < M_NMT; mt++)
				z->zq_head[o][mt] = z->zq_tail[o][mt] = SPB_NIL;
		uint64_t base = zones[i].start_pfn & ~(spb_pages - 1);
		for (uint64_t b = base; b < zones[i].end_pfn; b += spb_pages, si++) {
			struct m_spb *s = &m->spb[si];
			uint64_t lo = b > zones[i].start_pfn ? b : zones[i].start_pfn;
			uint64_t hi = b + spb_pages < zones[i].end_pfn ? b + spb_pages : zones[i].end_pfn;
			s->base = b;
			s->info.start_pfn = lo;
			s->info.zone = (uint32_t)i;
			for (unsigned o = 0; o < M_NORD; o++)
				for (int mt = 0; mt < M_NMT; mt++) {
					s->head[o][mt] = s->tail[o][mt] = M_NIL;
					s->zq_next[o][mt] = s->zq_prev[o][mt] = SPB_NIL;
				}
			for (uint64_t p = lo >> pageblock_order; p < (hi + (1ull << pageblock_order) - 1) >> pageblock_order; p++)
				m->pb[p].spb = si;
		}
		z->z.nr_spbs = si - z->z.first_spb;
	}
	return m;
}

void model_destroy(struct fr_model *m)
{
	if (!m)
		return;
	if (m->pcp)
		for (size_t i = 0; i < (size_t)m->geo.nr_cpus * m->geo.nr_zones * M_NPCP; i++)
			free(m->pcp[i].v);
	free(m->pcp);
	free(m->page);
	free(m->pb);
	free(m->spb);
	free(m);
}

void model_seed_present(struct fr_model *m, uint64_t pfn)
{
	struct m_pb *pb = pbof(m, pfn);

	if (pfn >= m->geo.end_pfn || pb->spb == PB_NONE || PW_STATE(pw_get(m, pfn)) != PW_HOLE)
		return;
	pw_set(m, pfn, mkword(PW_TAKEN, 0, 0));
	pb->npresent++;
	m->spb[pb->spb].info.usable_pages++;
	m->usable_pages++;
}

/* model_seed_present() for every pfn of [lo, hi), a pageblock at a time. */
void model_seed_present_range(struct fr_model *m, uint64_t lo, uint64_t hi)
{
	unsigned pbo = m->geo.pageblock_order;
	const uint64_t taken = mkword(PW_TAKEN, 0, 0);

	if (hi > m->geo.end_pfn)
		hi = m->geo.end_pfn;
	for (uint64_t p = lo; p < hi;) {
		struct m_pb *pb = pbof(m, p);
		uint64_t stop = ((p >> pbo) + 1) << pbo;
		uint32_t n = 0;

		if (stop > hi)
			stop = hi;
		if (pb->spb == PB_NONE) {
			p = stop;
			continue;
		}
		for (; p < stop; p++)
			if (PW_STATE(pw_get(m, p)) == PW_HOLE) {
				pw_set(m, p, taken);
				n++;
			}
		pb->npresent = (uint16_t)(pb->npresent + n);
		m->spb[pb->spb].info.usable_pages += n;
		m->usable_pages += n;
	}
}

void model_seed_alloc(struct fr_model *m, uint64_t pfn, unsigned order, int mt)
{
	for (uint64_t p = pfn + 1; p < pfn + (1ull << order); p++)
		pw_set(m, p, 0);
	pw_set(m, pfn, mkword(PW_TAKEN, order, 0));
	model_commit_alloc(m, pfn, order, mt, pfn);
	pw_set(m, pfn, pw_get(m, pfn) | PW_SEEDED_BIT);	/* seeded: identity-mapped */
}

void model_seed_finish(struct fr_model *m)
{
	uint64_t end = m->geo.end_pfn;

	/* pageblock and SPB bookkeeping that depends on presence.  The label
	 * counts are made here, from scratch: the initial state's labels
	 * (machine.c: kpageflags ranking, pagetypeinfo, the trace's own
	 * evidence) were set before, through model_set_label(), which keeps
	 * counts only from here on. */
	for (uint64_t si = 0; si < m->geo.nr_spbs; si++)
		memset(m->spb[si].info.nr_label, 0, sizeof(m->spb[si].info.nr_label));
	for (uint64_t b = 0; b < m->geo.nr_pageblocks; b++) {
		struct m_pb *pb = &m->pb[b];
		if (pb->spb == PB_NONE || !pb->npresent)
			continue;
		m->spb[pb->spb].info.total_pageblocks++;
		m->spb[pb->spb].info.nr_label[pb->label]++;
	}
	const uint64_t pbmask = (1ull << m->geo.pageblock_order) - 1;
	for (uint64_t p = 0; p < end;) {
		uint64_t w = pw_get(m, p);
		if (PW_STATE(w) != PW_TAKEN || PW_ORDER(w) != 0) {
			p += PW_STATE(w) == PW_ALLOC ? 1ull << PW_ORDER(w) : 1;
			continue;
		}
		/* largest aligned run of still-unclaimed pages in one zone (the
		 * zone is a pageblock's: checked where a pageblock starts) */
		int zone = model_zone_of(m, p);
		unsigned o = 0;
		while (o < m->geo.max_order) {
			uint64_t size = 1ull << (o + 1);
			if (p & (size - 1) || p + size > end)
				break;
			int ok = 1;
			for (uint64_t q = p + (1ull << o); q < p + size; q++) {
				uint64_t wq = pw_get(m, q);
				if ((wq & 0x7f) != ((uint64_t)PW_TAKEN << 4) ||	/* taken, order 0 */
				    (!(q & pbmask) && model_zone_of(m, q) != zone)) {
					ok = 0;
					break;
				}
			}
			if (!ok)
				break;
			o++;
		}
		for (uint64_t q = p + 1; q < p + (1ull << o); q++)
			pw_set(m, q, 0);
		list_add(m, p, o, pbof(m, p)->label, 1); /* FPI_TO_TAIL, ascending pfn */
		p += 1ull << o;
	}
	for (uint64_t s = 0; s < m->geo.nr_spbs; s++)
		spb_recategorize(m, &m->spb[s]);
	m->fresh_taints = 0;	/* the initial state's taint is not "fresh" */
}

/* ---- allocation bookkeeping (engine side) ---- */

static inline void content_add_pb(struct fr_model *m, struct m_pb *pb, int mt, int64_t delta)
{
	if (delta > 0)
		pb_set_has(m, pb, mt);
	if (!nonmovable(mt)) {
		pb->nmov = (uint16_t)(pb->nmov + delta);
	} else {
		m->spb[pb->spb].live_nonmov += (uint64_t)delta;
		m->live_nonmov += (uint64_t)delta;
	}
}

/* A block of several pageblocks, one at a time (out of line, so that the
 * common case below needs no registers saved: 42 -> 24 instructions a call). */
static __attribute__((noinline)) void content_add_blocks(struct fr_model *m, uint64_t pfn, unsigned order, int mt,
							  int sign)
{
	uint64_t step = 1ull << m->geo.pageblock_order;

	for (uint64_t p = pfn; p < pfn + (1ull << order); p += step)
		content_add_pb(m, pbof(m, p), mt, sign * (int64_t)step);
}

/* Every allocation and free comes here, nearly all of them within one
 * pageblock: no loop for those. */
static inline void content_add(struct fr_model *m, uint64_t pfn, unsigned order, int mt, int sign)
{
	if (order <= m->geo.pageblock_order)
		content_add_pb(m, pbof(m, pfn), mt, sign * (int64_t)(1ull << order));
	else
		content_add_blocks(m, pfn, order, mt, sign);
}

void model_commit_alloc(struct fr_model *m, uint64_t pfn, unsigned order, int mt, uint64_t rec_pfn)
{
	pw_set(m, pfn, mkword(PW_ALLOC, order, mt) | PW_MKREC(rec_pfn));
	content_add(m, pfn, order, mt, +1);
}

void model_uncommit(struct fr_model *m, uint64_t pfn)
{
	uint64_t w = pw_get(m, pfn);

	content_add(m, pfn, PW_ORDER(w), PW_MT(w), -1);
	pw_set(m, pfn, mkword(PW_TAKEN, PW_ORDER(w), PW_MT(w)));
}

/* ---- primitives ---- */

/* page_del_and_expand() + expand() */
uint64_t model_take(struct fr_model *m, uint64_t pfn, unsigned order)
{
	uint64_t w;
	unsigned high;
	int mt;

	if (pfn >= m->geo.end_pfn)
		return FRP_NONE;
	w = pw_get(m, pfn);
	if (PW_STATE(w) != PW_FREE || PW_ORDER(w) < order)
		return FRP_NONE;
	high = PW_ORDER(w);
	mt = PW_MT(w);
	link_del(m, pfn);
	while (high > order) {
		high--;
		link_add(m, pfn + (1ull << high), high, mt, 0);
	}
	pw_set(m, pfn, mkword(PW_TAKEN, order, mt));
	account_free(m, pfn, order, -1);	/* net of the unlink and the expand */
	return pfn;
}

uint64_t model_take_at(struct fr_model *m, uint64_t pfn, unsigned order)
{
	uint64_t h = 0, w = 0, cur;
	unsigned o, co;
	int mt;

	if (order > m->geo.max_order || pfn & ((1ull << order) - 1) ||
	    pfn + (1ull << order) > m->geo.end_pfn)
		return FRP_NONE;
	for (o = order; o <= m->geo.max_order; o++) {
		h = pfn & ~((1ull << o) - 1);
		w = pw_get(m, h);
		unsigned st = PW_STATE(w);
		if (st == PW_FREE && PW_ORDER(w) == o)
			break;
		if ((st == PW_ALLOC || st == PW_TAKEN || st == PW_PCP) && h + (1ull << PW_ORDER(w)) > pfn)
			return FRP_NONE;	/* overlaps an allocated or per-CPU block */
		if (st == PW_HOLE && h == pfn)
			return FRP_NONE;
	}
	if (o > m->geo.max_order)
		return FRP_NONE;
	mt = PW_MT(w);
	link_del(m, h);
	cur = h;
	co = o;
	while (co > order) {
		uint64_t half;
		co--;
		half = 1ull << co;
		if (pfn >= cur + half) {
			link_add(m, cur, co, mt, 0);
			cur += half;
		} else {
			link_add(m, cur + half, co, mt, 0);
		}
	}
	pw_set(m, pfn, mkword(PW_TAKEN, order, mt));
	account_free(m, pfn, order, -1);	/* net, as model_take() */
	return pfn;
}

static int mergeable(int mt)
{
	return mt < FRP_MT_PCPTYPES;	/* migratetype_is_mergeable() */
}

static void set_label_range(struct fr_model *m, uint64_t pfn, unsigned order, int mt)
{
	unsigned pbo = m->geo.pageblock_order;
	uint64_t n = order > pbo ? 1ull << (order - pbo) : 1;

	for (uint64_t i = 0; i < n; i++)
		model_set_label(m, pfn + (i << pbo), mt);
}

/* __free_one_page() */
static void free_one(struct fr_model *m, uint64_t pfn, unsigned order)
{
	unsigned pbo = m->geo.pageblock_order, maxo = m->geo.max_order;
	int mt = pbof(m, pfn)->label;
	int zone = model_zone_of(m, pfn);
	int to_tail = 0;
	uint64_t freed = pfn;
	unsigned freed_order = order;

	pw_set(m, pfn, 0);
	while (order < maxo) {
		uint64_t buddy = pfn ^ (1ull << order);
		uint64_t bw;
		int bmt = mt;

		if (buddy >= m->geo.end_pfn)
			break;
		bw = pw_get(m, buddy);
		if (PW_STATE(bw) != PW_FREE || PW_ORDER(bw) != order || model_zone_of(m, buddy) != zone)
			break;
		if (order >= pbo) {
			bmt = pbof(m, buddy)->label;
			if (bmt != mt && (!mergeable(mt) || !mergeable(bmt)))
				break;
		}
		link_del(m, buddy);
		pw_set(m, buddy, 0);
		if (bmt != mt)
			set_label_range(m, buddy, order, mt);
		pfn &= buddy;
		order++;
	}
	/* buddy_merge_likely(): a free buddy one level up makes a merge likely soon */
	if (order < maxo - 1) {
		uint64_t buddy = pfn ^ (1ull << order);
		uint64_t higher = buddy & pfn;
		uint64_t hb = higher ^ (1ull << (order + 1));
		if (hb < m->geo.end_pfn) {
			uint64_t hw = pw_get(m, hb);
			if (PW_STATE(hw) == PW_FREE && PW_ORDER(hw) == order + 1 && model_zone_of(m, hb) == zone)
				to_tail = 1;
		}
	}
	link_add(m, pfn, order, mt, to_tail);
	account_free(m, freed, freed_order, +1);	/* net of the merges */
}

void model_free_block(struct fr_model *m, uint64_t pfn, unsigned order)
{
	unsigned pbo = m->geo.pageblock_order;

	for (uint64_t p = pfn + 1; p < pfn + (1ull << order); p++)
		pw_set(m, p, 0);
	if (order <= pbo) {
		free_one(m, pfn, order);
		return;
	}
	/* split_large_buddy(): each pageblock with its own type */
	for (uint64_t p = pfn; p < pfn + (1ull << order); p += 1ull << pbo)
		free_one(m, p, pbo);
}

void model_set_label(struct fr_model *m, uint64_t pfn, int mt)
{
	struct m_pb *pb = pbof(m, pfn);
	struct m_spb *s = &m->spb[pb->spb];

	if (pb->label == mt)
		return;
	if (pb->npresent) {
		s->info.nr_label[pb->label]--;
		s->info.nr_label[mt]++;
	}
	pb->label = (uint8_t)mt;
}

unsigned model_move_freepages(struct fr_model *m, uint64_t pfn, int mt)
{
	unsigned pbo = m->geo.pageblock_order;
	uint64_t start = pfn & ~((1ull << pbo) - 1), end = start + (1ull << pbo);
	unsigned moved = 0;

	/* A free chunk larger than a pageblock that covers this one moves whole. */
	for (unsigned o = pbo + 1; o <= m->geo.max_order; o++) {
		uint64_t h = start & ~((1ull << o) - 1);
		uint64_t w = pw_get(m, h);
		if (PW_STATE(w) == PW_FREE && PW_ORDER(w) == o) {
			link_del(m, h);	/* the free pages stay: no accounting */
			set_label_range(m, h, o, mt);
			link_add(m, h, o, mt, 1);
			return 1u << o;
		}
	}
	for (uint64_t p = start; p < end;) {
		uint64_t w = pw_get(m, p);
		unsigned st = PW_STATE(w), o = PW_ORDER(w);
		if (st == PW_FREE) {
			link_del(m, p);
			link_add(m, p, o, mt, 1);
			moved += 1u << o;
			p += 1ull << o;
		} else if (st == PW_ALLOC || st == PW_TAKEN || st == PW_PCP) {
			p += 1ull << o;
		} else {
			p++;
		}
	}
	model_set_label(m, start, mt);
	return moved;
}

int model_migrate(struct fr_model *m, uint64_t from, uint64_t to)
{
	uint64_t fw = pw_get(m, from), tw = pw_get(m, to);
	unsigned order = PW_ORDER(fw);
	uint64_t rec = PW_REC(fw);

	if (PW_STATE(fw) != PW_ALLOC || PW_STATE(tw) != PW_TAKEN || PW_ORDER(tw) != order)
		return -1;
	int mt = PW_MT(fw);
	model_uncommit(m, from);
	model_commit_alloc(m, to, order, mt, rec);
	m->pages_migrated += 1ull << order;
	if (m->on_move)
		m->on_move(m->cb_arg, rec, from, to);
	model_free_block(m, from, order);
	return 0;
}

/* Early release of an allocated block.  The engine is told through
 * on_release (it forgets the recorded pfn and expects the trace's free of
 * it later); without one, through on_move(rec -> rec), the "identity, i.e.
 * no map entry" notification: an identity lookup needs a live block
 * recorded at rec, which this one no longer is.  The block is left taken. */
int model_release_alloc(struct fr_model *m, uint64_t pfn)
{
	uint64_t w;

	if (pfn >= m->geo.end_pfn)
		return -1;
	w = pw_get(m, pfn);
	if (PW_STATE(w) != PW_ALLOC)
		return -1;
	uint64_t rec = PW_REC(w);
	model_uncommit(m, pfn);
	if (m->on_release)
		m->on_release(m->cb_arg, rec, PW_ORDER(w));
	else if (m->on_move)
		m->on_move(m->cb_arg, rec, pfn, rec);
	return (int)PW_ORDER(w);
}

/* ---- invariant checker ---- */

#define VIOL(...) do { if (!nviol++ && cap) snprintf(buf, cap, __VA_ARGS__); } while (0)

uint64_t model_check(struct fr_model *m, char *buf, size_t cap)
{
	uint64_t nviol = 0, end = m->geo.end_pfn;
	unsigned pbo = m->geo.pageblock_order;
	uint64_t free_heads = 0, listed = 0;
	uint64_t *pbfree = calloc(m->geo.nr_pageblocks, sizeof(*pbfree));
	uint64_t *pbmov = calloc(m->geo.nr_pageblocks, sizeof(*pbmov));

	if (!pbfree || !pbmov) {
		free(pbfree);
		free(pbmov);
		if (cap)
			snprintf(buf, cap, "checker: out of memory");
		return 1;
	}
	/* 1. chunks tile the present pages: heads aligned, tails zero, no overlap */
	for (uint64_t p = 0; p < end;) {
		uint64_t w = pw_get(m, p);
		unsigned st = PW_STATE(w), o = PW_ORDER(w);
		if (st == PW_HOLE) {
			p++;
			continue;
		}
		if (st == PW_NONE) {
			VIOL("pfn %#llx: page belongs to no chunk", (unsigned long long)p);
			p++;
			continue;
		}
		if (st == PW_TAKEN)
			VIOL("pfn %#llx: block left taken between events", (unsigned long long)p);
		if (o > m->geo.max_order || (p & ((1ull << o) - 1)) || p + (1ull << o) > end) {
			VIOL("pfn %#llx: bad order %u", (unsigned long long)p, o);
			p++;
			continue;
		}
		for (uint64_t q = p + 1; q < p + (1ull << o); q++)
			if (pw_get(m, q) != 0) {
				VIOL("pfn %#llx: overlaps the order-%u block at %#llx", (unsigned long long)q, o,
				     (unsigned long long)p);
				break;
			}
		if (st == PW_FREE) {
			free_heads++;
			for (uint64_t q = p; q < p + (1ull << o); q += 1ull << (o < pbo ? o : pbo))
				pbfree[q >> pbo] += 1ull << (o < pbo ? o : pbo);
		} else if (st == PW_ALLOC && !nonmovable(PW_MT(w))) {
			for (uint64_t q = p; q < p + (1ull << o); q += 1ull << (o < pbo ? o : pbo))
				pbmov[q >> pbo] += 1ull << (o < pbo ? o : pbo);
		}
		p += 1ull << o;
	}
	/* 2. every list is consistent and every free chunk is on exactly one list */
	for (uint64_t si = 0; si < m->geo.nr_spbs; si++) {
		struct m_spb *s = &m->spb[si];
		uint64_t nfp = 0;
		for (unsigned o = 0; o < M_NORD; o++)
			for (int mt = 0; mt < M_NMT; mt++) {
				uint32_t off = s->head[o][mt], prev = M_NIL;
				uint64_t n = 0;
				while (off != M_NIL && n <= s->cnt[o][mt]) {
					uint64_t w = pw_get(m, s->base + off);
					if (PW_STATE(w) != PW_FREE || PW_ORDER(w) != o || PW_MT(w) != mt ||
					    PW_PREV(w) != prev || pbof(m, s->base + off)->spb != si) {
						VIOL("spb %llu order %u mt %d: list entry %#llx is not a free chunk of that list",
						     (unsigned long long)si, o, mt, (unsigned long long)(s->base + off));
						break;
					}
					prev = off;
					off = PW_NEXT(w);
					n++;
				}
				if (n != s->cnt[o][mt] || prev != s->tail[o][mt])
					VIOL("spb %llu order %u mt %d: list holds %llu chunks, counter says %u",
					     (unsigned long long)si, o, mt, (unsigned long long)n, s->cnt[o][mt]);
				listed += n;
				nfp += n << o;
			}
		for (unsigned o = 0; o < M_NORD; o++)
			for (int mt = 0; mt < 4; mt++)
				if (!!(s->free_mask & (1ull << (mt * 16 + o))) != !!s->cnt[o][mt])
					VIOL("spb %llu order %u mt %d: free_mask disagrees with the list count %u",
					     (unsigned long long)si, o, mt, s->cnt[o][mt]);
		if (nfp != s->info.nr_free_pages)
			VIOL("spb %llu: nr_free_pages %llu but lists hold %llu", (unsigned long long)si,
			     (unsigned long long)s->info.nr_free_pages, (unsigned long long)nfp);
	}
	if (listed != free_heads)
		VIOL("%llu free chunks in the page array, %llu on lists", (unsigned long long)free_heads,
		     (unsigned long long)listed);
	/* 2b. the zone counts and masks are the sums of their SPBs' */
	for (unsigned z = 0; z < m->geo.nr_zones; z++)
		for (unsigned o = 0; o < M_NORD; o++)
			for (int mt = 0; mt < M_NMT; mt++) {
				uint64_t n = 0;
				for (uint64_t si = 0; si < m->geo.nr_spbs; si++)
					if (m->spb[si].info.zone == z)
						n += m->spb[si].cnt[o][mt];
				if (n != m->zone[z].zq_cnt[o][mt])
					VIOL("zone %u order %u mt %d: zone count %llu, its SPBs' lists hold %llu", z, o, mt,
					     (unsigned long long)m->zone[z].zq_cnt[o][mt], (unsigned long long)n);
				if (mt < 4 && !!(m->zone[z].free_mask & (1ull << (mt * 16 + o))) != !!n)
					VIOL("zone %u order %u mt %d: free_mask disagrees with the list count %llu", z, o,
					     mt, (unsigned long long)n);
			}
	/* 3. pageblock counters, and the SPB counts made of them */
	struct { uint32_t has[M_NMT], label[M_NMT], all_free; } *sbc;
	sbc = calloc(m->geo.nr_spbs ? m->geo.nr_spbs : 1, sizeof(*sbc));
	if (!sbc) {
		free(pbfree);
		free(pbmov);
		return nviol + 1;
	}
	for (uint64_t b = 0; b < m->geo.nr_pageblocks; b++) {
		const struct m_pb *pb = &m->pb[b];
		if (pb->spb < m->geo.nr_spbs) {
			for (int mt = 0; mt < M_NMT; mt++)
				sbc[pb->spb].has[mt] += (pb->has >> mt) & 1;
			if (pb->npresent) {
				sbc[pb->spb].label[pb->label]++;
				sbc[pb->spb].all_free += pb->nfree == pb->npresent;
			}
		}
		/* PB_all_free clears the content bits (pb_nfree_add()), and
		 * policies set them only on a pageblock they just allocated
		 * from: the net accounting of model_take(), model_take_at(),
		 * free_one() and model_move_freepages() relies on this. */
		if (pb->npresent && pb->nfree == pb->npresent && pb->has)
			VIOL("pageblock %#llx: wholly free, content bits %#x", (unsigned long long)(b << pbo), pb->has);
		if (m->pb[b].nfree != pbfree[b])
			VIOL("pageblock %#llx: nfree %u, chunks hold %llu", (unsigned long long)(b << pbo),
			     m->pb[b].nfree, (unsigned long long)pbfree[b]);
		if (m->pb[b].nmov != pbmov[b])
			VIOL("pageblock %#llx: nmov %u, blocks hold %llu", (unsigned long long)(b << pbo),
			     m->pb[b].nmov, (unsigned long long)pbmov[b]);
	}
	for (uint64_t si = 0; si < m->geo.nr_spbs; si++) {
		const struct frp_spb_info *i = &m->spb[si].info;
		for (int mt = 0; mt < M_NMT; mt++) {
			if (i->nr_has[mt] != sbc[si].has[mt])
				VIOL("spb %llu: nr_has[%d] %u, pageblocks say %u", (unsigned long long)si, mt,
				     i->nr_has[mt], sbc[si].has[mt]);
			if (i->nr_label[mt] != sbc[si].label[mt])
				VIOL("spb %llu: nr_label[%d] %u, pageblocks say %u", (unsigned long long)si, mt,
				     i->nr_label[mt], sbc[si].label[mt]);
		}
		if (i->nr_free != sbc[si].all_free)
			VIOL("spb %llu: nr_free %u, wholly free pageblocks %u", (unsigned long long)si, i->nr_free,
			     sbc[si].all_free);
	}
	free(sbc);
	free(pbfree);
	free(pbmov);
	return nviol;
}
