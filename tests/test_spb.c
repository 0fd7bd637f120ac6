// SPDX-License-Identifier: GPL-2.0
/*
 * test_spb.c - the spb policy (policies/spb.c), one test per switch.
 *
 * Each test builds a tiny machine by hand (one Normal zone of a few
 * superpageblocks of 2^12 pages = 8 pageblocks), drives the real spb.so
 * through its vtable the way the engine does (alloc, commit, free, tick),
 * checks that the mechanism does what its patch says, then turns the
 * switch off and checks the mechanism is gone.  Each test names the patch
 * it covers: seeds 000..004 are ../shared/seeds/, the rest are numbered as
 * in ../shared/design/spb-series.md.  Every test ends with the model's
 * invariant checker.  The last tests replay the shipped recordings.
 */
#include <jansson.h>
#include "fr_test.h"
#include "model.h"
#include "policy_load.h"

#define SPBO 12
#define SPBP (1u << SPBO)	/* pages per SPB */
#define PB 512u			/* pages per pageblock */

#define GFP_KERNEL 0xcc0ull
#define GFP_ATOMIC 0x820ull
#define GFP_NOWAIT 0x2800ull

struct fix {
	struct fr_model *m;
	struct fr_policy_inst pi;
	void *self;
	const struct frp_model_ops *ops;
};

static struct {
	char n[128][48];
	uint64_t v[128];
	int k;
} ctrs;

static void counter_cb(void *arg, const char *name, uint64_t d)
{
	(void)arg;
	for (int i = 0; i < ctrs.k; i++)
		if (!strcmp(ctrs.n[i], name)) {
			ctrs.v[i] += d;
			return;
		}
	if (ctrs.k < 128) {
		snprintf(ctrs.n[ctrs.k], 48, "%s", name);
		ctrs.v[ctrs.k++] = d;
	}
}

/* ops->counter: a slot in the same table (NULL when full: the model's sink) */
static uint64_t *counter_slot_cb(void *arg, const char *name)
{
	counter_cb(arg, name, 0);
	for (int i = 0; i < ctrs.k; i++)
		if (!strcmp(ctrs.n[i], name))
			return &ctrs.v[i];
	return NULL;
}

static uint64_t ctr(const char *name)
{
	for (int i = 0; i < ctrs.k; i++)
		if (!strcmp(ctrs.n[i], name))
			return ctrs.v[i];
	return 0;
}

typedef void (*setup_fn)(struct fr_model *m);

/* ---- setup helpers: run between model_seed_present and model_seed_finish ---- */

static void label(struct fr_model *m, unsigned pb, int mt)
{
	model_set_label(m, (uint64_t)pb * PB, mt);
}

/* allocate [pfn, pfn + n) as order-0 blocks with content mt */
static void fill(struct fr_model *m, uint64_t pfn, uint64_t n, int mt)
{
	for (uint64_t p = pfn; p < pfn + n; p++)
		model_seed_alloc(m, p, 0, mt);
}

/* pageblock pb labelled mt and wholly allocated with content mt */
static void full(struct fr_model *m, unsigned pb, int mt)
{
	label(m, pb, mt);
	fill(m, (uint64_t)pb * PB, PB, mt);
}

static void build_ex(struct fix *f, unsigned nspb, const char *spec, setup_fn setup, uint32_t pcp_high)
{
	struct m_zone_spec z;
	struct fr_error err;
	char msg[256] = "";
	uint64_t pages = (uint64_t)nspb * SPBP;

	memset(f, 0, sizeof(*f));
	memset(&z, 0, sizeof(z));
	memset(&ctrs, 0, sizeof(ctrs));
	snprintf(z.name, sizeof(z.name), "Normal");
	z.start_pfn = 0;
	z.end_pfn = pages;
	z.managed = pages;
	z.pcp_batch = 63;
	z.pcp_high_min = z.pcp_high_max = pcp_high;
	f->m = model_create(&z, 1, 2, 9, 10, SPBO);
	assert_non_null(f->m);
	for (uint64_t p = 0; p < pages; p++)
		model_seed_present(f->m, p);
	if (setup)
		setup(f->m);
	model_seed_finish(f->m);
	f->m->on_count = counter_cb;
	f->m->on_counter = counter_slot_cb;
	f->m->cb_arg = NULL;
	f->ops = model_ops();
	if (fr_policy_load(spec, &f->pi, &err) < 0)
		fail_msg("%s", err.msg);
	f->self = f->pi.pol->init((struct frp_model *)f->m, f->ops, (const char *const *)f->pi.vals, msg,
				  sizeof(msg));
	if (!f->self)
		fail_msg("init: %s", msg);
}

