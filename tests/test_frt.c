// SPDX-License-Identifier: GPL-2.0
/*
 * test_frt.c - the native .frt format: writer, reader and `fragreplay convert`.
 *
 * Round trips must be exact (memcmp of the 32-byte events), and every kind of
 * damage to a file (cut short, a flipped byte, a wrong magic or version, a
 * lying END section) must give a one-line error naming the file, never a
 * crash and never wrong events.
 */
#include "fr_test.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <zstd.h>
#include "frt.h"

#define EVENTS_PATH_MAX 4200

/* ---- helpers ----------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* Realistic events: small ts steps, clustered pfns, mostly order 0, frees of earlier allocs. */
static struct fr_event *make_events(size_t n)
{
	struct fr_event *e = calloc(n, sizeof(*e));
	uint64_t ts = 654143849976ull, base = 0x2b4000;

	for (size_t i = 0; i < n; i++) {
		uint64_t r = rnd();

		ts += r % 20000;
		if (!(r & 0xfff))
			base = 0x100000 + rnd() % 0x4a0000;
		e[i].ts = ts;
		e[i].cpu = (uint32_t)(r >> 20) & 1;
		e[i].kind = (uint8_t)(1 + (r >> 24) % 6);
		e[i].order = (r >> 28) % 16 ? 0 : (uint8_t)((r >> 32) % 11);
		e[i].mt = (int8_t)((r >> 36) % 3);
		e[i].pfn = (i > 10 && (r & 0x100)) ? e[i - 1 - (r >> 40) % 10].pfn : base + (r >> 44) % 4096;
		e[i].gfp = e[i].kind == FR_EV_ALLOC ? 0x140cca + ((r >> 50) & 3) * 0x400 : 0;
		e[i].aux = e[i].kind == FR_EV_ZONE_LOCKED ? 1 : 0;
	}
	return e;
}

static void test_meta(struct fr_meta *m)
{
	fr_meta_defaults(m);
	snprintf(m->path, sizeof(m->path), "hand-made");
	snprintf(m->format, sizeof(m->format), "trace.dat");
	snprintf(m->kernel, sizeof(m->kernel), "6.18.0-test");
	snprintf(m->buffer, sizeof(m->buffer), "fragrec");
	m->file_version = 7;
	m->page_size = 16384;
	m->pageblock_order = 11;
	m->max_order = 12;
	m->spb_order = 16;
	m->nr_cpus = 96;
}

static void write_frt(const char *path, const struct fr_meta *meta, const struct fr_event *ev,
		      size_t n, size_t chunk)
{
	struct fr_error err = { "" };
	struct fr_frt_writer *w = fr_frt_create(path, meta, &err);

	if (!w)
		fail_msg("create %s: %s", path, err.msg);
	for (size_t i = 0; i < n; i += chunk) {
		size_t k = n - i < chunk ? n - i : chunk;
		if (fr_frt_write(w, ev + i, k, &err) < 0)
			fail_msg("write: %s", err.msg);
	}
	if (fr_frt_finish(w, &err) < 0)
		fail_msg("finish: %s", err.msg);
}

/* Read a whole source in batches of `batch`; NULL and err filled on failure. */
static struct fr_event *read_all(struct fr_source *src, size_t batch, size_t *n, struct fr_error *err)
{
	size_t cap = 1024, len = 0;
	struct fr_event *all = malloc(cap * sizeof(*all));
	ssize_t r;

