// SPDX-License-Identifier: GPL-2.0
/*
 * machine.c - the recorded machine and its initial state.
 *
 * Zones come from the zoneinfo snapshot, else one Normal zone over the pfns
 * the trace touches (or --mem).  The initial state (product.md, "Replay
 * semantics"):
 *  - with /proc/kpageflags at start: KPF_BUDDY pages are free (on 6.18 the
 *    flag is set on every page of a free chunk, so chunks are rebuilt as
 *    maximal aligned runs); LRU/anon/mmap/swapbacked/THP pages are movable;
 *    slab, page tables, reserved and other pages are unmovable; a pageblock
 *    whose pages all read 0 is absent (hot-added ranges the zone spans but
 *    does not manage read as 0).
 *    Pageblock labels are not in kpageflags.  Inference: labels are assigned
 *    so that each zone's count of Unmovable/Reclaimable pageblocks equals
 *    pagetypeinfo's "Number of blocks type" at start, giving those labels to
 *    the pageblocks with the most non-movable pages (most first); the rest
 *    are Movable.  Without pagetypeinfo: Unmovable where non-movable pages
 *    outnumber movable ones.
 *    The snapshot and the first traced event are not simultaneous, so the
 *    trace corrects it: a non-buddy page whose first traced event is an
 *    allocation was free (on a per-CPU list; those read as flags 0), and a
 *    buddy page whose first event is a free was allocated in between.
 *  - without a snapshot: pages the trace frees before it allocates them are
 *    allocated at their recorded pfn (content assumed movable: inference,
 *    most such pages are page cache or anon); everything else is free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bitmap.h"
#include "machine.h"


static int grow_bitmaps(struct fr_prepass *pp, uint64_t pfn)
{
	uint64_t need = (pfn + 1 + (1 << 20)) & ~((1ull << 20) - 1);
	uint64_t ow = pp->end / 64, nw = need / 64;

	if (pfn < pp->end)
		return 0;
	uint64_t *t = realloc(pp->touched, nw * 8), *a;
	if (!t)
		return -1;
	pp->touched = t;
	a = realloc(pp->first_alloc, nw * 8);
	if (!a)
		return -1;
	pp->first_alloc = a;
	memset(pp->touched + ow, 0, (nw - ow) * 8);
	memset(pp->first_alloc + ow, 0, (nw - ow) * 8);
	/* pageblocks of 512 pages (order 9); a coarser geometry just reads fewer */
	uint8_t *l = realloc(pp->pb_label, need >> 9);
	if (!l)
		return -1;
	pp->pb_label = l;
	memset(pp->pb_label + (pp->end >> 9), 0xff, (need >> 9) - (pp->end >> 9));
	pp->end = need;
	return 0;
}

/* Pages of [lo, hi) not touched before: first touched by an allocation.
 * A word at a time: every allocation runs this over its whole block. */
static void first_alloc_range(struct fr_prepass *pp, uint64_t lo, uint64_t hi)
{
	uint64_t n;

	for (; lo < hi; lo += n) {
		uint64_t fresh = bm_span(lo, hi, &n) & ~pp->touched[lo >> 6];
		pp->touched[lo >> 6] |= fresh;
		pp->first_alloc[lo >> 6] |= fresh;
	}
}

