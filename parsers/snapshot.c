// SPDX-License-Identifier: GPL-2.0
/*
 * snapshot.c - the /proc snapshots around a recording: load them from a
 * recording directory, stream kpageflags out of its zstd blob, and parse
 * zoneinfo, pagetypeinfo and buddyinfo text.
 *
 * kpageflags stays compressed in memory and is decoded through a small
 * window, so a 24 GiB machine costs ~200 KB of blob plus ~2 MB of zstd
 * state instead of 50 MB.  The text parsers read the formats 6.18 prints
 * and tolerate lines they do not know, because every kernel adds counters.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include "snapshot.h"

static const char *const snap_names[FR_NSNAPS] = {
	[FR_SNAP_KPAGEFLAGS_START] = "kpageflags.start",
	[FR_SNAP_KPAGEFLAGS_END] = "kpageflags.end",
	[FR_SNAP_ZONEINFO_START] = "zoneinfo.start",
	[FR_SNAP_ZONEINFO_END] = "zoneinfo.end",
	[FR_SNAP_PAGETYPEINFO_START] = "pagetypeinfo.start",
	[FR_SNAP_PAGETYPEINFO_END] = "pagetypeinfo.end",
	[FR_SNAP_BUDDYINFO_START] = "buddyinfo.start",
	[FR_SNAP_BUDDYINFO_END] = "buddyinfo.end",
	[FR_SNAP_STATS] = "stats",
};

/* The canonical file name of each snapshot; the recorder writes these. */
static const char *const snap_files[FR_NSNAPS] = {
	[FR_SNAP_KPAGEFLAGS_START] = "kpageflags.start.zst",
	[FR_SNAP_KPAGEFLAGS_END] = "kpageflags.end.zst",
	[FR_SNAP_ZONEINFO_START] = "zoneinfo.start",
	[FR_SNAP_ZONEINFO_END] = "zoneinfo.end",
	[FR_SNAP_PAGETYPEINFO_START] = "pagetypeinfo.start",
	[FR_SNAP_PAGETYPEINFO_END] = "pagetypeinfo.end",
	[FR_SNAP_BUDDYINFO_START] = "buddyinfo.start",
	[FR_SNAP_BUDDYINFO_END] = "buddyinfo.end",
	[FR_SNAP_STATS] = "stats",
};

static const unsigned char zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

/* Text snapshots are a few KB; refuse to inflate one past this (a corrupt or
 * hostile blob must not take the machine's memory). */
#define TEXT_LIMIT ((size_t)64 << 20)

const char *fr_snap_filename(int id)
{
	return id >= 0 && id < FR_NSNAPS ? snap_files[id] : NULL;
}

const char *fr_snap_name(int id)
{
	return id >= 0 && id < FR_NSNAPS ? snap_names[id] : NULL;
}

int fr_snap_from_name(const char *name)
{
	for (int i = 0; name && i < FR_NSNAPS; i++)
		if (!strcmp(name, snap_names[i]))
			return i;
	return -1;
}

static int is_kpageflags(int id)
{
	return id == FR_SNAP_KPAGEFLAGS_START || id == FR_SNAP_KPAGEFLAGS_END;
}

static const char *blob_name(const struct fr_blob *b)
{
	return b && b->name ? b->name : "kpageflags";
}

/*
 * Read PATH whole.  Returns 1 when loaded, 0 when the file does not exist
 * (absent snapshots are normal), -1 on any other failure.
 */
static int read_file(const char *path, struct fr_blob *b, struct fr_error *err)
{
	struct stat st;
	unsigned char *buf;
	size_t cap, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return fr_err(err, "%s: cannot open: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fr_err(err, "%s: not a regular file", path);
	}
	/* st_size is a hint only: read to EOF so a file that grows still reads whole. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return fr_err(err, "%s: out of memory (%zu bytes)", path, cap);
	}
	for (;;) {
		ssize_t r;
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				close(fd);
				return fr_err(err, "%s: out of memory", path);
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return fr_err(err, "%s: cannot read: %s (at byte %zu)", path, strerror(errno), n);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b->data = buf;		/* non-NULL even for an empty file: present */
	b->len = n;
	b->zstd = n >= sizeof(zstd_magic) && !memcmp(buf, zstd_magic, sizeof(zstd_magic));
	return 1;
}