	for (;;) {
		if (len + batch > cap) {
			while (len + batch > cap)
				cap *= 2;
			all = realloc(all, cap * sizeof(*all));
		}
		r = fr_source_read(src, all + len, batch, err);
		if (r < 0) {
			free(all);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*n = len;
	return all;
}

static struct fr_event *read_file(const char *path, size_t batch, size_t *n, struct fr_error *err)
{
	struct fr_source *src = fr_source_open(path, NULL, err);
	struct fr_event *ev;

	if (!src)
		return NULL;
	ev = read_all(src, batch, n, err);
	fr_source_close(src);
	return ev;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	long sz;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	b = malloc((size_t)sz + 1);
	assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*len = (size_t)sz;
	return b;
}

static void spit(const char *path, const void *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

struct sec {
	uint32_t type;
	size_t off, len;	/* header offset, payload length */
};

/* Walk the sections of an .frt image (the test's own reading of the spec). */
static int sections(const unsigned char *b, size_t len, struct sec *s, int max)
{
	size_t off = 16;
	int n = 0;

	while (off + 16 <= len && n < max) {
		s[n].type = le32(b + off);
		s[n].off = off;
		s[n].len = (size_t)le64(b + off + 8);
		off += 16 + s[n].len;
		n++;
	}
	assert_int_equal(off, len);
	return n;
}

/* Decompressed content of a blob (zstd or not). */
static unsigned char *blob_content(const struct fr_blob *b, size_t *len)
{
	ZSTD_DCtx *d;
	ZSTD_inBuffer in;
	size_t cap = 1 << 16, pos = 0, r;
	unsigned char *out;

	if (!b->zstd) {
		out = malloc(b->len + 1);
		memcpy(out, b->data, b->len);
		*len = b->len;
		return out;
	}
	d = ZSTD_createDCtx();
	in = (ZSTD_inBuffer){ b->data, b->len, 0 };
	out = malloc(cap);
	for (;;) {
		ZSTD_outBuffer o;

		if (pos == cap)
			out = realloc(out, cap *= 2);
		o = (ZSTD_outBuffer){ out, cap, pos };
		r = ZSTD_decompressStream(d, &o, &in);
		assert_false(ZSTD_isError(r));
		pos = o.pos;
		if (in.pos == in.size && (r == 0 || o.pos < cap))
			break;
	}
	assert_int_equal(r, 0);	/* the last frame is complete */
	ZSTD_freeDCtx(d);
	*len = pos;
	return out;
}

static unsigned char *zstd_frame(const void *src, size_t len, int checksum, size_t *clen)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(len);
	unsigned char *out = malloc(cap);

	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
	*clen = ZSTD_compress2(c, out, cap, src, len);
	assert_false(ZSTD_isError(*clen));
	ZSTD_freeCCtx(c);
	return out;
}

static int count_entries(const char *dir)
{
	char cmd[EVENTS_PATH_MAX], out[64];

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	fr_test_run(cmd, out, sizeof(out));
	return atoi(out);
}

/* ---- round trips --------------------------------------------------------- */

static void test_roundtrip_edges(void **state)
{
	struct fr_event ev[] = {
		{ .ts = 0, .pfn = 0, .gfp = 0, .cpu = 0, .kind = FR_EV_ALLOC, .order = 0, .mt = 0 },
		{ .ts = 1, .pfn = FR_PFN_NONE, .gfp = 0xcc0, .cpu = 4095, .kind = FR_EV_ALLOC, .order = 10, .mt = 1 },
		{ .ts = 2, .pfn = 0x2b4ccb, .cpu = 1, .kind = FR_EV_FREE, .order = 10 },
		{ .ts = 2, .pfn = 0x2b4ccb, .cpu = 1, .kind = FR_EV_FREE_BATCHED },
		{ .ts = 3, .pfn = 0x3140aa, .cpu = 2, .kind = FR_EV_ZONE_LOCKED, .order = 3, .mt = 2, .aux = 1 },
		{ .ts = 4, .pfn = 0x2b5143, .cpu = 3, .kind = FR_EV_PCPU_DRAIN, .mt = 5 },
		{ .ts = 5, .pfn = 0x2a3400, .gfp = 1 | (1 << 8), .cpu = 1, .kind = FR_EV_EXTFRAG, .order = 0,
		  .mt = 0, .aux = 10 },
		{ .ts = 6, .gfp = 12345, .cpu = 4095, .kind = FR_EV_LOST },
		{ .ts = 6, .gfp = 0, .cpu = 0, .kind = FR_EV_LOST },
		/* near 2^63 and then backwards: deltas wrap, must still round-trip */
		{ .ts = (1ull << 63) - 1, .pfn = FR_PFN_NONE - 1, .gfp = UINT64_MAX, .cpu = UINT32_MAX,
		  .kind = FR_EV_ALLOC, .order = 255, .mt = -1, .aux = 255 },
		{ .ts = (1ull << 63) + 12345, .pfn = 1, .cpu = 4095, .kind = FR_EV_FREE, .order = 10 },
		{ .ts = UINT64_MAX, .pfn = FR_PFN_NONE, .cpu = 7, .kind = FR_EV_ALLOC, .mt = FR_MT_ISOLATE },
		{ .ts = 7, .pfn = 0x59fe00, .cpu = 0, .kind = FR_EV_FREE },
	};
	size_t n = sizeof(ev) / sizeof(ev[0]), got;
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX];
	struct fr_error err = { "" };
	struct fr_source *src;
	const struct fr_meta *m;
	struct fr_meta meta;
	struct fr_event *back;

	(void)state;
	test_meta(&meta);
	snprintf(path, sizeof(path), "%s/edges.frt", dir);
	write_frt(path, &meta, ev, n, 1);	/* one event a call: buffering works */

	src = fr_source_open(path, NULL, &err);
	if (!src)
		fail_msg("open: %s", err.msg);
	m = fr_source_meta(src);
	assert_string_equal(m->format, "frt");
	assert_int_equal(m->file_version, FR_FRT_VERSION);
	assert_string_equal(m->kernel, "6.18.0-test");
	assert_string_equal(m->buffer, "fragrec");
	assert_int_equal(m->page_size, 16384);
	assert_int_equal(m->pageblock_order, 11);
	assert_int_equal(m->max_order, 12);
	assert_int_equal(m->spb_order, 16);
	assert_int_equal(m->nr_cpus, 96);
	assert_string_equal(m->path, path);
	back = read_all(src, 4, &got, &err);
	if (!back)
		fail_msg("read: %s", err.msg);
	assert_int_equal(got, n);
	assert_memory_equal(back, ev, n * sizeof(*ev));
	/* end stays end */
	assert_int_equal(fr_source_read(src, back, 4, &err), 0);
	free(back);
	fr_source_close(src);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_empty(void **state)
{
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX];
	struct fr_error err = { "" };
	struct fr_event *back;
	struct fr_meta meta;
	size_t got = 99;

	(void)state;
	test_meta(&meta);
	snprintf(path, sizeof(path), "%s/empty.frt", dir);
	write_frt(path, &meta, NULL, 0, 1);
	back = read_file(path, 16, &got, &err);
	if (!back)
		fail_msg("read: %s", err.msg);
	assert_int_equal(got, 0);
	free(back);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_multiblock(void **state)
{
	const size_t n = 3 * FR_FRT_BLOCK_EVENTS + 4321;
	static const size_t batches[] = { 4096, 7, FR_FRT_BLOCK_EVENTS, FR_FRT_BLOCK_EVENTS + 1, 1 << 20 };
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX];
	struct fr_event *ev = make_events(n), *back;
	struct fr_error err = { "" };
	struct fr_meta meta;
	unsigned char *img;
	size_t got, len;
	struct sec s[16];
	int ns, blocks = 0;

	(void)state;
	test_meta(&meta);
	snprintf(path, sizeof(path), "%s/multi.frt", dir);
	write_frt(path, &meta, ev, n, 10000);

	img = slurp(path, &len);
	ns = sections(img, len, s, 16);
	for (int i = 0; i < ns; i++)
		blocks += s[i].type == 3;
	assert_int_equal(blocks, 4);
	assert_int_equal(s[0].type, 1);
	assert_int_equal(s[ns - 1].type, 4);
	free(img);

	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		back = read_file(path, batches[b], &got, &err);
		if (!back)
			fail_msg("read (batch %zu): %s", batches[b], err.msg);
		assert_int_equal(got, n);
		assert_memory_equal(back, ev, n * sizeof(*ev));
		free(back);
	}
	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_rewind(void **state)
{
	const size_t n = FR_FRT_BLOCK_EVENTS + 999;
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX];
	struct fr_event *ev = make_events(n), *back, part[1000];
	struct fr_error err = { "" };
	struct fr_source *src;
	struct fr_meta meta;
	size_t got;