int fr_prepass_run(struct fr_source *src, struct fr_prepass *pp, volatile int *stop, struct fr_error *err)
{
	static struct fr_event buf[8192];
	uint64_t live = 0;
	ssize_t n;

	memset(pp, 0, sizeof(*pp));
	pp->pfn_min = UINT64_MAX;
	if (pfnmap_init(&pp->first_free, 1024) < 0)
		return fr_err(err, "out of memory");
	while ((n = fr_source_read(src, buf, 8192, err)) > 0) {
		if (stop && *stop)
			return fr_err(err, "%s: interrupted while scanning the trace; nothing written",
				      fr_source_meta(src)->path);
		for (ssize_t i = 0; i < n; i++) {
			const struct fr_event *e = &buf[i];
			pp->events++;
			if (e->cpu > pp->max_cpu)
				pp->max_cpu = e->cpu;
			/* __rmqueue_smallest() emits zone_locked with the list's type, which
			 * is the block's label (6.10+ freelist hygiene); free_pcppages_bulk()
			 * emits pcpu_drain with get_pfnblock_migratetype(): both show a
			 * pageblock's label, which kpageflags cannot. */
			if ((e->kind == FR_EV_ZONE_LOCKED || e->kind == FR_EV_PCPU_DRAIN) &&
			    e->pfn < M_MAX_PFN && e->mt >= 0 && e->mt < FR_MT_NTYPES) {
				if (grow_bitmaps(pp, e->pfn + 1) < 0)
					return fr_err(err, "out of memory");
				if (pp->pb_label[e->pfn >> 9] == 0xff) {
					pp->pb_label[e->pfn >> 9] = (uint8_t)e->mt;
					pp->pb_labels_seen++;
				}
				continue;
			}
			if (e->kind != FR_EV_ALLOC && e->kind != FR_EV_FREE && e->kind != FR_EV_FREE_BATCHED)
				continue;
			if (e->pfn == FR_PFN_NONE)
				continue;
			if (e->kind != FR_EV_FREE_BATCHED && e->order > 10) {
				if (!pp->has_bad_order) {
					pp->has_bad_order = 1;
					pp->bad_order_index = pp->events;
					pp->bad_order_ts = e->ts;
					pp->bad_order_pfn = e->pfn;
					pp->bad_order = e->order;
				}
				continue;
			}
			uint64_t pages = e->kind == FR_EV_FREE_BATCHED ? 1 : 1ull << e->order;
			if (e->pfn < pp->pfn_min)
				pp->pfn_min = e->pfn;
			if (e->pfn + pages - 1 > pp->pfn_max || pp->max_ev_index == 0) {
				if (e->pfn + pages - 1 > pp->pfn_max)
					pp->pfn_max = e->pfn + pages - 1;
				pp->max_ev_index = pp->events;
				pp->max_ev_pfn = e->pfn;
				pp->max_ev_ts = e->ts;
				pp->max_ev_order = e->kind == FR_EV_FREE_BATCHED ? 0 : e->order;
			}
			if (e->pfn >= M_MAX_PFN)	/* refused in fr_machine_build() */
				continue;
			if (grow_bitmaps(pp, e->pfn + pages) < 0)
				return fr_err(err, "out of memory");
			if (e->kind == FR_EV_ALLOC) {
				if (++live > pp->live_peak)
					pp->live_peak = live;
				/* every page of the block, also when its head was seen
				 * before: an order-0 block then an order-3 one at the
				 * same pfn first allocate the order-3 block's tail */
				first_alloc_range(pp, e->pfn, e->pfn + pages);
				continue;
			}
			if (live)
				live--;
			if (!bm_test(pp->touched, e->pfn)) {
				pfnmap_put(&pp->first_free, e->pfn, e->kind == FR_EV_FREE ? e->order : 0);
				for (uint64_t p = e->pfn; p < e->pfn + pages; p++)
					bm_set(pp->touched, p);
			}
		}
	}
	if (n < 0)
		return -1;
	return fr_source_rewind(src, err);
}

void fr_prepass_free(struct fr_prepass *pp)
{
	free(pp->touched);
	free(pp->first_alloc);
	free(pp->pb_label);
	pfnmap_free(&pp->first_free);
	memset(pp, 0, sizeof(*pp));
}

