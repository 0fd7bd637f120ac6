// SPDX-License-Identifier: GPL-2.0
/*
 * test_engine.c - exact JSON values from tiny hand-made traces (ftrace text).
 *
 * Machine: no snapshot, --mem 8M = 2048 pages = one Normal zone, one SPB,
 * booted as two free order-10 chunks labelled MOVABLE (memmap_init).
 */
#include <jansson.h>
#include "fr_test.h"
#include "machine.h"

static char out[1 << 16];

static const char *write_trace(const char *dir, const char *name, const char *text)
{
	static char path[4300];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# tracer: nop\n#\n", f);
	fputs(text, f);
	fclose(f);
	return path;
}

static json_t *replay(const char *trace, const char *args, int want_rc)
{
	char cmd[9000], res[4400];
	json_error_t je;
	int rc;

	snprintf(res, sizeof(res), "%s.json", trace);
	snprintf(cmd, sizeof(cmd), "%s/fragreplay replay %s %s --check -q -o %s 2>&1", fr_test_builddir(), trace, args, res);
	rc = fr_test_run(cmd, out, sizeof(out));
	if (rc != want_rc)
		fail_msg("%s: exit %d, want %d: %s", cmd, rc, want_rc, out);
	if (rc)
		return NULL;
	json_t *j = json_load_file(res, 0, &je);
	assert_non_null(j);
	return j;
}

#define L(t, ev, rest) "          stress-100   [000] ....1   " t ": " ev ": page=0x0 " rest "\n"

static json_t *run_of(json_t *j, int i)
{
	return json_array_get(json_object_get(j, "runs"), (size_t)i);
}

static long long jget(json_t *o, const char *path)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (*k >= '0' && *k <= '9')
			o = json_array_get(o, (size_t)atoi(k));
		else
			o = json_object_get(o, k);
		if (!o)
			fail_msg("no %s in results", path);
	}
	return json_integer_value(o);
}

/*
 * An UNMOVABLE order-0 request on an all-MOVABLE machine: vanilla (pcp off)
 * has no own-type page, __rmqueue_claim takes the largest free chunk whole
 * (try_to_claim_block, current_order >= pageblock_order): model pfn 0, the
 * SPB turns tainted.  Freeing it makes the pageblocks wholly free again:
 * content bits clear, the SPB is empty.  A MOVABLE order-0 request then comes
 * from the MOVABLE order-10 chunk at 1024 (__rmqueue_smallest).
 */
