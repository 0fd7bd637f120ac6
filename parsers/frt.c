// SPDX-License-Identifier: GPL-2.0
/*
 * frt.c - the native .frt trace format: writer (frt.h) and reader
 * (fr_backend_frt).  Designed to be decoded far faster than any text or
 * trace.dat input, so that a converted trace can be replayed many times.
 *
 * FORMAT (version 1; also docs/frt-format.md).  All integers little-endian.
 *
 *   file     = header section* ; the first section is META, the last END
 *   header   = "FRTRACE\0" (8 bytes)  u32 version (= 1)  u32 flags (= 0)
 *   section  = u32 type  u32 flags  u64 length  payload[length]
 *
 *   Section flags: bit 0 OPTIONAL (a reader that does not know the type
 *   skips it instead of failing); bits 16-31 belong to the type.
 *
 *   Every payload is (or, for SNAPSHOT, ends with) exactly one zstd frame
 *   written with the content checksum and the content size, so every byte
 *   of content is checksummed and readers can size buffers up front.
 *
 *   type 1 META      JSON object: source_format, source_path, kernel, buffer,
 *                    page_size, pageblock_order, max_order, spb_order,
 *                    nr_cpus, file_version (of the source), writer.
 *   type 2 SNAPSHOT  name "\0" zstd-frame.  name = fr_snap_name(id), e.g.
 *                    "kpageflags.start"; the frame holds the snapshot bytes.
 *                    The name sits outside the frame so that a reader can
 *                    keep the frame, still compressed, as the in-memory blob
 *                    (kpageflags: 50 MB raw, ~200 KB compressed).
 *                    Flag bit 16 ZSTD: the source held this snapshot
 *                    compressed; readers keep it compressed (fr_blob.zstd=1)
 *                    and its checksum is verified when it is decompressed;
 *                    else they decompress it at open (fr_blob.zstd=0).
 *   type 3 EVENTS    a block of 1..65536 events, encoded as below.
 *   type 4 END       JSON object: events, blocks, counts {kind name: n}.
 *                    Written last, after every block: a file without it was
 *                    cut short.
 *
 *   EVENTS content (after zstd): column-split, so that zstd sees runs of
 *   similar bytes, with deltas that make timestamps and pfns small, and
 *   fixed-width values so that decoding needs no branches:
 *     u32 count, u32 cpu_len, u32 ts_len, u32 pfn_len, u32 gfp_len
 *     u8 kind[count]  u8 order[count]  u8 mt[count]  u8 aux[count]
 *     u8 width[count]  2 bits per value column: bits 0-1 cpu, 2-3 ts,
 *                      4-5 pfn, 6-7 gfp; code 0/1/2/3 = 1/2/4/8 bytes
 *                      (cpu: 1, 2 or 4 only)
 *     cpu_len bytes:  cpu[i]                          in its width, LE
 *     ts_len bytes:   zigzag(ts[i] - ts[i-1])         ts[-1] = 0
 *     pfn_len bytes:  zigzag(pfn[i] - pfn[i-1])       pfn[-1] = 0
 *     gfp_len bytes:  gfp[i]
 *   zigzag(d) = (d << 1) ^ (d >> 63, arithmetic); deltas are taken modulo
 *   2^64, so every value round-trips (FR_PFN_NONE, ts near 2^64, ts going
 *   backwards).  Each block starts from zero: it decodes on its own.
 *
 *   Why this encoding (measured on the 0.96 M-event mixed-6.18 recording,
 *   zstd level 3, 2-core VM): 2.5 bytes/event and ~7 ns/event to decode
 *   after zstd.  Plain 32-byte structs: 5.1 bytes/event, and zstd must
 *   produce 3x the bytes (~27 M events/s in all).  LEB128 varint columns:
 *   2.7 bytes/event but 12-23 ns/event to decode, as the varying lengths
 *   defeat branch prediction.
 *
 * The reader walks every section header at open (one pread each, payloads
 * skipped), so truncation, a missing END and a block count that disagrees
 * with END are reported before any event is returned; META and SNAPSHOTs are
 * loaded then.  Events stream one block at a time: memory is one block.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include "frt.h"

#ifndef FR_VERSION
#define FR_VERSION "unknown"
#endif

#define FRT_MAGIC "FRTRACE"	/* 8 bytes with its NUL */
#define FRT_HDR_LEN 16
#define FRT_SEC_HDR_LEN 16

enum {
	FRT_SEC_META = 1,
	FRT_SEC_SNAPSHOT = 2,
	FRT_SEC_EVENTS = 3,
	FRT_SEC_END = 4,
};

#define FRT_SECF_OPTIONAL (1u << 0)
#define FRT_SNAPF_ZSTD (1u << 16)

#define FRT_BLK_HDR_LEN 20
/* Worst-case EVENTS content: 5 byte columns, cpu <= 4 bytes, ts/pfn/gfp <= 8 bytes each. */
#define FRT_BLK_RAW_MAX ((size_t)FRT_BLK_HDR_LEN + (size_t)FR_FRT_BLOCK_EVENTS * 33)
/* The codec loads and stores 8 bytes at a time at column positions: room past the end. */
#define FRT_BLK_SLACK 8
#define FRT_JSON_MAX (1u << 20)		/* META / END content, bytes */
#define FRT_TEXT_SNAP_MAX (256u << 20)	/* a decompressed text snapshot, bytes */
#define FRT_NAME_MAX 64

/* zstd frame header (RFC 8878 3.1.1): magic, then the descriptor byte. */
#define ZSTD_FRAME_MAGIC 0xFD2FB528u
#define ZSTD_FHD_CHECKSUM 0x04u

/* ---- little-endian and value-width helpers ------------------------------ */

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* Width codes of the EVENTS value columns: 2 bits each, 1/2/4/8 bytes. */
static const uint8_t width_len[4] = { 1, 2, 4, 8 };
static const uint64_t width_mask[4] = { 0xff, 0xffff, 0xffffffffull, ~0ull };

static inline unsigned width_code(uint64_t v)
{
	return v < 0x100 ? 0 : v < 0x10000 ? 1 : v < 0x100000000ull ? 2 : 3;
}

/* Unaligned 8-byte little-endian load/store (one mov on x86-64). */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Store v in its width: writes 8 bytes (the caller has FRT_BLK_SLACK), advances by the width. */
static inline uint8_t *put_width(uint8_t *p, uint64_t v, unsigned code)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
	return p + width_len[code];
}

static inline uint64_t zigzag(uint64_t d)
{
	return (d << 1) ^ (uint64_t)((int64_t)d >> 63);
}

