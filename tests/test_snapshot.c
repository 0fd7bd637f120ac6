// SPDX-License-Identifier: GPL-2.0
/*
 * test_snapshot.c - the /proc snapshots of a recording: loading, kpageflags
 * streaming, zoneinfo / pagetypeinfo / buddyinfo parsing, and the errors.
 *
 * Exact values come from the reference recording ../shared/traces/mixed-6.18
 * (6.18, 2 CPUs, 24 GiB); kpageflags counts are cross-checked against an
 * independent decode by zstd | od | awk.  Tests needing that recording skip
 * when it is not there.
 */
#include "fr_test.h"
#include "snapshot.h"

static char mixed[4096];

static int have_mixed(void)
{
	snprintf(mixed, sizeof(mixed), "%s/mixed-6.18", fr_test_shared_traces());
	return fr_test_exists(mixed);
}

#define NEED_MIXED() do { if (!have_mixed()) { skip(); } } while (0)

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void run_ok(const char *cmd)
{
	char out[4096];
	int rc = fr_test_run(cmd, out, sizeof(out));
	if (rc != 0)
		fail_msg("command failed (%d): %s\n%s", rc, cmd, out);
}

/* Load DIR and parse one text snapshot with the matching parser. */
static char *load_text(struct fr_snapshots *s, int id, size_t *len)
{
	struct fr_error err = { { 0 } };
	char *t = fr_snap_text(s, id, len, &err);
	if (!t)
		fail_msg("%s", err.msg);
	return t;
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(fr_snap_filename(FR_SNAP_KPAGEFLAGS_START), "kpageflags.start.zst");
	assert_string_equal(fr_snap_filename(FR_SNAP_KPAGEFLAGS_END), "kpageflags.end.zst");
	assert_string_equal(fr_snap_filename(FR_SNAP_ZONEINFO_START), "zoneinfo.start");
	assert_string_equal(fr_snap_filename(FR_SNAP_ZONEINFO_END), "zoneinfo.end");
	assert_string_equal(fr_snap_filename(FR_SNAP_PAGETYPEINFO_START), "pagetypeinfo.start");
	assert_string_equal(fr_snap_filename(FR_SNAP_PAGETYPEINFO_END), "pagetypeinfo.end");
	assert_string_equal(fr_snap_filename(FR_SNAP_BUDDYINFO_START), "buddyinfo.start");
	assert_string_equal(fr_snap_filename(FR_SNAP_BUDDYINFO_END), "buddyinfo.end");
	assert_string_equal(fr_snap_filename(FR_SNAP_STATS), "stats");
	assert_string_equal(fr_snap_name(FR_SNAP_KPAGEFLAGS_START), "kpageflags.start");
	assert_string_equal(fr_snap_name(FR_SNAP_KPAGEFLAGS_END), "kpageflags.end");
	assert_string_equal(fr_snap_name(FR_SNAP_STATS), "stats");
	for (int i = 0; i < FR_NSNAPS; i++)
		assert_int_equal(fr_snap_from_name(fr_snap_name(i)), i);
	assert_int_equal(fr_snap_from_name("kpageflags.start.zst"), -1);
	assert_null(fr_snap_name(FR_NSNAPS));
	assert_null(fr_snap_filename(-1));
}

static void test_load_mixed(void **state)
{
	struct fr_snapshots s;
	struct fr_error err = { { 0 } };
	(void)state;
	NEED_MIXED();

	assert_int_equal(fr_snapshots_load_dir(&s, mixed, &err), 0);
	for (int i = 0; i < FR_NSNAPS; i++) {
		assert_non_null(s.blob[i].data);
		assert_string_equal(s.blob[i].name, fr_snap_name(i));
	}
	/* kpageflags stays compressed in memory: the file's bytes, as is */
	assert_int_equal(s.blob[FR_SNAP_KPAGEFLAGS_START].len, 212874);
	assert_int_equal(s.blob[FR_SNAP_KPAGEFLAGS_END].len, 229859);
	assert_true(s.blob[FR_SNAP_KPAGEFLAGS_START].zstd);
	assert_true(s.blob[FR_SNAP_KPAGEFLAGS_END].zstd);
	assert_false(s.blob[FR_SNAP_ZONEINFO_START].zstd);
	assert_int_equal(s.blob[FR_SNAP_ZONEINFO_START].len, 5374);
	assert_int_equal(s.blob[FR_SNAP_STATS].len, 431);
	fr_snapshots_free(&s);
	for (int i = 0; i < FR_NSNAPS; i++)
		assert_null(s.blob[i].data);
}

