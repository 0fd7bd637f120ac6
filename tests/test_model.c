// SPDX-License-Identifier: GPL-2.0
/*
 * test_model.c - exact placements on tiny hand-built machines, through the
 * real vanilla.so and recorded.so modules.  Each test names the kernel
 * function it mirrors.  Every test ends with the invariant checker.
 */
#include "fr_test.h"
#include "model.h"
#include "policy_load.h"

struct fix {
	struct fr_model *m;
	struct fr_policy_inst pi;
	void *self;
	const struct frp_model_ops *ops;
};

static void counter_cb(void *arg, const char *name, uint64_t d)
{
	/* counters land in a tiny table on the fixture's side */
	struct { char n[16][48]; uint64_t v[16]; int k; } *t = arg;
	for (int i = 0; i < t->k; i++)
		if (!strcmp(t->n[i], name)) {
			t->v[i] += d;
			return;
		}
	if (t->k < 16) {
		snprintf(t->n[t->k], 48, "%s", name);
		t->v[t->k++] = d;
	}
}

static struct { char n[16][48]; uint64_t v[16]; int k; } ctrs;

/* ops->counter: a slot in the same table (NULL when full: the model's sink) */
static uint64_t *counter_slot_cb(void *arg, const char *name)
{
	struct { char n[16][48]; uint64_t v[16]; int k; } *t = arg;
	counter_cb(arg, name, 0);
	for (int i = 0; i < t->k; i++)
		if (!strcmp(t->n[i], name))
			return &t->v[i];
	return NULL;
}

static uint64_t ctr(const char *name)
{
	for (int i = 0; i < ctrs.k; i++)
		if (!strcmp(ctrs.n[i], name))
			return ctrs.v[i];
	return 0;
}

/* One Normal zone of `pages` pages from pfn 0, all present; labels from `label`;
 * pfns [0, nalloc) allocated with content `amt`. */
static void build(struct fix *f, uint64_t pages, int label, uint64_t nalloc, int amt, const char *spec)
{
	struct m_zone_spec z;
	struct fr_error err;
	char msg[256] = "";

	memset(f, 0, sizeof(*f));
	memset(&z, 0, sizeof(z));
	memset(&ctrs, 0, sizeof(ctrs));
	snprintf(z.name, sizeof(z.name), "Normal");
	z.start_pfn = 0;
	z.end_pfn = pages;
	z.managed = pages;
	z.pcp_batch = 63;
	f->m = model_create(&z, 1, 2, 9, 10, 18);
	assert_non_null(f->m);
	for (uint64_t p = 0; p < pages; p++)
		model_seed_present(f->m, p);
	for (uint64_t p = 0; p < pages; p += 512)
		model_set_label(f->m, p, label);
	for (uint64_t p = 0; p < nalloc; p++)
		model_seed_alloc(f->m, p, 0, amt);
	model_seed_finish(f->m);
	f->m->on_count = counter_cb;
	f->m->on_counter = counter_slot_cb;
	f->m->cb_arg = &ctrs;
	f->ops = model_ops();
	if (fr_policy_load(spec, &f->pi, &err) < 0)
		fail_msg("%s", err.msg);
	f->self = f->pi.pol->init((struct frp_model *)f->m, f->ops, (const char *const *)f->pi.vals, msg, sizeof(msg));
	assert_non_null(f->self);
}

static void check_and_free(struct fix *f)
{
	char msg[400] = "";
	uint64_t v = model_check(f->m, msg, sizeof(msg));
	if (v)
		fail_msg("invariant checker: %llu violations, first: %s", (unsigned long long)v, msg);
	f->pi.pol->fini(f->self);
	fr_policy_unload(&f->pi);
	model_destroy(f->m);
}

static uint64_t alloc(struct fix *f, unsigned order, int mt)
{
	struct frp_request rq;
	memset(&rq, 0, sizeof(rq));
	rq.order = (uint8_t)order;
	rq.mt = (int8_t)mt;
	rq.gfp = FRP_GFP_DIRECT_RECLAIM | FRP_GFP_KSWAPD_RECLAIM;
	uint64_t b = f->pi.pol->alloc(f->self, &rq);
	if (b != FRP_NONE) {
		assert_int_equal(PW_STATE(pw_get(f->m, b)), PW_TAKEN);
		model_commit_alloc(f->m, b, order, mt, b);
	}
	return b;
}