static void build(struct fix *f, unsigned nspb, const char *spec, setup_fn setup)
{
	build_ex(f, nspb, spec, setup, 0);
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

/* One traced allocation, as the engine runs it: tick if time advanced, place, commit. */
static uint64_t alloc_at(struct fix *f, unsigned order, int mt, uint64_t gfp, unsigned cpu, uint64_t now)
{
	struct frp_request rq;

	if (now > f->m->now) {
		f->m->now = now;
		f->pi.pol->tick(f->self, now);
	}
	memset(&rq, 0, sizeof(rq));
	rq.order = (uint8_t)order;
	rq.mt = (int8_t)mt;
	rq.gfp = gfp;
	rq.cpu = cpu;
	rq.now_ns = now;
	uint64_t b = f->pi.pol->alloc(f->self, &rq);
	if (b != FRP_NONE) {
		assert_int_equal(PW_STATE(pw_get(f->m, b)), PW_TAKEN);
		assert_int_equal(PW_ORDER(pw_get(f->m, b)), order);
		model_commit_alloc(f->m, b, order, mt, b);
	}
	return b;
}

static uint64_t alloc(struct fix *f, unsigned order, int mt, uint64_t gfp)
{
	return alloc_at(f, order, mt, gfp, 0, f->m->now);
}

static void release_on(struct fix *f, uint64_t pfn, unsigned cpu)
{
	unsigned order = PW_ORDER(pw_get(f->m, pfn));
	model_uncommit(f->m, pfn);
	f->pi.pol->free(f->self, pfn, order, cpu, f->m->now);
}

static void tick(struct fix *f, uint64_t now)
{
	f->m->now = now;
	f->pi.pol->tick(f->self, now);
}

static int cat(struct fix *f, unsigned spb)
{
	return f->m->spb[spb].info.category;
}

static unsigned spb_of(uint64_t pfn)
{
	return (unsigned)(pfn / SPBP);
}

#define S(x) ((uint64_t)(x) * 1000000000ull)

/* ======================================================================== */

/*
 * Seed 000 (v1 31/45) "cross-non-movable buddy borrow within tainted SPBs":
 * a RECLAIMABLE request, with free UNMOVABLE buddies only inside a tainted
 * SPB (no RECL buddy, no whole free pageblock, no MOVABLE chunk), is served
 * by Pass 2c from the UNMOV list, the pageblock keeps its UNMOVABLE label,
 * the page goes back to the UNMOV list when freed, and nothing new is
 * tainted.  pass2c=off: Pass 3 taints the empty SPB.
 */
static void setup_2c(struct fr_model *m)
{
	for (unsigned pb = 0; pb < 8; pb++) {	/* SPB0: half of every U pageblock used */
		label(m, pb, FRP_MT_UNMOVABLE);
		fill(m, pb * PB, 256, FRP_MT_UNMOVABLE);
	}
}

static void test_seed000_pass2c(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 3, "spb:pcp=off", setup_2c);
	assert_int_equal(cat(&f, 0), FRP_SPB_TAINTED);
	assert_int_equal(cat(&f, 1), FRP_SPB_EMPTY);
	uint64_t p = alloc(&f, 0, FRP_MT_RECLAIMABLE, GFP_KERNEL | FRP_GFP_RECLAIMABLE);
	assert_int_equal(p, 256);		/* largest sub-pageblock UNMOV buddy, order 8 */
	assert_int_equal(ctr("PASS_2C"), 1);
	assert_int_equal(ctr("PASS_3"), 0);
	assert_int_equal(f.m->pb[0].label, FRP_MT_UNMOVABLE);	/* no relabel */
	assert_true(f.m->pb[0].has & FRP_HAS(FRP_MT_RECLAIMABLE)); /* __spb_set_has_type */
	assert_int_equal(PW_MT(pw_get(f.m, 257)), FRP_MT_UNMOVABLE); /* split remainder on the source list */
	assert_int_equal(f.m->fresh_taints, 0);
	assert_int_equal(cat(&f, 1), FRP_SPB_EMPTY);
	release_on(&f, p, 0);			/* back to its native (UNMOV) list */
	assert_int_equal(PW_STATE(pw_get(f.m, 256)), PW_FREE);
	assert_int_equal(PW_ORDER(pw_get(f.m, 256)), 8);
	assert_int_equal(PW_MT(pw_get(f.m, 256)), FRP_MT_UNMOVABLE);
	check_and_free(&f);

	build(&f, 3, "spb:pcp=off,pass2c=off", setup_2c);
	p = alloc(&f, 0, FRP_MT_RECLAIMABLE, GFP_KERNEL | FRP_GFP_RECLAIMABLE);
	assert_int_equal(spb_of(p), 1);		/* the empty SPB */
	assert_int_equal(ctr("PASS_2C"), 0);
	assert_int_equal(ctr("PASS_3"), 1);
	assert_int_equal(ctr("fresh_taint_PASS_3"), 1);
	assert_int_equal(f.m->fresh_taints, 1);
	assert_int_equal(cat(&f, 1), FRP_SPB_TAINTED);
	assert_int_equal(f.m->pb[p / PB].label, FRP_MT_RECLAIMABLE); /* claimed whole */
	check_and_free(&f);
}

/*
 * 14/40 Pass 2 "claim_whole_block from tainted": an UNMOVABLE request with
 * no UNMOV buddy claims the tainted SPB's wholly free MOVABLE pageblock,
 * relabels it and taints nothing new.  pass2=off: Pass 3 taints an empty SPB.
 */
static void setup_2(struct fr_model *m)
{
	for (unsigned pb = 0; pb < 7; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);	/* pb 7 stays a free MOVABLE pageblock */
}

static void test_pass2_claim_whole_block(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 3, "spb:pcp=off", setup_2);
	assert_int_equal(f.m->spb[0].info.nr_free, 1);
	uint64_t p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 7 * PB);
	assert_int_equal(ctr("PASS_2"), 1);
	assert_int_equal(ctr("claim_whole_block"), 1);
	assert_int_equal(f.m->pb[7].label, FRP_MT_UNMOVABLE);
	assert_int_equal(f.m->fresh_taints, 0);
	check_and_free(&f);

	build(&f, 3, "spb:pcp=off,pass2=off", setup_2);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(spb_of(p), 1);
	assert_int_equal(ctr("PASS_2"), 0);
	assert_int_equal(ctr("PASS_3"), 1);
	assert_int_equal(f.m->pb[7].label, FRP_MT_MOVABLE);
	assert_int_equal(f.m->fresh_taints, 1);
	check_and_free(&f);
}

/*
 * 25/45 Pass 2b "skip pageblock compatibility threshold in tainted SPBs":
 * the tainted SPB has no free pageblock, only sub-pageblock MOVABLE chunks
 * in a pageblock 400/512 used by movable pages -- under the upstream 50 %
 * rule (free + alike = 112 < 256) a claim would be refused.  Pass 2b claims
 * it anyway (relabel to UNMOVABLE, smallest chunk inside).  pass2b=off:
 * Pass 2d borrows the chunk instead (no relabel); both off: Pass 3 taints.
 */
static void setup_2b(struct fr_model *m)
{
	for (unsigned pb = 0; pb < 7; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
	fill(m, 7 * PB, 400, FRP_MT_MOVABLE);	/* free: 3984(o4) 4000(o5) 4032(o6) */
}

static void test_pass2b_no_compat_gate(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 3, "spb:pcp=off", setup_2b);
	assert_int_equal(f.m->spb[0].info.nr_free, 0);
	uint64_t p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 3984);		/* smallest chunk of the claimed pageblock */
	assert_int_equal(ctr("PASS_2B"), 1);
	assert_int_equal(ctr("claim_block"), 1);
	assert_int_equal(ctr("spb_claim_block_refused_INSUFFICIENT_COMPAT"), 0);
	assert_int_equal(f.m->pb[7].label, FRP_MT_UNMOVABLE);
	assert_int_equal(f.m->fresh_taints, 0);
	check_and_free(&f);

	build(&f, 3, "spb:pcp=off,pass2b=off", setup_2b);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 4032);		/* Pass 2d: largest sub-pageblock MOVABLE chunk */
	assert_int_equal(ctr("PASS_2B"), 0);
	assert_int_equal(ctr("PASS_2D"), 1);
	assert_int_equal(f.m->pb[7].label, FRP_MT_MOVABLE);
	check_and_free(&f);

	build(&f, 3, "spb:pcp=off,pass2b=off,pass2d=off", setup_2b);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(spb_of(p), 1);
	assert_int_equal(ctr("PASS_3"), 1);
	assert_int_equal(f.m->fresh_taints, 1);
	check_and_free(&f);
}

