/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pfnmap.h - open-addressing hash map from a pfn to a 64-bit value.
 *
 * Used for the recorded-pfn -> model-block map of the engine, the live set
 * of `info`, the first frees of the prepass and synth's tables.
 *
 * Ordered linear probing (Amble & Knuth; Robin Hood with linear probing):
 * a slot holds a bijective hash of the key and the value, and the table is
 * kept sorted by hash.  The home slot is the hash scaled to the table, so
 *  - a lookup stops at the first slot whose hash is not below the key's:
 *    a miss costs about as little as a hit (1-2 slots);
 *  - deletion shifts the following displaced slots back (no tombstones),
 *    so billions of alloc/free pairs do not degrade the table;
 *  - the table never wraps: a few overflow slots follow the last home slot.
 * Slots are 8 bytes (32-bit hash, 32-bit value) while every key is below
 * 2^32 - 1 and every value below 2^32, which covers pfns of machines up to
 * 16 TiB; the first key or value beyond that turns the map into 16-byte
 * slots (64-bit hash, 64-bit value) for good.
 * The table grows when the load would pass 0.8, in place: large tables are
 * their own mappings, grown with mremap(), so no second copy of the table
 * is live while it rehashes.  Past 2^20 home slots it grows by a quarter
 * (load 0.64 right after).  Memory follows the most entries ever live, not
 * the trace length: at most 12.5 bytes per entry at that peak (large maps).
 */
#ifndef FR_PFNMAP_H
#define FR_PFNMAP_H

#include <stddef.h>
#include <stdint.h>

struct pfnmap {
	void *slot;		/* uint64_t[nslots] or, when wide, struct pfnmap_wslot[nslots] */
	size_t cap;		/* home slots */
	size_t nslots;		/* cap + overflow slots; the last one always empty */
	size_t count;
	int wide;
	uint64_t found;		/* the value pfnmap_get() points to */
	/* where the last pfnmap_get() of a compact map stopped: slot `hint`
	 * for the hash hint_t >> 32 (0: none), until the map changes.  The
	 * engine deletes or inserts the key it has just looked up: the
	 * hint spares that second search. */
	uint64_t hint_t;
	size_t hint;
};

int pfnmap_init(struct pfnmap *m, size_t initial);
/* The same, with the home slots growth would have reached by `expect`
 * entries: the table that inserting them would leave, without its
 * rehashes (a larger one would cost memory that growing does not). */
int pfnmap_init_expect(struct pfnmap *m, size_t initial, size_t expect);
void pfnmap_free(struct pfnmap *m);
/* Insert or overwrite; the key UINT64_MAX is reserved. -1 on allocation
 * failure (the map is unchanged). */
int pfnmap_put(struct pfnmap *m, uint64_t key, uint64_t val);
/* Remove; returns 1 if it was present (old value in *old if non-NULL). */
int pfnmap_del(struct pfnmap *m, uint64_t key, uint64_t *old);
/* Iterate, in no particular order: for (size_t i = 0; pfnmap_next(m, &i, &k, &v);) */
int pfnmap_next(const struct pfnmap *m, size_t *iter, uint64_t *key, uint64_t *val);

/*
 * Lookups of compact maps, inline: the replay engine does two or three per
 * event (gets and prefetches), and at machine scale its thread runs out of
 * instructions more than out of cache (cachegrind, 64 GiB synthetic trace:
 * about 900 instructions and under one L2 miss per event, prefetches not
 * counted).  With the hint below, put32()/del32() shifting slots in a loop
 * instead of calling memmove(), the one-pageblock content_add() (model.c)
 * and vanilla's pop-first rmqueue_pcplist(), taken together: 7.8% fewer
 * replay-thread instructions per event on s3m (968 -> 893), and median
 * engine rate -p vanilla on /tmp/s30m.frt (64 GiB, 30 M events, 9
 * alternating runs each) 6.3 -> 6.9 and 6.9 -> 7.7 M ev/s (+9.5%, +11.6%);
 * inlining, the loops and content_add() alone gave +3-6%.
 * Compact slots (see pfnmap.c) hold hash << 32 | value, the hash a
 * bijection of key + 1 (never 0, which marks an empty slot), its top bits
 * scaled to the table the home slot.
 */
#define PFNMAP_A32 0x9E3779B1u

static inline uint32_t pfnmap_hash32(uint64_t key)
{
	return (uint32_t)(key + 1) * PFNMAP_A32;
}

static inline size_t pfnmap_home32(uint64_t h, size_t cap)
{
	return (size_t)((h * cap) >> 32);
}

uint64_t *pfnmap_get_wide(struct pfnmap *m, uint64_t key);
void pfnmap_prefetch_wide(const struct pfnmap *m, uint64_t key);

/* Returns a pointer to a copy of the value, valid until the next call on
 * this map, or NULL if absent.  Writing through it does not change the map:
 * use pfnmap_put(). */
static inline uint64_t *pfnmap_get(struct pfnmap *m, uint64_t key)
{
	const uint64_t *s = m->slot;
	uint32_t h;
	uint64_t t;
	size_t i;

	if (m->wide)
		return pfnmap_get_wide(m, key);
	if (key >= UINT32_MAX)
		return NULL;
	h = pfnmap_hash32(key);
	t = (uint64_t)h << 32;
	i = pfnmap_home32(h, m->cap);
	while (s[i] - 1 < t - 1)	/* full (an empty slot is 0) and below */
		i++;
	m->hint_t = t;
	m->hint = i;
	if ((s[i] >> 32) != h)
		return NULL;
	m->found = (uint32_t)s[i];
	return &m->found;
}

/* Hint: the slots a get or put of key will read soon (no effect on the map). */
static inline void pfnmap_prefetch(const struct pfnmap *m, uint64_t key)
{
	if (m->wide) {
		pfnmap_prefetch_wide(m, key);
	} else if (key < UINT32_MAX) {
		/* a put scans to the end of the cluster (13 slots on average
		 * at load 0.8): the home line and the next */
		const uint64_t *p = (const uint64_t *)m->slot + pfnmap_home32(pfnmap_hash32(key), m->cap);
		__builtin_prefetch(p);
		__builtin_prefetch(p + 8);
	}
}

#endif
