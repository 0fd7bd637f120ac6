// SPDX-License-Identifier: GPL-2.0
/*
 * test_text.c - the text trace reader (parsers/text.c) and the gfp name
 * table (parsers/gfp.c).
 *
 * Small hand-written snippets of each format (copied from real output of
 * this machine's 6.18 kernel, trace-cmd 3.1.6 and perf 6.1, then varied)
 * check exact field values; the reference recording and the perf dump in
 * traces/perf-kmem check counts against independent tools (trace-cmd, grep).
 */
#include "fr_test.h"
#include "fr_source.h"
#include "gfp.h"

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	tmpdir = fr_test_tmpdir();
	return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fr_test_rmrf(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
	return 0;
}

/* Write TEXT to a file in the test's temp dir; returns a static path. */
static const char *put(const char *name, const char *text)
{
	static char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

struct got {
	struct fr_event ev[64];
	size_t n;
	char format[32];
	uint32_t nr_cpus;
	uint64_t skipped;
};

/* Open PATH and read everything (in reads of CHUNK events); -1 on error. */
static int read_all(const char *path, int skip_bad, size_t chunk, struct got *g,
		    struct fr_error *err)
{
	struct fr_open_opts o = { .skip_bad = skip_bad };
	struct fr_source *src = fr_source_open(path, &o, err);
	ssize_t r = 0;

	memset(g, 0, sizeof(*g));
	if (!src)
		return -1;
	snprintf(g->format, sizeof(g->format), "%s", fr_source_meta(src)->format);
	while (g->n < 64 && (r = fr_source_read(src, g->ev + g->n,
						 chunk < 64 - g->n ? chunk : 64 - g->n, err)) > 0)
		g->n += (size_t)r;
	g->nr_cpus = fr_source_meta(src)->nr_cpus;
	g->skipped = fr_source_skipped(src);
	fr_source_close(src);
	return r < 0 ? -1 : 0;
}

static void expect(const struct fr_event *e, int kind, uint64_t ts, uint32_t cpu, uint64_t pfn,
		   int order, int mt, uint64_t gfp, int aux)
{
	assert_int_equal(e->kind, kind);
	assert_int_equal(e->ts, ts);
	assert_int_equal(e->cpu, cpu);
	assert_int_equal(e->pfn, pfn);
	assert_int_equal(e->order, order);
	assert_int_equal(e->mt, mt);
	assert_int_equal(e->gfp, gfp);
	assert_int_equal(e->aux, aux);
}

/* ---- gfp ---------------------------------------------------------------- */

static uint64_t gfp(const char *s)
{
	uint64_t v = 0xdead;
	assert_int_equal(fr_gfp_parse(s, strlen(s), &v), 0);
	return v;
}

static void test_gfp_parse(void **state)
{
	uint64_t v;
	(void)state;

	/* composite values as this machine's mm_page_alloc format file defines them */
	assert_int_equal(gfp("GFP_TRANSHUGE"), 0x1c24ca);
	assert_int_equal(gfp("GFP_TRANSHUGE_LIGHT"), 0x1c20ca);
	assert_int_equal(gfp("GFP_HIGHUSER_MOVABLE"), 0x100cca);
	assert_int_equal(gfp("GFP_HIGHUSER"), 0x100cc2);
	assert_int_equal(gfp("GFP_USER"), 0x100cc0);
	assert_int_equal(gfp("GFP_KERNEL_ACCOUNT"), 0x400cc0);
	assert_int_equal(gfp("GFP_KERNEL"), 0xcc0);
	assert_int_equal(gfp("GFP_NOFS"), 0xc40);
	assert_int_equal(gfp("GFP_ATOMIC"), 0x820);
	assert_int_equal(gfp("GFP_NOIO"), 0xc00);
	assert_int_equal(gfp("GFP_NOWAIT"), 0x2800);
	assert_int_equal(gfp("GFP_DMA"), 0x1);
	assert_int_equal(gfp("GFP_DMA32"), 0x4);
	assert_int_equal(gfp("__GFP_RECLAIM"), 0xc00);
	assert_int_equal(gfp("__GFP_NO_OBJ_EXT"), 0x1000000);
	assert_int_equal(gfp("__GFP_ZEROTAGS"), 0x800000);
	assert_int_equal(gfp("__GFP_MOVABLE"), 0x8);
	assert_int_equal(gfp("__GFP_RECLAIMABLE"), 0x10);
	assert_int_equal(gfp("none"), 0);
	assert_int_equal(gfp("0x1000000"), 0x1000000);
	assert_int_equal(gfp("GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP"), 0x140dca);
	assert_int_equal(gfp("GFP_TRANSHUGE|__GFP_NORETRY|__GFP_THISNODE"), 0x3d24ca);
	assert_int_equal(gfp("GFP_KERNEL|0x2000000"), 0x2000cc0);

	/* errors; the understood part is still returned */
	assert_int_equal(fr_gfp_parse("GFP_KERNEL|__GFP_BOGUS", 22, &v), -1);
	assert_int_equal(v, 0xcc0);
	assert_int_equal(fr_gfp_parse("", 0, &v), -1);
	assert_int_equal(fr_gfp_parse("GFP_KERNEL|", 11, &v), -1);
	assert_int_equal(fr_gfp_parse("|GFP_KERNEL", 11, &v), -1);
	assert_int_equal(fr_gfp_parse("0xzz", 4, &v), -1);
	assert_int_equal(fr_gfp_parse("gfp_kernel", 10, &v), -1);
	/* length-bounded: the rest of the line is not read */
	assert_int_equal(fr_gfp_parse("GFP_KERNEL order=0", 10, &v), 0);
	assert_int_equal(v, 0xcc0);
}

static void fmt_is(uint64_t v, const char *want)
{
	char buf[512];
	size_t n = fr_gfp_format(v, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_gfp_format(void **state)
{
	char small[8];
	(void)state;

	fmt_is(0, "none");
	fmt_is(0xcc0, "GFP_KERNEL");
	fmt_is(0xc00, "GFP_NOIO");	/* first in table order, not __GFP_RECLAIM */
	fmt_is(0x400, "__GFP_DIRECT_RECLAIM");
	fmt_is(0x1, "GFP_DMA");
	fmt_is(0x3d24ca, "GFP_TRANSHUGE|__GFP_NORETRY|__GFP_THISNODE");
	fmt_is(0x140dca, "GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP");
	fmt_is(0x1000000, "__GFP_NO_OBJ_EXT");
	fmt_is(0x2000000, "0x2000000");
	fmt_is(0x200, "0x200");		/* bit 9: unused since 6.3 */
	fmt_is(0x2000cc0, "GFP_KERNEL|0x2000000");
	/* snprintf-like truncation */
	assert_int_equal(fr_gfp_format(0xcc0, small, sizeof(small)), 10);
	assert_string_equal(small, "GFP_KER");
	assert_int_equal(fr_gfp_format(0xcc0, NULL, 0), 10);
}

static void test_gfp_roundtrip(void **state)
{
	/* every gfp_flags string in the reference recording, as the kernel printed it */
	static const char *const seen[] = {
		"GFP_NOWAIT|__GFP_IO|__GFP_FS|__GFP_NORETRY|__GFP_COMP",
		"GFP_NOFS|__GFP_HIGHMEM|__GFP_MOVABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_HARDWALL",
		"GFP_HIGHUSER|__GFP_ACCOUNT",
		"GFP_KERNEL|__GFP_RECLAIMABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP",
		"__GFP_RECLAIMABLE|__GFP_IO|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC",
		"GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP",
		"GFP_TRANSHUGE|__GFP_NORETRY|__GFP_THISNODE",
		"GFP_NOFS|__GFP_MOVABLE|__GFP_NOFAIL|__GFP_COMP|__GFP_HARDWALL",
		"GFP_HIGHUSER_MOVABLE|__GFP_COMP",
		"GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP",
		"GFP_NOFS|__GFP_NOFAIL|__GFP_COMP|__GFP_HARDWALL",
		"GFP_NOFS|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP",
		"GFP_NOWAIT|__GFP_NORETRY|__GFP_COMP|__GFP_THISNODE",
		"GFP_NOWAIT|__GFP_RECLAIMABLE|__GFP_NORETRY|__GFP_COMP",
		"GFP_NOWAIT|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC",
		"GFP_NOWAIT",
		"GFP_NOFS|__GFP_RECLAIMABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_HARDWALL",
		"GFP_ATOMIC|__GFP_RECLAIMABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP",
		"GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP",
		"__GFP_IO|__GFP_FS|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC",
		"GFP_NOFS|__GFP_MOVABLE|__GFP_COMP",
		"GFP_TRANSHUGE_LIGHT|__GFP_THISNODE",
		"GFP_ATOMIC|__GFP_ZERO|__GFP_NO_OBJ_EXT",
	};
	char buf[512];
	(void)state;

	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
		fr_gfp_format(gfp(seen[i]), buf, sizeof(buf));
		assert_string_equal(buf, seen[i]);
	}
	/* bits -> text -> bits, for each name's mask, each bit, and mixtures */
	for (size_t i = 0; i < fr_gfp_nnames; i++) {
		fr_gfp_format(fr_gfp_names[i].mask, buf, sizeof(buf));
		assert_int_equal(gfp(buf), fr_gfp_names[i].mask);
	}
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 2000; i++) {
		uint64_t v = i < 64 ? (UINT64_C(1) << i) : (x & (i & 1 ? 0x1ffffff : ~0ull));
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		fr_gfp_format(v, buf, sizeof(buf));
		assert_int_equal(gfp(buf), v);
	}
}

/* ---- ftrace ------------------------------------------------------------- */

static const char ftrace_txt[] =
	"# tracer: nop\n"
	"#\n"
	"# entries-in-buffer/entries-written: 9/9   #P:2\n"
	"#\n"
	"#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
	"#              | |         |   |||||     |         |\n"
	"            bash-4048    [000] .....   338.074277: mm_page_alloc: page=00000000c9fd35dd pfn=0x15bd08 order=1 migratetype=2 gfp_flags=__GFP_RECLAIMABLE|__GFP_IO|__GFP_FS|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC\n"
	"          <idle>-0       [001] ..s1.   338.074485: mm_page_free: page=00000000dc8073be pfn=0x147864 order=0\n"
	"            bash-4048    [000] d..2.   338.074629: sched_switch: prev_comm=bash prev_pid=4048 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120\n"
	"CPU:1 [LOST 123 EVENTS]\n"
	"  kworker/u8:1-77      [001] d..1.   338.100000: mm_page_free_batched: page=0000000021d00505 pfn=0x1477ba order=0\n"
	"     my comm [1]-99     [001] ...1.   338.2: mm_page_alloc_zone_locked: page=000000006b4a1983 pfn=0x15b699 order=0 migratetype=1 percpu_refill=1\n"
	"            tar-12028   [000] d..1. 338.383495915: mm_page_alloc_extfrag: page=0000000071a22c55 pfn=0x2a3400 alloc_order=0 fallback_order=10 pageblock_order=9 alloc_migratetype=0 fallback_migratetype=1 fragmenting=10 change_ownership=1\n"
	"     kworker/0:2-1399    [000] d..2.   338.500001: mm_page_pcpu_drain: page=000000002b514300 pfn=0x2b5143 order=3 migratetype=0\n"
	"           stress-5000    [001] .....   338.600000: mm_page_alloc: page=0000000000000000 pfn=0x0 order=9 migratetype=1 gfp_flags=GFP_TRANSHUGE|__GFP_NORETRY|__GFP_THISNODE\n"
	"CPU:0 [LOST EVENTS]\n"
	"           stress-5000    [001] .....   338.600001: mm_page_alloc: page=0000000000000000 pfn=0x2 order=0 migratetype=1 gfp_flags=none\n";

static void test_ftrace(void **state)
{
	struct fr_error err = { { 0 } };
	struct got g;
	(void)state;

	assert_int_equal(read_all(put("trace", ftrace_txt), 0, 64, &g, &err), 0);
	assert_string_equal(g.format, "ftrace-text");
	assert_int_equal(g.nr_cpus, 2);
	assert_int_equal(g.n, 10);
	expect(&g.ev[0], FR_EV_ALLOC, 338074277000, 0, 0x15bd08, 1, 2, 0xd20d0, 0);
	expect(&g.ev[1], FR_EV_FREE, 338074485000, 1, 0x147864, 0, 0, 0, 0);
	/* the loss marker takes the time of the line after it */
	expect(&g.ev[2], FR_EV_LOST, 338100000000, 1, 0, 0, 0, 123, 0);
	expect(&g.ev[3], FR_EV_FREE_BATCHED, 338100000000, 1, 0x1477ba, 0, 0, 0, 0);
	/* a task name with a space and brackets; one fraction digit */
	expect(&g.ev[4], FR_EV_ZONE_LOCKED, 338200000000, 1, 0x15b699, 0, 1, 0, 1);
	/* extfrag: gfp = change_ownership | fallback_migratetype << 8 (fr_event.h) */
	expect(&g.ev[5], FR_EV_EXTFRAG, 338383495915, 0, 0x2a3400, 0, 0, 0x101, 10);
	expect(&g.ev[6], FR_EV_PCPU_DRAIN, 338500001000, 0, 0x2b5143, 3, 0, 0, 0);
	/* a failed allocation prints pfn=0x0 */
	expect(&g.ev[7], FR_EV_ALLOC, 338600000000, 1, FR_PFN_NONE, 9, 1, 0x3d24ca, 0);
	/* "[LOST EVENTS]": the trace file's iterator was overrun, count unknown */
	expect(&g.ev[8], FR_EV_LOST, 338600001000, 0, 0, 0, 0, 0, 0);
	expect(&g.ev[9], FR_EV_ALLOC, 338600001000, 1, 2, 0, 1, 0, 0);

	/* the same, one event per read call, must give the same stream */
	struct got g1;
	assert_int_equal(read_all(put("trace", ftrace_txt), 0, 1, &g1, &err), 0);
	assert_int_equal(g1.n, g.n);
	assert_memory_equal(g1.ev, g.ev, g.n * sizeof(g.ev[0]));
}

/* ---- trace-cmd report --------------------------------------------------- */

static const char tracecmd_txt[] =
	"cpus=4\n"
	"version = 7\n"
	"fragrec:   record-real.sh-12014 [001]   654.143849976: mm_page_alloc:        page=0x314616 pfn=0x314616 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP\n"
	"fragrec:             date-12025 [000]   654.143988736: mm_page_free:         page=0x2a2b50 pfn=0x2a2b50 order=0\n"
	"fragrec: CPU:2 [EVENTS DROPPED]\n"
	"   my [weird]: comm-1   [002]   654.200000000: mm_page_free_batched: page=0x317bf7 pfn=0x317bf7 order=0\n"
	"CPU:3 [4096 EVENTS DROPPED]\n"
	"      kworker/3:0-50    [003]   654.300000001: sched_wakeup:         comm=foo pid=1 prio=120 target_cpu=000\n"
	"              tar-12028 [001]   654.383495915: mm_page_alloc_extfrag: page=0x2a3400 pfn=0x2a3400 alloc_order=0 fallback_order=10 pageblock_order=9 alloc_migratetype=0 fallback_migratetype=1 fragmenting=10 change_ownership=0\n"
	"              tar-12028 [001]   654.383496: mm_page_alloc:        page=0x2a3401 order=0 pfn=0x2a3401 gfp_flags=GFP_KERNEL migratetype=0\n"
	/* trace-cmd report -l: CPU and latency flags run together */
	"fragrec:   iperf3-12033   1.....   655.946675: mm_page_free:         page=0x2a9210 pfn=0x2a9210 order=3\n"
	/* trace-cmd report --ts-diff */
	"fragrec:   record-real.sh-12014 [001]   656.000000: (+44)    mm_page_free:         page=0x5 pfn=0x5 order=0\n";

static void test_tracecmd(void **state)
{
	struct fr_error err = { { 0 } };
	struct got g;
	(void)state;

	assert_int_equal(read_all(put("report.txt", tracecmd_txt), 0, 64, &g, &err), 0);
	assert_string_equal(g.format, "trace-cmd-text");
	assert_int_equal(g.nr_cpus, 4);	/* from cpus=4 */
	assert_int_equal(g.n, 9);
	expect(&g.ev[0], FR_EV_ALLOC, 654143849976, 1, 0x314616, 0, 1, 0x140dca, 0);
	expect(&g.ev[1], FR_EV_FREE, 654143988736, 0, 0x2a2b50, 0, 0, 0, 0);
	expect(&g.ev[2], FR_EV_LOST, 654200000000, 2, 0, 0, 0, 0, 0);	/* count unknown */
	expect(&g.ev[3], FR_EV_FREE_BATCHED, 654200000000, 2, 0x317bf7, 0, 0, 0, 0);
	/* loss before an event we ignore still gets that event's time */
	expect(&g.ev[4], FR_EV_LOST, 654300000001, 3, 0, 0, 0, 4096, 0);
	expect(&g.ev[5], FR_EV_EXTFRAG, 654383495915, 1, 0x2a3400, 0, 0, 0x100, 10);
	/* fields in any order; 6-digit time */
	expect(&g.ev[6], FR_EV_ALLOC, 654383496000, 1, 0x2a3401, 0, 0, 0xcc0, 0);
	expect(&g.ev[7], FR_EV_FREE, 655946675000, 1, 0x2a9210, 3, 0, 0, 0);
	expect(&g.ev[8], FR_EV_FREE, 656000000000, 1, 0x5, 0, 0, 0, 0);
}

/* ---- perf script -------------------------------------------------------- */

static const char perf_txt[] =
	"            perf  4072 [001]   342.032723709: kmem:mm_page_alloc: page=0x10914f pfn=0x10914f order=0 migratetype=0 gfp_flags=GFP_HIGHUSER|__GFP_ACCOUNT\n"
	"     Web Content  9999 [003]   342.032856673: kmem:mm_page_free: page=0x15b64b pfn=0x15b64b order=2\n"
	"     Web Content  9999 [003]   342.032900000: sched:sched_switch: prev_comm=x prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=y next_pid=2 next_prio=120\n"
	"       perf-exec  4074 [000]   342.033940450: PERF_RECORD_LOST lost 12\n"
	"             tar  4076 [000]   342.034000: kmem:mm_page_pcpu_drain: page=0xffffea0004a3c000 pfn=1213185 order=1 migratetype=2\n"
	"             tar  4076/4076 [002] 342.1234567891234: kmem:mm_page_alloc_zone_locked: page=0x10 pfn=0x10 order=3 migratetype=0\n";

static void test_perf(void **state)
{
	struct fr_error err = { { 0 } };
	struct got g;
	(void)state;

	assert_int_equal(read_all(put("trace.perf.txt", perf_txt), 0, 64, &g, &err), 0);
	assert_string_equal(g.format, "perf-script");
	assert_int_equal(g.nr_cpus, 4);
	assert_int_equal(g.n, 5);
	expect(&g.ev[0], FR_EV_ALLOC, 342032723709, 1, 0x10914f, 0, 0, 0x500cc2, 0);
	expect(&g.ev[1], FR_EV_FREE, 342032856673, 3, 0x15b64b, 2, 0, 0, 0);
	expect(&g.ev[2], FR_EV_LOST, 342033940450, 0, 0, 0, 0, 12, 0);
	/* decimal pfn, as pre-5.14 kernels print it */
	expect(&g.ev[3], FR_EV_PCPU_DRAIN, 342034000000, 0, 1213185, 1, 2, 0, 0);
	/* pid/tid; more than 9 fraction digits are cut, not rounded */
	expect(&g.ev[4], FR_EV_ZONE_LOCKED, 342123456789, 2, 0x10, 3, 0, 0, 0);
}

/* ---- errors and --skip-bad ---------------------------------------------- */

static const char bad_txt[] =
	"cpus=2\n"
	"            bash-1 [000]   1.000000001: mm_page_free:         page=0x1 pfn=0x1 order=0\n"
	"something went wrong here mm_page_alloc: pfn=0x5\n"
	"            bash-1 [000]   1.000000002: mm_page_free:         page=0x2 pfn=0x2 order=0\n"
	"            bash-1 [000]   1.000000003: mm_page_alloc:        page=0x3 pfn=0xZZ order=0 migratetype=0 gfp_flags=GFP_KERNEL\n"
	"            bash-1 [000]   1.000000004: mm_page_alloc:        page=0x4 pfn=0x4 migratetype=0 gfp_flags=GFP_KERNEL\n"
	"            bash-1 [000]   1.000000005: mm_page_free:         page=0x5 pfn=0x5 order=0\n";

static void test_errors(void **state)
{
	struct fr_error err = { { 0 } };
	struct got g;
	char want[4400];
	const char *path = put("bad.txt", bad_txt);
	(void)state;

	/* the event before the bad line comes out, then the error */
	assert_int_equal(read_all(path, 0, 64, &g, &err), -1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.ev[0].pfn, 1);
	snprintf(want, sizeof(want), "%s: line 3: ", path);
	if (strncmp(err.msg, want, strlen(want)))
		fail_msg("message '%s' does not start with '%s'", err.msg, want);
	assert_non_null(strstr(err.msg, "mm_page_alloc"));
	assert_null(strchr(err.msg, '\n'));

	/* a bad value names its line too */
	const char *p2 = put("bad2.txt",
			     "cpus=1\n"
			     "  a-1 [000] 1.5: mm_page_alloc: page=0x3 pfn=0xZZ order=0 migratetype=0 gfp_flags=GFP_KERNEL\n");
	assert_int_equal(read_all(p2, 0, 64, &g, &err), -1);
	snprintf(want, sizeof(want), "%s: line 2: bad value in 'pfn=0xZZ'", p2);
	assert_string_equal(err.msg, want);

	/* a missing field */
	const char *p3 = put("bad3.txt", "  a-1 [000] 1.5: mm_page_free: page=0x3 pfn=0x3\n");
	assert_int_equal(read_all(p3, 0, 64, &g, &err), -1);
	snprintf(want, sizeof(want), "%s: line 1: mm_page_free without order=", p3);
	assert_string_equal(err.msg, want);

	/* a file that is no trace at all is refused at open */
	const char *p4 = put("notes.txt", "hello world\nthis is not a trace\n");
	assert_null(fr_source_open(p4, NULL, &err));
	snprintf(want, sizeof(want), "%s: line 1: ", p4);
	assert_int_equal(strncmp(err.msg, want, strlen(want)), 0);
}

static void test_skip_bad(void **state)
{
	struct fr_error err = { { 0 } };
	struct got g;
	(void)state;

	assert_int_equal(read_all(put("bad.txt", bad_txt), 1, 64, &g, &err), 0);
	assert_int_equal(g.skipped, 3);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.ev[0].pfn, 1);
	assert_int_equal(g.ev[1].pfn, 2);
	assert_int_equal(g.ev[2].pfn, 5);
	assert_int_equal(g.ev[2].ts, 1000000005);
}