static void test_taint_and_untaint(void **state)
{
	char *dir = fr_test_tmpdir();
	(void)state;
	const char *t = write_trace(dir, "a.txt",
		L("1.000000000", "mm_page_alloc", "pfn=0x400 order=0 migratetype=0 gfp_flags=GFP_KERNEL")
		L("2.000000000", "mm_page_free", "pfn=0x400 order=0")
		L("3.000000000", "mm_page_alloc", "pfn=0x10 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE")
		L("3.500000000", "mm_page_free", "pfn=0x10 order=0")
		L("3.500000001", "mm_page_free_batched", "pfn=0x10 order=0"));
	json_t *j = replay(t, "--mem 8M -p vanilla:pcp=off -p recorded", 0);
	json_t *v = run_of(j, 0), *r = run_of(j, 1);

	assert_int_equal(jget(j, "machine.nr_spbs"), 1);
	assert_int_equal(jget(j, "trace.events"), 5);
	assert_int_equal(jget(j, "trace.duplicate_batched_frees"), 1);
	/* samples at t = 0, 1, 2 (before the events at 1, 2, 3) and the end (2.5) */
	assert_int_equal(json_array_size(json_object_get(v, "timeline")), 4);
	assert_int_equal(jget(v, "timeline.0.empty"), 1);
	assert_int_equal(jget(v, "timeline.0.tainted"), 0);
	assert_int_equal(jget(v, "timeline.1.tainted"), 1);	/* after the claim */
	assert_int_equal(jget(v, "timeline.1.tainted_live"), 1);
	assert_int_equal(jget(v, "timeline.1.lower_bound"), 1);
	assert_int_equal(jget(v, "timeline.1.free_pages"), 2047);
	assert_int_equal(jget(v, "timeline.2.tainted"), 0);	/* wholly free again */
	assert_int_equal(jget(v, "timeline.2.empty"), 1);
	assert_int_equal(jget(v, "timeline.3.empty"), 1);
	assert_int_equal(jget(v, "timeline.3.free_pages"), 2048);
	assert_int_equal(jget(v, "summary.tainted_max"), 1);
	assert_int_equal(jget(v, "summary.tainted_final"), 0);
	assert_int_equal(jget(v, "summary.fresh_taints"), 1);
	assert_int_equal(jget(v, "counters.policy.claim_whole_block"), 1);
	assert_int_equal(jget(v, "counters.allocs"), 2);
	assert_int_equal(jget(v, "counters.frees"), 2);
	assert_int_equal(jget(v, "counters.unknown_frees"), 0);
	/* recorded: same taint story at the recorded pfns */
	assert_int_equal(jget(r, "summary.tainted_max"), 1);
	assert_int_equal(jget(r, "summary.fresh_taints"), 1);
	assert_int_equal(jget(r, "summary.tainted_final"), 0);
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

/*
 * The page word holds a recorded pfn in 37 bits: a pfn at 2^37 (512 TiB of
 * 4 KiB pages) or a zone reaching past it is refused with one line naming
 * it, before anything is allocated for it.
 */
static void test_pfn_limit(void **state)
{
	char *dir = fr_test_tmpdir();
	(void)state;
	const char *t = write_trace(dir, "big.txt",
		L("1.0", "mm_page_alloc", "pfn=0x10 order=0 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.1", "mm_page_alloc", "pfn=0x2000000000 order=0 migratetype=0 gfp_flags=GFP_KERNEL"));
	replay(t, "-p recorded", 2);
	assert_non_null(strstr(out, "big.txt: event 2 (t=1.100000000 s): pfn 0x2000000000 is beyond the model's limit of 2^37 pages"));
	t = write_trace(dir, "small.txt",
		L("1.0", "mm_page_alloc", "pfn=0x10 order=0 migratetype=0 gfp_flags=GFP_KERNEL"));
	replay(t, "--mem 600T -p recorded", 2);
	assert_non_null(strstr(out, "small.txt: zone Normal ends at pfn 0x2580000000, beyond the model's limit of 2^37 pages"));
	fr_test_rmrf(dir);
	free(dir);
}

/*
 * The model is full: three order-10 allocations on a 2048-page machine.
 * The third cannot be placed: counted, the replay goes on, exit 0.
 * Also: a failed allocation in the trace (pfn 0 printed for pfn -1) is
 * counted, not placed; a free of a pfn never allocated is an unknown free.
 */
static void test_model_full_and_failures(void **state)
{
	char *dir = fr_test_tmpdir();
	(void)state;
	/* (text traces print pfn 0 for a failed allocation, pfn -1 in the kernel) */
	const char *t = write_trace(dir, "b.txt",
		L("1.0", "mm_page_alloc", "pfn=0x400 order=10 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE")
		L("1.1", "mm_page_alloc", "pfn=0x800 order=10 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE")
		L("1.2", "mm_page_alloc", "pfn=0x0 order=3 migratetype=0 gfp_flags=GFP_ATOMIC")
		L("1.3", "mm_page_free", "pfn=0x800 order=10")
		L("1.4", "mm_page_alloc", "pfn=0x800 order=10 migratetype=0 gfp_flags=GFP_KERNEL"));
	/* --mem 8M: pfn 0x800 is beyond the machine: refused, naming the event */
	replay(t, "--mem 8M -p vanilla", 2);
	assert_non_null(strstr(out, "b.txt: event 2 (t=1.100000000 s): pfn 0x800 order 10 lies beyond the machine (last pfn 0x7ff, from --mem)"));
	/* --mem 16M: 4096 pages, everything fits; the failed allocation is counted, not placed */
	json_t *j = replay(t, "--mem 16M -p vanilla:pcp=off", 0);
	json_t *v = run_of(j, 0);
	assert_int_equal(jget(v, "counters.allocs"), 3);
	assert_int_equal(jget(v, "counters.recorded_alloc_failures"), 1);
	assert_int_equal(jget(v, "counters.alloc_failures"), 0);
	json_decref(j);
	/*
	 * Model full, 2048 pages (order-10 chunks at 0 and 1024):
	 *  1.0 movable order 10        -> __rmqueue_smallest: chunk 0
	 *  1.1 unmovable order 0       -> __rmqueue_claim takes chunk 1024 whole: 1024,
	 *                                 remainders 1025(o0) .. 1536(o9) UNMOVABLE
	 *  1.2 movable order 9         -> claim: the UNMOVABLE order-9 at 1536, whole
	 *  1.3 movable order 9         -> nothing >= order 9 left; claim needs >= 9,
	 *                                 steal finds nothing.  GFP_TRANSHUGE has
	 *                                 __GFP_NOWARN: the fault path falls back to
	 *                                 base pages, 511 fit, the 512th finds the
	 *                                 model full
	 */
	t = write_trace(dir, "c.txt",
		L("1.0", "mm_page_alloc", "pfn=0x400 order=10 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE")
		L("1.1", "mm_page_alloc", "pfn=0x7f0 order=0 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.2", "mm_page_alloc", "pfn=0x600 order=9 migratetype=1 gfp_flags=GFP_TRANSHUGE")
		L("1.3", "mm_page_alloc", "pfn=0x200 order=9 migratetype=1 gfp_flags=GFP_TRANSHUGE"));
	j = replay(t, "--mem 8M -p vanilla:pcp=off", 0);
	v = run_of(j, 0);
	assert_int_equal(jget(v, "counters.allocs"), 4);
	assert_int_equal(jget(v, "counters.alloc_failures"), 1);
	assert_int_equal(jget(v, "summary.alloc_failures"), 1);
	assert_int_equal(jget(v, "counters.policy.claim_whole_block"), 2);
	assert_int_equal(jget(v, "counters.caller_fallbacks"), 1);
	assert_int_equal(jget(v, "counters.caller_fallback_pages"), 511);
	assert_int_equal(jget(v, "timeline.1.free_pages"), 0);
	json_decref(j);
	j = replay(t, "--mem 8M -p vanilla:pcp=off --no-caller-fallback", 0);
	v = run_of(j, 0);
	assert_int_equal(jget(v, "counters.alloc_failures"), 1);
	assert_int_equal(jget(v, "timeline.1.free_pages"), 2048 - 1024 - 1 - 512);
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

/*
 * The caller's fallback (engine.c caller_fallback()): spb refuses an atomic
 * order-3 __GFP_NORETRY request on a fresh machine (its first walk has no
 * tainted SPB, Pass 3 is held back from atomic callers under NOFRAGMENT,
 * and the relax sequence's NORETRY skip ends it).  Its caller - slab,
 * page_frag - asks again at order 0: eight order-0 GFP_ATOMIC requests,
 * which the relax sequence serves (ADD_TAINTED_OK, Pass 3).  The recorded
 * order-3 free frees all eight.  --no-caller-fallback: one failure, and the
 * free is of a block never placed.
 */
static void test_caller_fallback(void **state)
{
	char *dir = fr_test_tmpdir();
	(void)state;
	const char *t = write_trace(dir, "fb.txt",
		L("1.0", "mm_page_alloc", "pfn=0x108 order=3 migratetype=0 gfp_flags=GFP_ATOMIC|__GFP_NOWARN|__GFP_NORETRY")
		L("2.0", "mm_page_free", "pfn=0x108 order=3"));
	json_t *j = replay(t, "--mem 8M -p spb:pcp=off", 0);
	json_t *v = run_of(j, 0);
	assert_int_equal(jget(v, "counters.allocs"), 1);
	assert_int_equal(jget(v, "counters.policy.alloc_refused"), 1);
	assert_int_equal(jget(v, "counters.caller_fallbacks"), 1);
	assert_int_equal(jget(v, "counters.caller_fallback_pages"), 8);
	assert_int_equal(jget(v, "counters.alloc_pages"), 8);
	assert_int_equal(jget(v, "counters.alloc_failures"), 0);
	/* the first piece taints the SPB; Pass 1 serves the other seven */
	assert_int_equal(jget(v, "counters.policy.relax_ADD_TAINTED_OK"), 1);
	assert_int_equal(jget(v, "counters.policy.PASS_1"), 7);
	assert_int_equal(jget(v, "summary.tainted_max"), 1);
	assert_int_equal(jget(v, "timeline.1.free_pages"), 2048 - 8);
	assert_int_equal(jget(v, "counters.frees"), 8);
	assert_int_equal(jget(v, "counters.free_pages"), 8);
	assert_int_equal(jget(v, "counters.unknown_frees"), 0);
	assert_int_equal(jget(v, "summary.tainted_final"), 0);
	json_decref(j);

	j = replay(t, "--mem 8M -p spb:pcp=off --no-caller-fallback", 0);
	v = run_of(j, 0);
	assert_int_equal(jget(v, "counters.caller_fallbacks"), 0);
	assert_int_equal(jget(v, "counters.alloc_failures"), 1);
	assert_int_equal(jget(v, "counters.alloc_pages"), 0);
	assert_int_equal(jget(v, "counters.unknown_frees"), 1);
	assert_int_equal(jget(v, "summary.tainted_max"), 0);
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

/*
 * spb's slab-shrink model (seed 004) releases the oldest live reclaimable
 * allocations early (ops->release_alloc); the trace frees them later.
 * Those frees are released_frees, not unknown_frees.  The first RECL
 * allocation taints the SPB; the next ones come from it below the shrink
 * high-water mark (8 MiB machine: any allocation) and queue the shrink,
 * which runs at the next event (1.2) and releases the two live then.
 * Before released_frees, their frees were unknown_frees.
 */
static void test_released_frees(void **state)
{
	char *dir = fr_test_tmpdir();
	(void)state;
	const char *t = write_trace(dir, "rel.txt",
		L("1.0", "mm_page_alloc", "pfn=0x100 order=0 migratetype=2 gfp_flags=GFP_KERNEL|__GFP_RECLAIMABLE")
		L("1.1", "mm_page_alloc", "pfn=0x101 order=0 migratetype=2 gfp_flags=GFP_KERNEL|__GFP_RECLAIMABLE")
		L("1.2", "mm_page_alloc", "pfn=0x102 order=0 migratetype=2 gfp_flags=GFP_KERNEL|__GFP_RECLAIMABLE")
		L("2.0", "mm_page_alloc", "pfn=0x300 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE")
		L("3.0", "mm_page_free", "pfn=0x100 order=0")
		L("3.1", "mm_page_free", "pfn=0x101 order=0")
		L("3.2", "mm_page_free", "pfn=0x102 order=0")
		L("3.3", "mm_page_free", "pfn=0x300 order=0"));
	json_t *j = replay(t, "--mem 8M -p spb:pcp=off,defrag=off,defrag_triggers=off", 0);
	json_t *v = run_of(j, 0);
	assert_int_equal(jget(v, "counters.policy.spb_slab_shrink_ran"), 1);
	assert_int_equal(jget(v, "counters.policy.spb_slab_shrink_pages_released"), 2);
	assert_int_equal(jget(v, "counters.released_frees"), 2);
	assert_int_equal(jget(v, "counters.unknown_frees"), 0);
	assert_int_equal(jget(v, "counters.frees"), 2);
	json_decref(j);
	{	/* and the summary on stderr says so */
		char cmd[9000];
		snprintf(cmd, sizeof(cmd), "%s/fragreplay replay %s --mem 8M -p spb:pcp=off,defrag=off,defrag_triggers=off "
			 "-o %s/rel.json 2>&1", fr_test_builddir(), t, dir);
		assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
		if (!strstr(out, "spb          note: 2 frees of blocks the policy had released early (released_frees)"))
			fail_msg("no released_frees note in: %s", out);
	}

	j = replay(t, "--mem 8M -p spb:pcp=off,defrag=off,defrag_triggers=off,slab_shrink=off", 0);
	v = run_of(j, 0);
	assert_int_equal(jget(v, "counters.released_frees"), 0);
	assert_int_equal(jget(v, "counters.unknown_frees"), 0);
	assert_int_equal(jget(v, "counters.frees"), 4);
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

/* A free smaller than its block (split_page(): an order-2 allocation freed
 * as four order-0 pages) splits the model block; nothing is unknown. */
static void test_partial_frees(void **state)
{
	char *dir = fr_test_tmpdir();
	(void)state;
	const char *t = write_trace(dir, "d.txt",
		L("1.0", "mm_page_alloc", "pfn=0x104 order=2 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.1", "mm_page_free", "pfn=0x105 order=0")
		L("1.2", "mm_page_free", "pfn=0x104 order=0")
		L("1.3", "mm_page_free", "pfn=0x107 order=0")
		L("1.4", "mm_page_free", "pfn=0x106 order=0"));
	json_t *j = replay(t, "--mem 8M -p vanilla:pcp=off -p recorded", 0);
	for (int i = 0; i < 2; i++) {
		json_t *v = run_of(j, i);
		assert_int_equal(jget(v, "counters.partial_frees"), 2);
		assert_int_equal(jget(v, "counters.frees"), 4);
		assert_int_equal(jget(v, "counters.unknown_frees"), 0);
	}
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

/* Without a snapshot, a page freed before the trace allocates it was
 * allocated at the start (movable: an inference): 0x200 order 9 here. */
/* Orders above MAX_PAGE_ORDER are bad input: one line, the event, exit 2. */
static void test_bad_order(void **state)
{
	char *dir = fr_test_tmpdir();
	(void)state;
	const char *t = write_trace(dir, "f.txt",
		L("1.0", "mm_page_alloc", "pfn=0x000 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE")
		L("1.5", "mm_page_alloc", "pfn=0x800 order=11 migratetype=0 gfp_flags=GFP_KERNEL"));
	replay(t, "-p vanilla", 2);
	assert_non_null(strstr(out, "f.txt: event 2 (t=1.500000000 s): order 11 at pfn 0x800 is above MAX_PAGE_ORDER 10\n"));
	fr_test_rmrf(dir);
	free(dir);
}

/* --strict: a double free and an allocation over a live block are bad input
 * (one line naming the trace and the event, exit 2); without --strict they
 * are counted and the replay goes on. */
static void test_strict(void **state)
{
	char *dir = fr_test_tmpdir();
	(void)state;
	const char *t = write_trace(dir, "s1.txt",
		L("1.0", "mm_page_alloc", "pfn=0x100 order=0 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.1", "mm_page_free", "pfn=0x100 order=0")
		L("1.2", "mm_page_free", "pfn=0x100 order=0"));
	replay(t, "--mem 8M -p recorded --strict", 2);
	assert_non_null(strstr(out, "s1.txt: event 3 (t=1.200000000 s): double free of pfn 0x100 (freed earlier, not allocated since) (--strict)"));
	json_t *j = replay(t, "--mem 8M -p recorded", 0);
	assert_int_equal(jget(run_of(j, 0), "counters.unknown_frees"), 1);
	json_decref(j);
	t = write_trace(dir, "s2.txt",
		L("1.0", "mm_page_alloc", "pfn=0x200 order=2 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.1", "mm_page_alloc", "pfn=0x202 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE"));
	replay(t, "--mem 8M -p recorded --strict", 2);
	assert_non_null(strstr(out, "s2.txt: event 2 (t=1.100000000 s): allocation of pfn 0x202 order 0 overlaps a live block at pfn 0x202 (--strict)"));
	/* a consistent trace passes --strict */
	t = write_trace(dir, "s3.txt",
		L("1.0", "mm_page_alloc", "pfn=0x200 order=2 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.1", "mm_page_free", "pfn=0x200 order=2")
		L("1.2", "mm_page_alloc", "pfn=0x202 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE"));
	json_decref(replay(t, "--mem 8M -p recorded -p vanilla --strict", 0));
	fr_test_rmrf(dir);
	free(dir);
}

static void test_seed_from_trace(void **state)
{
	char *dir = fr_test_tmpdir();
	(void)state;
	const char *t = write_trace(dir, "e.txt",
		L("1.0", "mm_page_free", "pfn=0x200 order=9")
		L("2.0", "mm_page_alloc", "pfn=0x200 order=9 migratetype=1 gfp_flags=GFP_TRANSHUGE"));
	json_t *j = replay(t, "--mem 8M -p recorded", 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j, "machine"),
						"initial_state"), "source")), "trace");
	assert_int_equal(jget(j, "machine.initial_state.allocated_pages"), 512);
	json_t *v = run_of(j, 0);
	assert_int_equal(jget(v, "timeline.0.free_pages"), 2048 - 512);
	assert_int_equal(jget(v, "counters.unknown_frees"), 0);
	assert_int_equal(jget(v, "summary.tainted_max"), 0);	/* movable content only */
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

/* A page is seeded allocated when the trace frees it before allocating it.
 * 0x102 is first allocated as the tail of the order-3 block at 0x100, whose
 * head an order-0 block used before: it was free at the start, and its
 * later free (order 1, after the block's) is a double free. */
static void test_seed_tail_of_reused_head(void **state)
{
	char *dir = fr_test_tmpdir();
	(void)state;
	const char *t = write_trace(dir, "tail.txt",
		L("1.0", "mm_page_alloc", "pfn=0x100 order=0 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.1", "mm_page_free", "pfn=0x100 order=0")
		L("1.2", "mm_page_alloc", "pfn=0x100 order=3 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.3", "mm_page_free", "pfn=0x100 order=3")
		L("1.4", "mm_page_free", "pfn=0x102 order=1"));
	json_t *j = replay(t, "--mem 8M -p recorded", 0);
	assert_int_equal(jget(j, "machine.initial_state.allocated_pages"), 0);
	assert_int_equal(jget(run_of(j, 0), "counters.unknown_frees"), 1);
	assert_int_equal(jget(run_of(j, 0), "counters.frees"), 2);
	json_decref(j);
	fr_test_rmrf(dir);
	free(dir);
}

/* The prepass's peak of live blocks, which sizes the engine's pfn map: up
 * at every allocation, down at every free, never below 0, so the free of a
 * page allocated before the trace does not hide a later peak. */
static void test_prepass_live_peak(void **state)
{
	char *dir = fr_test_tmpdir();
	struct fr_error err = { 0 };
	struct fr_prepass pp;
	(void)state;
	const char *t = write_trace(dir, "peak.txt",
		L("1.00", "mm_page_free", "pfn=0x500 order=0")
		L("1.01", "mm_page_alloc", "pfn=0x10 order=0 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.02", "mm_page_alloc", "pfn=0x20 order=2 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE")
		L("1.03", "mm_page_free", "pfn=0x10 order=0")
		L("1.04", "mm_page_alloc", "pfn=0x30 order=0 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.05", "mm_page_alloc", "pfn=0x40 order=0 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.06", "mm_page_free", "pfn=0x20 order=2")
		L("1.07", "mm_page_free", "pfn=0x30 order=0")
		L("1.08", "mm_page_free", "pfn=0x40 order=0")
		L("1.09", "mm_page_free", "pfn=0x600 order=0")
		L("1.10", "mm_page_alloc", "pfn=0x50 order=0 migratetype=0 gfp_flags=GFP_KERNEL")
		L("1.11", "mm_page_alloc", "pfn=0x60 order=0 migratetype=0 gfp_flags=GFP_KERNEL"));
	struct fr_source *src = fr_source_open(t, NULL, &err);
	if (!src)
		fail_msg("%s", err.msg);
	assert_int_equal(fr_prepass_run(src, &pp, NULL, &err), 0);
	assert_int_equal(pp.events, 12);
	assert_int_equal(pp.live_peak, 3);
	fr_prepass_free(&pp);
	fr_source_close(src);
	fr_test_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taint_and_untaint),
		cmocka_unit_test(test_model_full_and_failures),
		cmocka_unit_test(test_pfn_limit),
		cmocka_unit_test(test_partial_frees),
		cmocka_unit_test(test_caller_fallback),
		cmocka_unit_test(test_released_frees),
		cmocka_unit_test(test_seed_from_trace),
		cmocka_unit_test(test_seed_tail_of_reused_head),
		cmocka_unit_test(test_bad_order),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_prepass_live_peak),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