static int zones_from_meta(struct fr_machine *mc, const struct fr_meta *meta, const struct fr_prepass *pp,
			   const struct fr_machine_opts *o, struct fr_error *err)
{
	struct fr_zoneinfo zi;
	size_t len;
	char *txt = fr_snap_text(&meta->snaps, FR_SNAP_ZONEINFO_START, &len, err);

	mc->nzones = 0;
	if (txt) {
		int rc = fr_zoneinfo_parse(txt, len, &zi, "zoneinfo.start", err);
		free(txt);
		if (rc < 0)
			return -1;
		for (int i = 0; i < zi.nr_zones && mc->nzones < M_MAX_ZONES; i++) {
			const struct fr_zone_info *z = &zi.zone[i];
			struct m_zone_spec *s = &mc->zones[mc->nzones++];
			if (z->node != 0 && mc->nzones > 1) {
				/* Inference: NUMA nodes beyond 0 are modelled as further zones. */
			}
			snprintf(s->name, sizeof(s->name), "%s", z->name);
			s->start_pfn = z->start_pfn;
			s->end_pfn = z->start_pfn + z->spanned;
			s->managed = z->managed;
			s->wmark_min = z->wmark_min;
			s->wmark_low = z->wmark_low;
			s->wmark_high = z->wmark_high;
			s->pcp_batch = z->pcp_batch ? z->pcp_batch : 63;
			s->pcp_high_min = z->pcp_high_min ? z->pcp_high_min : z->pcp_high;
			s->pcp_high_max = z->pcp_high_max ? z->pcp_high_max : z->pcp_high;
		}
		if (mc->nzones)
			return 0;
	}
	/* One Normal zone: --mem, else the pfns the trace touches. */
	struct m_zone_spec *s = &mc->zones[0];
	uint64_t align = 1ull << meta->max_order;
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "Normal");
	if (o && o->mem_bytes) {
		s->start_pfn = 0;
		s->end_pfn = o->mem_bytes / meta->page_size;

	} else if (pp->pfn_min != UINT64_MAX) {
		s->start_pfn = pp->pfn_min & ~(align - 1);
		s->end_pfn = (pp->pfn_max + align) & ~(align - 1);
	} else {
		return fr_err(err, "%s: no zoneinfo snapshot and no pfns in the trace: give --mem SIZE", meta->path);
	}
	s->managed = s->end_pfn - s->start_pfn;
	s->pcp_batch = 63;
	mc->nzones = 1;
	return 0;
}

enum { C_HOLE, C_FREE, C_MOV, C_UNMOV };

static int classify(uint64_t f)
{
	if (f & (1ull << KPF_NOPAGE))
		return C_HOLE;
	if (f & (1ull << KPF_BUDDY))
		return C_FREE;
	if (f & ((1ull << KPF_LRU) | (1ull << KPF_ANON) | (1ull << KPF_MMAP) | (1ull << KPF_SWAPBACKED) |
		 (1ull << KPF_THP) | (1ull << KPF_SWAPCACHE)))
		return C_MOV;
	return C_UNMOV;
}

struct rank {
	uint32_t nonmov;
	uint32_t pb;
};

static int rank_cmp(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;
	if (x->nonmov != y->nonmov)
		return x->nonmov > y->nonmov ? -1 : 1;
	return x->pb < y->pb ? -1 : x->pb > y->pb;
}

/* The trace's own evidence of pageblock labels beats any inference. */
static void apply_trace_labels(struct fr_machine *mc, const struct fr_prepass *pp)
{
	struct fr_model *m = mc->model;

	if (!pp->pb_label || m->geo.pageblock_order != 9)
		return;
	for (uint64_t b = 0; b < (pp->end >> 9) && b < m->geo.nr_pageblocks; b++)
		if (pp->pb_label[b] != 0xff && m->pb[b].spb != UINT32_MAX && m->pb[b].npresent) {
			model_set_label(m, b << 9, pp->pb_label[b]);
			mc->trace_labels++;
		}
}

/* Page classes from kpageflags, 2 bits per page (C_HOLE is 0). */
static inline unsigned cls_get(const uint64_t *cls, uint64_t p)
{
	return (unsigned)(cls[p >> 5] >> ((p & 31) * 2)) & 3;
}