/* ---- streaming: buffer boundaries, long lines, rewind ------------------- */

static void test_streaming(void **state)
{
	struct fr_error err = { { 0 } };
	char path[4200], *longline;
	const size_t nlines = 40000;	/* ~4 MiB: several buffer refills */
	FILE *f;
	(void)state;

	snprintf(path, sizeof(path), "%s/big.txt", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("cpus=2\n", f);
	longline = malloc(70000);
	assert_non_null(longline);
	memset(longline, 'x', 70000);
	for (size_t i = 0; i < nlines; i++) {
		fprintf(f, "   some task-%zu [%03zu] %zu.%09zu: mm_page_alloc: page=0x%zx pfn=0x%zx order=%zu "
			"migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP\n",
			i, i & 1, 100 + i / 1000, (i % 1000) * 1000, i + 1, i + 1, i % 11);
		if (i % 5000 == 17)	/* a 60 KB line of another event */
			fprintf(f, "  t-1 [000] %zu.%09zu: bputs: %.*s\n", 100 + i / 1000,
				(i % 1000) * 1000, 60000, longline);
	}
	/* no newline at the end of the file */
	fprintf(f, "  t-1 [001] 999.5: mm_page_free: page=0x1 pfn=0x1 order=0");
	assert_int_equal(fclose(f), 0);

	struct fr_source *src = fr_source_open(path, NULL, &err);
	assert_non_null(src);
	for (int pass = 0; pass < 2; pass++) {
		struct fr_event ev[1000];
		size_t total = 0;
		uint64_t sum = 0;
		ssize_t r;
		while ((r = fr_source_read(src, ev, 1000, &err)) > 0) {
			for (ssize_t i = 0; i < r; i++) {
				size_t k = total + (size_t)i;
				if (k < nlines) {
					assert_int_equal(ev[i].kind, FR_EV_ALLOC);
					assert_int_equal(ev[i].pfn, k + 1);
					assert_int_equal(ev[i].order, k % 11);
					assert_int_equal(ev[i].cpu, k & 1);
					assert_int_equal(ev[i].ts, (100 + k / 1000) * 1000000000ull + (k % 1000) * 1000);
				}
				sum += ev[i].pfn;
			}
			total += (size_t)r;
		}
		assert_int_equal(r, 0);
		assert_int_equal(total, nlines + 1);
		assert_int_equal(sum, (uint64_t)nlines * (nlines + 1) / 2 + 1);
		assert_int_equal(fr_source_meta(src)->nr_cpus, 2);
		assert_int_equal(fr_source_rewind(src, &err), 0);
	}
	fr_source_close(src);

	/* a line over 64 KiB is an error, or skipped under --skip-bad */
	snprintf(path, sizeof(path), "%s/long.txt", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("  t-1 [000] 1.0: mm_page_free: page=0x1 pfn=0x1 order=0\n", f);
	fprintf(f, "  t-1 [000] 1.1: bputs: %.*s\n", 69000, longline);
	fputs("  t-1 [000] 1.2: mm_page_free: page=0x2 pfn=0x2 order=0\n", f);
	assert_int_equal(fclose(f), 0);
	free(longline);

	struct got g;
	assert_int_equal(read_all(path, 0, 64, &g, &err), -1);
	assert_int_equal(g.n, 1);
	assert_non_null(strstr(err.msg, ": line 2: longer than 65536 bytes"));
	assert_int_equal(read_all(path, 1, 64, &g, &err), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.skipped, 1);
	assert_int_equal(g.ev[1].pfn, 2);
}

/* ---- real recordings ---------------------------------------------------- */

/* Count events per kind in PATH; total in cnt[0]. */
static void count_kinds(const char *path, uint64_t cnt[FR_EV_NKINDS], char *format, size_t fcap)
{
	struct fr_error err = { { 0 } };
	struct fr_source *src = fr_source_open(path, NULL, &err);
	static struct fr_event ev[8192];
	uint64_t last = 0;
	ssize_t r;

	if (!src)
		fail_msg("%s", err.msg);
	snprintf(format, fcap, "%s", fr_source_meta(src)->format);
	memset(cnt, 0, sizeof(uint64_t) * FR_EV_NKINDS);
	while ((r = fr_source_read(src, ev, 8192, &err)) > 0)
		for (ssize_t i = 0; i < r; i++) {
			assert_true(ev[i].kind > FR_EV_NONE && ev[i].kind < FR_EV_NKINDS);
			assert_true(ev[i].ts >= last);	/* file order is time order here */
			last = ev[i].ts;
			cnt[ev[i].kind]++;
			cnt[0]++;
		}
	if (r < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(fr_source_skipped(src), 0);
	fr_source_close(src);
}

static void test_mixed_report(void **state)
{
	char dat[4096], txt[4300], cmd[9000], out[256], format[32];
	uint64_t cnt[FR_EV_NKINDS];
	(void)state;

	snprintf(dat, sizeof(dat), "%s/mixed-6.18/trace.dat", fr_test_shared_traces());
	if (!fr_test_exists(dat)) {
		print_message("skip: %s is not there\n", dat);
		skip();
	}
	if (fr_test_run("command -v trace-cmd", out, sizeof(out)) != 0) {
		print_message("skip: trace-cmd is not installed\n");
		skip();
	}
	snprintf(txt, sizeof(txt), "%s/mixed.txt", tmpdir);
	snprintf(cmd, sizeof(cmd), "trace-cmd report -t '%s' > '%s' 2>/dev/null", dat, txt);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);

	count_kinds(txt, cnt, format, sizeof(format));
	assert_string_equal(format, "trace-cmd-text");
	assert_int_equal(cnt[FR_EV_ALLOC], 444445);
	assert_int_equal(cnt[FR_EV_FREE], 414535);
	assert_int_equal(cnt[FR_EV_FREE_BATCHED], 7316);
	assert_int_equal(cnt[FR_EV_ZONE_LOCKED], 69999);
	assert_int_equal(cnt[FR_EV_PCPU_DRAIN], 26729);
	assert_int_equal(cnt[FR_EV_EXTFRAG], 109);
	assert_int_equal(cnt[FR_EV_LOST], 0);
	assert_int_equal(cnt[0], 963133);
}

/*
 * The text of a trace.dat and the trace.dat itself must decode to the same
 * stream (trace-cmd report -t prints every field in full and ns timestamps).
 * Skipped while the trace.dat reader cannot open it.
 */
static void test_mixed_same_as_tracedat(void **state)
{
	char dat[4096], txt[4300], cmd[9000], out[256];
	struct fr_error err = { { 0 } };
	(void)state;

	snprintf(dat, sizeof(dat), "%s/mixed-6.18/trace.dat", fr_test_shared_traces());
	if (!fr_test_exists(dat) || fr_test_run("command -v trace-cmd", out, sizeof(out)) != 0) {
		print_message("skip: needs %s and trace-cmd\n", dat);
		skip();
	}
	struct fr_source *a = fr_source_open(dat, NULL, &err);
	if (!a) {
		print_message("skip: trace.dat reader: %s\n", err.msg);
		skip();
	}
	snprintf(txt, sizeof(txt), "%s/mixed.txt", tmpdir);
	snprintf(cmd, sizeof(cmd), "trace-cmd report -t '%s' > '%s' 2>/dev/null", dat, txt);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	struct fr_source *b = fr_source_open(txt, NULL, &err);
	assert_non_null(b);

	static struct fr_event ea[4096], eb[4096];
	uint64_t n = 0;
	for (;;) {
		ssize_t ra = fr_source_read(a, ea, 4096, &err);
		assert_true(ra >= 0);
		ssize_t rb = 0, r;
		while (rb < ra && (r = fr_source_read(b, eb + rb, (size_t)(ra - rb), &err)) > 0)
			rb += r;
		assert_int_equal(ra, rb);
		for (ssize_t i = 0; i < ra; i++, n++)
			if (memcmp(&ea[i], &eb[i], sizeof(ea[i])))
				fail_msg("event %llu differs: dat kind %d ts %llu pfn %#llx gfp %#llx, "
					 "text kind %d ts %llu pfn %#llx gfp %#llx",
					 (unsigned long long)n, ea[i].kind, (unsigned long long)ea[i].ts,
					 (unsigned long long)ea[i].pfn, (unsigned long long)ea[i].gfp,
					 eb[i].kind, (unsigned long long)eb[i].ts,
					 (unsigned long long)eb[i].pfn, (unsigned long long)eb[i].gfp);
		if (ra == 0)
			break;
	}
	assert_int_equal(n, 963133);
	fr_source_close(a);
	fr_source_close(b);
}

static void test_perf_dump(void **state)
{
	static const char path[] = "traces/perf-kmem/trace.perf.txt";
	char cmd[512], out[64], format[32];
	uint64_t cnt[FR_EV_NKINDS];
	(void)state;

	if (!fr_test_exists(path)) {
		print_message("skip: %s is not there\n", path);
		skip();
	}
	count_kinds(path, cnt, format, sizeof(format));
	assert_string_equal(format, "perf-script");
	uint64_t total = 0;
	for (int k = FR_EV_ALLOC; k <= FR_EV_LOST; k++) {
		/* an independent count of the same lines */
		if (k == FR_EV_LOST)
			snprintf(cmd, sizeof(cmd), "grep -c ': PERF_RECORD_LOST lost ' %s", path);
		else
			snprintf(cmd, sizeof(cmd), "grep -c ' kmem:%s:' %s", fr_kind_name(k), path);
		fr_test_run(cmd, out, sizeof(out));	/* grep -c exits 1 on a count of 0 */
		uint64_t want = strtoull(out, NULL, 10);
		if (cnt[k] != want)
			fail_msg("%s: %llu events, grep counts %llu", fr_kind_name(k),
				 (unsigned long long)cnt[k], (unsigned long long)want);
		total += want;
	}
	assert_int_equal(cnt[0], total);
	assert_true(total > 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gfp_parse),
		cmocka_unit_test(test_gfp_format),
		cmocka_unit_test(test_gfp_roundtrip),
		cmocka_unit_test_setup_teardown(test_ftrace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tracecmd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_perf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streaming, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_same_as_tracedat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_perf_dump, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
