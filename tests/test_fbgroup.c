// SPDX-License-Identifier: GPL-2.0
/*
 * test_fbgroup.c - caller-fallback groups (replay/fbgroup.c) on their own,
 * and the engine with groups against the engine with one map entry per
 * piece (FRAGREPLAY_FALLBACK_PIECE_MAP=1, the path past 16 TiB): byte-
 * identical results on generated traces that refuse thousands of
 * high-order allocations and then free, partly free, reallocate and
 * release their pieces.
 */
#include <jansson.h>
#include "fr_test.h"
#include "fbgroup.h"

static char out[1 << 16];

/* ---- the group store ---- */

static void test_store(void **state)
{
	struct fbgroups g;
	uint32_t a, b, c;
	(void)state;

	assert_int_equal(fbg_init(&g, 4096), 0);
	a = fbg_new(&g, 8, 3);		/* [8, 16) */
	b = fbg_new(&g, 1024, 10);	/* [1024, 2048) */
	assert_int_not_equal(a, FBG_NONE);
	assert_int_not_equal(b, FBG_NONE);
	assert_int_equal(fbg_order(a), 3);
	assert_int_equal(fbg_order(b), 10);
	assert_int_equal(g.live, 2);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(fbg_pieces(&g, a)[i], FBG_EMPTY);
	fbg_pieces(&g, a)[7] = 77;
	fbg_pieces(&g, b)[1023] = 1023;
	/* coverage: exactly the two ranges */
	assert_false(fbg_covered(&g, 7));
	assert_true(fbg_covered(&g, 8));
	assert_true(fbg_covered(&g, 15));
	assert_false(fbg_covered(&g, 16));
	assert_false(fbg_covered(&g, 1023));
	assert_true(fbg_covered(&g, 1024));
	assert_true(fbg_covered(&g, 2047));
	assert_false(fbg_covered(&g, 2048));
	assert_false(fbg_covered(&g, 1 << 20));	/* beyond npfn */
	assert_true(fbg_any_covered(&g, 0, 9));
	assert_false(fbg_any_covered(&g, 16, 1024));
	assert_true(fbg_any_covered(&g, 16, 1025));
	assert_true(fbg_any_covered(&g, 1500, 1600));
	/* the two groups do not share pieces */
	assert_int_equal(fbg_pieces(&g, a)[7], 77);
	assert_int_equal(fbg_pieces(&g, b)[1023], 1023);
	/* deleting clears the range and recycles the slot, emptied */
	fbg_del(&g, a, 8);
	assert_false(fbg_any_covered(&g, 0, 1024));
	c = fbg_new(&g, 32, 3);
	assert_int_equal(c, a);
	assert_int_equal(fbg_pieces(&g, c)[7], FBG_EMPTY);
	assert_true(fbg_covered(&g, 39));
	/* groups of order 1 and 2 share a coverage bit (8 pages): deleting
	 * one clears it, fbg_mark() sets it again for the other */
	{
		uint32_t x = fbg_new(&g, 64, 1), y = fbg_new(&g, 68, 2);
		assert_true(fbg_covered(&g, 65) && fbg_covered(&g, 71));
		fbg_del(&g, x, 64);
		assert_false(fbg_covered(&g, 70));
		fbg_mark(&g, 68, 2);
		assert_true(fbg_covered(&g, 70));
		fbg_del(&g, y, 68);
		assert_false(fbg_any_covered(&g, 64, 72));
	}
	/* out of range, bad orders */
	assert_int_equal(fbg_new(&g, 4096 - 4, 3), FBG_NONE);
	assert_int_equal(fbg_new(&g, 64, 0), FBG_NONE);
	assert_int_equal(fbg_new(&g, 0, FBG_MAX_ORDER + 1), FBG_NONE);
	/* many groups of one order: more than one 64 KiB chunk each */
	for (unsigned i = 0; i < 3000; i++) {
		uint32_t x = fbg_new(&g, 2048 + (i % 256) * 8, 3);	/* 2048 per chunk */
		assert_int_not_equal(x, FBG_NONE);
		fbg_pieces(&g, x)[1] = i;
		assert_int_equal(fbg_pieces(&g, x)[1], i);
	}
	assert_int_equal(g.pool[3].nchunks, 2);
	assert_int_equal(g.live, 3002);
	fbg_free(&g);
	/* off: no groups at all */
	assert_int_equal(fbg_init(&g, 0), 0);
	assert_int_equal(fbg_new(&g, 8, 3), FBG_NONE);
	assert_false(fbg_covered(&g, 8));
	fbg_free(&g);
}

/* ---- engine: groups against one map entry per piece ---- */

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