	(void)state;
	test_meta(&meta);
	snprintf(path, sizeof(path), "%s/rewind.frt", dir);
	write_frt(path, &meta, ev, n, n);
	src = fr_source_open(path, NULL, &err);
	if (!src)
		fail_msg("open: %s", err.msg);
	/* Stop mid-block, rewind, and read everything: the same events from the start. */
	assert_int_equal(fr_source_read(src, part, 1000, &err), 1000);
	assert_memory_equal(part, ev, sizeof(part));
	assert_int_equal(fr_source_rewind(src, &err), 0);
	back = read_all(src, 333, &got, &err);
	if (!back)
		fail_msg("read after rewind: %s", err.msg);
	assert_int_equal(got, n);
	assert_memory_equal(back, ev, n * sizeof(*ev));
	free(back);
	/* ... and after reaching the end too. */
	assert_int_equal(fr_source_rewind(src, &err), 0);
	back = read_all(src, 100000, &got, &err);
	if (!back)
		fail_msg("second read after rewind: %s", err.msg);
	assert_int_equal(got, n);
	assert_memory_equal(back, ev, n * sizeof(*ev));
	free(back);
	fr_source_close(src);
	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

/* ---- read-ahead (fr_source_readahead) -------------------------------------- */

/* Read until the end or an error, as read_all(), counting events before an error. */
static ssize_t read_until(struct fr_source *src, struct fr_event *dst, size_t cap, size_t batch,
			  struct fr_error *err)
{
	size_t len = 0;
	ssize_t r;

	while ((r = fr_source_read(src, dst + len, len + batch <= cap ? batch : cap - len, err)) > 0)
		len += (size_t)r;
	return r < 0 ? -(ssize_t)len - 1 : (ssize_t)len;
}

/* The same events with and without the helper thread, whatever the batch;
 * switched off mid-stream (what it read ahead comes first), on again, and
 * rewound mid-block while reading ahead. */
static void test_readahead_same_events(void **state)
{
	const size_t n = 5 * FR_FRT_BLOCK_EVENTS + 777;
	static const size_t batches[] = { 1, 4096, 8192, FR_FRT_BLOCK_EVENTS + 3 };
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX];
	struct fr_event *ev = make_events(n), *back = calloc(n + 1, sizeof(*back));
	struct fr_error err = { "" };
	struct fr_source *src;
	struct fr_meta meta;
	size_t got;
	ssize_t r;

	(void)state;
	test_meta(&meta);
	snprintf(path, sizeof(path), "%s/ra.frt", dir);
	write_frt(path, &meta, ev, n, 50000);
	src = fr_source_open(path, NULL, &err);
	if (!src)
		fail_msg("open: %s", err.msg);
	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		assert_int_equal(fr_source_rewind(src, &err), 0);
		fr_source_readahead(src, 1);
		memset(back, 0, n * sizeof(*back));
		r = read_until(src, back, n + 1, batches[b], &err);
		if (r < 0)
			fail_msg("read-ahead, batch %zu: %s", batches[b], err.msg);
		assert_int_equal((size_t)r, n);
		assert_memory_equal(back, ev, n * sizeof(*ev));
		/* the end stays the end */
		assert_int_equal(fr_source_read(src, back, 10, &err), 0);
	}

	/* off after 100 000 events, on after 200 000, off again near the end */
	assert_int_equal(fr_source_rewind(src, &err), 0);
	memset(back, 0, n * sizeof(*back));
	got = 0;
	fr_source_readahead(src, 1);
	while (got < n) {
		size_t want = got < 100000 ? 100000 - got : 3000;
		if (got >= 100000 && got < 103000)
			fr_source_readahead(src, 0);
		if (got >= 200000 && got < 203000)
			fr_source_readahead(src, 1);
		if (got >= 300000 && got < 303000)
			fr_source_readahead(src, 0);
		r = fr_source_read(src, back + got, want < n - got ? want : n - got, &err);
		if (r <= 0)
			fail_msg("switching read-ahead at %zu: %zd %s", got, r, err.msg);
		got += (size_t)r;
	}
	assert_int_equal(fr_source_read(src, back + got, 1, &err), 0);
	assert_memory_equal(back, ev, n * sizeof(*ev));

	/* rewound in the middle of a block the helper is ahead of */
	assert_int_equal(fr_source_rewind(src, &err), 0);
	fr_source_readahead(src, 1);
	assert_int_equal(fr_source_read(src, back, 1000, &err), 1000);
	assert_int_equal(fr_source_rewind(src, &err), 0);
	r = read_until(src, back, n + 1, 333, &err);
	assert_int_equal((size_t)r, n);
	assert_memory_equal(back, ev, n * sizeof(*ev));
	/* closed while the helper is mid-stream: no leak, no hang (ASan, CI) */
	assert_int_equal(fr_source_rewind(src, &err), 0);
	assert_int_equal(fr_source_read(src, back, 10, &err), 10);
	fr_source_close(src);
	free(back);
	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

/* A bad block: every event before it, then the error the synchronous read
 * gives, word for word, and the same error on the next read. */
static void test_readahead_error_in_order(void **state)
{
	const size_t n = 4 * FR_FRT_BLOCK_EVENTS;
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX], bad[EVENTS_PATH_MAX];
	struct fr_event *ev = make_events(n), *back = calloc(n, sizeof(*back));
	struct fr_error e_sync = { "" }, e_ra = { "" }, again = { "" };
	struct fr_source *src;
	struct fr_meta meta;
	unsigned char *img;
	size_t len;
	struct sec s[16];
	ssize_t r_sync, r_ra;
	int ns, nblk = 0;

	(void)state;
	test_meta(&meta);
	snprintf(path, sizeof(path), "%s/good.frt", dir);
	write_frt(path, &meta, ev, n, n);
	img = slurp(path, &len);
	ns = sections(img, len, s, 16);
	for (int i = 0; i < ns; i++) {
		if (s[i].type != 3 || ++nblk != 3)
			continue;
		img[s[i].off + 16 + s[i].len - 2] ^= 0x10;	/* the third block's checksum */
	}
	snprintf(bad, sizeof(bad), "%s/bad.frt", dir);
	spit(bad, img, len);

	src = fr_source_open(bad, NULL, &e_sync);
	assert_non_null(src);
	r_sync = read_until(src, back, n, 8192, &e_sync);
	fr_source_close(src);
	src = fr_source_open(bad, NULL, &e_ra);
	assert_non_null(src);
	fr_source_readahead(src, 1);
	memset(back, 0, n * sizeof(*back));
	r_ra = read_until(src, back, n, 8192, &e_ra);
	assert_int_equal(r_sync, -(ssize_t)(2 * FR_FRT_BLOCK_EVENTS) - 1);
	assert_int_equal(r_ra, r_sync);
	assert_memory_equal(back, ev, 2 * FR_FRT_BLOCK_EVENTS * sizeof(*ev));
	assert_string_equal(e_ra.msg, e_sync.msg);
	assert_non_null(strstr(e_ra.msg, "checksum"));
	assert_int_equal(fr_source_read(src, back, 10, &again), -1);
	assert_string_equal(again.msg, e_sync.msg);
	fr_source_close(src);
	free(img);
	free(back);
	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