/*
 * 42/45 (folded into v2 27/40) Pass 2d "cross-MOV borrow within tainted
 * SPBs": the UNMOVABLE request borrows a buddy from the MOVABLE list of the
 * tainted SPB, without relabeling; PB_has_unmovable records it, and the page
 * returns to the MOVABLE list on free.  pass2d=off: Pass 3 taints.
 */
static void test_pass2d_movable_borrow(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 3, "spb:pcp=off,pass2b=off", setup_2b);
	uint64_t p = alloc(&f, 1, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 4032);
	assert_int_equal(ctr("PASS_2D"), 1);
	assert_int_equal(f.m->pb[7].label, FRP_MT_MOVABLE);
	assert_true(f.m->pb[7].has & FRP_HAS(FRP_MT_UNMOVABLE));
	assert_int_equal(PW_MT(pw_get(f.m, 4034)), FRP_MT_MOVABLE);	/* remainder stays MOVABLE */
	assert_int_equal(f.m->fresh_taints, 0);
	release_on(&f, p, 0);
	assert_int_equal(PW_MT(pw_get(f.m, 4032)), FRP_MT_MOVABLE);
	assert_int_equal(PW_ORDER(pw_get(f.m, 4032)), 6);
	check_and_free(&f);

	build(&f, 3, "spb:pcp=off,pass2b=off,pass2d=off", setup_2b);
	p = alloc(&f, 1, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(spb_of(p), 1);
	assert_int_equal(ctr("PASS_2D"), 0);
	assert_int_equal(ctr("PASS_3"), 1);
	assert_int_equal(f.m->fresh_taints, 1);
	check_and_free(&f);
}

/*
 * 14/40 Pass 3 "whole pageblock from empty superpageblocks": with the
 * tainted SPB full, an UNMOVABLE request takes a pageblock of the empty SPB
 * (not the clean one).  pass3=off: the fast path fails, the slowpath drops
 * NOFRAGMENT (20/40) and __rmqueue_claim taints the clean SPB instead.
 */
static void setup_3(struct fr_model *m)
{
	for (unsigned pb = 0; pb < 8; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
	fill(m, SPBP, 1, FRP_MT_MOVABLE);	/* SPB1 clean, SPB2 empty */
}

static void test_pass3_empty_spb(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 3, "spb:pcp=off", setup_3);
	assert_int_equal(cat(&f, 1), FRP_SPB_CLEAN);
	uint64_t p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 2 * SPBP);
	assert_int_equal(ctr("PASS_3"), 1);
	assert_int_equal(cat(&f, 1), FRP_SPB_CLEAN);
	assert_int_equal(cat(&f, 2), FRP_SPB_TAINTED);
	check_and_free(&f);

	build(&f, 3, "spb:pcp=off,pass3=off", setup_3);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(spb_of(p), 1);
	assert_int_equal(ctr("PASS_3"), 0);
	assert_int_equal(ctr("slowpath_drop_nofragment"), 1);
	assert_int_equal(ctr("claim_nonpreferred"), 1);
	assert_int_equal(cat(&f, 1), FRP_SPB_TAINTED);
	assert_int_equal(cat(&f, 2), FRP_SPB_EMPTY);
	check_and_free(&f);
}

/*
 * 20/40 Pass 4 "fallback to non-preferred SPBs" (tracepoint: movable falls
 * back to tainted): with no clean or empty room, a movable request takes
 * the free MOVABLE pageblock of a tainted SPB above its reserve.  pass4=off:
 * nothing else can serve it and the allocation fails.
 */
static void setup_4(struct fr_model *m)
{
	for (unsigned pb = 0; pb < 8; pb++)
		if (pb != 1)
			full(m, pb, FRP_MT_UNMOVABLE);
	fill(m, SPBP, SPBP, FRP_MT_MOVABLE);	/* SPB1 clean and full */
}

static void test_pass4_movable_to_tainted(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp=off,reserve_min=0", setup_4);
	uint64_t p = alloc(&f, 0, FRP_MT_MOVABLE, GFP_KERNEL | FRP_GFP_MOVABLE);
	assert_int_equal(p, PB);
	assert_int_equal(ctr("PASS_4"), 1);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,reserve_min=0,pass4=off", setup_4);
	p = alloc(&f, 0, FRP_MT_MOVABLE, GFP_KERNEL | FRP_GFP_MOVABLE);
	assert_int_equal(p, FRP_NONE);
	assert_int_equal(ctr("PASS_4"), 0);
	check_and_free(&f);
}

/*
 * 14/40 Pass 1 hints (cpu_hint, then zone_hint) and the fullest-first walk:
 * the first request walks the tainted list fullest first, finds nothing of
 * order 2 in the fullest SPB, lands in the second and records it as the
 * CPU's slot; the next request goes to the slot.  hints=off: the walk starts
 * from the fullest SPB again.
 */
static void setup_hints(struct fr_model *m)
{
	for (unsigned pb = 0; pb < 16; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
}

static void setup_hints_holes(struct fr_model *m)
{
	/* like setup_hints but SPB0 has 2 free pages at 510, SPB1 256 at 4352 */
	for (unsigned pb = 0; pb < 16; pb++)
		label(m, pb, FRP_MT_UNMOVABLE);
	fill(m, 0, 510, FRP_MT_UNMOVABLE);
	fill(m, PB, 7 * PB, FRP_MT_UNMOVABLE);
	fill(m, SPBP, 256, FRP_MT_UNMOVABLE);
	fill(m, SPBP + PB, 7 * PB, FRP_MT_UNMOVABLE);
	(void)setup_hints;
}

static void test_pass1_hints(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 3, "spb:pcp=off", setup_hints_holes);
	uint64_t p = alloc(&f, 2, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, SPBP + 256);	/* SPB0 (fullest) has only an order-1 buddy */
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, SPBP + 260);	/* cpu hint: SPB1 */
	assert_int_equal(ctr("PASS_1"), 2);
	check_and_free(&f);

	build(&f, 3, "spb:pcp=off,hints=off", setup_hints_holes);
	p = alloc(&f, 2, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, SPBP + 256);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 510);		/* fullest first */
	check_and_free(&f);
}