static void release(struct fix *f, uint64_t pfn)
{
	unsigned order = PW_ORDER(pw_get(f->m, pfn));
	model_uncommit(f->m, pfn);
	f->pi.pol->free(f->self, pfn, order, 0, 0);
}

static unsigned free_order_at(struct fix *f, uint64_t pfn)
{
	uint64_t w = pw_get(f->m, pfn);
	return PW_STATE(w) == PW_FREE ? PW_ORDER(w) : 99;
}

/* The initial state's labels are set before model_seed_finish(), which
 * counts them per SPB (nr_label, what spb's label lists trust); a relabel
 * after it moves one count.  Before the fix, the early relabels were
 * counted twice (UNMOVABLE 4, MOVABLE 5 here): the checker now compares
 * nr_label, nr_has and nr_free with the pageblocks. */
static void test_initial_label_counts(void **state)
{
	struct m_zone_spec z;
	char msg[400] = "";
	(void)state;

	memset(&z, 0, sizeof(z));
	snprintf(z.name, sizeof(z.name), "Normal");
	z.end_pfn = z.managed = 4096;
	z.pcp_batch = 63;
	struct fr_model *m = model_create(&z, 1, 2, 9, 10, 18);
	assert_non_null(m);
	model_seed_present_range(m, 0, 4096);
	model_set_label(m, 1 * 512, FRP_MT_UNMOVABLE);
	model_set_label(m, 2 * 512, FRP_MT_UNMOVABLE);
	model_set_label(m, 5 * 512, FRP_MT_RECLAIMABLE);
	model_seed_alloc(m, 2 * 512, 0, FRP_MT_UNMOVABLE);
	model_seed_finish(m);
	const struct frp_spb_info *i = &m->spb[0].info;
	assert_int_equal(i->total_pageblocks, 8);
	assert_int_equal(i->nr_label[FRP_MT_UNMOVABLE], 2);
	assert_int_equal(i->nr_label[FRP_MT_MOVABLE], 5);
	assert_int_equal(i->nr_label[FRP_MT_RECLAIMABLE], 1);
	assert_int_equal(i->nr_has[FRP_MT_UNMOVABLE], 1);
	assert_int_equal(i->nr_free, 7);
	assert_int_equal(model_check(m, msg, sizeof(msg)), 0);
	model_set_label(m, 2 * 512, FRP_MT_MOVABLE);
	assert_int_equal(i->nr_label[FRP_MT_UNMOVABLE], 1);
	assert_int_equal(i->nr_label[FRP_MT_MOVABLE], 6);
	assert_int_equal(model_check(m, msg, sizeof(msg)), 0);
	/* a count that is off is reported */
	m->spb[0].info.nr_label[FRP_MT_RECLAIMABLE]++;
	assert_int_not_equal(model_check(m, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "nr_label[2] 2, pageblocks say 1"));
	m->spb[0].info.nr_label[FRP_MT_RECLAIMABLE]--;
	model_destroy(m);
}

/* __free_pages_core() at boot: FPI_TO_TAIL, ascending pfn: 4096 pages = four
 * order-10 chunks, the head of the list is the lowest pfn. */
static void test_boot_state(void **state)
{
	struct fix f;
	(void)state;
	build(&f, 4096, FRP_MT_MOVABLE, 0, 0, "vanilla:pcp=off");
	assert_int_equal(f.m->zone[0].nr_free[10], 4);
	assert_int_equal(f.ops->zone_list_head((struct frp_model *)f.m, 0, 10, FRP_MT_MOVABLE), 0);
	assert_int_equal(f.m->spb[0].info.category, FRP_SPB_EMPTY);
	check_and_free(&f);
}

/* ops->zone_free_orders() is bit mt * 16 + order of every non-empty
 * zone-wide list (mt < 4), as zone_list_count() says, through splits,
 * merges, a steal and a claim; the checker sees a mask that is off. */