/* ---- snapshots ------------------------------------------------------------ */

static void test_snapshots(void **state)
{
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX];
	const size_t npfn = 300000;
	uint64_t *kpf = malloc(npfn * 8);
	const char *zoneinfo = "Node 0, zone   Normal\n  pages free     12345\n        spanned  5505024\n";
	struct fr_event *ev = make_events(100);
	unsigned char *f1, *f2, *two, *c;
	size_t l1, l2;
	struct fr_error err = { "" };
	struct fr_source *src;
	const struct fr_meta *m;
	struct fr_meta meta;

	(void)state;
	for (size_t i = 0; i < npfn; i++)
		kpf[i] = (i % 512 < 300) ? (1ull << KPF_BUDDY) : (1ull << KPF_LRU | (i & 7));
	test_meta(&meta);
	/* kpageflags.start: one checksummed frame (stored as is) */
	meta.snaps.blob[FR_SNAP_KPAGEFLAGS_START] =
		(struct fr_blob){ .data = zstd_frame(kpf, npfn * 8, 1, &l1), .zstd = 1 };
	meta.snaps.blob[FR_SNAP_KPAGEFLAGS_START].len = l1;
	/* kpageflags.end: two frames without checksums (re-compressed as one) */
	f1 = zstd_frame(kpf, npfn * 4, 0, &l1);
	f2 = zstd_frame(kpf + npfn / 2, npfn * 4, 0, &l2);
	two = malloc(l1 + l2);
	memcpy(two, f1, l1);
	memcpy(two + l1, f2, l2);
	free(f1);
	free(f2);
	meta.snaps.blob[FR_SNAP_KPAGEFLAGS_END] = (struct fr_blob){ .data = two, .len = l1 + l2, .zstd = 1 };
	/* zoneinfo.start: plain text */
	meta.snaps.blob[FR_SNAP_ZONEINFO_START] =
		(struct fr_blob){ .data = (unsigned char *)strdup(zoneinfo), .len = strlen(zoneinfo) };

	snprintf(path, sizeof(path), "%s/snaps.frt", dir);
	write_frt(path, &meta, ev, 100, 100);

	src = fr_source_open(path, NULL, &err);
	if (!src)
		fail_msg("open: %s", err.msg);
	m = fr_source_meta(src);
	for (int id = 0; id < FR_NSNAPS; id++) {
		const struct fr_blob *a = &meta.snaps.blob[id], *b = &m->snaps.blob[id];
		unsigned char *ca, *cb;
		size_t la, lb;

		if (!a->data) {
			assert_null(b->data);
			continue;
		}
		assert_non_null(b->data);
		assert_int_equal(a->zstd, b->zstd);
		ca = blob_content(a, &la);
		cb = blob_content(b, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(ca, cb, la);
		free(ca);
		free(cb);
	}
	/* The re-compressed frame records its size, so kpageflags' pfn count is known. */
	assert_int_equal(fr_kpf_npfns(&m->snaps.blob[FR_SNAP_KPAGEFLAGS_END]), npfn);
	fr_source_close(src);

	/*
	 * Damage inside the kpageflags frame: its checksum is verified when it
	 * is decompressed (not at open, for speed), and that error names the
	 * .frt file.  A damaged text snapshot fails at open.
	 */
	{
		unsigned char *img;
		size_t len;
		struct sec sc[16];
		int ns = 0, nsec;
		char bad[EVENTS_PATH_MAX + 16];

		img = slurp(path, &len);
		nsec = sections(img, len, sc, 16);
		snprintf(bad, sizeof(bad), "%s/bad-snap.frt", dir);
		for (int i = 0; i < nsec; i++) {
			const char *nm = (const char *)img + sc[i].off + 16;
			size_t mid = sc[i].off + 16 + strlen(nm) + 1 + (sc[i].len - strlen(nm) - 1) / 2;

			if (sc[i].type != 2)
				continue;
			ns++;
			img[mid] ^= 0x20;
			spit(bad, img, len);
			img[mid] ^= 0x20;
			if (!strcmp(nm, "kpageflags.start")) {
				static uint64_t flags[4096];
				struct fr_kpf_reader *kr;
				long got = 0, r;

				src = fr_source_open(bad, NULL, &err);
				if (!src)
					fail_msg("open %s: %s", bad, err.msg);
				kr = fr_kpf_open(&fr_source_meta(src)->snaps.blob[FR_SNAP_KPAGEFLAGS_START], &err);
				assert_non_null(kr);
				while ((r = fr_kpf_read(kr, flags, 4096, &err)) > 0)
					got += r;
				assert_int_equal(r, -1);
				assert_non_null(strstr(err.msg, bad));
				assert_non_null(strstr(err.msg, "kpageflags.start"));
				fr_kpf_close(kr);
				fr_source_close(src);
			} else if (!strcmp(nm, "zoneinfo.start")) {
				assert_null(fr_source_open(bad, NULL, &err));
				assert_non_null(strstr(err.msg, bad));
				assert_non_null(strstr(err.msg, "SNAPSHOT"));
			}
		}
		assert_int_equal(ns, 3);
		unlink(bad);
		free(img);
	}

	/* A corrupt zstd snapshot fails the conversion and leaves no file behind. */
	snprintf(path, sizeof(path), "%s/bad.frt", dir);
	c = meta.snaps.blob[FR_SNAP_KPAGEFLAGS_START].data;
	c[meta.snaps.blob[FR_SNAP_KPAGEFLAGS_START].len / 2] ^= 0x55;
	assert_null(fr_frt_create(path, &meta, &err));
	assert_non_null(strstr(err.msg, "kpageflags.start"));
	assert_false(fr_test_exists(path));
	assert_int_equal(count_entries(dir), 1);	/* snaps.frt only: no temp file left */

	fr_snapshots_free(&meta.snaps);
	free(kpf);
	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

/* A recording directory: snapshot files beside trace.frt win over embedded ones. */
static void test_dir_snapshots_precedence(void **state)
{
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX];
	const char *embedded = "embedded zoneinfo\n", *beside = "Node 0, zone   Normal\n";
	struct fr_event *ev = make_events(10);
	struct fr_error err = { "" };
	struct fr_source *src;
	const struct fr_meta *m;
	struct fr_meta meta;
	unsigned char *c;
	size_t len;

	(void)state;
	test_meta(&meta);
	meta.snaps.blob[FR_SNAP_ZONEINFO_START] =
		(struct fr_blob){ .data = (unsigned char *)strdup(embedded), .len = strlen(embedded) };
	meta.snaps.blob[FR_SNAP_BUDDYINFO_END] =
		(struct fr_blob){ .data = (unsigned char *)strdup(embedded), .len = strlen(embedded) };
	snprintf(path, sizeof(path), "%s/trace.frt", dir);
	write_frt(path, &meta, ev, 10, 10);
	snprintf(path, sizeof(path), "%s/zoneinfo.start", dir);
	spit(path, beside, strlen(beside));

	src = fr_source_open(dir, NULL, &err);
	if (!src)
		fail_msg("open dir: %s", err.msg);
	m = fr_source_meta(src);
	c = blob_content(&m->snaps.blob[FR_SNAP_ZONEINFO_START], &len);
	assert_int_equal(len, strlen(beside));
	assert_memory_equal(c, beside, len);
	free(c);
	c = blob_content(&m->snaps.blob[FR_SNAP_BUDDYINFO_END], &len);
	assert_int_equal(len, strlen(embedded));
	assert_memory_equal(c, embedded, len);
	free(c);
	fr_source_close(src);
	fr_snapshots_free(&meta.snaps);
	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

/* ---- damage ---------------------------------------------------------------- */

/* Open and read PATH to the end: 0 if it all worked, else -1 with err filled. */
static int open_and_read(const char *path, struct fr_error *err)
{
	size_t n;
	struct fr_event *ev = read_file(path, 4096, &n, err);

	free(ev);
	return ev ? 0 : -1;
}

static void assert_one_line_error(const struct fr_error *err, const char *path)
{
	assert_non_null(strstr(err->msg, path));
	assert_null(strchr(err->msg, '\n'));
}

static void test_truncated(void **state)
{
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX], cut[EVENTS_PATH_MAX];
	const size_t n = 2 * FR_FRT_BLOCK_EVENTS + 100;
	struct fr_event *ev = make_events(n);
	const char *zi = "Node 0, zone   Normal\n";
	struct fr_meta meta;
	unsigned char *img;
	size_t len, cuts[16];
	struct sec s[16];
	int ns, nc = 0;

	(void)state;
	test_meta(&meta);
	meta.snaps.blob[FR_SNAP_ZONEINFO_START] =
		(struct fr_blob){ .data = (unsigned char *)strdup(zi), .len = strlen(zi) };
	snprintf(path, sizeof(path), "%s/full.frt", dir);
	write_frt(path, &meta, ev, n, 5000);
	img = slurp(path, &len);
	ns = sections(img, len, s, 16);
	assert_int_equal(s[ns - 1].type, 4);

	cuts[nc++] = 8;				/* magic only */
	cuts[nc++] = 12;			/* in the file header */
	cuts[nc++] = 16;			/* header only: no sections at all */
	cuts[nc++] = 16 + 9;			/* in META's section header */
	cuts[nc++] = s[0].off + 16 + s[0].len / 2;	/* mid META payload */
	cuts[nc++] = s[1].off + 16 + 3;		/* in the SNAPSHOT name */
	for (int i = 0; i < ns; i++)
		if (s[i].type == 3) {
			cuts[nc++] = s[i].off + 16 + s[i].len / 2;	/* mid EVENTS payload */
			cuts[nc++] = s[i].off + 16 + s[i].len;		/* after a whole block */
		}
	cuts[nc++] = s[ns - 1].off;		/* just before END */
	cuts[nc++] = s[ns - 1].off + 16 + s[ns - 1].len - 1;	/* last byte missing */

	for (int i = 0; i < nc; i++) {
		struct fr_error err = { "" };
		char want[128];

		snprintf(cut, sizeof(cut), "%s/cut-%zu.frt", dir, cuts[i]);
		spit(cut, img, cuts[i]);
		if (open_and_read(cut, &err) == 0)
			fail_msg("a file cut at byte %zu of %zu read without error", cuts[i], len);
		assert_one_line_error(&err, cut);
		if (!strstr(err.msg, "truncated"))
			fail_msg("cut at %zu: no 'truncated' in: %s", cuts[i], err.msg);
		assert_non_null(strstr(err.msg, "(at byte "));
		if (cuts[i] == s[ns - 1].off || cuts[i] == 16) {
			/* cut at a section boundary: the END section is what is missing */
			snprintf(want, sizeof(want), "truncated: no end section (at byte %zu)", cuts[i]);
			if (!strstr(err.msg, want))
				fail_msg("cut at %zu: expected '%s' in: %s", cuts[i], want, err.msg);
		}
	}
	free(img);
	free(ev);
	fr_snapshots_free(&meta.snaps);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_flipped_byte(void **state)
{
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX], bad[EVENTS_PATH_MAX];
	const size_t n = 2 * FR_FRT_BLOCK_EVENTS;
	struct fr_event *ev = make_events(n);
	struct fr_meta meta;
	unsigned char *img;
	size_t len;
	struct sec s[16];
	int ns, tried = 0, benign = 0;

	(void)state;
	test_meta(&meta);
	snprintf(path, sizeof(path), "%s/good.frt", dir);
	write_frt(path, &meta, ev, n, n);
	img = slurp(path, &len);
	ns = sections(img, len, s, 16);
	snprintf(bad, sizeof(bad), "%s/flipped.frt", dir);
	for (int i = 0; i < ns; i++) {
		size_t pay, at[4];

		if (s[i].type != 3)
			continue;
		pay = s[i].off + 16;
		at[0] = pay + 20;			/* early compressed data */
		at[1] = pay + s[i].len / 2;		/* the middle */
		at[2] = pay + s[i].len - 8;		/* late compressed data */
		at[3] = pay + s[i].len - 2;		/* the stored checksum itself */
		for (int k = 0; k < 4; k++) {
			struct fr_error err = { "" };
			struct fr_event *back;
			char where[64];
			size_t got;

			img[at[k]] ^= 0x10;
			spit(bad, img, len);
			img[at[k]] ^= 0x10;
			back = read_file(bad, 4096, &got, &err);
			if (back) {
				/*
				 * zstd's checksum covers the content, not its
				 * encoding: a flip in redundant bits of the
				 * compressed data may decode to the same bytes.
				 * Then the events must be exactly right.
				 */
				if (k == 3)
					fail_msg("flipped checksum byte %zu went unnoticed", at[k]);
				assert_int_equal(got, n);
				assert_memory_equal(back, ev, n * sizeof(*ev));
				free(back);
				benign++;
				continue;
			}
			assert_one_line_error(&err, bad);
			assert_non_null(strstr(err.msg, "EVENTS"));
			if (!strstr(err.msg, "checksum") && !strstr(err.msg, "zstd") &&
			    !strstr(err.msg, "mismatch"))
				fail_msg("flip at %zu: unexpected error: %s", at[k], err.msg);
			snprintf(where, sizeof(where), "(at byte %zu)", s[i].off);
			assert_non_null(strstr(err.msg, where));
			tried++;
		}
	}
	assert_int_equal(tried + benign, 8);
	assert_true(tried >= 4);

	/* A flipped byte in META or END: caught at open. */
	for (int i = 0; i < ns; i += ns - 1) {
		struct fr_error err = { "" };

		img[s[i].off + 16 + s[i].len / 2] ^= 0x01;
		spit(bad, img, len);
		img[s[i].off + 16 + s[i].len / 2] ^= 0x01;
		assert_null(fr_source_open(bad, NULL, &err));
		assert_one_line_error(&err, bad);
	}
	/* A section length pointing past the end. */
	{
		struct fr_error err = { "" };
		unsigned char save = img[s[1].off + 12];

		img[s[1].off + 12] = 0x7f;
		spit(bad, img, len);
		img[s[1].off + 12] = save;
		assert_null(fr_source_open(bad, NULL, &err));
		assert_non_null(strstr(err.msg, "truncated"));
	}
	/* An unknown section type. */
	{
		struct fr_error err = { "" };

		img[s[1].off] = 99;
		spit(bad, img, len);
		img[s[1].off] = 3;
		assert_null(fr_source_open(bad, NULL, &err));
		assert_non_null(strstr(err.msg, "unknown section type 99"));
	}
	free(img);
	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

static void test_bad_magic_version(void **state)
{
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX], bad[EVENTS_PATH_MAX];
	struct fr_event *ev = make_events(10);
	struct fr_error err = { "" };
	struct fr_meta meta, m2;
	unsigned char *img;
	size_t len;
	void *priv;
	int fd;

	(void)state;
	test_meta(&meta);
	snprintf(path, sizeof(path), "%s/good.frt", dir);
	write_frt(path, &meta, ev, 10, 10);
	img = slurp(path, &len);
	snprintf(bad, sizeof(bad), "%s/bad.frt", dir);

	img[8] = 2;			/* version 2 */
	spit(bad, img, len);
	assert_null(fr_source_open(bad, NULL, &err));
	assert_one_line_error(&err, bad);
	assert_non_null(strstr(err.msg, "unsupported .frt version 2"));
	img[8] = 1;

	img[12] = 1;			/* header flags */
	spit(bad, img, len);
	assert_null(fr_source_open(bad, NULL, &err));
	assert_non_null(strstr(err.msg, "flags"));
	img[12] = 0;

	/* fr_detect would not route a bad magic here; the backend checks anyway. */
	img[3] = 'X';
	spit(bad, img, len);
	fd = open(bad, O_RDONLY);
	assert_true(fd >= 0);
	fr_meta_defaults(&m2);
	priv = fr_backend_frt.open(bad, fd, NULL, &m2, &err);
	assert_null(priv);
	assert_one_line_error(&err, bad);
	assert_non_null(strstr(err.msg, "bad magic"));

	free(img);
	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

/* Build a section with a zstd-compressed payload. */
static size_t put_section(unsigned char *dst, uint32_t type, const void *content, size_t clen)
{
	size_t zlen;
	unsigned char *z = zstd_frame(content, clen, 1, &zlen);

	for (int i = 0; i < 4; i++) {
		dst[i] = (unsigned char)(type >> (8 * i));
		dst[4 + i] = 0;
	}
	for (int i = 0; i < 8; i++)
		dst[8 + i] = (unsigned char)((uint64_t)zlen >> (8 * i));
	memcpy(dst + 16, z, zlen);
	free(z);
	return 16 + zlen;
}

static void test_count_mismatch(void **state)
{
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX], bad[EVENTS_PATH_MAX];
	struct fr_event *ev = make_events(1000);
	static const char *const ends[] = {
		/* says one event more than the block holds */
		"{\"events\":1001,\"blocks\":1,\"counts\":{\"mm_page_alloc\":1001}}",
		/* right total, wrong split by kind */
		"{\"events\":1000,\"blocks\":1,\"counts\":{\"mm_page_alloc\":1000}}",
		/* claims two blocks */
		"{\"events\":1000,\"blocks\":2,\"counts\":{\"mm_page_alloc\":1000}}",
	};
	struct fr_meta meta;
	unsigned char *img, *out;
	size_t len, olen;
	struct sec s[8];
	int ns;

	(void)state;
	test_meta(&meta);
	snprintf(path, sizeof(path), "%s/good.frt", dir);
	write_frt(path, &meta, ev, 1000, 1000);
	img = slurp(path, &len);
	ns = sections(img, len, s, 8);
	assert_int_equal(ns, 3);
	out = malloc(len + 4096);
	snprintf(bad, sizeof(bad), "%s/lying.frt", dir);
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		struct fr_error err = { "" };

		memcpy(out, img, s[2].off);
		olen = s[2].off + put_section(out + s[2].off, 4, ends[i], strlen(ends[i]));
		spit(bad, out, olen);
		if (open_and_read(bad, &err) == 0)
			fail_msg("END section %zu went unnoticed", i);
		assert_one_line_error(&err, bad);
		assert_non_null(strstr(err.msg, "count mismatch"));
	}
	/* An EVENTS block whose header claims more events than its columns hold. */
	{
		struct fr_error err = { "" };
		unsigned char *z = img + s[1].off + 16, *raw;
		size_t rlen = (size_t)ZSTD_getFrameContentSize(z, s[1].len), pos;

		raw = malloc(rlen);
		assert_int_equal(ZSTD_decompress(raw, rlen, z, s[1].len), rlen);
		raw[0] = 0xe9;		/* 1000 -> 1001 */
		raw[1] = 0x03;
		memcpy(out, img, s[1].off);
		pos = s[1].off + put_section(out + s[1].off, 3, raw, rlen);
		memcpy(out + pos, img + s[2].off, len - s[2].off);
		spit(bad, out, pos + len - s[2].off);
		assert_int_equal(open_and_read(bad, &err), -1);
		assert_non_null(strstr(err.msg, "count mismatch"));
		free(raw);
	}
	free(out);
	free(img);
	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

