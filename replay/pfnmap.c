// SPDX-License-Identifier: GPL-2.0
/* pfnmap.c - see pfnmap.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "pfnmap.h"

/*
 * Hashes are bijections (multiplication by an odd constant) of key + 1, so
 * equal hashes mean equal keys, the key is recovered from the hash, and a
 * hash is never 0: 0 marks an empty slot.  Fibonacci constants spread dense
 * and strided pfns over the top bits, which pick the home slot.
 */
#define A32 PFNMAP_A32
#define A32_INV 0x0E8B2F51u		/* A32 * A32_INV == 1 mod 2^32 */
#define A64 0x9E3779B97F4A7C15ull
#define A64_INV 0xF1DE83E19937733Dull	/* A64 * A64_INV == 1 mod 2^64 */
#define MIN_CAP 1024
#define OVF_MIN 16			/* overflow slots after the last home slot */

struct pfnmap_wslot {
	uint64_t h, v;
};

/* compact slot: hash << 32 | value; keys below 2^32 - 1 */
static inline uint32_t hash32(uint64_t key)
{
	return (uint32_t)(key + 1) * A32;
}

static inline uint64_t unhash32(uint32_t h)
{
	return (uint64_t)(uint32_t)(h * A32_INV) - 1;
}

static inline uint64_t hash64(uint64_t key)
{
	return (key + 1) * A64;
}

static inline size_t slot_size(const struct pfnmap *m)
{
	return m->wide ? sizeof(struct pfnmap_wslot) : sizeof(uint64_t);
}

/* The home slot of a hash in a table of cap home slots: the top bits of the
 * hash, scaled (so the table is sorted by hash for any cap).  `wide` is the
 * slot mode; grow_mode() passes a constant, the rest m->wide. */
static inline size_t home_at(int wide, uint64_t h, size_t cap)
{
	if (wide)
		return (size_t)(((unsigned __int128)h * cap) >> 64);
	return (size_t)((h * cap) >> 32);
}

/* The hash in slot i of the table s, 0 if empty. */
static inline uint64_t hash_at(int wide, const void *s, size_t i)
{
	if (wide)
		return ((const struct pfnmap_wslot *)s)[i].h;
	return ((const uint64_t *)s)[i] >> 32;
}

/*
 * Table memory.  Large tables are anonymous mappings of their own: growth
 * is mremap() (the kernel moves page tables, nothing is copied and the old
 * and new tables never coexist; the new pages come zeroed), and they ask
 * for transparent huge pages (lookups land at random: fewer TLB misses).
 * Small ones come from malloc.  Which is which follows from the size alone.
 *
 * A large table always starts on a 2 MiB boundary, and growth keeps it on
 * one: mremap() may move a mapping to any 4 KiB-aligned address, and a
 * huge page that lands misaligned is split into 4 KiB pages.  Before this,
 * a 161 MB map at the end of a 1 TiB / 100 M-event replay was only 86 MB
 * huge pages; its other half cost a page walk per lookup.
 */
#define BIG_TABLE ((size_t)4 << 20)
#define HUGE_ALIGN ((size_t)2 << 20)

/* An anonymous mapping of bytes at a HUGE_ALIGN boundary, or NULL. */
static void *map_aligned(size_t bytes, int prot)
{
	char *p = mmap(NULL, bytes + HUGE_ALIGN, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;
	size_t head, page = (size_t)sysconf(_SC_PAGESIZE), len = (bytes + page - 1) & ~(page - 1);

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1);
	head = a - (uintptr_t)p;
	if (head)
		munmap(p, head);
	if (head < HUGE_ALIGN)	/* the mapping was len + HUGE_ALIGN bytes */
		munmap((char *)a + len, HUGE_ALIGN - head);
	return (void *)a;
}

static void *tbl_alloc(size_t bytes)	/* zeroed */
{
	void *p;

	if (bytes < BIG_TABLE)
		return calloc(1, bytes);
	p = map_aligned(bytes, PROT_READ | PROT_WRITE);
#ifdef MADV_HUGEPAGE
	if (p)
		madvise(p, bytes, MADV_HUGEPAGE);	/* advice only */
#endif
	return p;
}

static void tbl_free(void *p, size_t bytes)
{
	if (!p)
		return;
	if (bytes < BIG_TABLE)
		free(p);
	else
		munmap(p, bytes);
}