/*
 * 19/40, 24/45 tainted reserve: movable allocations skip tainted SPBs with
 * nr_free <= spb_tainted_reserve() = max(reserve_min, total_pageblocks /
 * 32), keeping their last free pageblocks for non-movable claims.
 * reserve=off: the movable request takes the fullest tainted SPB's.
 */
static void setup_reserve(struct fr_model *m)
{
	full(m, 0, FRP_MT_UNMOVABLE);	/* SPB0: pb 1, 2 free -> nr_free 2 */
	for (unsigned pb = 3; pb < 8; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
	full(m, 8, FRP_MT_UNMOVABLE);	/* SPB1: pb 9..15 free -> nr_free 7 */
}

static void test_tainted_reserve(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp=off,reserve_min=2", setup_reserve);
	uint64_t p = alloc(&f, 0, FRP_MT_MOVABLE, GFP_KERNEL | FRP_GFP_MOVABLE);
	assert_int_equal(spb_of(p), 1);
	assert_int_equal(p, SPBP + PB);
	assert_int_equal(f.m->spb[0].info.nr_free, 2);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,reserve_min=2,reserve=off", setup_reserve);
	p = alloc(&f, 0, FRP_MT_MOVABLE, GFP_KERNEL | FRP_GFP_MOVABLE);
	assert_int_equal(p, PB);		/* the fullest tainted SPB */
	check_and_free(&f);
}

/*
 * 19/40 "aggressively pack non-movable allocs in tainted SPBs on large
 * systems": on a zone with more than 8 SPBs, __rmqueue_claim under
 * ALLOC_NOFRAGMENT may claim a sub-pageblock MOVABLE fragment of a tainted
 * SPB on the fast path.  packing=off (or 8 SPBs or fewer): the fast path
 * fails and only the slowpath, after dropping NOFRAGMENT, gets there.
 */
static unsigned packing_nspb;
static void setup_packing(struct fr_model *m)
{
	for (unsigned pb = 0; pb < 8; pb++)
		if (pb != 1)
			full(m, pb, FRP_MT_UNMOVABLE);
	fill(m, PB, 212, FRP_MT_MOVABLE);	/* pb 1: 300 free */
	fill(m, SPBP, (uint64_t)(packing_nspb - 1) * SPBP, FRP_MT_MOVABLE); /* the rest clean and full */
}

static void test_packing_large_systems(void **state)
{
	struct fix f;
	const char *base = "spb:pcp=off,pass2b=off,pass2c=off,pass2d=off";
	char spec[256];
	(void)state;

	packing_nspb = 9;
	build(&f, 9, base, setup_packing);
	uint64_t p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 724);		/* smallest chunk of the claimed pageblock */
	assert_int_equal(ctr("claim_preferred"), 1);
	assert_int_equal(ctr("slowpath_drop_nofragment"), 0);
	assert_int_equal(f.m->fresh_taints, 0);
	check_and_free(&f);

	snprintf(spec, sizeof(spec), "%s,packing=off", base);
	build(&f, 9, spec, setup_packing);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 724);
	assert_int_equal(ctr("slowpath_drop_nofragment"), 1);
	check_and_free(&f);

	packing_nspb = 8;			/* SPB_AGGRESSIVE_THRESHOLD: more than 8 */
	build(&f, 8, base, setup_packing);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 724);
	assert_int_equal(ctr("slowpath_drop_nofragment"), 1);
	check_and_free(&f);
}

/*
 * 11/40 "steer pageblock stealing to tainted superpageblocks": once an
 * atomic request has relaxed away ALLOC_NOFRAGMENT, __rmqueue_claim looks
 * at tainted SPBs before clean ones, so the claim lands in the tainted SPB
 * although the clean one comes first in address order.  steer_claim=off:
 * zone order, the clean SPB is tainted.
 */
static void setup_steer(struct fr_model *m)
{
	fill(m, 0, 212, FRP_MT_MOVABLE);		/* SPB0 clean: pb 0 has 300 free */
	fill(m, PB, 7 * PB, FRP_MT_MOVABLE);
	full(m, 8, FRP_MT_UNMOVABLE);			/* SPB1 tainted: pb 9 has 300 free */
	fill(m, 9 * PB, 212, FRP_MT_MOVABLE);
	for (unsigned pb = 10; pb < 16; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
}

static void test_steer_claim(void **state)
{
	struct fix f;
	const char *base = "spb:pcp=off,pass2b=off,pass2c=off,pass2d=off,packing=off";
	char spec[256];
	(void)state;

	build(&f, 2, base, setup_steer);
	uint64_t p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_ATOMIC);
	assert_int_equal(p, 9 * PB + 212);
	assert_int_equal(ctr("relax_DROP_NOFRAGMENT"), 1);
	assert_int_equal(f.m->fresh_taints, 0);
	assert_int_equal(cat(&f, 0), FRP_SPB_CLEAN);
	check_and_free(&f);

	snprintf(spec, sizeof(spec), "%s,steer_claim=off", base);
	build(&f, 2, spec, setup_steer);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_ATOMIC);
	assert_int_equal(p, 212);
	assert_int_equal(f.m->fresh_taints, 1);
	assert_int_equal(cat(&f, 0), FRP_SPB_TAINTED);
	check_and_free(&f);
}

/*
 * 20/40 + 35/40 relax sequence in get_page_from_freelist: a caller without
 * __GFP_DIRECT_RECLAIM and with __GFP_NORETRY is refused (NORETRY_SKIP)
 * rather than allowed to taint the clean SPB.  relax=off: upstream drops
 * ALLOC_NOFRAGMENT at the end of the walk and the clean SPB is tainted.
 */
static void setup_relax(struct fr_model *m)
{
	for (unsigned pb = 0; pb < 8; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
	fill(m, SPBP, 1, FRP_MT_MOVABLE);	/* SPB1 clean, no empty SPB */
}

static void test_relax_noretry_skip(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp=off", setup_relax);
	uint64_t p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_NOWAIT | FRP_GFP_NORETRY);
	assert_int_equal(p, FRP_NONE);
	assert_true(ctr("relax_NORETRY_SKIP") >= 1);
	assert_int_equal(ctr("alloc_refused"), 1);
	assert_int_equal(f.m->fresh_taints, 0);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,relax=off", setup_relax);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_NOWAIT | FRP_GFP_NORETRY);
	assert_int_equal(spb_of(p), 1);
	assert_int_equal(ctr("relax_NORETRY_SKIP"), 0);
	assert_int_equal(ctr("nofragment_dropped"), 1);
	assert_int_equal(f.m->fresh_taints, 1);
	check_and_free(&f);
}