/* ---- the writer's file handling ---------------------------------------------- */

static void test_writer_atomic(void **state)
{
	char *dir = fr_test_tmpdir(), path[EVENTS_PATH_MAX];
	struct fr_event *ev = make_events(5000), badev = { .kind = 0 };
	struct fr_error err = { "" };
	struct fr_frt_writer *w;
	struct fr_frt_stats st;
	struct fr_meta meta;
	struct stat sb;
	size_t got;
	struct fr_event *back;

	(void)state;
	test_meta(&meta);
	snprintf(path, sizeof(path), "%s/out.frt", dir);

	/* While writing, only a temp file exists; abort removes it. */
	w = fr_frt_create(path, &meta, &err);
	assert_non_null(w);
	assert_int_equal(fr_frt_write(w, ev, 5000, &err), 0);
	assert_false(fr_test_exists(path));
	assert_true(fr_test_exists(fr_frt_temp_path(w)));
	fr_frt_abort(w);
	assert_int_equal(count_entries(dir), 0);

	/* An invalid event fails the write; finish then fails and leaves nothing. */
	w = fr_frt_create(path, &meta, &err);
	assert_non_null(w);
	assert_int_equal(fr_frt_write(w, &badev, 1, &err), -1);
	assert_non_null(strstr(err.msg, "invalid kind"));
	assert_int_equal(fr_frt_finish(w, &err), -1);
	assert_false(fr_test_exists(path));
	assert_int_equal(count_entries(dir), 0);

	/* Success replaces an existing file in one step, with stats. */
	spit(path, "old", 3);
	w = fr_frt_create(path, &meta, &err);
	assert_non_null(w);
	assert_int_equal(fr_frt_write(w, ev, 5000, &err), 0);
	assert_int_equal(fr_frt_finish_stats(w, &st, &err), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(st.events, 5000);
	assert_int_equal(st.blocks, 1);
	assert_int_equal(st.bytes, (uint64_t)sb.st_size);
	assert_int_equal(count_entries(dir), 1);
	back = read_file(path, 4096, &got, &err);
	assert_non_null(back);
	assert_int_equal(got, 5000);
	assert_memory_equal(back, ev, 5000 * sizeof(*ev));
	free(back);

	/* An output directory that does not exist: a clear error. */
	snprintf(path, sizeof(path), "%s/no/such/dir/out.frt", dir);
	assert_null(fr_frt_create(path, &meta, &err));
	assert_non_null(strstr(err.msg, path));

	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

/* ---- fragreplay convert ------------------------------------------------------- */

static int run_convert(const char *args, char *out, size_t cap)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "%s/fragreplay convert %s 2>&1", fr_test_builddir(), args);
	return fr_test_run(cmd, out, cap);
}