/* Grow from old to new bytes (new > old); the added bytes read 0. */
static void *tbl_grow(void *p, size_t old, size_t new)
{
	void *n, *dst;

	if (new < BIG_TABLE) {
		n = realloc(p, new);
		if (n)
			memset((char *)n + old, 0, new - old);
		return n;
	}
	if (old < BIG_TABLE) {
		n = tbl_alloc(new);
		if (n) {
			memcpy(n, p, old);
			free(p);
		}
		return n;
	}
	n = mremap(p, old, new, 0);	/* in place: the address, so the alignment, stays */
	if (n != MAP_FAILED)
		return n;
	/* move to an aligned reservation, which the move replaces; the
	 * mapping keeps its MADV_HUGEPAGE advice and huge pages move whole */
	dst = map_aligned(new, PROT_NONE);
	if (dst) {
		n = mremap(p, old, new, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
		if (n != MAP_FAILED)
			return n;
		munmap(dst, new);
	}
	n = mremap(p, old, new, MREMAP_MAYMOVE);
	return n == MAP_FAILED ? NULL : n;
}

#define SMALL_CAP ((size_t)1 << 20)	/* below: double (fewer rehashes); above: 1.25x */

/* The home slots one growth step makes of cap (grow_mode()). */
static inline size_t next_cap(size_t cap)
{
	return cap < SMALL_CAP ? 2 * cap : cap + cap / 4;
}

/* The home slots after growing from cap until n entries fit (load <= 0.8). */
static size_t grown_cap(size_t cap, size_t n)
{
	while (n * 5 > cap * 4)
		cap = next_cap(cap);
	return cap;
}

static int init_mode(struct pfnmap *m, size_t initial, size_t expect, int wide)
{
	size_t cap = MIN_CAP;

	while (cap < initial + initial / 4)	/* load <= 0.8 */
		cap += cap / 4;
	cap = grown_cap(cap, expect);
	if (cap > UINT32_MAX)
		wide = 1;
	memset(m, 0, sizeof(*m));
	m->wide = wide;
	m->slot = tbl_alloc((cap + OVF_MIN) * slot_size(m));
	if (!m->slot)
		return -1;
	m->cap = cap;
	m->nslots = cap + OVF_MIN;
	return 0;
}

int pfnmap_init(struct pfnmap *m, size_t initial)
{
	return init_mode(m, initial, 0, 0);
}

int pfnmap_init_expect(struct pfnmap *m, size_t initial, size_t expect)
{
	return init_mode(m, initial, expect, 0);
}

void pfnmap_free(struct pfnmap *m)
{
	tbl_free(m->slot, m->nslots * slot_size(m));
	memset(m, 0, sizeof(*m));
}

/*
 * Grow the home slots in place: 2x while the table is small, then 1.25x,
 * which keeps the load of a large table between 0.64 and 0.8 (at most 12.5
 * bytes per entry).  The table is sorted by hash and a home is the hash
 * scaled to the table, so an entry's new home is at or above its old one;
 * by a factor r, an entry at old position p lands below r (p + 1), and a
 * cluster (maximal run of full slots) never reaches the next cluster's new
 * positions, whose homes start at r times the empty slot between them.
 * Grow the array, then move clusters from the top down.
 */
/* The new position of each entry of [lo, top), a run inside the cluster
 * that starts at a, into qs[]: positions follow the hash order, from each
 * entry's home or right after the previous entry's.  Returns the position
 * of the entry at top - 1 (lo == top: positions only, none stored). */
static inline __attribute__((always_inline)) size_t new_positions(const void *s, size_t a, size_t lo, size_t top,
								   size_t ncap, size_t *qs, const int wide)
{
	size_t q = 0;

	for (size_t p = a; p < top; p++) {
		size_t home = home_at(wide, hash_at(wide, s, p), ncap);
		q = p == a || home > q + 1 ? home : q + 1;
		if (p >= lo)
			qs[p - lo] = q;
	}
	return q;
}

#define QBUF 256
static inline __attribute__((always_inline)) int grow_mode(struct pfnmap *m, const int wide)
{
	size_t sz = slot_size(m), n = m->nslots, nn, e, qs[QBUF];
	size_t ncap = next_cap(m->cap);
	void *s = m->slot;

	if (!wide && ncap > UINT32_MAX)
		return -1;	/* 2^32 home slots for keys below 2^32: cannot happen */
	/* the highest new position: the last entry of the last cluster */
	nn = ncap + OVF_MIN;
	for (e = n; e > 0 && !hash_at(wide, s, e - 1); e--)
		;
	if (e > 0) {
		size_t a = e - 1, q;
		while (a > 0 && hash_at(wide, s, a - 1))
			a--;
		q = new_positions(s, a, e, e, ncap, qs, wide);
		if (nn < q + 2)
			nn = q + 2;	/* the last slot stays empty */
	}
	s = tbl_grow(m->slot, n * sz, nn * sz);
	if (!s)
		return -1;
	m->slot = s;
	m->cap = ncap;
	m->nslots = nn;
	m->hint_t = 0;
	for (e = n;;) {
		size_t a;
		while (e > 0 && !hash_at(wide, s, e - 1))
			e--;
		if (e == 0)
			break;
		a = e - 1;
		while (a > 0 && hash_at(wide, s, a - 1))
			a--;
		/* cluster [a, e), QBUF entries at a time from the top: an entry
		 * only moves up, past slots its cluster has vacated */
		for (size_t top = e; top > a;) {
			size_t lo = top - a > QBUF ? top - QBUF : a;
			new_positions(s, a, lo, top, ncap, qs, wide);
			for (size_t from = top; from-- > lo;) {
				size_t to = qs[from - lo];
				if (to == from)
					continue;
				if (wide) {
					struct pfnmap_wslot *w = s;
					w[to] = w[from];
					w[from].h = w[from].v = 0;
				} else {
					uint64_t *c = s;
					c[to] = c[from];
					c[from] = 0;
				}
			}
			top = lo;
		}
		e = a;
	}
	return 0;
}

static int grow(struct pfnmap *m)
{
	return m->wide ? grow_mode(m, 1) : grow_mode(m, 0);
}

/* No empty slot before the last one: more overflow slots, or grow. */
static int extend(struct pfnmap *m)
{
	size_t sz = slot_size(m), add = m->nslots - m->cap;
	char *s;

	if (m->count * 2 >= m->cap)
		return grow(m);
	if (add < OVF_MIN)
		add = OVF_MIN;
	s = tbl_grow(m->slot, m->nslots * sz, (m->nslots + add) * sz);
	if (!s)
		return -1;
	m->slot = s;
	m->nslots += add;
	m->hint_t = 0;
	return 0;
}

static int put_wide(struct pfnmap *m, uint64_t key, uint64_t val);

/* A key or value beyond the compact slots: rebuild with 16-byte slots. */
static int to_wide(struct pfnmap *m)
{
	struct pfnmap w;
	const uint64_t *s = m->slot;

	if (init_mode(&w, m->count, 0, 1) < 0)
		return -1;
	for (size_t i = 0; i < m->nslots; i++)
		if (s[i] && put_wide(&w, unhash32((uint32_t)(s[i] >> 32)),
				     (uint32_t)s[i]) < 0) {
			pfnmap_free(&w);
			return -1;
		}
	tbl_free(m->slot, m->nslots * sizeof(uint64_t));
	*m = w;
	return 0;
}

/* ---- compact slots ---- */

/* First slot at or after the home of h whose hash is not below h. */
static inline size_t find32(const struct pfnmap *m, uint32_t h)
{
	const uint64_t *s = m->slot;
	uint64_t t = (uint64_t)h << 32;
	size_t i = home_at(0, h, m->cap);

	while (s[i] - 1 < t - 1)	/* full (an empty slot is 0) and below */
		i++;
	return i;
}

/* find32(), or where the last pfnmap_get() of h stopped if the map has not
 * changed since */
static inline size_t find32_hinted(const struct pfnmap *m, uint32_t h)
{
	return m->hint_t == (uint64_t)h << 32 ? m->hint : find32(m, h);
}

static int put32(struct pfnmap *m, uint64_t key, uint64_t val)
{
	uint32_t h = hash32(key);
	uint64_t t = (uint64_t)h << 32, *s;
	size_t i, j;

	for (;;) {
		s = m->slot;
		i = find32_hinted(m, h);
		if ((s[i] >> 32) == h) {
			s[i] = t | val;
			return 0;
		}
		if ((m->count + 1) * 5 > m->cap * 4) {
			if (grow(m) < 0)
				return -1;
			continue;
		}
		for (j = i; s[j]; j++)
			;
		if (j < m->nslots - 1)
			break;
		if (extend(m) < 0)
			return -1;
	}
	/* a few slots on average (13 at load 0.8): a loop, not a memmove() call */
	for (; j > i; j--)
		s[j] = s[j - 1];
	s[i] = t | val;
	m->count++;
	m->hint_t = 0;
	return 0;
}

static int del32(struct pfnmap *m, uint64_t key, uint64_t *old)
{
	uint32_t h = hash32(key);
	uint64_t *s = m->slot;
	size_t i = find32_hinted(m, h), k;

	if ((s[i] >> 32) != h)
		return 0;
	if (old)
		*old = (uint32_t)s[i];
	/* shift back the displaced slots that follow, in the same pass */
	for (k = i + 1; s[k] && home_at(0, s[k] >> 32, m->cap) < k; k++)
		s[k - 1] = s[k];
	s[k - 1] = 0;
	m->count--;
	m->hint_t = 0;
	return 1;
}

/* ---- wide slots ---- */

static inline size_t find64(const struct pfnmap *m, uint64_t h)
{
	const struct pfnmap_wslot *s = m->slot;
	size_t i = home_at(m->wide, h, m->cap);

	while (s[i].h - 1 < h - 1)
		i++;
	return i;
}

static int put_wide(struct pfnmap *m, uint64_t key, uint64_t val)
{
	uint64_t h = hash64(key);
	struct pfnmap_wslot *s;
	size_t i, j;

	if (!h)
		return -1;	/* key UINT64_MAX: reserved */
	for (;;) {
		s = m->slot;
		i = find64(m, h);
		if (s[i].h == h) {
			s[i].v = val;
			return 0;
		}
		if ((m->count + 1) * 5 > m->cap * 4) {
			if (grow(m) < 0)
				return -1;
			continue;
		}
		for (j = i; s[j].h; j++)
			;
		if (j < m->nslots - 1)
			break;
		if (extend(m) < 0)
			return -1;
	}
	memmove(s + i + 1, s + i, (j - i) * sizeof(*s));
	s[i].h = h;
	s[i].v = val;
	m->count++;
	return 0;
}

static int del_wide(struct pfnmap *m, uint64_t key, uint64_t *old)
{
	uint64_t h = hash64(key);
	struct pfnmap_wslot *s = m->slot;
	size_t i, k;

	if (!h)
		return 0;
	i = find64(m, h);
	if (s[i].h != h)
		return 0;
	if (old)
		*old = s[i].v;
	for (k = i + 1; s[k].h && home_at(m->wide, s[k].h, m->cap) < k; k++)
		;
	memmove(s + i, s + i + 1, (k - i - 1) * sizeof(*s));
	memset(&s[k - 1], 0, sizeof(*s));
	m->count--;
	return 1;
}

/* ---- API ---- */

/* pfnmap_get() and pfnmap_prefetch() of wide maps; compact ones: pfnmap.h */
uint64_t *pfnmap_get_wide(struct pfnmap *m, uint64_t key)
{
	uint64_t h = hash64(key);
	const struct pfnmap_wslot *s = m->slot;
	size_t i;

	if (!h)
		return NULL;
	i = find64(m, h);
	if (s[i].h != h)
		return NULL;
	m->found = s[i].v;
	return &m->found;
}

void pfnmap_prefetch_wide(const struct pfnmap *m, uint64_t key)
{
	__builtin_prefetch((const struct pfnmap_wslot *)m->slot + home_at(m->wide, hash64(key), m->cap));
}

int pfnmap_put(struct pfnmap *m, uint64_t key, uint64_t val)
{
	if (!m->wide) {
		if (key < UINT32_MAX && val <= UINT32_MAX)
			return put32(m, key, val);
		if (to_wide(m) < 0)
			return -1;
	}
	return put_wide(m, key, val);
}

int pfnmap_del(struct pfnmap *m, uint64_t key, uint64_t *old)
{
	if (!m->wide)
		return key < UINT32_MAX ? del32(m, key, old) : 0;
	return del_wide(m, key, old);
}

int pfnmap_next(const struct pfnmap *m, size_t *iter, uint64_t *key, uint64_t *val)
{
	for (size_t i = *iter; i < m->nslots; i++) {
		uint64_t h = hash_at(m->wide, m->slot, i);
		if (!h)
			continue;
		if (m->wide) {
			*key = h * A64_INV - 1;
			if (val)
				*val = ((const struct pfnmap_wslot *)m->slot)[i].v;
		} else {
			*key = unhash32((uint32_t)h);
			if (val)
				*val = (uint32_t)((const uint64_t *)m->slot)[i];
		}
		*iter = i + 1;
		return 1;
	}
	*iter = m->nslots;
	return 0;
}