static void assert_zone_mask(struct fix *f)
{
	uint64_t want = 0;
	for (unsigned o = 0; o <= 10; o++)
		for (int mt = 0; mt < 4; mt++)
			if (f->ops->zone_list_count((struct frp_model *)f->m, 0, o, mt))
				want |= 1ull << (mt * 16 + o);
	assert_int_equal(f->ops->zone_free_orders((struct frp_model *)f->m, 0), want);
}

static void test_zone_free_orders(void **state)
{
	struct fix f;
	uint64_t b[64];
	char msg[400] = "";
	(void)state;
	build(&f, 4096, FRP_MT_MOVABLE, 0, 0, "vanilla:pcp=off");
	assert_int_equal(f.ops->zone_free_orders((struct frp_model *)f.m, 0), 1ull << (FRP_MT_MOVABLE * 16 + 10));
	for (int i = 0; i < 64; i++) {	/* splits, then a claim and steals for the other types */
		b[i] = alloc(&f, (unsigned)(i % 4), i % 3);
		assert_int_not_equal(b[i], FRP_NONE);
		assert_zone_mask(&f);
	}
	assert_int_not_equal(f.ops->zone_free_orders((struct frp_model *)f.m, 0) & 0xffff, 0); /* unmovable lists */
	for (int i = 63; i >= 0; i -= 2) {	/* merges */
		release(&f, b[i]);
		assert_zone_mask(&f);
	}
	assert_int_equal(model_check(f.m, msg, sizeof(msg)), 0);
	f.m->zone[0].free_mask ^= 1ull << (FRP_MT_RECLAIMABLE * 16 + 5);
	assert_int_not_equal(model_check(f.m, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "free_mask disagrees"));
	f.m->zone[0].free_mask ^= 1ull << (FRP_MT_RECLAIMABLE * 16 + 5);
	for (int i = 62; i >= 0; i -= 2)
		release(&f, b[i]);
	/* all merged back into order-10 chunks, on the lists of the labels the claims left */
	assert_int_equal(f.ops->zone_free_orders((struct frp_model *)f.m, 0) & ~(0x1000100010001ull << 10), 0);
	assert_zone_mask(&f);
	check_and_free(&f);
}

/* __rmqueue_smallest() + expand(): the low piece goes to the caller, each
 * upper half to the HEAD of its order's list, so the next small request
 * takes the neighbouring page. */
static void test_expand_split(void **state)
{
	struct fix f;
	(void)state;
	build(&f, 4096, FRP_MT_MOVABLE, 0, 0, "vanilla:pcp=off");
	assert_int_equal(alloc(&f, 0, FRP_MT_MOVABLE), 0);
	for (unsigned o = 0; o < 10; o++)
		assert_int_equal(free_order_at(&f, 1ull << o), o);
	assert_int_equal(alloc(&f, 0, FRP_MT_MOVABLE), 1);
	assert_int_equal(alloc(&f, 1, FRP_MT_MOVABLE), 2);
	assert_int_equal(alloc(&f, 3, FRP_MT_MOVABLE), 8);
	assert_int_equal(alloc(&f, 2, FRP_MT_MOVABLE), 4);
	assert_int_equal(f.m->zone[0].free_pages, 4096 - 1 - 1 - 2 - 8 - 4);
	check_and_free(&f);
}

/* __free_one_page(): buddies of the same order merge back up to order 10. */
static void test_free_merge(void **state)
{
	struct fix f;
	(void)state;
	build(&f, 4096, FRP_MT_MOVABLE, 0, 0, "vanilla:pcp=off");
	uint64_t a = alloc(&f, 0, FRP_MT_MOVABLE), b = alloc(&f, 0, FRP_MT_MOVABLE);
	uint64_t c = alloc(&f, 1, FRP_MT_MOVABLE);
	release(&f, b);
	assert_int_equal(free_order_at(&f, 1), 0);	/* buddy 0 still allocated */
	release(&f, a);
	assert_int_equal(free_order_at(&f, 0), 1);	/* 0+1 merged, 2 still allocated */
	release(&f, c);
	assert_int_equal(free_order_at(&f, 0), 10);
	assert_int_equal(f.m->zone[0].nr_free[10], 4);
	assert_int_equal(f.m->spb[0].info.category, FRP_SPB_EMPTY);
	check_and_free(&f);
}