static void assert_same_stream(const char *a, const char *b)
{
	struct fr_error err = { "" };
	struct fr_source *sa = fr_source_open(a, NULL, &err), *sb;
	static struct fr_event ba[4096], bb[4096];
	uint64_t total = 0;

	if (!sa)
		fail_msg("open %s: %s", a, err.msg);
	sb = fr_source_open(b, NULL, &err);
	if (!sb)
		fail_msg("open %s: %s", b, err.msg);
	for (;;) {
		ssize_t na = fr_source_read(sa, ba, 4096, &err), nb;
		if (na < 0)
			fail_msg("read %s: %s", a, err.msg);
		/* fill the same count from b (its batches may be cut differently) */
		nb = 0;
		while (nb < na) {
			ssize_t r = fr_source_read(sb, bb + nb, (size_t)(na - nb), &err);
			if (r < 0)
				fail_msg("read %s: %s", b, err.msg);
			if (r == 0)
				break;
			nb += r;
		}
		assert_int_equal(na, nb);
		for (ssize_t i = 0; i < na; i++)
			if (memcmp(&ba[i], &bb[i], sizeof(ba[i])))
				fail_msg("event %llu differs", (unsigned long long)(total + (uint64_t)i));
		total += (uint64_t)na;
		if (!na)
			break;
	}
	assert_int_equal(fr_source_read(sb, bb, 1, &err), 0);
	fr_source_close(sa);
	fr_source_close(sb);
}