static inline void cls_set(uint64_t *cls, uint64_t p, unsigned c)
{
	unsigned sh = (unsigned)(p & 31) * 2;
	cls[p >> 5] = (cls[p >> 5] & ~(3ull << sh)) | ((uint64_t)c << sh);
}

/*
 * Classify every page of [0, end) from kpageflags.start, then apply the
 * trace corrections (see the file comment).  Runs before the model exists,
 * so that the prepass bitmaps are gone when it is built: 0.25 bytes per page
 * instead of 1 byte of classes plus the bitmaps next to the model.
 */
static uint64_t *classify_kpf(struct fr_machine *mc, const struct fr_meta *meta, const struct fr_prepass *pp,
			      uint64_t end, struct fr_error *err)
{
	uint64_t pbn = 1ull << meta->pageblock_order;
	uint64_t *cls = calloc(end / 32 + 1, sizeof(*cls));	/* all C_HOLE */
	uint64_t *flags = malloc(pbn * sizeof(*flags));
	struct fr_kpf_reader *r = fr_kpf_open(&meta->snaps.blob[FR_SNAP_KPAGEFLAGS_START], err);
	uint64_t pfn = 0;
	int ok = 0;

	if (!cls || !flags || !r) {
		if (r)
			fr_err(err, "out of memory");
		goto out;
	}
	while (pfn < end) {
		long n = fr_kpf_read(r, flags, pbn - (pfn & (pbn - 1)), err);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		int allzero = 1;
		for (long i = 0; i < n; i++)
			if (flags[i])
				allzero = 0;
		if (!(allzero && n == (long)pbn))
			for (long i = 0; i < n && pfn + (uint64_t)i < end; i++)
				cls_set(cls, pfn + (uint64_t)i, (unsigned)classify(flags[i]));
		pfn += (uint64_t)n;
	}
	/* trace corrections (see the file comment) */
	for (uint64_t p = 0; p < end && p < pp->end; p++) {
		if (!bm_test(pp->touched, p))
			continue;
		unsigned c = cls_get(cls, p);
		if (bm_test(pp->first_alloc, p) && c != C_FREE) {
			if (c != C_HOLE)
				mc->kpf_pcp_guess++;
			cls_set(cls, p, C_FREE);
		} else if (!bm_test(pp->first_alloc, p) && c == C_FREE) {
			mc->kpf_late_alloc++;
			cls_set(cls, p, C_MOV);
		} else if (!bm_test(pp->first_alloc, p) && c == C_HOLE) {
			cls_set(cls, p, C_MOV);	/* the trace frees it, so it exists */
		}
	}
	ok = 1;
out:
	fr_kpf_close(r);
	free(flags);
	if (!ok) {
		free(cls);
		return NULL;
	}
	return cls;
}

/* Pages of class C_UNMOV and C_MOV in [base, base + n). */
static void count_classes(const uint64_t *cls, uint64_t base, uint64_t n, uint32_t *nm, uint32_t *mv)
{
	const uint64_t lo = 0x5555555555555555ull;
	uint64_t p = base;

	*nm = *mv = 0;
	if (!(base & 31) && !(n & 31)) {
		for (; p < base + n; p += 32) {
			uint64_t w = cls[p >> 5];
			*nm += (uint32_t)__builtin_popcountll(w & (w >> 1) & lo);	/* 3 */
			*mv += (uint32_t)__builtin_popcountll((w >> 1) & ~w & lo);	/* 2 */
		}
		return;
	}
	for (; p < base + n; p++) {
		unsigned c = cls_get(cls, p);
		*nm += c == C_UNMOV;
		*mv += c == C_MOV;
	}
}