int fr_snapshots_load_dir(struct fr_snapshots *s, const char *dir, struct fr_error *err)
{
	memset(s, 0, sizeof(*s));
	for (int id = 0; id < FR_NSNAPS; id++) {
		char path[4096];
		int r;

		/* Canonical name first; then the other compression state
		 * (kpageflags.start, zoneinfo.start.zst ...). */
		snprintf(path, sizeof(path), "%s/%s", dir, snap_files[id]);
		r = read_file(path, &s->blob[id], err);
		if (r == 0) {
			if (is_kpageflags(id))
				snprintf(path, sizeof(path), "%s/%s", dir, snap_names[id]);
			else
				snprintf(path, sizeof(path), "%s/%s.zst", dir, snap_names[id]);
			r = read_file(path, &s->blob[id], err);
		}
		if (r < 0) {
			fr_snapshots_free(s);
			return -1;
		}
		s->blob[id].name = snap_names[id];
	}
	return 0;
}

void fr_snapshots_free(struct fr_snapshots *s)
{
	for (int i = 0; i < FR_NSNAPS; i++) {
		free(s->blob[i].data);
		s->blob[i].data = NULL;
		s->blob[i].len = 0;
		s->blob[i].zstd = 0;
	}
}

/* Inflate a whole zstd blob (any number of frames) into a NUL-terminated buffer. */
static unsigned char *zstd_all(const struct fr_blob *b, const char *name, size_t limit,
			       size_t *outlen, struct fr_error *err)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer in = { b->data, b->len, 0 };
	size_t cap = 1 << 16, n = 0, ret;
	unsigned char *out = malloc(cap + 1);

	if (!ds || !out) {
		fr_err(err, "%s: out of memory", name);
		goto fail;
	}
	for (;;) {
		ZSTD_outBuffer ob;
		if (n == cap) {
			unsigned char *nb;
			if (cap >= limit) {
				fr_err(err, "%s: decompresses to more than %zu bytes (at byte %zu)",
				       name, limit, in.pos);
				goto fail;
			}
			cap = cap * 2 > limit ? limit : cap * 2;
			nb = realloc(out, cap + 1);
			if (!nb) {
				fr_err(err, "%s: out of memory", name);
				goto fail;
			}
			out = nb;
		}
		ob = (ZSTD_outBuffer){ out, cap, n };
		ret = ZSTD_decompressStream(ds, &ob, &in);
		if (ZSTD_isError(ret)) {
			fr_err(err, "%s: zstd error: %s (at byte %zu)", name, ZSTD_getErrorName(ret), in.pos);
			goto fail;
		}
		n = ob.pos;
		/* 0: a frame is complete and flushed; with no input left, that's all. */
		if (ret == 0 && in.pos == in.size)
			break;
		/* All input taken, room left over, frame unfinished: it was cut short. */
		if (in.pos == in.size && ob.pos < ob.size) {
			fr_err(err, "%s: zstd error: truncated frame (at byte %zu)", name, in.pos);
			goto fail;
		}
	}
	ZSTD_freeDStream(ds);
	out[n] = 0;
	*outlen = n;
	return out;
fail:
	ZSTD_freeDStream(ds);
	free(out);
	return NULL;
}

char *fr_snap_text(const struct fr_snapshots *s, int id, size_t *len, struct fr_error *err)
{
	const struct fr_blob *b;
	unsigned char *out;
	size_t n;

	if (id < 0 || id >= FR_NSNAPS) {
		fr_err(err, "snapshot %d: no such snapshot", id);
		return NULL;
	}
	b = &s->blob[id];
	if (!b->data) {
		fr_err(err, "%s: not in the recording", snap_names[id]);
		return NULL;
	}
	if (b->zstd) {
		out = zstd_all(b, snap_names[id], TEXT_LIMIT, &n, err);
		if (!out)
			return NULL;
	} else {
		n = b->len;
		out = malloc(n + 1);
		if (!out) {
			fr_err(err, "%s: out of memory", snap_names[id]);
			return NULL;
		}
		memcpy(out, b->data, n);
		out[n] = 0;
	}
	if (len)
		*len = n;
	return (char *)out;
}

/* ---- kpageflags ---------------------------------------------------------- */

#define KPF_WINDOW (64 * 1024)	/* decompressed bytes held at a time */