static void test_convert_cli(void **state)
{
	char *dir = fr_test_tmpdir(), in[EVENTS_PATH_MAX], out[EVENTS_PATH_MAX], args[9000], buf[4096];
	const size_t n = 70000;
	struct fr_event *ev = make_events(n);
	struct fr_meta meta;
	unsigned char *img;
	size_t len;
	struct sec s[8];
	int rc;

	(void)state;
	snprintf(args, sizeof(args), "%s/fragreplay", fr_test_builddir());
	if (!fr_test_exists(args))
		skip();
	rc = run_convert("--help", buf, sizeof(buf));
	assert_int_equal(rc, 0);
	assert_non_null(strstr(buf, "usage: fragreplay convert TRACE -o OUT.frt"));

	test_meta(&meta);
	snprintf(in, sizeof(in), "%s/in.frt", dir);
	snprintf(out, sizeof(out), "%s/out.frt", dir);
	write_frt(in, &meta, ev, n, n);

	/* .frt -> .frt at another level: the same events, the same meta */
	snprintf(args, sizeof(args), "'%s' -o '%s' --level 9", in, out);
	rc = run_convert(args, buf, sizeof(buf));
	if (rc)
		fail_msg("convert failed (%d): %s", rc, buf);
	assert_non_null(strstr(buf, "70000 events"));
	assert_non_null(strstr(buf, "bytes out"));
	assert_same_stream(in, out);

	/* usage errors: exit 2 */
	assert_int_equal(run_convert("", buf, sizeof(buf)), 2);
	snprintf(args, sizeof(args), "'%s'", in);
	assert_int_equal(run_convert(args, buf, sizeof(buf)), 2);
	assert_non_null(strstr(buf, "-o"));
	snprintf(args, sizeof(args), "'%s' -o '%s' --level 0", in, out);
	assert_int_equal(run_convert(args, buf, sizeof(buf)), 2);

	/* bad input: exit 2, one line, no output */
	unlink(out);
	snprintf(args, sizeof(args), "'%s/missing.frt' -o '%s'", dir, out);
	assert_int_equal(run_convert(args, buf, sizeof(buf)), 2);
	assert_non_null(strstr(buf, "missing.frt"));
	assert_false(fr_test_exists(out));

	/* input corrupt in its last block: fails mid-way, still no output, no temp file */
	img = slurp(in, &len);
	assert_int_equal(sections(img, len, s, 8), 4);
	img[s[2].off + 16 + s[2].len / 2] ^= 0xff;
	spit(in, img, len);
	free(img);
	snprintf(args, sizeof(args), "'%s' -o '%s'", in, out);
	rc = run_convert(args, buf, sizeof(buf));
	assert_int_equal(rc, 2);
	assert_non_null(strstr(buf, "in.frt"));
	assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);	/* one line */
	assert_false(fr_test_exists(out));
	assert_int_equal(count_entries(dir), 1);

	free(ev);
	fr_test_rmrf(dir);
	free(dir);
}