/* buddy_merge_likely(): a chunk whose parent's buddy is free goes to the
 * list TAIL; otherwise to the head. */
static void test_free_tail_when_merge_likely(void **state)
{
	struct fix f;
	(void)state;
	build(&f, 4096, FRP_MT_MOVABLE, 0, 0, "vanilla:pcp=off");
	uint64_t p0 = alloc(&f, 0, FRP_MT_MOVABLE);	/* 0 */
	uint64_t p1 = alloc(&f, 0, FRP_MT_MOVABLE);	/* 1 */
	uint64_t p2 = alloc(&f, 0, FRP_MT_MOVABLE);	/* 2 */
	uint64_t p3 = alloc(&f, 0, FRP_MT_MOVABLE);	/* 3 */
	assert_int_equal(p3, 3);
	/* free 2: buddy 3 allocated; parent [2,3]'s buddy [0,1] allocated: head */
	release(&f, p2);
	/* free 0: buddy 1 allocated; parent [0,1]'s buddy [2,3] is not a free order-1 chunk: head */
	release(&f, p0);
	assert_int_equal(f.ops->spb_list_head((struct frp_model *)f.m, 0, 0, FRP_MT_MOVABLE), 0);
	/* free 3: merges with 2 into order 1 at 2; its parent [0..3]'s buddy [4..7] is a
	 * free order-2 chunk -> TAIL of the order-1 list */
	release(&f, p3);
	assert_int_equal(free_order_at(&f, 2), 1);
	uint64_t head = f.ops->spb_list_head((struct frp_model *)f.m, 0, 1, FRP_MT_MOVABLE);
	uint64_t last = head;
	while (f.ops->list_next((struct frp_model *)f.m, last) != FRP_NONE)
		last = f.ops->list_next((struct frp_model *)f.m, last);
	assert_int_equal(last, 2);
	release(&f, p1);
	check_and_free(&f);
}

/* try_to_claim_block(), current_order >= pageblock_order: an UNMOVABLE
 * request on an all-MOVABLE machine claims the largest free chunk whole,
 * relabels every pageblock it covers and takes its low end. */
static void test_claim_whole_block(void **state)
{
	struct fix f;
	(void)state;
	build(&f, 4096, FRP_MT_MOVABLE, 0, 0, "vanilla:pcp=off");
	assert_int_equal(alloc(&f, 0, FRP_MT_UNMOVABLE), 0);
	assert_int_equal(f.m->pb[0].label, FRP_MT_UNMOVABLE);
	assert_int_equal(f.m->pb[1].label, FRP_MT_UNMOVABLE);
	assert_int_equal(f.m->pb[2].label, FRP_MT_MOVABLE);
	assert_int_equal(ctr("claim_whole_block"), 1);
	/* the split remainder sits on UNMOVABLE lists now */
	assert_int_equal(free_order_at(&f, 512), 9);
	assert_int_equal(PW_MT(pw_get(f.m, 512)), FRP_MT_UNMOVABLE);
	assert_int_equal(f.m->spb[0].info.category, FRP_SPB_TAINTED);
	check_and_free(&f);
}

/* try_to_claim_block() below pageblock order: free + alike >= 256 claims
 * the block (__move_freepages_block, then __rmqueue_smallest inside it). */
static void test_claim_partial_block(void **state)
{
	struct fix f;
	(void)state;
	/* one MOVABLE pageblock with 100 movable pages allocated, 412 free */
	build(&f, 512, FRP_MT_MOVABLE, 100, FRP_MT_MOVABLE, "vanilla:pcp=off");
	/* UNMOVABLE request: alike = 512 - (412 + 100) = 0; free 412 >= 256: claim */
	uint64_t p = alloc(&f, 0, FRP_MT_UNMOVABLE);
	assert_int_equal(ctr("claim_block"), 1);
	assert_int_equal(f.m->pb[0].label, FRP_MT_UNMOVABLE);
	/* smallest chunk >= order 0 inside the block: 100..103 is order 2 (100 = 0b1100100),
	 * the lowest smallest chunk after the tail-moves in ascending pfn */
	assert_int_equal(p, 100);
	check_and_free(&f);
}