#define BASE (1u << 19)		/* the recorded pfns of the random phase */
#define SPAN (1u << 16)
#define MAXLIVE 8192

enum { PG_FREE, PG_LIVE, PG_POISON };

struct gen {
	FILE *f;
	double t;
	uint8_t pg[SPAN];	/* recorded-side page state of [BASE, BASE + SPAN) */
	uint32_t live[MAXLIVE];	/* offset << 5 | dirty << 4 | order */
	int nlive;
	uint32_t freed[256];	/* blocks freed cleanly, for double frees */
	int nfreed;
};

static void ev(struct gen *g, const char *what, uint64_t pfn, unsigned order, const char *rest)
{
	g->t += 0.0001;
	fprintf(g->f, "          stress-100   [000] ....1   %.6f: mm_page_%s: page=0x0 pfn=%#llx order=%u%s\n",
		g->t, what, (unsigned long long)pfn, order, rest);
}

static void pages(struct gen *g, uint32_t off, unsigned order, uint8_t st)
{
	memset(g->pg + off, st, 1u << order);
}

static int range_is(struct gen *g, uint32_t off, unsigned order, uint8_t st)
{
	for (uint32_t i = 0; i < (1u << order); i++)
		if (g->pg[off + i] != st)
			return 0;
	return 1;
}

/* dirty: a piece of a block split or reallocated (its pages stay poisoned) */
static void add_live(struct gen *g, uint32_t off, unsigned order, int dirty)
{
	if (g->nlive < MAXLIVE)
		g->live[g->nlive++] = off << 5 | (uint32_t)dirty << 4 | order;
}

/*
 * Phase 1 fills the first SPB with unmovable order-9 blocks and frees
 * every 16th page of them: its free memory is order-0 holes only, so spb
 * refuses atomic high-order requests (no tainted SPB with room, Pass 3
 * held back for atomic callers, the NORETRY skip) and their callers fall
 * back to order-0 pieces, which the holes serve.  Phase 2 is random:
 * high-order NORETRY allocations (some reclaimable: spb's slab shrink
 * releases those early), whole frees, partial frees, an allocation of a
 * page inside a live block or of the same block again (lost frees),
 * double frees, frees of never-allocated pages.  Pages whose recorded
 * state the engine and this generator could see differently (after a
 * partial free, a lost free, a double free) are never allocated again,
 * and a double free is of a block whose pages stayed free since.  The two
 * layouts differ only in what such traces would add: an allocation over
 * a block recorded inside it and still live (the piece map loses the
 * older block for good, a group keeps it), and a free of a released
 * piece's pfn after the free of its whole block (the piece map counts it
 * in released_frees from an entry left behind, a group in unknown_frees).
 */