/* Remove the test's temp dir (kept in *state) even when an assertion failed. */
static int teardown_dir(void **state)
{
	fr_test_rmrf(*state);
	free(*state);
	*state = NULL;
	return 0;
}

/* The reference recording: trace.dat and its .frt give the same events; snapshots survive. */
static void test_convert_tracedat(void **state)
{
	char dat[EVENTS_PATH_MAX + 16], rec[EVENTS_PATH_MAX], out[EVENTS_PATH_MAX], out2[EVENTS_PATH_MAX];
	char *dir = fr_test_tmpdir(), args[9000], buf[4096];
	struct fr_error err = { "" };
	struct fr_source *a, *b;
	int rc;

	*state = dir;
	snprintf(rec, sizeof(rec), "%s/mixed-6.18", fr_test_shared_traces());
	snprintf(dat, sizeof(dat), "%s/trace.dat", rec);
	snprintf(args, sizeof(args), "%s/fragreplay", fr_test_builddir());
	if (!fr_test_exists(dat) || !fr_test_exists(args)) {
		printf("skip: %s or the fragreplay binary is missing\n", dat);
		skip();
	}
	a = fr_source_open(dat, NULL, &err);
	if (!a) {
		printf("skip: trace.dat reader not usable: %s\n", err.msg);
		skip();
	}
	fr_source_close(a);

	snprintf(out, sizeof(out), "%s/mixed.frt", dir);
	snprintf(args, sizeof(args), "'%s' -o '%s'", dat, out);
	rc = run_convert(args, buf, sizeof(buf));
	if (rc)
		fail_msg("convert failed (%d): %s", rc, buf);
	assert_same_stream(dat, out);

	/* The directory: events plus every snapshot, identical after decompression. */
	snprintf(out2, sizeof(out2), "%s/mixed-dir.frt", dir);
	snprintf(args, sizeof(args), "'%s' -o '%s'", rec, out2);
	rc = run_convert(args, buf, sizeof(buf));
	if (rc)
		fail_msg("convert failed (%d): %s", rc, buf);
	assert_same_stream(rec, out2);
	a = fr_source_open(rec, NULL, &err);
	assert_non_null(a);
	b = fr_source_open(out2, NULL, &err);
	if (!b)
		fail_msg("open %s: %s", out2, err.msg);
	{
		const struct fr_meta *ma = fr_source_meta(a), *mb = fr_source_meta(b);

		assert_string_equal(ma->kernel, mb->kernel);
		assert_string_equal(ma->buffer, mb->buffer);
		assert_int_equal(ma->nr_cpus, mb->nr_cpus);
		assert_int_equal(ma->page_size, mb->page_size);
		for (int id = 0; id < FR_NSNAPS; id++) {
			const struct fr_blob *x = &ma->snaps.blob[id], *y = &mb->snaps.blob[id];
			unsigned char *cx, *cy;
			size_t lx, ly;

			assert_true(!x->data == !y->data);
			if (!x->data)
				continue;
			assert_int_equal(x->zstd, y->zstd);
			cx = blob_content(x, &lx);
			cy = blob_content(y, &ly);
			assert_int_equal(lx, ly);
			assert_memory_equal(cx, cy, lx);
			free(cx);
			free(cy);
		}
	}
	fr_source_close(a);
	fr_source_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_edges),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_multiblock),
		cmocka_unit_test(test_rewind),
		cmocka_unit_test(test_readahead_same_events),
		cmocka_unit_test(test_readahead_error_in_order),
		cmocka_unit_test(test_snapshots),
		cmocka_unit_test(test_dir_snapshots_precedence),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_flipped_byte),
		cmocka_unit_test(test_bad_magic_version),
		cmocka_unit_test(test_count_mismatch),
		cmocka_unit_test(test_writer_atomic),
		cmocka_unit_test(test_convert_cli),
		cmocka_unit_test_teardown(test_convert_tracedat, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