/*
 * 35/40 ALLOC_NOFRAG_TAINTED_OK (tainted_ok_gate, inferred): an atomic
 * caller may not relabel a MOVABLE pageblock of a tainted SPB on its first
 * walk; the relax sequence adds ALLOC_NOFRAG_TAINTED_OK and Pass 2 then
 * serves it.  tainted_ok_gate=off: Pass 2 on the first walk.
 */
static void setup_tok(struct fr_model *m)
{
	setup_2(m);
	fill(m, SPBP, 1, FRP_MT_MOVABLE);	/* SPB1 clean: no Pass 3 */
}

static void test_relax_tainted_ok(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp=off", setup_tok);
	uint64_t p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_ATOMIC);
	assert_int_equal(p, 7 * PB);
	assert_int_equal(ctr("relax_ADD_TAINTED_OK"), 1);
	assert_int_equal(ctr("PASS_2"), 1);
	assert_int_equal(f.m->fresh_taints, 0);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,tainted_ok_gate=off", setup_tok);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_ATOMIC);
	assert_int_equal(p, 7 * PB);
	assert_int_equal(ctr("relax_ADD_TAINTED_OK"), 0);
	assert_int_equal(ctr("PASS_2"), 1);
	check_and_free(&f);
}

/*
 * pass3_gate (inferred from 35/40's step order TAINTED_OK before
 * DROP_NOFRAGMENT and 20/40's "reclaim before taint"): with an empty SPB
 * available, an atomic UNMOVABLE request that may not yet relabel inside
 * the tainted SPB must not taint the empty one either: its first walk
 * fails, ADD_TAINTED_OK lets Pass 2 claim the tainted SPB's free MOVABLE
 * pageblock, nothing new is tainted.  pass3_gate=none: the first walk's
 * Pass 3 taints SPB1 although SPB0 had room.  A reclaim-capable caller
 * gets Pass 2 at once under both.
 */
static void test_pass3_gate(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp=off", setup_2);	/* SPB1 empty */
	uint64_t p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_ATOMIC);
	assert_int_equal(p, 7 * PB);
	assert_int_equal(ctr("relax_ADD_TAINTED_OK"), 1);
	assert_int_equal(ctr("PASS_2"), 1);
	assert_int_equal(ctr("PASS_3"), 0);
	assert_int_equal(f.m->fresh_taints, 0);
	assert_int_equal(cat(&f, 1), FRP_SPB_EMPTY);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,pass3_gate=none", setup_2);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_ATOMIC);
	assert_int_equal(spb_of(p), 1);
	assert_int_equal(ctr("PASS_3"), 1);
	assert_int_equal(ctr("relax_ADD_TAINTED_OK"), 0);
	assert_int_equal(f.m->fresh_taints, 1);
	assert_int_equal(cat(&f, 1), FRP_SPB_TAINTED);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,pass3_gate=none", setup_2);
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 7 * PB);
	assert_int_equal(ctr("PASS_2"), 1);
	assert_int_equal(f.m->fresh_taints, 0);
	check_and_free(&f);
}

/*
 * Seed 001 (v2 35/40) "refuse best-effort high-order allocs servable at
 * lower orders": an order-2 UNMOVABLE request with __GFP_NOWARN, without
 * __GFP_DIRECT_RECLAIM and __GFP_NOFAIL, that the NOFRAGMENT walk cannot
 * serve, is refused because spb_tainted_can_serve_smaller() finds a tainted
 * SPB with movable content (and an order-0 UNMOV buddy).  highorder_refuse=off:
 * the relax sequence escalates and the clean SPB is tainted.
 */
static void setup_refuse(struct fr_model *m)
{
	label(m, 0, FRP_MT_UNMOVABLE);
	fill(m, 1, PB - 1, FRP_MT_UNMOVABLE);	/* pfn 0: a free order-0 UNMOV buddy */
	fill(m, PB, PB, FRP_MT_MOVABLE);	/* pb 1: movable content, nothing free */
	for (unsigned pb = 2; pb < 8; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
	fill(m, SPBP, 1, FRP_MT_MOVABLE);	/* SPB1 clean, no empty SPB */
}

static void test_seed001_highorder_refuse(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp=off,highorder_optional=off", setup_refuse);
	uint64_t p = alloc(&f, 2, FRP_MT_UNMOVABLE, GFP_NOWAIT);
	assert_int_equal(p, FRP_NONE);
	assert_true(ctr("relax_NOWARN_LOWER_ORDER") >= 1);
	assert_int_equal(ctr("relax_DROP_NOFRAGMENT"), 0);
	assert_int_equal(f.m->fresh_taints, 0);
	assert_int_equal(cat(&f, 1), FRP_SPB_CLEAN);
	/* an order-0 retry (the caller's fallback) is served in the tainted SPB */
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_NOWAIT);
	assert_int_equal(p, 0);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,highorder_optional=off,highorder_refuse=off", setup_refuse);
	p = alloc(&f, 2, FRP_MT_UNMOVABLE, GFP_NOWAIT);
	assert_int_equal(spb_of(p), 1);
	assert_int_equal(ctr("relax_NOWARN_LOWER_ORDER"), 0);
	assert_int_equal(ctr("relax_DROP_NOFRAGMENT"), 1);
	assert_int_equal(f.m->fresh_taints, 1);
	check_and_free(&f);
}

/*
 * 26/40 ALLOC_HIGHORDER_OPTIONAL: an atomic-shaped high-order request that
 * would taint a clean SPB is refused while a tainted SPB still has
 * pageblocks evacuation could free (spb_highorder_refused).
 * highorder_optional=off: the clean SPB is tainted.
 */
static void test_highorder_optional(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp=off,highorder_refuse=off", setup_refuse);
	uint64_t p = alloc(&f, 2, FRP_MT_UNMOVABLE, GFP_NOWAIT);
	assert_int_equal(p, FRP_NONE);
	assert_true(ctr("spb_highorder_refused") >= 1);
	assert_int_equal(ctr("alloc_refused"), 1);
	assert_int_equal(f.m->fresh_taints, 0);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,highorder_refuse=off,highorder_optional=off", setup_refuse);
	p = alloc(&f, 2, FRP_MT_UNMOVABLE, GFP_NOWAIT);
	assert_int_equal(spb_of(p), 1);
	assert_int_equal(ctr("spb_highorder_refused"), 0);
	assert_int_equal(f.m->fresh_taints, 1);
	check_and_free(&f);
}