static void test_zoneinfo_mixed(void **state)
{
	struct fr_snapshots s;
	struct fr_error err = { { 0 } };
	struct fr_zoneinfo zi;
	const struct fr_zone_info *z;
	size_t len;
	char *t;
	(void)state;
	NEED_MIXED();

	assert_int_equal(fr_snapshots_load_dir(&s, mixed, &err), 0);
	t = load_text(&s, FR_SNAP_ZONEINFO_START, &len);
	assert_int_equal(len, 5374);
	assert_int_equal(strlen(t), len);
	if (fr_zoneinfo_parse(t, len, &zi, "zoneinfo.start", &err) < 0)
		fail_msg("%s", err.msg);
	/* Movable and Device have spanned 0: skipped */
	assert_int_equal(zi.nr_zones, 3);
	assert_null(fr_zoneinfo_find(&zi, 0, "Movable"));
	assert_null(fr_zoneinfo_find(&zi, 0, "Device"));

	z = &zi.zone[0];
	assert_string_equal(z->name, "DMA");
	assert_int_equal(z->node, 0);
	assert_int_equal(z->start_pfn, 1);
	assert_int_equal(z->spanned, 4095);
	assert_int_equal(z->present, 3998);
	assert_int_equal(z->managed, 3840);
	assert_int_equal(z->pages_free, 3840);
	assert_int_equal(z->wmark_min, 11);
	assert_int_equal(z->wmark_low, 14);
	assert_int_equal(z->wmark_high, 17);
	assert_int_equal(z->pcp_count, 0);
	assert_int_equal(z->pcp_high, 0);
	assert_int_equal(z->pcp_batch, 1);
	assert_int_equal(z->pcp_high_min, 7);
	assert_int_equal(z->pcp_high_max, 240);

	z = &zi.zone[1];
	assert_string_equal(z->name, "DMA32");
	assert_int_equal(z->start_pfn, 4096);
	assert_int_equal(z->spanned, 1044480);
	assert_int_equal(z->present, 782336);
	assert_int_equal(z->managed, 772917);
	assert_int_equal(z->wmark_min, 2321);
	assert_int_equal(z->wmark_low, 3093);
	assert_int_equal(z->wmark_high, 3865);
	assert_int_equal(z->pcp_count, 0);
	assert_int_equal(z->pcp_high, 1546);
	assert_int_equal(z->pcp_batch, 63);
	assert_int_equal(z->pcp_high_min, 1546);
	assert_int_equal(z->pcp_high_max, 48307);

	z = fr_zoneinfo_find(&zi, 0, "Normal");
	assert_ptr_equal(z, &zi.zone[2]);
	assert_int_equal(z->start_pfn, 1048576);
	assert_int_equal(z->spanned, 5505024);
	assert_int_equal(z->present, 5505024);
	assert_int_equal(z->managed, 4849664);
	assert_int_equal(z->pages_free, 2415519);
	assert_int_equal(z->wmark_min, 14563);
	assert_int_equal(z->wmark_low, 19412);
	assert_int_equal(z->wmark_high, 24261);
	/* the FIRST cpu's pageset: cpu 1 has count 10750, high 277771 */
	assert_int_equal(z->pcp_count, 14690);
	assert_int_equal(z->pcp_high, 246558);
	assert_int_equal(z->pcp_batch, 63);
	assert_int_equal(z->pcp_high_min, 9706);
	assert_int_equal(z->pcp_high_max, 303104);
	free(t);

	/* the end snapshot parses to the same geometry */
	t = load_text(&s, FR_SNAP_ZONEINFO_END, &len);
	if (fr_zoneinfo_parse(t, len, &zi, "zoneinfo.end", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(zi.nr_zones, 3);
	assert_int_equal(zi.zone[2].spanned, 5505024);
	free(t);
	fr_snapshots_free(&s);
}

/* Count words of a kpageflags blob through the streaming reader, in odd-sized
 * reads so that word runs straddle the 64 KiB decode window. */
struct kpf_counts {
	uint64_t n, buddy, nopage, zero, slab, thp;
};

static int kpf_scan(const struct fr_blob *b, size_t chunk, struct kpf_counts *c, struct fr_error *err)
{
	struct fr_kpf_reader *r = fr_kpf_open(b, err);
	uint64_t *w = malloc(chunk * sizeof(*w));
	long k;

	memset(c, 0, sizeof(*c));
	assert_non_null(w);
	if (!r) {
		free(w);
		return -1;
	}
	while ((k = fr_kpf_read(r, w, chunk, err)) > 0) {
		for (long i = 0; i < k; i++) {
			uint64_t f = w[i];
			c->buddy += f >> KPF_BUDDY & 1;
			c->nopage += f >> KPF_NOPAGE & 1;
			c->slab += f >> KPF_SLAB & 1;
			c->thp += f >> KPF_THP & 1;
			c->zero += f == 0;
		}
		c->n += (uint64_t)k;
	}
	/* at the end, reads keep returning 0 */
	if (k == 0)
		assert_int_equal(fr_kpf_read(r, w, chunk, err), 0);
	fr_kpf_close(r);
	free(w);
	return k < 0 ? -1 : 0;
}

static void test_kpageflags_mixed(void **state)
{
	struct fr_snapshots s;
	struct fr_error err = { { 0 } };
	struct fr_zoneinfo zi;
	struct kpf_counts c;
	unsigned long long n, buddy, nopage, zero;
	uint64_t npfns = 0;
	char cmd[5 * 4096], out[256];
	size_t len;
	char *t;
	(void)state;
	NEED_MIXED();

	assert_int_equal(fr_snapshots_load_dir(&s, mixed, &err), 0);
	/* zstd < /proc/kpageflags cannot know the size: no content size in the frame */
	assert_int_equal(fr_kpf_npfns(&s.blob[FR_SNAP_KPAGEFLAGS_START]), 0);
	if (fr_kpf_count(&s.blob[FR_SNAP_KPAGEFLAGS_START], &npfns, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(npfns, 6553600);

	if (kpf_scan(&s.blob[FR_SNAP_KPAGEFLAGS_START], 999, &c, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(c.n, 6553600);
	assert_int_equal(c.buddy, 3188959);
	assert_int_equal(c.nopage, 0);
	assert_int_equal(c.zero, 1475498);

	/* Independent decode: zstd | od | awk.  Bit 10 (BUDDY) is in the third
	 * hex digit from the right, bit 20 (NOPAGE) the sixth. */
	snprintf(cmd, sizeof(cmd),
		 "zstd -dc '%s/kpageflags.start.zst' | od -An -v -tx8 -w8 | LC_ALL=C awk '"
		 "{n++} substr($1,14,1) ~ /[4-7c-f]/ {b++} substr($1,11,1) ~ /[13579bdf]/ {p++} "
		 "$1 == \"0000000000000000\" {z++} END {print n+0, b+0, p+0, z+0}'", mixed);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	assert_int_equal(sscanf(out, "%llu %llu %llu %llu", &n, &buddy, &nopage, &zero), 4);
	assert_int_equal(c.n, n);
	assert_int_equal(c.buddy, buddy);
	assert_int_equal(c.nopage, nopage);
	assert_int_equal(c.zero, zero);

	/* kpageflags covers pfn 0 up to the end of the last zone */
	t = load_text(&s, FR_SNAP_ZONEINFO_START, &len);
	assert_int_equal(fr_zoneinfo_parse(t, len, &zi, "zoneinfo.start", &err), 0);
	assert_int_equal(zi.zone[2].start_pfn + zi.zone[2].spanned, c.n);
	/* KPF_BUDDY marks every page of a free chunk, not only its head: the
	 * count is close to the free pages (3192276 a moment apart), not to
	 * the ~17000 chunks */
	{
		uint64_t free_pages = zi.zone[0].pages_free + zi.zone[1].pages_free + zi.zone[2].pages_free;
		assert_true(c.buddy * 100 > free_pages * 99 && c.buddy * 100 < free_pages * 101);
	}
	free(t);

	/* the end snapshot: same span, a different state */
	if (kpf_scan(&s.blob[FR_SNAP_KPAGEFLAGS_END], 65536, &c, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(c.n, 6553600);
	assert_true(c.buddy != 3188959);
	fr_snapshots_free(&s);
}

static void test_pagetypeinfo_mixed(void **state)
{
	struct fr_snapshots s;
	struct fr_error err = { { 0 } };
	struct fr_pagetypeinfo pti;
	struct fr_buddyinfo bi;
	const struct fr_pti_zone *z;
	size_t len;
	char *t;
	(void)state;
	NEED_MIXED();

	assert_int_equal(fr_snapshots_load_dir(&s, mixed, &err), 0);
	t = load_text(&s, FR_SNAP_PAGETYPEINFO_START, &len);
	if (fr_pagetypeinfo_parse(t, len, &pti, "pagetypeinfo.start", &err) < 0)
		fail_msg("%s", err.msg);
	free(t);
	assert_int_equal(pti.pageblock_order, 9);
	assert_int_equal(pti.pages_per_block, 512);
	assert_int_equal(pti.nr_orders, 11);
	/* this kernel has no CONFIG_CMA: Unmovable Movable Reclaimable HighAtomic Isolate */
	assert_int_equal(pti.mt_present, 0x2f);
	assert_int_equal(pti.nr_zones, 3);

	z = fr_pagetypeinfo_find(&pti, 0, "Normal");
	assert_non_null(z);
	assert_true(z->has_free && z->has_blocks);
	assert_int_equal(z->blocks[0], 1256);	/* Unmovable */
	assert_int_equal(z->blocks[1], 7927);	/* Movable */
	assert_int_equal(z->blocks[2], 289);	/* Reclaimable */
	assert_int_equal(z->blocks[3], 0);
	assert_int_equal(z->blocks[5], 0);	/* Isolate */
	assert_int_equal(z->free[1][0], 2963);	/* Movable, order 0 */
	assert_int_equal(z->free[1][10], 2220);	/* Movable, order 10 */
	assert_int_equal(z->free[2][3], 1704);	/* Reclaimable, order 3 */
	assert_int_equal(z->free[0][9], 1);	/* Unmovable, order 9 */
	for (int mt = 0; mt < FR_SNAP_NMT; mt++)
		assert_int_equal(z->capped[mt], 0);

	z = fr_pagetypeinfo_find(&pti, 0, "DMA32");
	assert_non_null(z);
	assert_int_equal(z->blocks[1], 1528);
	assert_int_equal(z->free[1][10], 752);
	z = fr_pagetypeinfo_find(&pti, 0, "DMA");
	assert_non_null(z);
	assert_int_equal(z->blocks[0], 1);
	assert_int_equal(z->blocks[1], 7);

	/* buddyinfo: free chunks per order, all migratetypes */
	t = load_text(&s, FR_SNAP_BUDDYINFO_START, &len);
	if (fr_buddyinfo_parse(t, len, &bi, "buddyinfo.start", &err) < 0)
		fail_msg("%s", err.msg);
	free(t);
	assert_int_equal(bi.nr_zones, 3);
	assert_int_equal(bi.nr_orders, 11);
	{
		static const uint64_t normal[11] = { 2965, 3271, 2632, 2937, 1008, 445, 189, 111, 66, 49, 2220 };
		const struct fr_buddy_zone *b = fr_buddyinfo_find(&bi, 0, "Normal");
		assert_non_null(b);
		assert_ptr_equal(b, &bi.zone[2]);
		for (int o = 0; o < 11; o++)
			assert_int_equal(b->free[o], normal[o]);
	}
	assert_null(fr_buddyinfo_find(&bi, 1, "Normal"));

	/* The two files were read together: per zone and order, the migratetype
	 * rows of pagetypeinfo add up to buddyinfo.  Two parsers, one truth. */
	for (int i = 0; i < bi.nr_zones; i++) {
		const struct fr_pti_zone *pz = fr_pagetypeinfo_find(&pti, bi.zone[i].node, bi.zone[i].name);
		assert_non_null(pz);
		for (int o = 0; o < bi.nr_orders; o++) {
			uint64_t sum = 0;
			for (int mt = 0; mt < FR_SNAP_NMT; mt++)
				sum += pz->free[mt][o];
			assert_int_equal(sum, bi.zone[i].free[o]);
		}
	}

	/* .end: Normal's blocks moved from Movable to Unmovable */
	t = load_text(&s, FR_SNAP_PAGETYPEINFO_END, &len);
	assert_int_equal(fr_pagetypeinfo_parse(t, len, &pti, "pagetypeinfo.end", &err), 0);
	free(t);
	z = fr_pagetypeinfo_find(&pti, 0, "Normal");
	assert_int_equal(z->blocks[0], 1471);
	assert_int_equal(z->blocks[1], 7712);
	fr_snapshots_free(&s);
}

/* Compressed text snapshots and an uncompressed kpageflags are accepted. */
static void test_alternate_files(void **state)
{
	struct fr_snapshots s, ref;
	struct fr_error err = { { 0 } };
	struct fr_kpf_reader *a, *b;
	uint64_t wa[1000], wb[1000], npfns;
	char *dir, cmd[5 * 4096], path[4200];
	char *t;
	size_t len, total = 0;
	FILE *f;
	long ka, kb;
	(void)state;
	NEED_MIXED();

	dir = fr_test_tmpdir();
	assert_non_null(dir);
	/* the first 32768 pfns, raw; zoneinfo compressed; nothing else */
	snprintf(cmd, sizeof(cmd),
		 "zstd -dc '%s/kpageflags.start.zst' | head -c 262144 > '%s/kpageflags.start' && "
		 "zstd -q -c '%s/zoneinfo.start' > '%s/zoneinfo.start.zst'", mixed, dir, mixed, dir);
	run_ok(cmd);
	assert_int_equal(fr_snapshots_load_dir(&s, dir, &err), 0);
	assert_int_equal(fr_snapshots_load_dir(&ref, mixed, &err), 0);
	assert_non_null(s.blob[FR_SNAP_KPAGEFLAGS_START].data);
	assert_false(s.blob[FR_SNAP_KPAGEFLAGS_START].zstd);
	assert_true(s.blob[FR_SNAP_ZONEINFO_START].zstd);
	for (int i = 0; i < FR_NSNAPS; i++)
		if (i != FR_SNAP_KPAGEFLAGS_START && i != FR_SNAP_ZONEINFO_START)
			assert_null(s.blob[i].data);

	/* compressed text decompresses to the original bytes */
	t = load_text(&s, FR_SNAP_ZONEINFO_START, &len);
	snprintf(path, sizeof(path), "%s/zoneinfo.start", mixed);
	f = fopen(path, "rb");
	assert_non_null(f);
	{
		char orig[8192];
		size_t on = fread(orig, 1, sizeof(orig), f);
		fclose(f);
		assert_int_equal(len, on);
		assert_memory_equal(t, orig, on);
	}
	free(t);

	/* an absent snapshot: NULL and a message naming it */
	assert_null(fr_snap_text(&s, FR_SNAP_BUDDYINFO_END, &len, &err));
	assert_non_null(strstr(err.msg, "buddyinfo.end"));

	/* raw kpageflags: size known, words equal to the zstd stream's prefix */
	assert_int_equal(fr_kpf_npfns(&s.blob[FR_SNAP_KPAGEFLAGS_START]), 32768);
	assert_int_equal(fr_kpf_count(&s.blob[FR_SNAP_KPAGEFLAGS_START], &npfns, &err), 0);
	assert_int_equal(npfns, 32768);
	a = fr_kpf_open(&s.blob[FR_SNAP_KPAGEFLAGS_START], &err);
	b = fr_kpf_open(&ref.blob[FR_SNAP_KPAGEFLAGS_START], &err);
	assert_non_null(a);
	assert_non_null(b);
	while ((ka = fr_kpf_read(a, wa, 1000, &err)) > 0) {
		kb = fr_kpf_read(b, wb, (size_t)ka, &err);
		assert_int_equal(kb, ka);
		assert_memory_equal(wa, wb, (size_t)ka * 8);
		total += (size_t)ka;
	}
	assert_int_equal(ka, 0);
	assert_int_equal(total, 32768);
	fr_kpf_close(a);
	fr_kpf_close(b);
	fr_snapshots_free(&s);
	fr_snapshots_free(&ref);

	/* Two zstd frames of a regular file (so with content sizes) back to
	 * back: npfns is known from the headers and the reader crosses frames. */
	snprintf(cmd, sizeof(cmd),
		 "zstd -q -c '%s/kpageflags.start' > '%s/f.zst' && cat '%s/f.zst' '%s/f.zst' > '%s/kpageflags.end.zst'",
		 dir, dir, dir, dir, dir);
	run_ok(cmd);
	assert_int_equal(fr_snapshots_load_dir(&s, dir, &err), 0);
	assert_int_equal(fr_kpf_npfns(&s.blob[FR_SNAP_KPAGEFLAGS_END]), 65536);
	a = fr_kpf_open(&s.blob[FR_SNAP_KPAGEFLAGS_START], &err);
	b = fr_kpf_open(&s.blob[FR_SNAP_KPAGEFLAGS_END], &err);
	assert_non_null(a);
	assert_non_null(b);
	total = 0;
	for (int pass = 0; pass < 2; pass++) {
		while ((ka = fr_kpf_read(a, wa, 1000, &err)) > 0) {
			kb = fr_kpf_read(b, wb, (size_t)ka, &err);
			assert_int_equal(kb, ka);
			assert_memory_equal(wa, wb, (size_t)ka * 8);
			total += (size_t)ka;
		}
		assert_int_equal(ka, 0);
		fr_kpf_close(a);
		a = fr_kpf_open(&s.blob[FR_SNAP_KPAGEFLAGS_START], &err);
	}
	assert_int_equal(fr_kpf_read(b, wb, 1000, &err), 0);
	assert_int_equal(total, 65536);
	fr_kpf_close(a);
	fr_kpf_close(b);
	fr_snapshots_free(&s);

	/* a directory with no snapshots at all is fine */
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/*", dir);
	run_ok(cmd);
	assert_int_equal(fr_snapshots_load_dir(&s, dir, &err), 0);
	for (int i = 0; i < FR_NSNAPS; i++)
		assert_null(s.blob[i].data);
	fr_snapshots_free(&s);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_kpf_errors(void **state)
{
	struct fr_snapshots s;
	struct fr_error err = { { 0 } };
	struct fr_kpf_reader *r;
	struct kpf_counts c;
	uint64_t w[16];
	char *dir, cmd[5 * 4096], path[4200];
	(void)state;
	NEED_MIXED();

	dir = fr_test_tmpdir();
	assert_non_null(dir);

	/* a truncated zstd blob: the error names the snapshot and a byte offset */
	snprintf(cmd, sizeof(cmd), "head -c 100000 '%s/kpageflags.start.zst' > '%s/kpageflags.start.zst'",
		 mixed, dir);
	run_ok(cmd);
	assert_int_equal(fr_snapshots_load_dir(&s, dir, &err), 0);
	assert_true(s.blob[FR_SNAP_KPAGEFLAGS_START].zstd);
	assert_int_equal(kpf_scan(&s.blob[FR_SNAP_KPAGEFLAGS_START], 4096, &c, &err), -1);
	assert_true(c.n > 0);		/* what came before the cut was delivered */
	assert_non_null(strstr(err.msg, "kpageflags.start: zstd error:"));
	assert_non_null(strstr(err.msg, "(at byte 100000)"));
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(fr_kpf_count(&s.blob[FR_SNAP_KPAGEFLAGS_START], w, &err), -1);
	fr_snapshots_free(&s);

	/* corrupted bytes inside the frame */
	snprintf(cmd, sizeof(cmd),
		 "cp '%s/kpageflags.start.zst' '%s/kpageflags.end.zst' && chmod u+w '%s/kpageflags.end.zst' && "
		 "printf 'GARBAGEGARBAGEGARBAGE' | dd of='%s/kpageflags.end.zst' bs=1 seek=5000 conv=notrunc 2>/dev/null",
		 mixed, dir, dir, dir);
	run_ok(cmd);
	assert_int_equal(fr_snapshots_load_dir(&s, dir, &err), 0);
	assert_int_equal(kpf_scan(&s.blob[FR_SNAP_KPAGEFLAGS_END], 4096, &c, &err), -1);
	assert_non_null(strstr(err.msg, "kpageflags.end: zstd error:"));
	assert_non_null(strstr(err.msg, "(at byte "));
	fr_snapshots_free(&s);

	/* raw kpageflags of 12 bytes: refused at open */
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/*", dir);
	run_ok(cmd);
	snprintf(path, sizeof(path), "%s/kpageflags.end", dir);
	write_file(path, "0123456789ab", 12);
	assert_int_equal(fr_snapshots_load_dir(&s, dir, &err), 0);
	assert_false(s.blob[FR_SNAP_KPAGEFLAGS_END].zstd);
	assert_int_equal(fr_kpf_npfns(&s.blob[FR_SNAP_KPAGEFLAGS_END]), 0);
	r = fr_kpf_open(&s.blob[FR_SNAP_KPAGEFLAGS_END], &err);
	assert_null(r);
	assert_string_equal(err.msg, "kpageflags.end: length 12 is not a multiple of 8 (at byte 8)");
	fr_snapshots_free(&s);

	/* zstd-compressed 12 bytes: one word, then the error */
	snprintf(cmd, sizeof(cmd), "printf '0123456789ab' | zstd -q -c > '%s/kpageflags.start.zst'", dir);
	run_ok(cmd);
	assert_int_equal(fr_snapshots_load_dir(&s, dir, &err), 0);
	assert_int_equal(fr_kpf_npfns(&s.blob[FR_SNAP_KPAGEFLAGS_START]), 0);
	r = fr_kpf_open(&s.blob[FR_SNAP_KPAGEFLAGS_START], &err);
	assert_non_null(r);
	assert_int_equal(fr_kpf_read(r, w, 16, &err), 1);
	assert_int_equal(w[0], 0x3736353433323130ULL);	/* little-endian "01234567" */
	assert_int_equal(fr_kpf_read(r, w, 16, &err), -1);
	assert_string_equal(err.msg,
			    "kpageflags.start: decompressed length 12 is not a multiple of 8 (at byte 8)");
	/* the failure is sticky */
	memset(&err, 0, sizeof(err));
	assert_int_equal(fr_kpf_read(r, w, 16, &err), -1);
	assert_non_null(strstr(err.msg, "kpageflags.start"));
	fr_kpf_close(r);
	fr_snapshots_free(&s);

	/* only the magic: a truncated frame */
	snprintf(path, sizeof(path), "%s/kpageflags.start.zst", dir);
	write_file(path, "\x28\xb5\x2f\xfd", 4);
	assert_int_equal(fr_snapshots_load_dir(&s, dir, &err), 0);
	assert_true(s.blob[FR_SNAP_KPAGEFLAGS_START].zstd);
	assert_int_equal(kpf_scan(&s.blob[FR_SNAP_KPAGEFLAGS_START], 16, &c, &err), -1);
	assert_non_null(strstr(err.msg, "kpageflags.start: zstd error"));
	/* a compressed text snapshot that is truncated fails the same way */
	s.blob[FR_SNAP_ZONEINFO_START] = s.blob[FR_SNAP_KPAGEFLAGS_START];
	s.blob[FR_SNAP_ZONEINFO_START].name = "zoneinfo.start";
	assert_null(fr_snap_text(&s, FR_SNAP_ZONEINFO_START, NULL, &err));
	assert_non_null(strstr(err.msg, "zoneinfo.start: zstd error"));
	s.blob[FR_SNAP_ZONEINFO_START].data = NULL;
	fr_snapshots_free(&s);

	/* an absent blob */
	{
		struct fr_blob none = { 0 };
		assert_null(fr_kpf_open(&none, &err));
		assert_non_null(strstr(err.msg, "not in the recording"));
	}
	fr_test_rmrf(dir);
	free(dir);
}

static void expect_zoneinfo_error(const char *text, const char *want)
{
	struct fr_zoneinfo zi;
	struct fr_error err = { { 0 } };

	assert_int_equal(fr_zoneinfo_parse(text, strlen(text), &zi, "zi.test", &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("error '%s' lacks '%s'", err.msg, want);
	assert_int_equal(strncmp(err.msg, "zi.test: ", 9), 0);
}

static void test_zoneinfo_errors(void **state)
{
	(void)state;
	expect_zoneinfo_error("hello world\nthis is not zoneinfo\n", "(at line 1)");
	expect_zoneinfo_error("", "not /proc/zoneinfo");
	expect_zoneinfo_error("\n\n\n", "not /proc/zoneinfo");
	expect_zoneinfo_error("Node 0, zone\n", "bad zone header");
	expect_zoneinfo_error("Node x, zone Normal\n", "(at line 1)");
	expect_zoneinfo_error("Node 0, zone   Normal\n  pages free 5\n        min      abc\n",
			      "bad 'min' value (at line 3)");
	expect_zoneinfo_error("Node 0, zone   Normal\n        spanned  -4\n", "(at line 2)");
	expect_zoneinfo_error("Node 0, zone   Normal\n        spanned  99999999999999999999999\n",
			      "(at line 2)");
	/* a populated zone without start_pfn: named by its header line */
	expect_zoneinfo_error("Node 0, zone      DMA\n        spanned  10\n        present  10\n"
			      "        managed  10\n        min 1\n        low 2\n        high 3\n"
			      "Node 0, zone   Normal\n        spanned 0\n",
			      "node 0 zone DMA has no start_pfn line (at line 1)");
	/* only empty zones */
	expect_zoneinfo_error("Node 0, zone  Movable\n        spanned  0\n", "no populated zone");
	expect_zoneinfo_error("Node 0, zone   Normal\n  pagesets\n    cpu: 0\n      count: x\n",
			      "bad pageset 'count:' value (at line 4)");
}

/* Synthetic variants: a pre-6.7 pageset (no high_min/high_max), two nodes,
 * CRLF line ends and no final newline. */
static void test_zoneinfo_variants(void **state)
{
	static const char text[] =
		"Node 0, zone   Normal\r\n"
		"  pages free     100\r\n"
		"        min      1\r\n        low      2\r\n        high     3\r\n"
		"        spanned  4096\r\n        present  4000\r\n        managed  3900\r\n"
		"  pagesets\r\n    cpu: 3\r\n              count: 7\r\n              high:  186\r\n"
		"              batch: 31\r\n  vm stats threshold: 24\r\n"
		"    cpu: 4\r\n              count: 9\r\n              high:  1\r\n"
		"              batch: 2\r\n"
		"  node_unreclaimable:  0\r\n  start_pfn:           4096\r\n"
		"Node 1, zone   Normal\r\n"
		"        min      4\r\n        low      5\r\n        high     6\r\n"
		"        spanned  8192\r\n        present  8192\r\n        managed  8000\r\n"
		"  start_pfn:           8192";
	struct fr_zoneinfo zi;
	struct fr_error err = { { 0 } };
	const struct fr_zone_info *z;
	(void)state;

	if (fr_zoneinfo_parse(text, sizeof(text) - 1, &zi, "variants", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(zi.nr_zones, 2);
	z = fr_zoneinfo_find(&zi, 0, "Normal");
	assert_non_null(z);
	assert_int_equal(z->pcp_count, 7);	/* the first cpu listed, whatever its number */
	assert_int_equal(z->pcp_high, 186);
	assert_int_equal(z->pcp_batch, 31);
	assert_int_equal(z->pcp_high_min, 0);
	assert_int_equal(z->pcp_high_max, 0);
	assert_int_equal(z->wmark_high, 3);
	assert_int_equal(z->start_pfn, 4096);
	z = fr_zoneinfo_find(&zi, 1, "Normal");
	assert_non_null(z);
	assert_int_equal(z->start_pfn, 8192);
	assert_int_equal(z->managed, 8000);
	assert_int_equal(z->pcp_batch, 0);
	/* len is honoured: text need not be NUL-terminated */
	assert_int_equal(fr_zoneinfo_parse(text, 40, &zi, "variants", &err), -1);
}

static void test_pagetypeinfo_variants(void **state)
{
	/* CMA configured, a capped cell, page_owner's mixed-blocks table */
	static const char text[] =
		"Page block order: 9\nPages per block:  512\n\n"
		"Free pages count per migrate type at order       0      1      2 \n"
		"Node    0, zone   Normal, type    Unmovable      1      2      3 \n"
		"Node    0, zone   Normal, type      Movable >100000     5      6 \n"
		"Node    0, zone   Normal, type  Reclaimable      0      0      0 \n"
		"Node    0, zone   Normal, type   HighAtomic      0      0      0 \n"
		"Node    0, zone   Normal, type          CMA      4      0      1 \n"
		"Node    0, zone   Normal, type      Isolate      0      0      0 \n\n"
		"Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic          CMA      Isolate \n"
		"Node 0, zone   Normal           10           20            3            0            8            0 \n"
		"Number of mixed blocks    Unmovable      Movable  Reclaimable   HighAtomic          CMA      Isolate \n"
		"Node 0, zone   Normal            1            2            0            0            0            0 \n";
	struct fr_pagetypeinfo pti;
	struct fr_buddyinfo bi;
	struct fr_error err = { { 0 } };
	const struct fr_pti_zone *z;
	(void)state;

	if (fr_pagetypeinfo_parse(text, sizeof(text) - 1, &pti, "pti", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(pti.nr_orders, 3);
	assert_int_equal(pti.mt_present, 0x3f);
	z = fr_pagetypeinfo_find(&pti, 0, "Normal");
	assert_non_null(z);
	assert_int_equal(z->free[1][0], 100000);
	assert_int_equal(z->capped[1], 1);
	assert_int_equal(z->free[1][2], 6);
	assert_int_equal(z->free[4][0], 4);	/* CMA */
	assert_int_equal(z->blocks[0], 10);	/* not the mixed-blocks row's 1 */
	assert_int_equal(z->blocks[4], 8);

	/* errors name `what` and the line */
	assert_int_equal(fr_pagetypeinfo_parse("garbage\n", 8, &pti, "pagetypeinfo.start", &err), -1);
	assert_non_null(strstr(err.msg, "pagetypeinfo.start: not /proc/pagetypeinfo"));
	{
		static const char bad[] =
			"Free pages count per migrate type at order       0      1 \n"
			"Node    0, zone   Normal, type    Unmovable      1      x \n";
		assert_int_equal(fr_pagetypeinfo_parse(bad, sizeof(bad) - 1, &pti, "p", &err), -1);
		assert_string_equal(err.msg, "p: bad free count for order 1 (at line 2)");
	}
	{
		static const char bad[] =
			"Free pages count per migrate type at order       0 \n"
			"Node    0, zone   Normal, type    Wobbly      1 \n";
		assert_int_equal(fr_pagetypeinfo_parse(bad, sizeof(bad) - 1, &pti, "p", &err), -1);
		assert_string_equal(err.msg, "p: unknown migratetype 'Wobbly' (at line 2)");
	}

	/* buddyinfo */
	{
		static const char ok[] = "Node 0, zone      DMA      1      2 \nNode 1, zone   Normal      3      4 \n";
		assert_int_equal(fr_buddyinfo_parse(ok, sizeof(ok) - 1, &bi, "b", &err), 0);
		assert_int_equal(bi.nr_zones, 2);
		assert_int_equal(bi.nr_orders, 2);
		assert_int_equal(fr_buddyinfo_find(&bi, 1, "Normal")->free[1], 4);
	}
	{
		static const char bad[] = "Node 0, zone      DMA      1      2 \nNode 0, zone   Normal      3 \n";
		assert_int_equal(fr_buddyinfo_parse(bad, sizeof(bad) - 1, &bi, "buddyinfo.end", &err), -1);
		assert_non_null(strstr(err.msg, "buddyinfo.end: "));
		assert_non_null(strstr(err.msg, "(at line 2)"));
	}
	assert_int_equal(fr_buddyinfo_parse("42\n", 3, &bi, "buddyinfo.start", &err), -1);
	assert_non_null(strstr(err.msg, "buddyinfo.start: not /proc/buddyinfo"));
	assert_non_null(strstr(err.msg, "(at line 1)"));
}

/* The recordings committed in traces/: every snapshot there and consistent. */
static void check_recording(const char *dir)
{
	struct fr_snapshots s;
	struct fr_error err = { { 0 } };
	struct fr_zoneinfo zi;
	struct fr_pagetypeinfo pti;
	struct fr_buddyinfo bi;
	char *t;
	size_t len;

	if (!fr_test_exists(dir))
		fail_msg("%s is missing", dir);
	if (fr_snapshots_load_dir(&s, dir, &err) < 0)
		fail_msg("%s", err.msg);
	for (int i = 0; i < FR_NSNAPS; i++)
		if (!s.blob[i].data)
			fail_msg("%s: no %s", dir, fr_snap_filename(i));
	for (int i = 0; i < 2; i++) {
		uint64_t npfns = 0, end = 0;
		t = load_text(&s, FR_SNAP_ZONEINFO_START + i, &len);
		if (fr_zoneinfo_parse(t, len, &zi, fr_snap_name(FR_SNAP_ZONEINFO_START + i), &err) < 0)
			fail_msg("%s: %s", dir, err.msg);
		free(t);
		assert_true(zi.nr_zones >= 1);
		for (int z = 0; z < zi.nr_zones; z++)
			if (zi.zone[z].start_pfn + zi.zone[z].spanned > end)
				end = zi.zone[z].start_pfn + zi.zone[z].spanned;
		if (fr_kpf_count(&s.blob[FR_SNAP_KPAGEFLAGS_START + i], &npfns, &err) < 0)
			fail_msg("%s: %s", dir, err.msg);
		assert_int_equal(npfns, end);

		t = load_text(&s, FR_SNAP_PAGETYPEINFO_START + i, &len);
		if (fr_pagetypeinfo_parse(t, len, &pti, fr_snap_name(FR_SNAP_PAGETYPEINFO_START + i), &err) < 0)
			fail_msg("%s: %s", dir, err.msg);
		free(t);
		assert_int_equal(pti.pageblock_order, 9);
		t = load_text(&s, FR_SNAP_BUDDYINFO_START + i, &len);
		if (fr_buddyinfo_parse(t, len, &bi, fr_snap_name(FR_SNAP_BUDDYINFO_START + i), &err) < 0)
			fail_msg("%s: %s", dir, err.msg);
		free(t);
		assert_int_equal(bi.nr_zones, pti.nr_zones);
		assert_int_equal(bi.nr_zones, zi.nr_zones);
	}
	/* stats: no event was lost */
	t = load_text(&s, FR_SNAP_STATS, &len);
	assert_non_null(strstr(t, "entries: "));
	for (char *p = t; (p = strstr(p, "overrun: ")); p += 9)
		assert_true(p[9] == '0');
	free(t);
	fr_snapshots_free(&s);
}

static void test_repo_recordings(void **state)
{
	(void)state;
	check_recording("traces/small-tar");
	check_recording("traces/thp-slab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_load_mixed),
		cmocka_unit_test(test_zoneinfo_mixed),
		cmocka_unit_test(test_kpageflags_mixed),
		cmocka_unit_test(test_pagetypeinfo_mixed),
		cmocka_unit_test(test_alternate_files),
		cmocka_unit_test(test_kpf_errors),
		cmocka_unit_test(test_zoneinfo_errors),
		cmocka_unit_test(test_zoneinfo_variants),
		cmocka_unit_test(test_pagetypeinfo_variants),
		cmocka_unit_test(test_repo_recordings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