/* __rmqueue_claim() refuses below the half-block threshold, then
 * __rmqueue_steal() takes the SMALLEST foreign chunk and leaves the label. */
static void test_steal(void **state)
{
	struct fix f;
	(void)state;
	/* one UNMOVABLE pageblock, 300 unmovable pages allocated, 212 free:
	 * chunks 300(o2) 304(o4) 320(o6) 384(o7) */
	build(&f, 512, FRP_MT_UNMOVABLE, 300, FRP_MT_UNMOVABLE, "vanilla:pcp=off");
	assert_int_equal(free_order_at(&f, 300), 2);
	assert_int_equal(free_order_at(&f, 384), 7);
	uint64_t p = alloc(&f, 0, FRP_MT_MOVABLE);
	assert_int_equal(p, 300);
	assert_int_equal(ctr("claim_refused_threshold"), 3);	/* orders 7, 6, 4 */
	assert_int_equal(ctr("steal"), 1);
	assert_int_equal(f.m->pb[0].label, FRP_MT_UNMOVABLE);
	assert_int_equal(free_order_at(&f, 301), 0);
	assert_int_equal(PW_MT(pw_get(f.m, 301)), FRP_MT_UNMOVABLE);
	check_and_free(&f);
}

/* get_page_from_freelist() with ALLOC_NOFRAGMENT: a Normal-zone UNMOVABLE
 * request prefers a same-type page in DMA32 over polluting Normal. */
static void test_nofragment_zone_fallback(void **state)
{
	struct m_zone_spec z[2];
	struct fr_model *m;
	struct fr_policy_inst pi;
	struct fr_error err;
	char msg[256];
	(void)state;
	memset(z, 0, sizeof(z));
	snprintf(z[0].name, 16, "DMA32");
	z[0].start_pfn = 0; z[0].end_pfn = 2048; z[0].managed = 2048; z[0].pcp_batch = 63;
	snprintf(z[1].name, 16, "Normal");
	z[1].start_pfn = 2048; z[1].end_pfn = 4096; z[1].managed = 2048; z[1].pcp_batch = 63;
	m = model_create(z, 2, 1, 9, 10, 18);
	assert_non_null(m);
	for (uint64_t p = 0; p < 4096; p++)
		model_seed_present(m, p);
	model_set_label(m, 0, FRP_MT_UNMOVABLE);	/* DMA32 has one UNMOVABLE block */
	/* every Normal pageblock holds one movable page: no whole free pageblock
	 * there, so ALLOC_NOFRAGMENT (claim only >= pageblock_order) finds nothing */
	for (uint64_t p = 2048; p < 4096; p += 512)
		model_seed_alloc(m, p, 0, FRP_MT_MOVABLE);
	model_seed_finish(m);
	m->on_count = counter_cb;
	m->on_counter = counter_slot_cb;
	memset(&ctrs, 0, sizeof(ctrs));
	m->cb_arg = &ctrs;
	assert_int_equal(fr_policy_load("vanilla:pcp=off", &pi, &err), 0);
	void *self = pi.pol->init((struct frp_model *)m, model_ops(), (const char *const *)pi.vals, msg, sizeof(msg));
	struct frp_request rq = { .order = 0, .mt = FRP_MT_UNMOVABLE, .zone = 1,
				  .gfp = FRP_GFP_DIRECT_RECLAIM };
	uint64_t b = pi.pol->alloc(self, &rq);
	assert_int_equal(b, 0);			/* DMA32's UNMOVABLE block, not a claim in Normal */
	assert_int_equal(ctr("zone_fallback"), 1);
	assert_int_equal(m->pb[2048 >> 9].label, FRP_MT_MOVABLE);
	model_commit_alloc(m, b, 0, FRP_MT_UNMOVABLE, b);
	assert_int_equal(model_check(m, msg, sizeof(msg)), 0);
	pi.pol->fini(self);
	fr_policy_unload(&pi);
	model_destroy(m);
}