/*
 * 15/40 "add background superpageblock defragmentation worker": a tainted
 * SPB below its trigger (nr_free < reserve) with movable pageblocks gets its
 * defrag work queued from spb_update_list(); on the trace clock the worker
 * migrates the movable pageblocks into the empty SPB, creating wholly free
 * pageblocks.  defrag=off: nothing is queued or moved.
 */
static void setup_defrag(struct fr_model *m)
{
	full(m, 0, FRP_MT_UNMOVABLE);
	fill(m, PB, 3 * PB, FRP_MT_MOVABLE);	/* pb 1..3: movable only */
	for (unsigned pb = 4; pb < 8; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
}

static void test_defrag_worker(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp=off,defrag_triggers=off", setup_defrag);
	assert_int_equal(f.m->spb[0].info.nr_free, 0);
	assert_int_equal(ctr("spb_defrag_queued"), 1);
	assert_int_equal(ctr("spb_defrag_runs"), 0);	/* queued work waits for the clock */
	tick(&f, 1000);
	assert_int_equal(ctr("spb_defrag_runs"), 1);
	assert_int_equal(ctr("spb_defrag_pages_migrated"), 3 * PB);
	assert_int_equal(f.m->pages_migrated, 3 * PB);
	assert_int_equal(f.m->spb[0].info.nr_free, 3);
	assert_int_equal(cat(&f, 0), FRP_SPB_TAINTED);
	assert_int_equal(cat(&f, 1), FRP_SPB_CLEAN);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,defrag_triggers=off,defrag=off", setup_defrag);
	tick(&f, 1000);
	assert_int_equal(ctr("spb_defrag_queued"), 0);
	assert_int_equal(ctr("spb_defrag_runs"), 0);
	assert_int_equal(f.m->pages_migrated, 0);
	assert_int_equal(f.m->spb[0].info.nr_free, 0);
	check_and_free(&f);
}

/*
 * Seed 002 (v1 43/45) "trigger defrag from allocator hot path on
 * tainted-SPB pressure": a tainted SPB whose worker made no progress (its
 * movable pages sat in a mixed pageblock) is stamped with the 5 s cooldown.
 * (1) A Pass 1 success in it below the shrink high-water mark re-queues the
 * worker once the cooldown has expired (not before); (2) the last-chance
 * walk before Pass 3 re-queues it too.  defrag_triggers=off: only the
 * spb_update_list() trigger remains, and no bucket transition happens.
 */
static void setup_trig(struct fr_model *m)
{
	label(m, 0, FRP_MT_UNMOVABLE);
	fill(m, 0, 256, FRP_MT_UNMOVABLE);
	fill(m, 256, 100, FRP_MT_MOVABLE);	/* mixed pageblock */
	for (unsigned pb = 1; pb < 8; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
}

static void run_triggers(struct fix *f)
{
	tick(f, 1);				/* the queued run: no progress */
	assert_int_equal(ctr("spb_defrag_runs"), 1);
	assert_int_equal(ctr("spb_defrag_pages_migrated"), 100);
	assert_int_equal(ctr("spb_defrag_no_progress"), 1);
	assert_int_equal(f->m->spb[0].info.nr_free, 0);
	assert_int_equal(alloc_at(f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL, 0, S(1)), 256); /* cooldown */
	assert_int_equal(alloc_at(f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL, 0, S(6)), 257); /* expired */
}

static void test_seed002_defrag_triggers(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 3, "spb:pcp=off,slab_shrink=off", setup_trig);
	assert_int_equal(ctr("spb_defrag_queued"), 1);	/* spb_update_list() at boot */
	run_triggers(&f);
	assert_int_equal(ctr("spb_defrag_queued"), 2);	/* trigger (1) at 6 s, not at 1 s */
	tick(&f, S(6) + 1);				/* runs, no progress again: stamped at 6 s */
	assert_int_equal(ctr("spb_defrag_runs"), 2);
	uint64_t p = alloc_at(&f, 9, FRP_MT_UNMOVABLE, GFP_KERNEL, 0, S(12));
	assert_int_equal(spb_of(p), 2);			/* Pass 3 */
	assert_int_equal(ctr("spb_defrag_queued"), 3);	/* trigger (2): the last-chance walk */
	check_and_free(&f);

	build(&f, 3, "spb:pcp=off,slab_shrink=off,defrag_triggers=off", setup_trig);
	run_triggers(&f);
	assert_int_equal(ctr("spb_defrag_queued"), 1);
	tick(&f, S(6) + 1);
	p = alloc_at(&f, 9, FRP_MT_UNMOVABLE, GFP_KERNEL, 0, S(12));
	assert_int_equal(spb_of(p), 2);
	assert_int_equal(ctr("spb_defrag_queued"), 1);
	assert_int_equal(ctr("spb_defrag_runs"), 1);
	check_and_free(&f);
}

/*
 * Seed 004 (v2 28/40) "SPB-driven slab shrink": a reclaimable allocation
 * from a tainted SPB below spb_below_shrink_high_water() queues the shrink
 * (single flight: once); the worker runs on the trace clock (ran = 1) and,
 * as modelled, releases the oldest live reclaimable allocations, whose pages
 * go back to the tainted SPB.  slab_shrink=off: nothing queued or released.
 */
static void setup_shrink(struct fr_model *m)
{
	label(m, 0, FRP_MT_RECLAIMABLE);
	fill(m, 0, 256, FRP_MT_RECLAIMABLE);	/* free RECL buddy of order 8 at 256 */
	for (unsigned pb = 1; pb < 8; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
}

static void test_seed004_slab_shrink(void **state)
{
	struct fix f;
	uint64_t p[4];
	(void)state;

	build(&f, 2, "spb:pcp=off,defrag=off,defrag_triggers=off", setup_shrink);
	for (int i = 0; i < 4; i++)
		p[i] = alloc(&f, 0, FRP_MT_RECLAIMABLE, GFP_KERNEL | FRP_GFP_RECLAIMABLE);
	assert_int_equal(p[0], 256);
	assert_int_equal(ctr("PASS_1"), 4);
	assert_int_equal(ctr("spb_slab_shrink_queued"), 1);
	assert_int_equal(ctr("spb_slab_shrink_ran"), 0);
	tick(&f, 1000);
	assert_int_equal(ctr("spb_slab_shrink_ran"), 1);
	assert_int_equal(ctr("spb_slab_shrink_pages_released"), 4);
	assert_int_equal(PW_STATE(pw_get(f.m, 256)), PW_FREE);	/* merged back */
	assert_int_equal(PW_ORDER(pw_get(f.m, 256)), 8);
	assert_int_equal(f.m->spb[0].info.nr_free_pages, 256);
	/* the queue is free again: the next pressure queues a new pass */
	alloc(&f, 0, FRP_MT_RECLAIMABLE, GFP_KERNEL | FRP_GFP_RECLAIMABLE);
	assert_int_equal(ctr("spb_slab_shrink_queued"), 2);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,defrag=off,defrag_triggers=off,slab_shrink=off", setup_shrink);
	for (int i = 0; i < 4; i++)
		p[i] = alloc(&f, 0, FRP_MT_RECLAIMABLE, GFP_KERNEL | FRP_GFP_RECLAIMABLE);
	tick(&f, 1000);
	assert_int_equal(ctr("spb_slab_shrink_queued"), 0);
	assert_int_equal(ctr("spb_slab_shrink_ran"), 0);
	assert_int_equal(PW_STATE(pw_get(f.m, 256)), PW_ALLOC);
	check_and_free(&f);
}

/*
 * 24/45 "targeted evacuation" (spb_evacuate_for_order, 17/40): a reclaim-
 * capable order-3 UNMOVABLE request finds only order 0..2 UNMOV buddies,
 * fragmented by movable pages; before dropping NOFRAGMENT the slowpath
 * evacuates them (Phase 1: pageblocks labelled UNMOVABLE) into the clean
 * SPB, the buddies coalesce and the retry is served in the tainted SPB.
 * evacuate=off: the drop taints the clean SPB.
 */
static void setup_evac(struct fr_model *m)
{
	label(m, 0, FRP_MT_UNMOVABLE);
	for (uint64_t i = 0; i < 64; i++)
		fill(m, 8 * i, 1, FRP_MT_MOVABLE);
	for (unsigned pb = 1; pb < 8; pb++)
		full(m, pb, FRP_MT_UNMOVABLE);
	fill(m, SPBP, 1, FRP_MT_MOVABLE);	/* SPB1 clean: the destination */
}

static void test_evacuate_for_order(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp=off,defrag=off", setup_evac);
	uint64_t p = alloc(&f, 3, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 0);
	assert_int_equal(ctr("spb_evacuate_runs"), 1);
	assert_int_equal(ctr("spb_evacuate_pages_migrated"), 64);
	assert_int_equal(ctr("slowpath_drop_nofragment"), 0);
	assert_int_equal(f.m->fresh_taints, 0);
	assert_int_equal(cat(&f, 1), FRP_SPB_CLEAN);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,defrag=off,evacuate=off", setup_evac);
	p = alloc(&f, 3, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(spb_of(p), 1);
	assert_int_equal(ctr("spb_evacuate_runs"), 0);
	assert_int_equal(ctr("slowpath_drop_nofragment"), 1);
	assert_int_equal(f.m->fresh_taints, 1);
	check_and_free(&f);
}

/*
 * pcpbuddy (Johannes Weiner's RFC the series carries), pcp_owner=on:
 * rmqueue_bulk's Phase 1 takes a whole free pageblock of the fullest clean
 * SPB onto the CPU's list (as order-3 blocks) and the CPU owns it;
 * pcp_rmqueue_smallest() splits the order-0 request out of it.
 * pcp_owner=off (the default): upstream batch refill of the exact order.
 */
static void setup_pcp(struct fr_model *m)
{
	full(m, 0, FRP_MT_UNMOVABLE);
	fill(m, SPBP, 1, FRP_MT_MOVABLE);	/* SPB1 clean */
}

static void test_pcpbuddy_owner(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp_owner=on", setup_pcp);
	uint64_t p = alloc(&f, 0, FRP_MT_MOVABLE, GFP_KERNEL | FRP_GFP_MOVABLE);
	assert_int_equal(p, SPBP + PB);		/* first page of the whole pageblock */
	assert_int_equal(ctr("pcp_phase1_pageblocks"), 1);
	assert_int_equal(f.m->pcp_pages_total, PB - 1);
	check_and_free(&f);

	build(&f, 2, "spb:pcp_owner=off", setup_pcp);
	p = alloc(&f, 0, FRP_MT_MOVABLE, GFP_KERNEL | FRP_GFP_MOVABLE);
	assert_int_equal(p, SPBP + 1);		/* smallest buddy first */
	assert_int_equal(ctr("pcp_phase1_pageblocks"), 0);
	assert_int_equal(f.m->pcp_pages_total, 62);
	check_and_free(&f);
}

/*
 * Seed 003 (v2 03/40) "split-path PCP free with local-trylock +
 * remote-llist": CPU 1 frees pages into a pageblock CPU 0 owns.  They go
 * onto CPU 0's free_llist: not counted in its pcp->count (no drain), and
 * absorbed by CPU 0's next allocation, which gets the last one back.
 * pcp_remote_free=off (before the patch): they go straight onto CPU 0's
 * list under its lock, count, and push it over pcp->high into a drain.
 */
static void remote_free_run(struct fix *f, uint64_t *got)
{
	uint64_t p[16];
	for (int i = 0; i < 16; i++)
		p[i] = alloc_at(f, 0, FRP_MT_MOVABLE, GFP_KERNEL | FRP_GFP_MOVABLE, 0, 0);
	assert_int_equal(p[0], SPBP + PB);
	assert_int_equal(ctr("pcp_phase1_pageblocks"), 1);
	for (int i = 0; i < 16; i++)
		release_on(f, p[i], 1);		/* CPU 1 frees CPU 0's pages */
	*got = alloc_at(f, 0, FRP_MT_MOVABLE, GFP_KERNEL | FRP_GFP_MOVABLE, 0, 0);
}

static void test_seed003_pcp_remote_free(void **state)
{
	struct fix f;
	uint64_t got;
	(void)state;

	build_ex(&f, 2, "spb:pcp_owner=on", setup_pcp, 505);
	remote_free_run(&f, &got);
	assert_int_equal(ctr("pcp_remote_free_llist"), 16);
	assert_int_equal(ctr("pcp_remote_free_locked"), 0);
	assert_int_equal(ctr("pcp_drained_pages"), 0);
	assert_int_equal(ctr("pcp_remote_absorbed"), 16);
	assert_int_equal(got, SPBP + PB);	/* absorbed to the head, oldest first */
	assert_int_equal(f.m->pcp_pages_total, PB - 1);
	check_and_free(&f);

	build_ex(&f, 2, "spb:pcp_owner=on,pcp_remote_free=off", setup_pcp, 505);
	remote_free_run(&f, &got);
	assert_int_equal(ctr("pcp_remote_free_llist"), 0);
	assert_int_equal(ctr("pcp_remote_free_locked"), 16);
	assert_true(ctr("pcp_drained_pages") > 0);	/* count reached pcp->high */
	assert_int_equal(ctr("pcp_remote_absorbed"), 0);
	check_and_free(&f);
}

/*
 * spb_update_list() [S/C] with the taint recomputed from the content bits
 * (sticky_taint=off, [I]): when the last UNMOVABLE page of a tainted SPB is
 * freed, its pageblock is wholly free, PB_has bits clear and the SPB moves to
 * the clean list; the next UNMOVABLE request then goes to an empty SPB by
 * Pass 3.  sticky_taint=on keeps it on the tainted list for steering, and
 * the request reuses its free UNMOVABLE pageblock by Pass 1.
 */
static void setup_lists(struct fr_model *m)
{
	label(m, 0, FRP_MT_UNMOVABLE);
	fill(m, 0, 1, FRP_MT_UNMOVABLE);
	fill(m, PB, 1, FRP_MT_MOVABLE);
}

static void test_spb_lists_recategorize(void **state)
{
	struct fix f;
	(void)state;

	build(&f, 2, "spb:pcp=off", setup_lists);
	assert_int_equal(cat(&f, 0), FRP_SPB_TAINTED);
	release_on(&f, 0, 0);
	assert_int_equal(cat(&f, 0), FRP_SPB_CLEAN);
	uint64_t p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, SPBP);
	assert_int_equal(ctr("PASS_3"), 1);
	check_and_free(&f);

	build(&f, 2, "spb:pcp=off,sticky_taint=on", setup_lists);
	release_on(&f, 0, 0);
	assert_int_equal(cat(&f, 0), FRP_SPB_CLEAN);	/* the engine's metric is not sticky */
	p = alloc(&f, 0, FRP_MT_UNMOVABLE, GFP_KERNEL);
	assert_int_equal(p, 0);
	assert_int_equal(ctr("PASS_1"), 1);
	check_and_free(&f);
}

/* ---- whole recordings: --check, determinism, no more taint than vanilla ---- */

static char out[1 << 16];

static json_t *replay(const char *trace, const char *dir, const char *name)
{
	char cmd[4096], path[1024];
	json_error_t je;

	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	snprintf(cmd, sizeof(cmd), "%s/fragreplay replay %s -p vanilla -p spb --check -q -o %s 2>&1",
		 fr_test_builddir(), trace, path);
	if (fr_test_run(cmd, out, sizeof(out)) != 0)
		fail_msg("replay of %s failed: %s", trace, out);
	json_t *j = json_load_file(path, 0, &je);
	assert_non_null(j);
	return j;
}

static void check_trace(const char *trace)
{
	char *dir = fr_test_tmpdir(), cmd[4200];
	json_t *a = replay(trace, dir, "a"), *b;
	json_t *runs = json_object_get(a, "runs");
	json_t *van = json_object_get(json_array_get(runs, 0), "summary");
	json_t *spb = json_object_get(json_array_get(runs, 1), "summary");

	assert_int_equal(json_integer_value(json_object_get(spb, "check_violations")), 0);
	assert_int_equal(json_integer_value(json_object_get(van, "check_violations")), 0);
	assert_true(json_integer_value(json_object_get(spb, "tainted_final")) <=
		    json_integer_value(json_object_get(van, "tainted_final")));
	json_decref(a);
	b = replay(trace, dir, "b");
	json_decref(b);
	snprintf(cmd, sizeof(cmd), "cmp -s %s/a.json %s/b.json", dir, dir);
	assert_int_equal(system(cmd), 0);	/* byte-identical */
	fr_test_rmrf(dir);
	free(dir);
}

static void test_replay_small_tar(void **state)
{
	(void)state;
	check_trace("traces/small-tar");
}

static void test_replay_thp_slab(void **state)
{
	(void)state;
	check_trace("traces/thp-slab");
}

static void test_replay_perf_kmem(void **state)
{
	(void)state;
	check_trace("traces/perf-kmem");
}

static void test_replay_mixed(void **state)
{
	char path[1024];
	(void)state;
	snprintf(path, sizeof(path), "%s/mixed-6.18/trace.dat", fr_test_shared_traces());
	if (!fr_test_exists(path))
		skip();
	snprintf(path, sizeof(path), "%s/mixed-6.18", fr_test_shared_traces());
	check_trace(path);
}

int main(void)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/policies", fr_test_builddir());
	setenv("FRAGREPLAY_POLICY_PATH", p, 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed000_pass2c),
		cmocka_unit_test(test_seed001_highorder_refuse),
		cmocka_unit_test(test_seed002_defrag_triggers),
		cmocka_unit_test(test_seed003_pcp_remote_free),
		cmocka_unit_test(test_seed004_slab_shrink),
		cmocka_unit_test(test_pass2_claim_whole_block),
		cmocka_unit_test(test_pass2b_no_compat_gate),
		cmocka_unit_test(test_pass2d_movable_borrow),
		cmocka_unit_test(test_pass3_empty_spb),
		cmocka_unit_test(test_pass4_movable_to_tainted),
		cmocka_unit_test(test_pass1_hints),
		cmocka_unit_test(test_tainted_reserve),
		cmocka_unit_test(test_packing_large_systems),
		cmocka_unit_test(test_steer_claim),
		cmocka_unit_test(test_relax_noretry_skip),
		cmocka_unit_test(test_relax_tainted_ok),
		cmocka_unit_test(test_pass3_gate),
		cmocka_unit_test(test_highorder_optional),
		cmocka_unit_test(test_defrag_worker),
		cmocka_unit_test(test_evacuate_for_order),
		cmocka_unit_test(test_pcpbuddy_owner),
		cmocka_unit_test(test_spb_lists_recategorize),
		cmocka_unit_test(test_replay_small_tar),
		cmocka_unit_test(test_replay_thp_slab),
		cmocka_unit_test(test_replay_perf_kmem),
		cmocka_unit_test(test_replay_mixed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