static int seed_from_kpf(struct fr_machine *mc, const struct fr_meta *meta, const struct fr_prepass *pp,
			 const uint64_t *cls, struct fr_error *err)
{
	struct fr_model *m = mc->model;
	unsigned pbo = m->geo.pageblock_order;
	uint64_t pbn = 1ull << pbo, end = m->geo.end_pfn;

	/* presence: runs of pages that are not holes */
	for (uint64_t p = 0; p < end;) {
		uint64_t q = p;
		while (q < end && cls_get(cls, q) != C_HOLE)
			q++;
		model_seed_present_range(m, p, q);
		p = q + 1;
	}
	/* labels: per zone, rank pageblocks by non-movable pages */
	{
		struct fr_pagetypeinfo pti;
		size_t len;
		char *txt = fr_snap_text(&meta->snaps, FR_SNAP_PAGETYPEINFO_START, &len, NULL);
		int have_pti = txt && fr_pagetypeinfo_parse(txt, len, &pti, "pagetypeinfo.start", NULL) == 0;
		free(txt);
		uint64_t npb = m->geo.nr_pageblocks;
		struct rank *rk = malloc(npb * sizeof(*rk));
		if (!rk)
			return fr_err(err, "out of memory");
		for (int z = 0; z < mc->nzones; z++) {
			uint64_t nr = 0;
			for (uint64_t b = 0; b < npb; b++) {
				uint64_t base = b << pbo;
				if (model_zone_of(m, base) != z || !m->pb[b].npresent)
					continue;
				uint32_t nm, mv;
				count_classes(cls, base, pbn, &nm, &mv);
				rk[nr].nonmov = nm;
				rk[nr].pb = (uint32_t)b;
				nr++;
				if (!have_pti && nm > mv)
					model_set_label(m, base, FRP_MT_UNMOVABLE);
			}
			if (have_pti) {
				const struct fr_pti_zone *pz = fr_pagetypeinfo_find(&pti, 0, mc->zones[z].name);
				uint64_t nu = pz ? pz->blocks[FRP_MT_UNMOVABLE] : 0;
				uint64_t nrc = pz ? pz->blocks[FRP_MT_RECLAIMABLE] : 0;
				qsort(rk, nr, sizeof(*rk), rank_cmp);
				for (uint64_t i = 0; i < nr && i < nu + nrc; i++)
					model_set_label(m, (uint64_t)rk[i].pb << pbo,
							i < nu ? FRP_MT_UNMOVABLE : FRP_MT_RECLAIMABLE);
			}
		}
		free(rk);
	}
	apply_trace_labels(mc, pp);
	/* allocated pages */
	for (uint64_t p = 0; p < end; p++) {
		unsigned c = cls_get(cls, p);
		if (c != C_MOV && c != C_UNMOV)
			continue;
		if (PW_STATE(pw_get(m, p)) != PW_TAKEN)
			continue;
		int mt = c == C_MOV ? FRP_MT_MOVABLE
			 : m->pb[p >> pbo].label == FRP_MT_RECLAIMABLE ? FRP_MT_RECLAIMABLE : FRP_MT_UNMOVABLE;
		model_seed_alloc(m, p, 0, mt);
		mc->seeded_alloc_pages++;
	}
	snprintf(mc->init_source, sizeof(mc->init_source), "kpageflags");
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The prepass's first frees as pfn << 4 | order, in ascending pfn order
 * (the seeding below does not depend on the map's layout). */
static uint64_t *first_frees(const struct fr_prepass *pp, size_t *n)
{
	uint64_t *v = malloc((pp->first_free.count ? pp->first_free.count : 1) * sizeof(*v));
	uint64_t k, o;

	*n = 0;
	if (!v)
		return NULL;
	for (size_t it = 0; pfnmap_next(&pp->first_free, &it, &k, &o);)
		v[(*n)++] = k << 4 | (o & 15);
	qsort(v, *n, sizeof(*v), cmp_u64);
	return v;
}

static void seed_from_trace(struct fr_machine *mc, const struct fr_prepass *pp, const uint64_t *ff, size_t nff)
{
	struct fr_model *m = mc->model;

	model_seed_present_range(m, 0, m->geo.end_pfn);
	apply_trace_labels(mc, pp);
	for (size_t i = 0; i < nff; i++) {
		uint64_t k = ff[i] >> 4;
		unsigned order = (unsigned)(ff[i] & 15);
		if (k >= m->geo.end_pfn || (k & ((1ull << order) - 1)))
			order = 0;
		int ok = k + (1ull << order) <= m->geo.end_pfn;
		uint64_t wk = k < m->geo.end_pfn ? pw_get(m, k) : 0;
		for (uint64_t p = k; ok && p < k + (1ull << order); p++) {
			uint64_t wp = pw_get(m, p);
			if (PW_STATE(wp) != PW_TAKEN || PW_ORDER(wp) != 0 || wp != wk)
				ok = 0;
		}
		if (!ok) {
			if (k < m->geo.end_pfn && PW_STATE(wk) == PW_TAKEN && PW_ORDER(wk) == 0) {
				model_seed_alloc(m, k, 0, FRP_MT_MOVABLE);
				mc->seeded_alloc_pages++;
			}
			continue;
		}
		model_seed_alloc(m, k, order, FRP_MT_MOVABLE);
		mc->seeded_alloc_pages += 1ull << order;
	}
	snprintf(mc->init_source, sizeof(mc->init_source), "trace");
}

/* What seeding needs of the prepass is taken out before the model is built;
 * the rest (pageblock labels, counts) stays. */
static void drop_prepass_maps(struct fr_prepass *pp)
{
	free(pp->touched);
	free(pp->first_alloc);
	pp->touched = pp->first_alloc = NULL;
	pfnmap_free(&pp->first_free);
}

int fr_machine_build(struct fr_machine *mc, const struct fr_meta *meta, struct fr_prepass *pp,
		     const struct fr_machine_opts *o, struct fr_error *err)
{
	uint64_t *cls = NULL, *ff = NULL, zend = 0, end;
	size_t nff = 0;
	int kpf = meta->snaps.blob[FR_SNAP_KPAGEFLAGS_START].data != NULL;

	memset(mc, 0, sizeof(*mc));
	if (pp->has_bad_order)
		return fr_err(err, "%s: event %llu (t=%.9f s): order %u at pfn %#llx is above MAX_PAGE_ORDER 10",
			      meta->path, (unsigned long long)pp->bad_order_index, (double)pp->bad_order_ts / 1e9,
			      pp->bad_order, (unsigned long long)pp->bad_order_pfn);
	if (pp->pfn_max >= M_MAX_PFN)
		return fr_err(err, "%s: event %llu (t=%.9f s): pfn %#llx is beyond the model's limit of 2^%d pages (512 TiB of 4 KiB pages)",
			      meta->path, (unsigned long long)pp->max_ev_index, (double)pp->max_ev_ts / 1e9,
			      (unsigned long long)pp->max_ev_pfn, M_REC_BITS);
	if (meta->spb_order > M_MAX_SPB_ORDER)
		return fr_err(err, "%s: superpageblock order %u is above %d (1 GiB of 4 KiB pages), the largest the model links",
			      meta->path, meta->spb_order, M_MAX_SPB_ORDER);
	if (meta->max_order >= M_NORD || meta->pageblock_order > 15 || meta->max_order > meta->spb_order ||
	    meta->pageblock_order > meta->spb_order)
		return fr_err(err, "%s: cannot build a model of this machine (geometry out of range: max_order %u, pageblock_order %u, spb_order %u)",
			      meta->path, meta->max_order, meta->pageblock_order, meta->spb_order);
	if (zones_from_meta(mc, meta, pp, o, err) < 0)
		return -1;
	for (int z = 0; z < mc->nzones; z++) {
		if (mc->zones[z].end_pfn > M_MAX_PFN)
			return fr_err(err, "%s: zone %s ends at pfn %#llx, beyond the model's limit of 2^%d pages (512 TiB of 4 KiB pages)",
				      meta->path, mc->zones[z].name, (unsigned long long)mc->zones[z].end_pfn, M_REC_BITS);
		if (mc->zones[z].end_pfn > zend)
			zend = mc->zones[z].end_pfn;
	}
	if (pp->pfn_max != 0 && pp->pfn_max >= zend)
		return fr_err(err, "%s: event %llu (t=%.9f s): pfn %#llx order %u lies beyond the machine (last pfn %#llx%s)",
			      meta->path, (unsigned long long)pp->max_ev_index, (double)pp->max_ev_ts / 1e9,
			      (unsigned long long)pp->max_ev_pfn, pp->max_ev_order,
			      (unsigned long long)(zend - 1),
			      o && o->mem_bytes ? ", from --mem" : meta->snaps.blob[FR_SNAP_ZONEINFO_START].data ? ", from zoneinfo.start" : "");
	end = (zend + (1ull << meta->max_order) - 1) & ~((1ull << meta->max_order) - 1);	/* as model_create() */
	if (kpf) {
		cls = classify_kpf(mc, meta, pp, end, err);
		if (!cls)
			return -1;
	} else {
		ff = first_frees(pp, &nff);
		if (!ff)
			return fr_err(err, "out of memory");
	}
	drop_prepass_maps(pp);
	mc->model = model_create(mc->zones, mc->nzones, pp->max_cpu + 1 > meta->nr_cpus ? pp->max_cpu + 1 : meta->nr_cpus,
				 meta->pageblock_order, meta->max_order, meta->spb_order);
	if (!mc->model) {
		free(cls);
		free(ff);
		return fr_err(err, "%s: cannot build a model of this machine (zones or geometry out of range, or out of memory)",
			      meta->path);
	}
	if (kpf) {
		int rc = seed_from_kpf(mc, meta, pp, cls, err);
		free(cls);
		if (rc < 0)
			return -1;
	} else {
		seed_from_trace(mc, pp, ff, nff);
		free(ff);
	}
	model_seed_finish(mc->model);
	for (uint64_t b = 0; b < mc->model->geo.nr_pageblocks; b++) {
		const struct m_pb *pb = &mc->model->pb[b];
		int z = model_zone_of(mc->model, b << mc->model->geo.pageblock_order);
		if (z >= 0 && pb->npresent)
			mc->label_blocks[z][pb->label]++;
	}
	for (int z = 0; z < mc->nzones; z++)
		mc->seeded_free_pages += mc->model->zone[z].free_pages;
	mc->hole_pages = mc->model->geo.end_pfn - mc->model->usable_pages;
	return 0;
}

void fr_machine_free(struct fr_machine *mc)
{
	model_destroy(mc->model);
	mc->model = NULL;
}

struct fr_model *model_clone(const struct fr_model *m)
{
	struct fr_model *c = malloc(sizeof(*c));
	size_t npcp = (size_t)m->geo.nr_cpus * m->geo.nr_zones * M_NPCP;

	if (!c)
		return NULL;
	*c = *m;
	c->page = model_page_alloc(m->geo.end_pfn);
	c->pb = malloc(m->geo.nr_pageblocks * sizeof(*c->pb));
	c->spb = malloc((m->geo.nr_spbs ? m->geo.nr_spbs : 1) * sizeof(*c->spb));
	c->pcp = calloc(npcp, sizeof(*c->pcp));
	if (!c->page || !c->pb || !c->spb || !c->pcp) {
		free(c->page);
		free(c->pb);
		free(c->spb);
		free(c->pcp);
		free(c);
		return NULL;
	}
	memcpy(c->page, m->page, M_PAGE_BYTES(m->geo.end_pfn));
	memcpy(c->pb, m->pb, m->geo.nr_pageblocks * sizeof(*c->pb));
	memcpy(c->spb, m->spb, (m->geo.nr_spbs ? m->geo.nr_spbs : 1) * sizeof(*c->spb));
	for (int z = 0; z < M_MAX_ZONES; z++)
		c->zone[z].z.name = c->zone[z].name;
	return c;
}