/* recorded: a misaligned or out-of-machine block is refused, never placed. */
static void test_recorded_take_at(void **state)
{
	struct fix f;
	struct frp_request rq;
	(void)state;
	build(&f, 4096, FRP_MT_MOVABLE, 0, 0, "recorded");
	memset(&rq, 0, sizeof(rq));
	rq.rec_pfn = 1235;		/* not aligned to order 1 */
	rq.order = 1;
	rq.mt = FRP_MT_MOVABLE;
	assert_int_equal(f.pi.pol->alloc(f.self, &rq), FRP_NONE);
	rq.rec_pfn = 4096;		/* beyond the machine */
	rq.order = 0;
	assert_int_equal(f.pi.pol->alloc(f.self, &rq), FRP_NONE);
	assert_int_equal(ctr("overlap"), 2);
	assert_int_equal(f.m->zone[0].free_pages, 4096);
	check_and_free(&f);
}

/* recorded: an aligned block anywhere inside a free chunk */
static void test_recorded_carve(void **state)
{
	struct fix f;
	struct frp_request rq;
	(void)state;
	build(&f, 4096, FRP_MT_MOVABLE, 0, 0, "recorded");
	memset(&rq, 0, sizeof(rq));
	rq.rec_pfn = 1236;
	rq.order = 2;
	rq.mt = FRP_MT_MOVABLE;
	uint64_t b = f.pi.pol->alloc(f.self, &rq);
	assert_int_equal(b, 1236);
	model_commit_alloc(f.m, b, 2, FRP_MT_MOVABLE, b);
	assert_int_equal(f.m->zone[0].free_pages, 4092);
	rq.rec_pfn = 1237;
	rq.order = 0;
	assert_int_equal(f.pi.pol->alloc(f.self, &rq), FRP_NONE);	/* overlaps */
	assert_int_equal(ctr("overlap"), 1);
	release(&f, 1236);
	assert_int_equal(f.m->zone[0].nr_free[10], 4);
	check_and_free(&f);
}

/* Per-CPU lists (rmqueue_pcplist / rmqueue_bulk): the first order-0
 * request refills a batch in buddy order and hands out the head; the next
 * request is served from the list without touching the buddy. */
static void test_pcp_refill(void **state)
{
	struct fix f;
	(void)state;
	build(&f, 4096, FRP_MT_MOVABLE, 0, 0, "vanilla");
	assert_int_equal(alloc(&f, 0, FRP_MT_MOVABLE), 0);
	assert_int_equal(ctr("pcp_refill"), 1);
	uint64_t on_pcp = f.m->pcp_pages_total;
	assert_true(on_pcp >= 62);
	assert_int_equal(alloc(&f, 0, FRP_MT_MOVABLE), 1);
	assert_int_equal(ctr("pcp_refill"), 1);
	assert_int_equal(f.m->pcp_pages_total, on_pcp - 1);
	release(&f, 0);			/* goes to the pcp head: LIFO */
	assert_int_equal(PW_STATE(pw_get(f.m, 0)), PW_PCP);
	assert_int_equal(alloc(&f, 0, FRP_MT_MOVABLE), 0);
	f.pi.pol->drain(f.self);
	assert_int_equal(f.m->pcp_pages_total, 0);
	check_and_free(&f);
}

int main(void)
{
	setenv("FRAGREPLAY_POLICY_PATH", "", 0);
	{
		char p[512];
		snprintf(p, sizeof(p), "%s/policies", fr_test_builddir());
		setenv("FRAGREPLAY_POLICY_PATH", p, 1);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_state),
		cmocka_unit_test(test_initial_label_counts),
		cmocka_unit_test(test_expand_split),
		cmocka_unit_test(test_zone_free_orders),
		cmocka_unit_test(test_free_merge),
		cmocka_unit_test(test_free_tail_when_merge_likely),
		cmocka_unit_test(test_claim_whole_block),
		cmocka_unit_test(test_claim_partial_block),
		cmocka_unit_test(test_steal),
		cmocka_unit_test(test_nofragment_zone_fallback),
		cmocka_unit_test(test_recorded_take_at),
		cmocka_unit_test(test_recorded_carve),
		cmocka_unit_test(test_pcp_refill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