static inline uint64_t unzigzag(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

static const char *sec_name(uint32_t type)
{
	switch (type) {
	case FRT_SEC_META: return "META";
	case FRT_SEC_SNAPSHOT: return "SNAPSHOT";
	case FRT_SEC_EVENTS: return "EVENTS";
	case FRT_SEC_END: return "END";
	}
	return "unknown";
}

/* ---- event block encoding --------------------------------------------- */

/* Encode n (1..FR_FRT_BLOCK_EVENTS) events into out (FRT_BLK_RAW_MAX + FRT_BLK_SLACK bytes). */
static size_t frt_encode(const struct fr_event *e, size_t n, uint8_t *out)
{
	uint8_t *p = out + FRT_BLK_HDR_LEN, *width, *col;
	uint64_t prev, z;
	unsigned c;
	size_t i;

	put_le32(out, (uint32_t)n);
	for (i = 0; i < n; i++)
		*p++ = e[i].kind;
	for (i = 0; i < n; i++)
		*p++ = e[i].order;
	for (i = 0; i < n; i++)
		*p++ = (uint8_t)e[i].mt;
	for (i = 0; i < n; i++)
		*p++ = e[i].aux;
	width = p;
	p += n;
	col = p;
	for (i = 0; i < n; i++) {
		c = width_code(e[i].cpu);
		width[i] = (uint8_t)c;
		p = put_width(p, e[i].cpu, c);
	}
	put_le32(out + 4, (uint32_t)(p - col));
	col = p;
	for (prev = 0, i = 0; i < n; i++) {
		z = zigzag(e[i].ts - prev);
		prev = e[i].ts;
		c = width_code(z);
		width[i] |= (uint8_t)(c << 2);
		p = put_width(p, z, c);
	}
	put_le32(out + 8, (uint32_t)(p - col));
	col = p;
	for (prev = 0, i = 0; i < n; i++) {
		z = zigzag(e[i].pfn - prev);
		prev = e[i].pfn;
		c = width_code(z);
		width[i] |= (uint8_t)(c << 4);
		p = put_width(p, z, c);
	}
	put_le32(out + 12, (uint32_t)(p - col));
	col = p;
	for (i = 0; i < n; i++) {
		c = width_code(e[i].gfp);
		width[i] |= (uint8_t)(c << 6);
		p = put_width(p, e[i].gfp, c);
	}
	put_le32(out + 16, (uint32_t)(p - col));
	return (size_t)(p - out);
}

/* ---- writer ------------------------------------------------------------ */

struct fr_frt_writer {
	char path[4096];
	char tmp[4096];		/* "" when writing to stdout */
	char src[4096];		/* meta->path: errors in the input's snapshots name it */
	int fd;
	int to_stdout;
	int failed;
	char errmsg[1024];	/* the first failure, repeated by finish */
	uint64_t bytes, events, blocks;
	uint64_t counts[FR_EV_NKINDS];
	uint32_t snaps_written;	/* bit per fr_snap_id */
	ZSTD_CCtx *cctx;
	struct fr_event *blk;	/* the block being filled */
	size_t nblk;
	uint8_t *raw;		/* FRT_BLK_RAW_MAX + FRT_BLK_SLACK */
	uint8_t *cbuf;		/* compressed payload, grown as needed */
	size_t ccap;
};

/* Record the first failure: later calls and finish report the same line. */
static int wfail(struct fr_frt_writer *w, struct fr_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int wfail(struct fr_frt_writer *w, struct fr_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!w->failed) {
		va_start(ap, fmt);
		vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
		va_end(ap);
		w->failed = 1;
	}
	return fr_err(err, "%s", w->errmsg);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t r = write(fd, p, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int wgrow(struct fr_frt_writer *w, size_t need, struct fr_error *err)
{
	uint8_t *n;

	if (need <= w->ccap)
		return 0;
	n = realloc(w->cbuf, need);
	if (!n)
		return wfail(w, err, "%s: out of memory (%zu bytes)", w->path, need);
	w->cbuf = n;
	w->ccap = need;
	return 0;
}

static int write_section(struct fr_frt_writer *w, uint32_t type, uint32_t flags,
			 const void *prefix, size_t plen, const void *payload, size_t len,
			 struct fr_error *err)
{
	uint8_t hdr[FRT_SEC_HDR_LEN];

	put_le32(hdr, type);
	put_le32(hdr + 4, flags);
	put_le64(hdr + 8, (uint64_t)plen + len);
	if (write_all(w->fd, hdr, sizeof(hdr)) < 0 ||
	    (plen && write_all(w->fd, prefix, plen) < 0) ||
	    write_all(w->fd, payload, len) < 0)
		return wfail(w, err, "%s: cannot write: %s", w->path, strerror(errno));
	w->bytes += sizeof(hdr) + plen + len;
	return 0;
}

/* One-shot compress raw into w->cbuf (a checksummed frame with content size). */
static int compress_into(struct fr_frt_writer *w, const void *raw, size_t len, size_t *clen,
			 struct fr_error *err)
{
	size_t r;

	if (wgrow(w, ZSTD_compressBound(len), err) < 0)
		return -1;
	r = ZSTD_compress2(w->cctx, w->cbuf, w->ccap, raw, len);
	if (ZSTD_isError(r))
		return wfail(w, err, "%s: zstd compression failed: %s", w->path, ZSTD_getErrorName(r));
	*clen = r;
	return 0;
}

static int write_json_section(struct fr_frt_writer *w, uint32_t type, json_t *j,
			      struct fr_error *err)
{
	char *s;
	size_t clen;
	int ret;

	if (!j)
		return wfail(w, err, "%s: out of memory building the %s section", w->path, sec_name(type));
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (!s)
		return wfail(w, err, "%s: out of memory building the %s section", w->path, sec_name(type));
	ret = compress_into(w, s, strlen(s), &clen, err);
	free(s);
	if (ret < 0)
		return -1;
	return write_section(w, type, 0, NULL, 0, w->cbuf, clen, err);
}

static int flush_block(struct fr_frt_writer *w, struct fr_error *err)
{
	size_t rlen, clen;

	if (!w->nblk)
		return 0;
	rlen = frt_encode(w->blk, w->nblk, w->raw);
	if (compress_into(w, w->raw, rlen, &clen, err) < 0 ||
	    write_section(w, FRT_SEC_EVENTS, 0, NULL, 0, w->cbuf, clen, err) < 0)
		return -1;
	w->blocks++;
	w->nblk = 0;
	return 0;
}

static void writer_free(struct fr_frt_writer *w)
{
	ZSTD_freeCCtx(w->cctx);
	free(w->blk);
	free(w->raw);
	free(w->cbuf);
	free(w);
}

struct fr_frt_writer *fr_frt_create(const char *path, const struct fr_meta *meta,
				    struct fr_error *err)
{
	return fr_frt_create_opts(path, meta, NULL, err);
}

struct fr_frt_writer *fr_frt_create_opts(const char *path, const struct fr_meta *meta,
					 const struct fr_frt_opts *opts, struct fr_error *err)
{
	struct fr_frt_writer *w;
	uint8_t hdr[FRT_HDR_LEN];
	int level = opts && opts->level ? opts->level : FR_FRT_DEFAULT_LEVEL;
	size_t r;
	json_t *j;

	if (!path || !*path) {
		fr_err(err, "frt: no output file name");
		return NULL;
	}
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
		fr_err(err, "%s: zstd level %d out of range (%d..%d)", path, level,
		       ZSTD_minCLevel(), ZSTD_maxCLevel());
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		fr_err(err, "%s: out of memory", path);
		return NULL;
	}
	w->fd = -1;
	snprintf(w->path, sizeof(w->path), "%s", path);
	snprintf(w->src, sizeof(w->src), "%s", meta->path[0] ? meta->path : "input");
	w->cctx = ZSTD_createCCtx();
	w->blk = malloc(sizeof(*w->blk) * FR_FRT_BLOCK_EVENTS);
	w->raw = malloc(FRT_BLK_RAW_MAX + FRT_BLK_SLACK);
	if (!w->cctx || !w->blk || !w->raw) {
		fr_err(err, "%s: out of memory", path);
		writer_free(w);
		return NULL;
	}
	r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
	if (ZSTD_isError(r)) {
		fr_err(err, "%s: zstd: %s", path, ZSTD_getErrorName(r));
		writer_free(w);
		return NULL;
	}

	if (!strcmp(path, "-")) {
		w->to_stdout = 1;
		w->fd = 1;
	} else {
		/* A temp file in the same directory: rename() is atomic only within a filesystem. */
		const char *slash = strrchr(path, '/');
		int dlen = slash ? (int)(slash - path + 1) : 0;
		mode_t mask;

		if (snprintf(w->tmp, sizeof(w->tmp), "%.*s.%s.tmp-XXXXXX", dlen, path,
			     slash ? slash + 1 : path) >= (int)sizeof(w->tmp)) {
			fr_err(err, "%s: file name too long", path);
			writer_free(w);
			return NULL;
		}
		w->fd = mkostemp(w->tmp, O_CLOEXEC);
		if (w->fd < 0) {
			fr_err(err, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
			writer_free(w);
			return NULL;
		}
		/* mkstemp makes it 0600; the output should get the usual 0666 & ~umask. */
		mask = umask(0);
		umask(mask);
		if (fchmod(w->fd, 0666 & ~mask) < 0) {
			fr_err(err, "%s: cannot set permissions: %s", w->tmp, strerror(errno));
			fr_frt_abort(w);
			return NULL;
		}
	}

	memcpy(hdr, FRT_MAGIC, 8);
	put_le32(hdr + 8, FR_FRT_VERSION);
	put_le32(hdr + 12, 0);
	if (write_all(w->fd, hdr, sizeof(hdr)) < 0) {
		fr_err(err, "%s: cannot write: %s", path, strerror(errno));
		fr_frt_abort(w);
		return NULL;
	}
	w->bytes = sizeof(hdr);

	j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
		      "source_format", meta->format[0] ? meta->format : "unknown",
		      "source_path", meta->path,
		      "kernel", meta->kernel,
		      "buffer", meta->buffer,
		      "page_size", (json_int_t)meta->page_size,
		      "pageblock_order", (json_int_t)meta->pageblock_order,
		      "max_order", (json_int_t)meta->max_order,
		      "spb_order", (json_int_t)meta->spb_order,
		      "nr_cpus", (json_int_t)meta->nr_cpus,
		      "file_version", (json_int_t)meta->file_version,
		      "writer", "fragreplay " FR_VERSION);
	if (write_json_section(w, FRT_SEC_META, j, err) < 0) {
		fr_frt_abort(w);
		return NULL;
	}
	for (int id = 0; id < FR_NSNAPS; id++) {
		if (!meta->snaps.blob[id].data)
			continue;
		if (fr_frt_write_snapshot(w, id, &meta->snaps.blob[id], err) < 0) {
			fr_frt_abort(w);
			return NULL;
		}
	}
	return w;
}

int fr_frt_write(struct fr_frt_writer *w, const struct fr_event *ev, size_t n, struct fr_error *err)
{
	if (w->failed)
		return fr_err(err, "%s", w->errmsg);
	for (size_t i = 0; i < n; i++) {
		unsigned k = ev[i].kind;

		/* Refuse what no parser produces: the reader treats it as corruption. */
		if (k == FR_EV_NONE || k >= FR_EV_NKINDS)
			return wfail(w, err, "%s: event %llu has invalid kind %u", w->path,
				     (unsigned long long)(w->events + i), k);
		w->counts[k]++;
		w->blk[w->nblk++] = ev[i];
		if (w->nblk == FR_FRT_BLOCK_EVENTS && flush_block(w, err) < 0)
			return -1;
	}
	w->events += n;
	return 0;
}

/*
 * Decompress every frame of a zstd blob into scratch, discarding the output:
 * checks checksums and that the data ends on a frame boundary.  *size = content.
 */
static int zstd_blob_check(ZSTD_DCtx *d, const struct fr_blob *b, uint64_t *size,
			   uint8_t *scratch, size_t scap, const char **why)
{
	ZSTD_inBuffer in = { b->data, b->len, 0 };
	size_t r;

	*size = 0;
	ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
	for (;;) {
		ZSTD_outBuffer out = { scratch, scap, 0 };

		r = ZSTD_decompressStream(d, &out, &in);
		if (ZSTD_isError(r)) {
			*why = ZSTD_getErrorName(r);
			return -1;
		}
		*size += out.pos;
		/*
		 * Input used up and either the frame is complete (0) or the
		 * output is not full (nothing more is buffered).  Calling again
		 * after a 0 would start waiting for another frame.
		 */
		if (in.pos == in.size && (r == 0 || out.pos < scap))
			break;
	}
	if (r) {		/* the last frame is incomplete */
		*why = "truncated zstd data";
		return -1;
	}
	return 0;
}

/* Stream-recompress a zstd blob as one checksummed frame of known size into w->cbuf. */
static int zstd_blob_recompress(struct fr_frt_writer *w, ZSTD_DCtx *d, const struct fr_blob *b,
				uint64_t size, uint8_t *scratch, size_t scap, size_t *clen,
				const char *name, struct fr_error *err)
{
	ZSTD_inBuffer in = { b->data, b->len, 0 };
	size_t pos = 0, r;

	ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
	ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
	ZSTD_CCtx_setPledgedSrcSize(w->cctx, size);
	for (;;) {
		ZSTD_outBuffer dout = { scratch, scap, 0 };
		ZSTD_inBuffer cin;
		int last;

		r = ZSTD_decompressStream(d, &dout, &in);
		if (ZSTD_isError(r))
			return wfail(w, err, "%s: snapshot %s: zstd: %s", w->path, name, ZSTD_getErrorName(r));
		last = in.pos == in.size && (r == 0 || dout.pos < scap);
		cin = (ZSTD_inBuffer){ scratch, dout.pos, 0 };
		do {
			ZSTD_outBuffer cout;

			if (wgrow(w, pos + ZSTD_CStreamOutSize(), err) < 0)
				return -1;
			cout = (ZSTD_outBuffer){ w->cbuf, w->ccap, pos };
			r = ZSTD_compressStream2(w->cctx, &cout, &cin, last ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(r))
				return wfail(w, err, "%s: snapshot %s: zstd compression failed: %s",
					     w->path, name, ZSTD_getErrorName(r));
			pos = cout.pos;
		} while (cin.pos < cin.size || (last && r));
		if (last)
			break;
	}
	*clen = pos;
	return 0;
}

int fr_frt_write_snapshot(struct fr_frt_writer *w, int id, const struct fr_blob *blob,
			  struct fr_error *err)
{
	const char *name;
	size_t nlen, clen;
	uint32_t flags = 0;

	if (w->failed)
		return fr_err(err, "%s", w->errmsg);
	if (id < 0 || id >= FR_NSNAPS || !blob || !blob->data)
		return fr_err(err, "%s: no snapshot %d to write", w->path, id);
	name = fr_snap_name(id);
	nlen = strlen(name) + 1;
	if (nlen > FRT_NAME_MAX)
		return wfail(w, err, "%s: snapshot name %s too long", w->path, name);
	if (w->snaps_written & (1u << id))
		return wfail(w, err, "%s: snapshot %s written twice", w->path, name);

	if (!blob->zstd) {
		if (compress_into(w, blob->data, blob->len, &clen, err) < 0)
			return -1;
		if (write_section(w, FRT_SEC_SNAPSHOT, 0, name, nlen, w->cbuf, clen, err) < 0)
			return -1;
	} else {
		ZSTD_DCtx *d = ZSTD_createDCtx();
		size_t scap = ZSTD_DStreamOutSize();
		uint8_t *scratch = malloc(scap);
		const uint8_t *p = blob->data;
		const char *why = NULL;
		uint64_t size;
		int ret;

		if (!d || !scratch) {
			ZSTD_freeDCtx(d);
			free(scratch);
			return wfail(w, err, "%s: out of memory", w->path);
		}
		/* Check it first: a corrupt source snapshot must fail the conversion, not the reader. */
		if (zstd_blob_check(d, blob, &size, scratch, scap, &why) < 0) {
			ZSTD_freeDCtx(d);
			free(scratch);
			return wfail(w, err, "%s: snapshot %s is corrupt: zstd: %s", w->src, name, why);
		}
		flags = FRT_SNAPF_ZSTD;
		if (blob->len >= 5 && get_le32(p) == ZSTD_FRAME_MAGIC && (p[4] & ZSTD_FHD_CHECKSUM) &&
		    ZSTD_findFrameCompressedSize(p, blob->len) == blob->len &&
		    ZSTD_getFrameContentSize(p, blob->len) == size) {
			/* Already one checksummed frame of known size: store it as is. */
			ret = write_section(w, FRT_SEC_SNAPSHOT, flags, name, nlen, p, blob->len, err);
		} else {
			ret = zstd_blob_recompress(w, d, blob, size, scratch, scap, &clen, name, err);
			if (!ret)
				ret = write_section(w, FRT_SEC_SNAPSHOT, flags, name, nlen, w->cbuf, clen, err);
		}
		ZSTD_freeDCtx(d);
		free(scratch);
		if (ret < 0)
			return -1;
	}
	w->snaps_written |= 1u << id;
	return 0;
}

uint64_t fr_frt_events(const struct fr_frt_writer *w)
{
	return w->events;
}

uint64_t fr_frt_bytes(const struct fr_frt_writer *w)
{
	return w->bytes;
}

const char *fr_frt_temp_path(const struct fr_frt_writer *w)
{
	return w->tmp;
}

void fr_frt_abort(struct fr_frt_writer *w)
{
	if (!w)
		return;
	if (!w->to_stdout && w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp);
	}
	writer_free(w);
}

int fr_frt_finish(struct fr_frt_writer *w, struct fr_error *err)
{
	return fr_frt_finish_stats(w, NULL, err);
}

int fr_frt_finish_stats(struct fr_frt_writer *w, struct fr_frt_stats *st, struct fr_error *err)
{
	struct fr_frt_stats done;
	json_t *counts, *j;
	int fd;

	if (w->failed) {
		fr_err(err, "%s", w->errmsg);
		fr_frt_abort(w);
		return -1;
	}
	if (flush_block(w, err) < 0)
		goto fail;
	counts = json_object();
	for (int k = 1; k < FR_EV_NKINDS && counts; k++)
		if (json_object_set_new(counts, fr_kind_name(k), json_integer((json_int_t)w->counts[k])) < 0) {
			json_decref(counts);
			counts = NULL;
		}
	j = counts ? json_pack("{s:I, s:I, s:o}", "events", (json_int_t)w->events,
			       "blocks", (json_int_t)w->blocks, "counts", counts) : NULL;
	if (write_json_section(w, FRT_SEC_END, j, err) < 0)
		goto fail;
	done = (struct fr_frt_stats){ w->events, w->blocks, w->bytes };
	if (w->to_stdout) {
		/* A pipe cannot be synced; a redirected file can. */
		if (fsync(w->fd) < 0 && errno != EINVAL && errno != EROFS) {
			wfail(w, err, "%s: cannot sync: %s", w->path, strerror(errno));
			goto fail;
		}
		writer_free(w);
		if (st)
			*st = done;
		return 0;
	}
	if (fsync(w->fd) < 0) {
		wfail(w, err, "%s: cannot sync: %s", w->path, strerror(errno));
		goto fail;
	}
	fd = w->fd;
	w->fd = -1;
	if (close(fd) < 0 || rename(w->tmp, w->path) < 0) {
		wfail(w, err, "%s: cannot write: %s", w->path, strerror(errno));
		unlink(w->tmp);
		writer_free(w);
		return -1;
	}
	/* Make the rename itself durable; the file is complete either way, so best effort. */
	{
		char dir[4096];
		const char *slash = strrchr(w->path, '/');
		int dfd;

		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - w->path + 1) : 1,
			 slash ? w->path : ".");
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	writer_free(w);
	if (st)
		*st = done;
	return 0;
fail:
	fr_frt_abort(w);
	return -1;
}