struct fr_kpf_reader {
	const unsigned char *src;
	size_t len;
	const char *name;
	int zstd;
	/* uncompressed blob: the next word is at src + upos */
	size_t upos;
	/* zstd blob: decompressed bytes buf[pos, end) are not handed out yet;
	 * off is their offset in the whole flag array */
	ZSTD_DStream *ds;
	ZSTD_inBuffer in;
	unsigned char *buf;
	size_t pos, end;
	uint64_t off;
	int done;		/* the decoder has nothing more to give */
	int failed;		/* sticky: the same error on every later call */
	char errmsg[sizeof(((struct fr_error *)0)->msg)];
};

static long kpf_fail(struct fr_kpf_reader *r, struct fr_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static long kpf_fail(struct fr_kpf_reader *r, struct fr_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
	r->failed = 1;
	fr_err(err, "%s", r->errmsg);
	return -1;
}

struct fr_kpf_reader *fr_kpf_open(const struct fr_blob *b, struct fr_error *err)
{
	struct fr_kpf_reader *r;

	if (!b || !b->data) {
		fr_err(err, "%s: not in the recording", blob_name(b));
		return NULL;
	}
	/* A raw array's length is known now: say so before anyone reads half of it. */
	if (!b->zstd && b->len % 8) {
		fr_err(err, "%s: length %zu is not a multiple of 8 (at byte %zu)",
		       blob_name(b), b->len, b->len - b->len % 8);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		fr_err(err, "%s: out of memory", blob_name(b));
		return NULL;
	}
	r->src = b->data;
	r->len = b->len;
	r->name = blob_name(b);
	r->zstd = b->zstd;
	if (r->zstd) {
		r->ds = ZSTD_createDStream();
		r->buf = malloc(KPF_WINDOW);
		if (!r->ds || !r->buf) {
			fr_err(err, "%s: out of memory", r->name);
			fr_kpf_close(r);
			return NULL;
		}
		r->in = (ZSTD_inBuffer){ r->src, r->len, 0 };
	}
	return r;
}

static void put_words(uint64_t *flags, const unsigned char *p, size_t k)
{
	memcpy(flags, p, k * 8);
	for (size_t i = 0; i < k; i++)
		flags[i] = le64toh(flags[i]);
}

long fr_kpf_read(struct fr_kpf_reader *r, uint64_t *flags, size_t n, struct fr_error *err)
{
	size_t got = 0;

	if (r->failed) {
		fr_err(err, "%s", r->errmsg);
		return -1;
	}
	if (n > LONG_MAX)
		n = LONG_MAX;
	if (!r->zstd) {
		size_t k = (r->len - r->upos) / 8;
		if (k > n)
			k = n;
		put_words(flags, r->src + r->upos, k);
		r->upos += k * 8;
		return (long)k;
	}
	while (got < n) {
		size_t avail = r->end - r->pos, ret;
		ZSTD_outBuffer ob;

		if (avail >= 8) {
			size_t k = avail / 8;
			if (k > n - got)
				k = n - got;
			put_words(flags + got, r->buf + r->pos, k);
			r->pos += k * 8;
			r->off += k * 8;
			got += k;
			continue;
		}
		if (r->done) {
			if (avail == 0 || got > 0)
				break;	/* a partial tail is reported on the next call */
			return kpf_fail(r, err, "%s: decompressed length %llu is not a multiple of 8 (at byte %llu)",
					r->name, (unsigned long long)(r->off + avail),
					(unsigned long long)r->off);
		}
		/* Keep the partial word at the front and refill behind it. */
		memmove(r->buf, r->buf + r->pos, avail);
		r->pos = 0;
		r->end = avail;
		ob = (ZSTD_outBuffer){ r->buf, KPF_WINDOW, r->end };
		ret = ZSTD_decompressStream(r->ds, &ob, &r->in);
		if (ZSTD_isError(ret))
			return kpf_fail(r, err, "%s: zstd error: %s (at byte %zu)",
					r->name, ZSTD_getErrorName(ret), r->in.pos);
		r->end = ob.pos;
		/* 0: a frame is complete and flushed (possibly filling the window
		 * exactly: calling again would wait for another frame). */
		if (ret == 0 && r->in.pos == r->in.size)
			r->done = 1;
		else if (r->in.pos == r->in.size && ob.pos < ob.size)
			return kpf_fail(r, err, "%s: zstd error: truncated frame (at byte %zu)",
					r->name, r->in.pos);
	}
	return (long)got;
}

void fr_kpf_close(struct fr_kpf_reader *r)
{
	if (!r)
		return;
	ZSTD_freeDStream(r->ds);
	free(r->buf);
	free(r);
}

uint64_t fr_kpf_npfns(const struct fr_blob *b)
{
	unsigned long long total = 0;
	size_t off = 0;

	if (!b || !b->data)
		return 0;
	if (!b->zstd)
		return b->len % 8 ? 0 : b->len / 8;
	/* Sum the frames' declared sizes; any frame without one makes it unknown. */
	while (off < b->len) {
		unsigned long long fcs = ZSTD_getFrameContentSize(b->data + off, b->len - off);
		size_t csize;
		if (fcs == ZSTD_CONTENTSIZE_UNKNOWN || fcs == ZSTD_CONTENTSIZE_ERROR)
			return 0;
		csize = ZSTD_findFrameCompressedSize(b->data + off, b->len - off);
		if (ZSTD_isError(csize) || csize == 0)
			return 0;
		total += fcs;	/* skippable frames report 0 */
		off += csize;
	}
	return total % 8 ? 0 : total / 8;
}

int fr_kpf_count(const struct fr_blob *b, uint64_t *npfns, struct fr_error *err)
{
	uint64_t sink[4096];	/* flags are discarded: only the count matters */
	struct fr_kpf_reader *r = fr_kpf_open(b, err);
	uint64_t total = 0;
	long k;

	if (!r)
		return -1;
	while ((k = fr_kpf_read(r, sink, sizeof(sink) / sizeof(sink[0]), err)) > 0)
		total += (uint64_t)k;
	fr_kpf_close(r);
	if (k < 0)
		return -1;
	*npfns = total;
	return 0;
}

/* ---- text helpers -------------------------------------------------------- */

/* Walks TEXT line by line without needing a NUL terminator. */
struct lines {
	const char *p, *end;
	int lineno;
	char line[1024];	/* current line, NUL-terminated, truncated if longer */
};

static int next_line(struct lines *l)
{
	const char *nl;
	size_t n;

	if (l->p >= l->end)
		return 0;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	n = (size_t)((nl ? nl : l->end) - l->p);
	if (n >= sizeof(l->line))
		n = sizeof(l->line) - 1;
	memcpy(l->line, l->p, n);
	l->line[n] = 0;
	/* an embedded NUL would silently shorten the line: treat it as garbage below */
	for (size_t i = 0; i < n; i++)
		if (!l->line[i])
			l->line[i] = '\x01';
	l->p = nl ? nl + 1 : l->end;
	l->lineno++;
	return 1;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static int blank(const char *s)
{
	return !*skip_ws(s);
}

/* Parse one unsigned decimal at *s (after blanks); advance *s past it. */
static int parse_u64(const char **s, uint64_t *v)
{
	const char *p = skip_ws(*s);
	uint64_t x = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	*s = p;
	return 0;
}

/* "VALUE" and nothing else after it. */
static int parse_only_u64(const char *s, uint64_t *v)
{
	if (parse_u64(&s, v) < 0)
		return -1;
	return *skip_ws(s) ? -1 : 0;
}

/*
 * "Node N, zone NAME" at the start of S (spacing as the kernel pads it);
 * *rest points after NAME.  NAME also ends at a ',' for pagetypeinfo's
 * "Node 0, zone DMA, type Unmovable ..." rows.
 */
static int parse_node_zone(const char *s, int *node, char name[16], const char **rest)
{
	uint64_t nd;
	size_t n = 0;

	s = skip_ws(s);
	if (strncmp(s, "Node", 4))
		return -1;
	s += 4;
	if (parse_u64(&s, &nd) < 0 || nd > INT_MAX)
		return -1;
	if (*s != ',')
		return -1;
	s = skip_ws(s + 1);
	if (strncmp(s, "zone", 4) || (s[4] != ' ' && s[4] != '\t'))
		return -1;
	s = skip_ws(s + 4);
	while (s[n] && s[n] != ' ' && s[n] != '\t' && s[n] != ',' && s[n] != '\r')
		n++;
	if (n == 0 || n >= 16)
		return -1;
	memcpy(name, s, n);
	name[n] = 0;
	*node = (int)nd;
	*rest = s + n;
	return 0;
}

/* ---- zoneinfo ------------------------------------------------------------ */

enum {
	ZF_SPANNED = 1, ZF_PRESENT = 2, ZF_MANAGED = 4, ZF_MIN = 8, ZF_LOW = 16,
	ZF_HIGH = 32, ZF_START = 64,
	ZF_NEEDED = 127,
};

struct zone_state {
	struct fr_zone_info z;
	unsigned have;
	int header_line;
	int in_pagesets;
	int cpus;		/* "cpu:" lines seen in pagesets; the first is kept */
};

static int zone_finish(struct zone_state *st, struct fr_zoneinfo *zi, const char *what,
		       struct fr_error *err)
{
	static const char *const field[] = { "spanned", "present", "managed", "min", "low",
					     "high", "start_pfn" };

	if (st->header_line == 0)
		return 0;
	/* An empty zone (Movable, Device with no memory) prints no pagesets or start_pfn. */
	if ((st->have & ZF_SPANNED) && st->z.spanned == 0)
		return 0;
	for (unsigned i = 0; i < 7; i++)
		if (!(st->have & (1u << i)))
			return fr_err(err, "%s: node %d zone %s has no %s line (at line %d)",
				      what, st->z.node, st->z.name, field[i], st->header_line);
	if (zi->nr_zones >= FR_MAX_ZONES)
		return fr_err(err, "%s: more than %d populated zones (at line %d)",
			      what, FR_MAX_ZONES, st->header_line);
	zi->zone[zi->nr_zones++] = st->z;
	return 0;
}

int fr_zoneinfo_parse(const char *text, size_t len, struct fr_zoneinfo *zi,
		      const char *what, struct fr_error *err)
{
	static const struct { const char *key; unsigned flag; size_t off; } wm[] = {
		{ "spanned", ZF_SPANNED, offsetof(struct fr_zone_info, spanned) },
		{ "present", ZF_PRESENT, offsetof(struct fr_zone_info, present) },
		{ "managed", ZF_MANAGED, offsetof(struct fr_zone_info, managed) },
		{ "min", ZF_MIN, offsetof(struct fr_zone_info, wmark_min) },
		{ "low", ZF_LOW, offsetof(struct fr_zone_info, wmark_low) },
		{ "high", ZF_HIGH, offsetof(struct fr_zone_info, wmark_high) },
		{ "start_pfn:", ZF_START, offsetof(struct fr_zone_info, start_pfn) },
	};
	static const struct { const char *key; size_t off; } pcp[] = {
		{ "count:", offsetof(struct fr_zone_info, pcp_count) },
		{ "high:", offsetof(struct fr_zone_info, pcp_high) },
		{ "batch:", offsetof(struct fr_zone_info, pcp_batch) },
		{ "high_min:", offsetof(struct fr_zone_info, pcp_high_min) },
		{ "high_max:", offsetof(struct fr_zone_info, pcp_high_max) },
	};
	struct lines l = { text, text + len, 0, { 0 } };
	struct zone_state st;
	int headers = 0;

	memset(zi, 0, sizeof(*zi));
	memset(&st, 0, sizeof(st));
	if (!what)
		what = "zoneinfo";
	while (next_line(&l)) {
		const char *s = skip_ws(l.line), *rest;
		char key[32];
		size_t kn = 0;
		uint64_t v;
		int node;
		char name[16];

		if (!*s)
			continue;
		if (!strncmp(s, "Node", 4)) {
			if (parse_node_zone(s, &node, name, &rest) < 0 || !blank(rest))
				return fr_err(err, "%s: bad zone header '%.80s' (at line %d)",
					      what, s, l.lineno);
			if (zone_finish(&st, zi, what, err) < 0)
				return -1;
			memset(&st, 0, sizeof(st));
			st.z.node = node;
			memcpy(st.z.name, name, sizeof(name));
			st.header_line = l.lineno;
			headers++;
			continue;
		}
		if (!headers)
			return fr_err(err, "%s: not /proc/zoneinfo: expected 'Node N, zone NAME' (at line %d)",
				      what, l.lineno);
		while (s[kn] && s[kn] != ' ' && s[kn] != '\t' && s[kn] != '\r' && kn + 1 < sizeof(key))
			kn++;
		memcpy(key, s, kn);
		key[kn] = 0;
		rest = s + kn;

		if (!strcmp(key, "pages")) {
			/* "pages free N" */
			const char *q = skip_ws(rest);
			if (!strncmp(q, "free", 4)) {
				if (parse_only_u64(q + 4, &st.z.pages_free) < 0)
					return fr_err(err, "%s: bad 'pages free' value (at line %d)",
						      what, l.lineno);
			}
			continue;
		}
		if (!strcmp(key, "pagesets")) {
			st.in_pagesets = 1;
			continue;
		}
		if (st.in_pagesets && !strcmp(key, "cpu:")) {
			st.cpus++;
			continue;
		}
		if (st.in_pagesets && st.cpus == 1) {
			int hit = 0;
			for (size_t i = 0; i < sizeof(pcp) / sizeof(pcp[0]); i++) {
				if (strcmp(key, pcp[i].key))
					continue;
				if (parse_only_u64(rest, &v) < 0 || v > UINT32_MAX)
					return fr_err(err, "%s: bad pageset '%s' value (at line %d)",
						      what, key, l.lineno);
				*(uint32_t *)((char *)&st.z + pcp[i].off) = (uint32_t)v;
				hit = 1;
			}
			if (hit)
				continue;
		}
		/* Watermarks and spans: "min 11", "spanned 4095", "start_pfn: 1".
		 * Pageset keys end in ':' ("high:"), so "high" never matches them. */
		for (size_t i = 0; i < sizeof(wm) / sizeof(wm[0]); i++) {
			if (strcmp(key, wm[i].key))
				continue;
			if (parse_only_u64(rest, &v) < 0)
				return fr_err(err, "%s: bad '%s' value (at line %d)",
					      what, key, l.lineno);
			*(uint64_t *)((char *)&st.z + wm[i].off) = v;
			st.have |= wm[i].flag;
		}
		/* Everything else (per-node stats, protection, counters) is not ours. */
	}
	if (!headers)
		return fr_err(err, "%s: not /proc/zoneinfo: no 'Node N, zone NAME' line (at line %d)",
			      what, l.lineno ? l.lineno : 1);
	if (zone_finish(&st, zi, what, err) < 0)
		return -1;
	if (zi->nr_zones == 0)
		return fr_err(err, "%s: no populated zone (at line %d)", what, l.lineno);
	return 0;
}

const struct fr_zone_info *fr_zoneinfo_find(const struct fr_zoneinfo *zi, int node,
					    const char *name)
{
	for (int i = 0; i < zi->nr_zones; i++)
		if (zi->zone[i].node == node && !strcmp(zi->zone[i].name, name))
			return &zi->zone[i];
	return NULL;
}

/* ---- pagetypeinfo -------------------------------------------------------- */

/* The kernel's migratetype_names[], mapped to enum fr_mt. */
static int mt_from_name(const char *s, size_t n)
{
	static const char *const names[FR_SNAP_NMT] = {
		"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"
	};
	for (int i = 0; i < FR_SNAP_NMT; i++)
		if (strlen(names[i]) == n && !strncmp(s, names[i], n))
			return i;
	return -1;
}

static struct fr_pti_zone *pti_zone(struct fr_pagetypeinfo *pti, int node, const char *name)
{
	struct fr_pti_zone *z;

	for (int i = 0; i < pti->nr_zones; i++)
		if (pti->zone[i].node == node && !strcmp(pti->zone[i].name, name))
			return &pti->zone[i];
	if (pti->nr_zones >= FR_MAX_ZONES)
		return NULL;
	z = &pti->zone[pti->nr_zones++];
	z->node = node;
	snprintf(z->name, sizeof(z->name), "%s", name);
	return z;
}

/* A word of S (after blanks): *w, *n; advance. 0 if none. */
static size_t word(const char **s, const char **w)
{
	const char *p = skip_ws(*s);
	size_t n = 0;

	while (p[n] && p[n] != ' ' && p[n] != '\t' && p[n] != '\r')
		n++;
	*w = p;
	*s = p + n;
	return n;
}

int fr_pagetypeinfo_parse(const char *text, size_t len, struct fr_pagetypeinfo *pti,
			  const char *what, struct fr_error *err)
{
	static const char free_hdr[] = "Free pages count per migrate type at order";
	static const char blocks_hdr[] = "Number of blocks type";
	enum { SEC_NONE, SEC_FREE, SEC_BLOCKS, SEC_OTHER } sec = SEC_NONE;
	struct lines l = { text, text + len, 0, { 0 } };
	int block_cols[FR_SNAP_NMT], nr_block_cols = 0, free_rows = 0, seen_free_hdr = 0;

	memset(pti, 0, sizeof(*pti));
	pti->pageblock_order = -1;
	if (!what)
		what = "pagetypeinfo";
	while (next_line(&l)) {
		const char *s = skip_ws(l.line), *rest, *w;
		size_t wn;
		uint64_t v;
		int node;
		char name[16];
		struct fr_pti_zone *z;

		if (!*s)
			continue;
		if (!strncmp(s, "Page block order:", 17)) {
			if (parse_only_u64(s + 17, &v) < 0 || v >= 64)
				return fr_err(err, "%s: bad 'Page block order' (at line %d)", what, l.lineno);
			pti->pageblock_order = (int)v;
			continue;
		}
		if (!strncmp(s, "Pages per block:", 16)) {
			if (parse_only_u64(s + 16, &pti->pages_per_block) < 0)
				return fr_err(err, "%s: bad 'Pages per block' (at line %d)", what, l.lineno);
			continue;
		}
		if (!strncmp(s, free_hdr, sizeof(free_hdr) - 1)) {
			/* The header lists the orders: "0 1 2 ... 10". */
			rest = s + sizeof(free_hdr) - 1;
			pti->nr_orders = 0;
			while (*skip_ws(rest)) {
				if (parse_u64(&rest, &v) < 0 || v != (uint64_t)pti->nr_orders ||
				    pti->nr_orders >= FR_MAX_ORDERS)
					return fr_err(err, "%s: bad order list in the free table header (at line %d)",
						      what, l.lineno);
				pti->nr_orders++;
			}
			if (!pti->nr_orders)
				return fr_err(err, "%s: free table header lists no orders (at line %d)",
					      what, l.lineno);
			sec = SEC_FREE;
			seen_free_hdr = 1;
			continue;
		}
		if (!strncmp(s, blocks_hdr, sizeof(blocks_hdr) - 1)) {
			/* The header names the columns: "Unmovable Movable ...". */
			rest = s + sizeof(blocks_hdr) - 1;
			nr_block_cols = 0;
			while ((wn = word(&rest, &w)) > 0) {
				int mt = mt_from_name(w, wn);
				if (mt < 0)
					return fr_err(err, "%s: unknown migratetype '%.*s' (at line %d)",
						      what, (int)(wn > 40 ? 40 : wn), w, l.lineno);
				if (nr_block_cols >= FR_SNAP_NMT)
					return fr_err(err, "%s: too many columns (at line %d)", what, l.lineno);
				block_cols[nr_block_cols++] = mt;
				pti->mt_present |= 1u << mt;
			}
			sec = SEC_BLOCKS;
			continue;
		}
		if (strncmp(s, "Node", 4)) {
			/* A table we do not read (page_owner's "Number of mixed blocks"):
			 * its rows are skipped. */
			sec = SEC_OTHER;
			continue;
		}
		if (sec == SEC_OTHER)
			continue;
		if (sec == SEC_NONE)
			return fr_err(err, "%s: zone row before any table header (at line %d)",
				      what, l.lineno);
		if (parse_node_zone(s, &node, name, &rest) < 0)
			return fr_err(err, "%s: bad row '%.80s' (at line %d)", what, s, l.lineno);
		z = pti_zone(pti, node, name);
		if (!z)
			return fr_err(err, "%s: more than %d zones (at line %d)", what, FR_MAX_ZONES, l.lineno);
		if (sec == SEC_FREE) {
			int mt, o;
			/* ", type    Unmovable      0      1 ..." */
			rest = skip_ws(rest);
			if (*rest != ',')
				return fr_err(err, "%s: free row lacks ', type NAME' (at line %d)", what, l.lineno);
			rest++;
			wn = word(&rest, &w);
			if (wn != 4 || strncmp(w, "type", 4))
				return fr_err(err, "%s: free row lacks ', type NAME' (at line %d)", what, l.lineno);
			wn = word(&rest, &w);
			mt = mt_from_name(w, wn);
			if (mt < 0)
				return fr_err(err, "%s: unknown migratetype '%.*s' (at line %d)",
					      what, (int)(wn > 40 ? 40 : wn), w, l.lineno);
			pti->mt_present |= 1u << mt;
			for (o = 0; o < pti->nr_orders; o++) {
				const char *q = skip_ws(rest);
				int capped = *q == '>';
				if (capped)
					q++;
				if (parse_u64(&q, &v) < 0)
					return fr_err(err, "%s: bad free count for order %d (at line %d)",
						      what, o, l.lineno);
				rest = q;
				z->free[mt][o] = v;
				if (capped)
					z->capped[mt] |= 1u << o;
			}
			if (*skip_ws(rest))
				return fr_err(err, "%s: more than %d free counts (at line %d)",
					      what, pti->nr_orders, l.lineno);
			z->has_free = 1;
			free_rows++;
		} else {
			for (int c = 0; c < nr_block_cols; c++) {
				if (parse_u64(&rest, &v) < 0)
					return fr_err(err, "%s: bad block count in column %d (at line %d)",
						      what, c + 1, l.lineno);
				z->blocks[block_cols[c]] = v;
			}
			if (*skip_ws(rest))
				return fr_err(err, "%s: more than %d block counts (at line %d)",
					      what, nr_block_cols, l.lineno);
			z->has_blocks = 1;
		}
	}
	if (!seen_free_hdr || !free_rows)
		return fr_err(err, "%s: not /proc/pagetypeinfo: no free-pages table (at line %d)",
			      what, l.lineno ? l.lineno : 1);
	return 0;
}

const struct fr_pti_zone *fr_pagetypeinfo_find(const struct fr_pagetypeinfo *pti, int node,
					       const char *name)
{
	for (int i = 0; i < pti->nr_zones; i++)
		if (pti->zone[i].node == node && !strcmp(pti->zone[i].name, name))
			return &pti->zone[i];
	return NULL;
}

/* ---- buddyinfo ----------------------------------------------------------- */

int fr_buddyinfo_parse(const char *text, size_t len, struct fr_buddyinfo *bi,
		       const char *what, struct fr_error *err)
{
	struct lines l = { text, text + len, 0, { 0 } };

	memset(bi, 0, sizeof(*bi));
	if (!what)
		what = "buddyinfo";
	while (next_line(&l)) {
		const char *s = skip_ws(l.line), *rest;
		struct fr_buddy_zone *z;
		int node, n = 0;
		char name[16];
		uint64_t v;

		if (!*s)
			continue;
		if (parse_node_zone(s, &node, name, &rest) < 0)
			return fr_err(err, "%s: not /proc/buddyinfo: expected 'Node N, zone NAME counts' (at line %d)",
				      what, l.lineno);
		if (bi->nr_zones >= FR_MAX_ZONES)
			return fr_err(err, "%s: more than %d zones (at line %d)", what, FR_MAX_ZONES, l.lineno);
		z = &bi->zone[bi->nr_zones];
		z->node = node;
		memcpy(z->name, name, sizeof(name));
		while (*skip_ws(rest)) {
			if (n >= FR_MAX_ORDERS || parse_u64(&rest, &v) < 0)
				return fr_err(err, "%s: bad free count for order %d (at line %d)",
					      what, n, l.lineno);
			z->free[n++] = v;
		}
		if (n == 0 || (bi->nr_orders && n != bi->nr_orders))
			return fr_err(err, "%s: %d orders where earlier rows have %d (at line %d)",
				      what, n, bi->nr_orders, l.lineno);
		bi->nr_orders = n;
		bi->nr_zones++;
	}
	if (!bi->nr_zones)
		return fr_err(err, "%s: not /proc/buddyinfo: no zone rows (at line %d)",
			      what, l.lineno ? l.lineno : 1);
	return 0;
}

const struct fr_buddy_zone *fr_buddyinfo_find(const struct fr_buddyinfo *bi, int node,
					      const char *name)
{
	for (int i = 0; i < bi->nr_zones; i++)
		if (bi->zone[i].node == node && !strcmp(bi->zone[i].name, name))
			return &bi->zone[i];
	return NULL;
}