static void gen_trace(const char *path, uint64_t seed, int nev)
{
	static struct gen g;
	static const char *const fl[] = {
		" migratetype=0 gfp_flags=GFP_ATOMIC|__GFP_NOWARN|__GFP_NORETRY",
		" migratetype=2 gfp_flags=GFP_ATOMIC|__GFP_NOWARN|__GFP_NORETRY|__GFP_RECLAIMABLE",
	};

	memset(&g, 0, sizeof(g));
	rng = seed * 2654435761u + 1;
	g.f = fopen(path, "w");
	assert_non_null(g.f);
	fputs("# tracer: nop\n#\n", g.f);
	g.t = 1.0;
	for (unsigned b = 1; b <= 510; b++)
		ev(&g, "alloc", b << 9, 9, " migratetype=0 gfp_flags=GFP_KERNEL");
	for (unsigned b = 1; b <= 510; b++)
		for (unsigned j = 0; j < 512; j += 16)
			ev(&g, "free", (b << 9) + j, 0, "");
	for (int i = 0; i < nev; i++) {
		uint64_t r = rnd(100);
		if (r < 45 || !g.nlive) {
			unsigned order = 1 + (unsigned)rnd(3);
			uint32_t off = (uint32_t)(rnd(SPAN >> order) << order);
			if (!range_is(&g, off, order, PG_FREE))
				continue;
			ev(&g, "alloc", BASE + off, order, fl[rnd(3) == 0]);
			pages(&g, off, order, PG_LIVE);
			add_live(&g, off, order, 0);
			/* a double free only of a block whose pages stayed free */
			for (int d = 0; d < g.nfreed; d++) {
				uint32_t doff = g.freed[d] >> 4;
				if (doff < off + (1u << order) && off < doff + (1u << (g.freed[d] & 15)))
					g.freed[d--] = g.freed[--g.nfreed];
			}
			continue;
		}
		int k = (int)rnd((uint64_t)g.nlive);
		uint32_t off = g.live[k] >> 5;
		unsigned order = g.live[k] & 15;
		int dirty = (g.live[k] >> 4) & 1;
		if (r < 80) {				/* the whole block */
			ev(&g, "free", BASE + off, order, "");
			g.live[k] = g.live[--g.nlive];
			if (dirty)
				continue;
			pages(&g, off, order, PG_FREE);
			if (g.nfreed < 256)
				g.freed[g.nfreed++] = off << 4 | order;
		} else if (r < 90 && order) {		/* split_page(): a piece */
			unsigned so = (unsigned)rnd(order);
			uint32_t q = off + (uint32_t)(rnd(1u << (order - so)) << so);
			ev(&g, "free", BASE + q, so, "");
			pages(&g, off, order, PG_POISON);
			g.live[k] = g.live[--g.nlive];
			for (uint32_t p = off; p < off + (1u << order); p += 1u << so)
				if (p != q)
					add_live(&g, p, so, 1);
		} else if (r < 93 && order) {		/* a page inside, allocated again */
			uint32_t q = off + 1 + (uint32_t)rnd((1u << order) - 1);
			ev(&g, "alloc", BASE + q, 0, " migratetype=0 gfp_flags=GFP_KERNEL");
			pages(&g, off, order, PG_POISON);
			g.live[k] = g.live[--g.nlive];
			for (uint32_t p = off; p < off + (1u << order); p++)
				add_live(&g, p, 0, 1);
		} else if (r < 95) {			/* the same block again */
			ev(&g, "alloc", BASE + off, order, fl[0]);
		} else if (r < 97 && g.nfreed) {	/* a double free */
			int d = (int)rnd((uint64_t)g.nfreed);
			uint32_t doff = g.freed[d] >> 4;
			unsigned dor = g.freed[d] & 15;
			g.freed[d] = g.freed[--g.nfreed];
			if (!range_is(&g, doff, dor, PG_FREE))
				continue;
			ev(&g, "free", BASE + doff, dor, "");
			pages(&g, doff, dor, PG_POISON);
		} else {				/* never allocated: seeded */
			ev(&g, "free", BASE + SPAN + rnd(4096), 0, "");
		}
	}
	fclose(g.f);
}

static long long counter(json_t *j, int run, const char *name)
{
	json_t *c = json_object_get(json_array_get(json_object_get(j, "runs"), (size_t)run), "counters");
	return json_integer_value(json_object_get(c, name));
}

static void replay_to(const char *trace, const char *res, int piece_map)
{
	char cmd[9000];

	snprintf(cmd, sizeof(cmd), "FRAGREPLAY_FALLBACK_PIECE_MAP=%d %s/fragreplay replay %s --mem 4G "
		 "-p spb -p vanilla --check -q -o %s 2>&1", piece_map, fr_test_builddir(), trace, res);
	if (fr_test_run(cmd, out, sizeof(out)) != 0)
		fail_msg("%s: %s", cmd, out);
}

static void test_groups_match_piece_map(void **state)
{
	char *dir = fr_test_tmpdir();
	char t[4200], a[4200], b[4200], cmd[13000];
	long long fb = 0, rel = 0, part = 0, live = 0;
	(void)state;

	for (int seed = 1; seed <= 3; seed++) {
		json_error_t je;
		json_t *j;

		snprintf(t, sizeof(t), "%s/g%d.txt", dir, seed);
		snprintf(a, sizeof(a), "%s/g%d.groups.json", dir, seed);
		snprintf(b, sizeof(b), "%s/g%d.map.json", dir, seed);
		gen_trace(t, (uint64_t)seed, 20000);
		replay_to(t, a, 0);
		replay_to(t, b, 1);
		snprintf(cmd, sizeof(cmd), "cmp %s %s", a, b);
		if (fr_test_run(cmd, out, sizeof(out)) != 0)
			fail_msg("seed %d: groups and piece map differ: %s", seed, out);
		j = json_load_file(a, 0, &je);
		assert_non_null(j);
		assert_int_equal(counter(j, 0, "check_violations"), 0);
		fb += counter(j, 0, "caller_fallbacks");
		rel += counter(j, 0, "released_frees");
		part += counter(j, 0, "partial_frees");
		live += counter(j, 0, "allocs_of_live_pfn");
		json_decref(j);
	}
	printf("%lld caller fallbacks, %lld released frees, %lld partial frees, %lld allocs of live pfns\n",
	       fb, rel, part, live);
	/* the paths this compares were taken, many times */
	if (fb < 10000 || rel < 1000 || part < 1000 || live < 100)
		fail_msg("too few: %lld caller fallbacks, %lld released frees, %lld partial frees, "
			 "%lld allocs of live pfns", fb, rel, part, live);
	fr_test_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_groups_match_piece_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