/* ---- reader ------------------------------------------------------------ */

struct frt_block {
	uint64_t off;		/* of the section header */
	uint64_t len;		/* payload length */
};

struct frt_reader {
	char path[4096];
	int fd;
	uint64_t size;
	struct frt_block *blk;
	size_t nblk, blkcap;
	uint64_t end_off, end_events, end_counts[FR_EV_NKINDS];
	ZSTD_DCtx *dctx;
	uint8_t *cbuf;		/* one compressed payload */
	size_t ccap;
	uint8_t *dbuf;		/* one decompressed EVENTS block, + FRT_BLK_SLACK */
	size_t dlen;
	struct fr_event *ev;	/* decoded events not yet returned */
	char *snapname[FR_NSNAPS]; /* fr_blob.name of the snapshots loaded from here */
	size_t ev_n, ev_pos;
	size_t next;		/* next block to load */
	uint64_t seen, counts[FR_EV_NKINDS];
	int verified;
	int broken;		/* a read failed: keep failing with the same line */
	char errmsg[1024];
};

static int rfail(struct frt_reader *r, struct fr_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int rfail(struct frt_reader *r, struct fr_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
	return fr_err(err, "%s", r->errmsg);
}

static int rgrow(struct frt_reader *r, size_t need, struct fr_error *err)
{
	uint8_t *n;

	if (need <= r->ccap)
		return 0;
	n = realloc(r->cbuf, need);
	if (!n)
		return rfail(r, err, "%s: out of memory (%zu bytes)", r->path, need);
	r->cbuf = n;
	r->ccap = need;
	return 0;
}

static int pread_all(struct frt_reader *r, void *buf, size_t len, uint64_t off, struct fr_error *err)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(r->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rfail(r, err, "%s: cannot read: %s (at byte %llu)", r->path, strerror(errno),
				     (unsigned long long)off);
		if (n == 0)	/* the file shrank since open */
			return rfail(r, err, "%s: truncated: file ends early (at byte %llu)", r->path,
				     (unsigned long long)off);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Check that buf (a payload part at file offset off, of section secoff) is
 * exactly one checksummed zstd frame with a content size; return that size.
 */
static int check_frame(struct frt_reader *r, uint32_t type, uint64_t secoff, const uint8_t *buf,
		       size_t len, unsigned long long *csize, struct fr_error *err)
{
	size_t fsz;

	if (len < 5 || get_le32(buf) != ZSTD_FRAME_MAGIC)
		return rfail(r, err, "%s: %s section: payload is not a zstd frame (at byte %llu)",
			     r->path, sec_name(type), (unsigned long long)secoff);
	fsz = ZSTD_findFrameCompressedSize(buf, len);
	if (ZSTD_isError(fsz))
		return rfail(r, err, "%s: %s section: zstd: %s (at byte %llu)", r->path, sec_name(type),
			     ZSTD_getErrorName(fsz), (unsigned long long)secoff);
	if (fsz != len)
		return rfail(r, err, "%s: %s section: %zu stray bytes after the zstd frame (at byte %llu)",
			     r->path, sec_name(type), len - fsz, (unsigned long long)secoff);
	if (!(buf[4] & ZSTD_FHD_CHECKSUM))
		return rfail(r, err, "%s: %s section: zstd frame has no checksum (at byte %llu)",
			     r->path, sec_name(type), (unsigned long long)secoff);
	*csize = ZSTD_getFrameContentSize(buf, len);
	if (*csize == ZSTD_CONTENTSIZE_UNKNOWN || *csize == ZSTD_CONTENTSIZE_ERROR)
		return rfail(r, err, "%s: %s section: zstd frame does not record its size (at byte %llu)",
			     r->path, sec_name(type), (unsigned long long)secoff);
	return 0;
}

/* Decompress a checked frame into a new buffer of csize (+1 NUL for JSON). */
static uint8_t *decompress_alloc(struct frt_reader *r, uint32_t type, uint64_t secoff,
				 const uint8_t *buf, size_t len, unsigned long long max,
				 size_t *outlen, struct fr_error *err)
{
	unsigned long long csize;
	uint8_t *out;
	size_t n;

	if (check_frame(r, type, secoff, buf, len, &csize, err) < 0)
		return NULL;
	if (csize > max) {
		rfail(r, err, "%s: %s section: content of %llu bytes is larger than the %llu allowed (at byte %llu)",
		      r->path, sec_name(type), csize, max, (unsigned long long)secoff);
		return NULL;
	}
	out = malloc(csize + 1);
	if (!out) {
		rfail(r, err, "%s: out of memory (%llu bytes)", r->path, csize + 1);
		return NULL;
	}
	n = ZSTD_decompressDCtx(r->dctx, out, csize, buf, len);
	if (ZSTD_isError(n) || n != csize) {
		rfail(r, err, "%s: %s section: zstd: %s (at byte %llu)", r->path, sec_name(type),
		      ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size differs from the frame header",
		      (unsigned long long)secoff);
		free(out);
		return NULL;
	}
	out[csize] = 0;
	*outlen = csize;
	return out;
}

/* Load a small JSON section (META, END). */
static json_t *load_json(struct frt_reader *r, uint32_t type, uint64_t off, uint64_t len,
			 struct fr_error *err)
{
	json_error_t jerr;
	uint8_t *txt;
	size_t tlen;
	json_t *j;

	if (len > FRT_JSON_MAX) {
		rfail(r, err, "%s: %s section of %llu bytes is too large (at byte %llu)", r->path,
		      sec_name(type), (unsigned long long)len, (unsigned long long)off);
		return NULL;
	}
	if (rgrow(r, len, err) < 0 || pread_all(r, r->cbuf, len, off + FRT_SEC_HDR_LEN, err) < 0)
		return NULL;
	txt = decompress_alloc(r, type, off, r->cbuf, len, FRT_JSON_MAX, &tlen, err);
	if (!txt)
		return NULL;
	j = json_loadb((const char *)txt, tlen, 0, &jerr);
	free(txt);
	if (!j || !json_is_object(j)) {
		rfail(r, err, "%s: %s section: bad JSON: %s (at byte %llu)", r->path, sec_name(type),
		      j ? "not an object" : jerr.text, (unsigned long long)off);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* An optional non-negative integer member no larger than max. */
static int json_u64(struct frt_reader *r, json_t *o, const char *key, uint64_t max, uint64_t *v,
		    uint32_t type, uint64_t off, struct fr_error *err)
{
	json_t *m = json_object_get(o, key);

	if (!m)
		return 0;
	if (!json_is_integer(m) || json_integer_value(m) < 0 || (uint64_t)json_integer_value(m) > max)
		return rfail(r, err, "%s: %s section: \"%s\" is not an integer in 0..%llu (at byte %llu)",
			     r->path, sec_name(type), key, (unsigned long long)max, (unsigned long long)off);
	*v = (uint64_t)json_integer_value(m);
	return 1;
}

static int json_str(struct frt_reader *r, json_t *o, const char *key, char *dst, size_t cap,
		    uint64_t off, struct fr_error *err)
{
	json_t *m = json_object_get(o, key);

	if (!m)
		return 0;
	if (!json_is_string(m))
		return rfail(r, err, "%s: META section: \"%s\" is not a string (at byte %llu)",
			     r->path, key, (unsigned long long)off);
	snprintf(dst, cap, "%s", json_string_value(m));
	return 0;
}

static int load_meta(struct frt_reader *r, uint64_t off, uint64_t len, struct fr_meta *meta,
		     struct fr_error *err)
{
	static const struct { const char *key; size_t field; } u32s[] = {
		{ "page_size", offsetof(struct fr_meta, page_size) },
		{ "pageblock_order", offsetof(struct fr_meta, pageblock_order) },
		{ "max_order", offsetof(struct fr_meta, max_order) },
		{ "spb_order", offsetof(struct fr_meta, spb_order) },
		{ "nr_cpus", offsetof(struct fr_meta, nr_cpus) },
	};
	json_t *j = load_json(r, FRT_SEC_META, off, len, err);
	int ret = -1;

	if (!j)
		return -1;
	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++) {
		uint64_t v;
		int got = json_u64(r, j, u32s[i].key, UINT32_MAX, &v, FRT_SEC_META, off, err);

		if (got < 0)
			goto out;
		if (got)
			*(uint32_t *)((char *)meta + u32s[i].field) = (uint32_t)v;
	}
	if (json_str(r, j, "kernel", meta->kernel, sizeof(meta->kernel), off, err) < 0 ||
	    json_str(r, j, "buffer", meta->buffer, sizeof(meta->buffer), off, err) < 0)
		goto out;
	if (!meta->page_size)
		meta->page_size = 4096;
	ret = 0;
out:
	json_decref(j);
	return ret;
}

static int load_end(struct frt_reader *r, uint64_t off, uint64_t len, struct fr_error *err)
{
	json_t *j = load_json(r, FRT_SEC_END, off, len, err), *counts;
	uint64_t blocks = 0, sum = 0;
	int ret = -1;

	if (!j)
		return -1;
	if (json_u64(r, j, "events", UINT64_MAX >> 1, &r->end_events, FRT_SEC_END, off, err) != 1 ||
	    json_u64(r, j, "blocks", UINT64_MAX >> 1, &blocks, FRT_SEC_END, off, err) != 1) {
		rfail(r, err, "%s: END section: \"events\" and \"blocks\" are required (at byte %llu)",
		      r->path, (unsigned long long)off);
		goto out;
	}
	counts = json_object_get(j, "counts");
	if (!json_is_object(counts)) {
		rfail(r, err, "%s: END section: \"counts\" is missing (at byte %llu)", r->path,
		      (unsigned long long)off);
		goto out;
	}
	for (int k = 1; k < FR_EV_NKINDS; k++) {
		if (json_u64(r, counts, fr_kind_name(k), UINT64_MAX >> 1, &r->end_counts[k], FRT_SEC_END,
			     off, err) < 0)
			goto out;
		sum += r->end_counts[k];
	}
	if (sum != r->end_events) {
		rfail(r, err, "%s: END section: count mismatch: per-kind counts add up to %llu, not %llu (at byte %llu)",
		      r->path, (unsigned long long)sum, (unsigned long long)r->end_events,
		      (unsigned long long)off);
		goto out;
	}
	if (blocks != r->nblk) {
		rfail(r, err, "%s: count mismatch: END section says %llu event blocks, the file holds %zu (at byte %llu)",
		      r->path, (unsigned long long)blocks, r->nblk, (unsigned long long)off);
		goto out;
	}
	ret = 0;
out:
	json_decref(j);
	return ret;
}

static int load_snapshot(struct frt_reader *r, uint64_t off, uint64_t len, uint32_t flags,
			 struct fr_meta *meta, uint32_t *loaded, struct fr_error *err)
{
	char name[FRT_NAME_MAX];
	size_t nlen, want = len < FRT_NAME_MAX ? (size_t)len : FRT_NAME_MAX;
	uint64_t foff;
	size_t flen;
	unsigned long long csize;
	uint8_t *frame = NULL;
	int id;

	if (pread_all(r, name, want, off + FRT_SEC_HDR_LEN, err) < 0)
		return -1;
	nlen = strnlen(name, want);
	if (nlen == 0 || nlen == want)
		return rfail(r, err, "%s: SNAPSHOT section: no name at its start (at byte %llu)", r->path,
			     (unsigned long long)off);
	id = fr_snap_from_name(name);
	if (id < 0)
		return rfail(r, err, "%s: SNAPSHOT section: unknown snapshot '%s' (at byte %llu)", r->path,
			     name, (unsigned long long)off);
	if (*loaded & (1u << id))
		return rfail(r, err, "%s: SNAPSHOT section: snapshot '%s' appears twice (at byte %llu)",
			     r->path, name, (unsigned long long)off);
	*loaded |= 1u << id;
	/* Snapshot files beside the trace (a recording directory) take precedence. */
	if (meta->snaps.blob[id].data)
		return 0;

	foff = off + FRT_SEC_HDR_LEN + nlen + 1;
	flen = (size_t)(len - nlen - 1);
	frame = malloc(flen ? flen : 1);
	if (!frame)
		return rfail(r, err, "%s: out of memory (%zu bytes)", r->path, flen);
	if (pread_all(r, frame, flen, foff, err) < 0 ||
	    check_frame(r, FRT_SEC_SNAPSHOT, off, frame, flen, &csize, err) < 0)
		goto fail;
	if (flags & FRT_SNAPF_ZSTD) {
		/*
		 * Keep it compressed, as source.c does.  Its checksum is verified
		 * by whoever decompresses it (fr_kpf_read, fr_snap_text), not
		 * here: checking 2 x 50 MB of kpageflags (2 x 2 GB on a 1 TB
		 * machine) would dominate the open of every .frt.  The blob's
		 * name makes those errors name this file and section.
		 */
		if (asprintf(&r->snapname[id], "%s: snapshot %s in the section at byte %llu", r->path, name,
			     (unsigned long long)off) < 0) {
			r->snapname[id] = NULL;
			rfail(r, err, "%s: out of memory", r->path);
			goto fail;
		}
		meta->snaps.blob[id] = (struct fr_blob){ .data = frame, .len = flen, .zstd = 1,
							 .name = r->snapname[id] };
	} else {
		size_t tlen;
		uint8_t *txt = decompress_alloc(r, FRT_SEC_SNAPSHOT, off, frame, flen, FRT_TEXT_SNAP_MAX,
						&tlen, err);
		if (!txt)
			goto fail;
		free(frame);
		meta->snaps.blob[id] = (struct fr_blob){ .data = txt, .len = tlen, .zstd = 0,
							 .name = fr_snap_name(id) };
	}
	return 0;
fail:
	free(frame);
	return -1;
}

static void frt_close(void *priv)
{
	struct frt_reader *r = priv;

	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	free(r->blk);
	free(r->cbuf);
	free(r->dbuf);
	free(r->ev);
	for (int i = 0; i < FR_NSNAPS; i++)
		free(r->snapname[i]);
	free(r);
}

static void *frt_open(const char *path, int fd, const struct fr_open_opts *opts,
		      struct fr_meta *meta, struct fr_error *err)
{
	struct frt_reader *r;
	uint8_t hdr[FRT_HDR_LEN];
	uint32_t loaded = 0;
	uint64_t off;
	struct stat st;
	int have_end = 0;

	(void)opts;
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		fr_err(err, "%s: out of memory", path);
		return NULL;
	}
	r->fd = fd;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->dctx = ZSTD_createDCtx();
	r->dbuf = calloc(1, FRT_BLK_RAW_MAX + FRT_BLK_SLACK);
	r->ev = malloc(sizeof(*r->ev) * FR_FRT_BLOCK_EVENTS);
	if (!r->dctx || !r->dbuf || !r->ev) {
		fr_err(err, "%s: out of memory", path);
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		fr_err(err, "%s: cannot stat: %s", path, strerror(errno));
		goto fail;
	}
	r->size = (uint64_t)st.st_size;
	if (r->size < FRT_HDR_LEN) {
		if (r->size >= 8 && pread_all(r, hdr, 8, 0, err) == 0 && !memcmp(hdr, FRT_MAGIC, 8))
			fr_err(err, "%s: truncated: the %d-byte file header is cut short (at byte %llu)",
			       path, FRT_HDR_LEN, (unsigned long long)r->size);
		else
			fr_err(err, "%s: not an .frt file: bad magic (at byte 0)", path);
		goto fail;
	}
	if (pread_all(r, hdr, sizeof(hdr), 0, err) < 0)
		goto fail;
	if (memcmp(hdr, FRT_MAGIC, 8)) {
		fr_err(err, "%s: not an .frt file: bad magic (at byte 0)", path);
		goto fail;
	}
	if (get_le32(hdr + 8) != FR_FRT_VERSION) {
		fr_err(err, "%s: unsupported .frt version %u (this fragreplay reads version %d) (at byte 8)",
		       path, get_le32(hdr + 8), FR_FRT_VERSION);
		goto fail;
	}
	if (get_le32(hdr + 12)) {
		fr_err(err, "%s: unsupported .frt header flags 0x%x (at byte 12)", path, get_le32(hdr + 12));
		goto fail;
	}

	for (off = FRT_HDR_LEN; !have_end;) {
		uint8_t sh[FRT_SEC_HDR_LEN];
		uint32_t type, flags;
		uint64_t len;

		if (off == r->size) {
			fr_err(err, "%s: truncated: no end section (at byte %llu)", path, (unsigned long long)off);
			goto fail;
		}
		if (r->size - off < FRT_SEC_HDR_LEN) {
			fr_err(err, "%s: truncated: section header cut short (at byte %llu)", path,
			       (unsigned long long)off);
			goto fail;
		}
		if (pread_all(r, sh, sizeof(sh), off, err) < 0)
			goto fail;
		type = get_le32(sh);
		flags = get_le32(sh + 4);
		len = get_le64(sh + 8);
		if (len > r->size - off - FRT_SEC_HDR_LEN) {
			fr_err(err, "%s: truncated section: %s section of %llu bytes runs past the end of the file at byte %llu (at byte %llu)",
			       path, sec_name(type), (unsigned long long)len, (unsigned long long)r->size,
			       (unsigned long long)off);
			goto fail;
		}
		if ((off == FRT_HDR_LEN) != (type == FRT_SEC_META)) {
			if (type == FRT_SEC_META)
				fr_err(err, "%s: second META section (at byte %llu)", path, (unsigned long long)off);
			else
				fr_err(err, "%s: first section is %s, not META (at byte %llu)", path,
				       sec_name(type), (unsigned long long)off);
			goto fail;
		}
		switch (type) {
		case FRT_SEC_META:
			if (load_meta(r, off, len, meta, err) < 0)
				goto fail;
			break;
		case FRT_SEC_SNAPSHOT:
			if (load_snapshot(r, off, len, flags, meta, &loaded, err) < 0)
				goto fail;
			break;
		case FRT_SEC_EVENTS:
			if (len > ZSTD_compressBound(FRT_BLK_RAW_MAX)) {
				fr_err(err, "%s: EVENTS section of %llu bytes is larger than any block (at byte %llu)",
				       path, (unsigned long long)len, (unsigned long long)off);
				goto fail;
			}
			if (r->nblk == r->blkcap) {
				size_t cap = r->blkcap ? r->blkcap * 2 : 64;
				struct frt_block *b = realloc(r->blk, cap * sizeof(*b));
				if (!b) {
					fr_err(err, "%s: out of memory", path);
					goto fail;
				}
				r->blk = b;
				r->blkcap = cap;
			}
			r->blk[r->nblk++] = (struct frt_block){ off, len };
			break;
		case FRT_SEC_END:
			r->end_off = off;
			if (off + FRT_SEC_HDR_LEN + len != r->size) {
				fr_err(err, "%s: %llu stray bytes after the end section (at byte %llu)", path,
				       (unsigned long long)(r->size - off - FRT_SEC_HDR_LEN - len),
				       (unsigned long long)(off + FRT_SEC_HDR_LEN + len));
				goto fail;
			}
			if (load_end(r, off, len, err) < 0)
				goto fail;
			have_end = 1;
			break;
		default:
			if (!(flags & FRT_SECF_OPTIONAL)) {
				fr_err(err, "%s: unknown section type %u (at byte %llu)", path, type,
				       (unsigned long long)off);
				goto fail;
			}
			break;
		}
		off += FRT_SEC_HDR_LEN + len;
	}
	snprintf(meta->format, sizeof(meta->format), "frt");
	meta->file_version = FR_FRT_VERSION;
	return r;
fail:
	/* rfail() may have written r->errmsg and err already; err is what the caller sees. */
	frt_close(r);
	return NULL;
}

/*
 * Decode the block in r->dbuf (count events, lengths checked by load_block)
 * into dst.  Branch-free per field: the width byte says how many bytes each
 * value takes, an 8-byte load and a mask extract it.  Memory safety on a
 * crafted file: every load is at a column position not past its column's
 * end (checked after each event, a branch never taken on good data), and
 * dbuf has FRT_BLK_SLACK bytes after the content.
 */
static int decode_block(struct frt_reader *r, const struct frt_block *b, size_t count,
			struct fr_event *dst, struct fr_error *err)
{
	const uint8_t *base = r->dbuf, *kind = base + FRT_BLK_HDR_LEN, *ord = kind + count,
		      *mt = ord + count, *aux = mt + count, *width = aux + count, *c = width + count;
	const uint8_t *ce = c + get_le32(base + 4), *t = ce, *te = t + get_le32(base + 8), *p = te,
		      *pe = p + get_le32(base + 12), *g = pe, *ge = g + get_le32(base + 16);
	uint64_t ts = 0, pfn = 0, kc[256] = { 0 };	/* per kind byte: no range check in the loop */
	size_t i;

	for (i = 0; i < count; i++) {
		struct fr_event *e = &dst[i];
		unsigned k = kind[i], w = width[i];

		kc[k]++;
		e->kind = (uint8_t)k;
		e->order = ord[i];
		e->mt = (int8_t)mt[i];
		e->aux = aux[i];
		e->cpu = (uint32_t)(load_le64(c) & width_mask[w & 3]);
		c += width_len[w & 3];
		ts += unzigzag(load_le64(t) & width_mask[(w >> 2) & 3]);
		t += width_len[(w >> 2) & 3];
		e->ts = ts;
		pfn += unzigzag(load_le64(p) & width_mask[(w >> 4) & 3]);
		p += width_len[(w >> 4) & 3];
		e->pfn = pfn;
		e->gfp = load_le64(g) & width_mask[w >> 6];
		g += width_len[w >> 6];
		if (__builtin_expect(k == FR_EV_NONE || k >= FR_EV_NKINDS || (w & 3) == 3 ||
				     c > ce || t > te || p > pe || g > ge, 0))
			break;
	}
	if (i < count) {
		unsigned k = kind[i];

		if (k == FR_EV_NONE || k >= FR_EV_NKINDS)
			return rfail(r, err, "%s: EVENTS section: event %zu has invalid kind %u (at byte %llu)",
				     r->path, i, k, (unsigned long long)b->off);
		return rfail(r, err, "%s: EVENTS section: count mismatch: columns do not hold %zu events (bad at event %zu) (at byte %llu)",
			     r->path, count, i, (unsigned long long)b->off);
	}
	if (c != ce || t != te || p != pe || g != ge)
		return rfail(r, err, "%s: EVENTS section: count mismatch: columns hold more than %zu events (at byte %llu)",
			     r->path, count, (unsigned long long)b->off);
	for (unsigned k = 1; k < FR_EV_NKINDS; k++)
		r->counts[k] += kc[k];
	return 0;
}

/* Read, check and decompress block r->next into r->dbuf; return its event count. */
static ssize_t load_block(struct frt_reader *r, struct fr_error *err)
{
	const struct frt_block *b = &r->blk[r->next];
	unsigned long long csize;
	uint64_t cols;
	size_t n, count;

	if (rgrow(r, b->len, err) < 0 || pread_all(r, r->cbuf, b->len, b->off + FRT_SEC_HDR_LEN, err) < 0 ||
	    check_frame(r, FRT_SEC_EVENTS, b->off, r->cbuf, b->len, &csize, err) < 0)
		return -1;
	if (csize > FRT_BLK_RAW_MAX || csize < FRT_BLK_HDR_LEN)
		return rfail(r, err, "%s: EVENTS section: block of %llu bytes cannot hold 1..%d events (at byte %llu)",
			     r->path, csize, FR_FRT_BLOCK_EVENTS, (unsigned long long)b->off);
	n = ZSTD_decompressDCtx(r->dctx, r->dbuf, FRT_BLK_RAW_MAX, r->cbuf, b->len);
	if (ZSTD_isError(n))
		return rfail(r, err, "%s: EVENTS section: zstd: %s (at byte %llu)", r->path,
			     ZSTD_getErrorName(n), (unsigned long long)b->off);
	if (n != csize)
		return rfail(r, err, "%s: EVENTS section: zstd: size differs from the frame header (at byte %llu)",
			     r->path, (unsigned long long)b->off);
	count = get_le32(r->dbuf);
	cols = (uint64_t)get_le32(r->dbuf + 4) + get_le32(r->dbuf + 8) + get_le32(r->dbuf + 12) +
	       get_le32(r->dbuf + 16);
	if (count == 0 || count > FR_FRT_BLOCK_EVENTS ||
	    FRT_BLK_HDR_LEN + 5 * (uint64_t)count + cols != n)
		return rfail(r, err, "%s: EVENTS section: count mismatch: header says %zu events in %zu bytes (at byte %llu)",
			     r->path, count, n, (unsigned long long)b->off);
	r->dlen = n;
	return (ssize_t)count;
}

static int verify_totals(struct frt_reader *r, struct fr_error *err)
{
	if (r->seen != r->end_events)
		return rfail(r, err, "%s: count mismatch: END section says %llu events, the blocks hold %llu (at byte %llu)",
			     r->path, (unsigned long long)r->end_events, (unsigned long long)r->seen,
			     (unsigned long long)r->end_off);
	for (int k = 1; k < FR_EV_NKINDS; k++)
		if (r->counts[k] != r->end_counts[k])
			return rfail(r, err, "%s: count mismatch: END section says %llu %s events, the blocks hold %llu (at byte %llu)",
				     r->path, (unsigned long long)r->end_counts[k], fr_kind_name(k),
				     (unsigned long long)r->counts[k], (unsigned long long)r->end_off);
	return 0;
}

static ssize_t frt_read(void *priv, struct fr_event *buf, size_t n, struct fr_error *err)
{
	struct frt_reader *r = priv;
	size_t done = 0;

	if (r->broken)
		return fr_err(err, "%s", r->errmsg);
	while (done < n) {
		size_t avail = r->ev_n - r->ev_pos;
		struct fr_event *dst;
		ssize_t count;

		if (avail) {
			size_t take = avail < n - done ? avail : n - done;
			memcpy(buf + done, r->ev + r->ev_pos, take * sizeof(*buf));
			r->ev_pos += take;
			done += take;
			continue;
		}
		if (r->next >= r->nblk)
			break;
		count = load_block(r, err);
		if (count < 0) {
			r->broken = 1;
			return -1;
		}
		/* Decode straight into the caller's buffer when the whole block fits: saves a copy. */
		dst = (size_t)count <= n - done ? buf + done : r->ev;
		if (decode_block(r, &r->blk[r->next], (size_t)count, dst, err) < 0) {
			r->broken = 1;
			return -1;
		}
		r->next++;
		r->seen += (uint64_t)count;
		if (dst == r->ev) {
			r->ev_n = (size_t)count;
			r->ev_pos = 0;
		} else {
			done += (size_t)count;
		}
	}
	if (!done && n && !r->verified) {
		r->verified = 1;
		if (verify_totals(r, err) < 0) {
			r->broken = 1;
			return -1;
		}
	}
	return (ssize_t)done;
}

static int frt_rewind(void *priv, struct fr_error *err)
{
	struct frt_reader *r = priv;

	(void)err;
	r->next = 0;
	r->ev_n = r->ev_pos = 0;
	r->seen = 0;
	memset(r->counts, 0, sizeof(r->counts));
	r->verified = 0;
	r->broken = 0;
	return 0;
}

const struct fr_backend fr_backend_frt = {
	.name = "frt",
	.open = frt_open,
	.read = frt_read,
	.rewind = frt_rewind,
	.skipped = NULL,
	.close = frt_close,
};
